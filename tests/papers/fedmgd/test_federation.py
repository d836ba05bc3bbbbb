"""The ClientApp handlers on hand-built messages, the GAS/FES server loops on an in-process Grid, bytes, drops."""

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict

from paperzoo.federated import InProcessGrid, array_record, arrayrecord_bytes, node_partitions
from paperzoo.papers.fedmgd import (
    GAN_STEP,
    Classifier,
    DataSpec,
    FedAvgBaseline,
    FedMGD,
    FedMGDAvg,
    Settings,
    client_app,
    client_gan_step,
    federated_data,
    register_clients,
    run_fes,
    run_gas,
)
from paperzoo.papers.fedmgd.federation import _flat, _unflat, load_client_nets

SPEC = DataSpec("digits", n_train=600, n_test=200, alpha=0.1, n_clients=3, min_size=20, seed=0)


def _settings(**kw):
    base = {"data": SPEC.key, "gan_batch": 8, "gan_iters": 4, "rounds": 2, "server_steps": 2, "server_samples": 64}
    return Settings(**{**base, **kw})


def _context(pid=0, n=3):
    return Context(run_id=1, node_id=100 + pid, node_config={"partition-id": pid, "num-partitions": n},
                   state=RecordDict(), run_config={})


def _gan_message(s, it=0, batch=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(batch, 64, generator=gen) * 2 - 1, torch.randint(0, 10, (batch,), generator=gen)
    content = RecordDict({"arrays": array_record({"x": x, "y": y}), "config": s.to_config(iter=it)})
    return Message(content, dst_node_id=100, message_type=GAN_STEP), x, y


def test_gan_step_handler_replies_what_client_gan_step_computes_and_keeps_state(task_identity):
    s = _settings()
    context = _context()
    msg, x, y = _gan_message(s)
    reply = client_app(msg, context)
    score, grad = reply.content["arrays"]["score"].numpy(), reply.content["arrays"]["grad"].numpy()
    assert score.shape == (8,) and grad.shape == (8, 64)
    # the same step by hand: fresh seeded nets of partition 0 and the same local batch
    fed = federated_data(s.data)
    nets = load_client_nets(_context(), s, 64, 10, 0)
    idx = np.random.default_rng([s.seed, 0, 0]).choice(len(fed.clients[0].y_train), 8, replace=False)
    real = (torch.from_numpy(fed.clients[0].x_train[idx]), torch.from_numpy(fed.clients[0].y_train[idx]))
    want_s, want_g = client_gan_step(nets.D, nets.C, nets.opt_D, nets.opt_C, real, x, y)
    assert np.allclose(score, want_s.numpy(), atol=1e-6) and np.allclose(grad, want_g.numpy(), atol=1e-6)
    assert int(context.state["gas.meta"]["step"]) == 1
    client_app(_gan_message(s, it=1)[0], context)
    assert int(context.state["gas.meta"]["step"]) == 2
    # a new session (another seed) starts from fresh nets
    client_app(_gan_message(Settings(**{**s.__dict__, "seed": 5}), it=0)[0], context)
    assert int(context.state["gas.meta"]["step"]) == 1


def test_client_state_round_trip_continues_adam_exactly():
    torch.manual_seed(0)
    net = Classifier(6, 3)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    x, y = torch.randn(10, 6), torch.randint(0, 3, (10,))

    def step(n, o):
        o.zero_grad()
        torch.nn.functional.cross_entropy(n(x), y).backward()
        o.step()

    for _ in range(3):
        step(net, opt)
    copy = Classifier(6, 3)
    copy_opt = torch.optim.Adam(copy.parameters(), 1e-2)
    _unflat(_flat(net, opt), copy, copy_opt, step=3)
    step(net, opt)
    step(copy, copy_opt)
    for a, b in zip(net.parameters(), copy.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-7)


def test_train_and_evaluate_handlers_on_hand_built_messages(task_identity):
    s = _settings()
    fed = federated_data(s.data)
    model = Classifier(64, 10)
    cfg = s.to_config()
    cfg["server-round"] = 1
    msg = Message(RecordDict({"arrays": ArrayRecord(model.state_dict()), "config": cfg}), dst_node_id=101,
                  message_type=MessageType.TRAIN)
    reply = client_app(msg, _context(pid=1))
    assert reply.content["metrics"]["num-examples"] == len(fed.clients[1].y_train)
    trained = reply.content["arrays"].to_torch_state_dict()
    assert not torch.equal(trained["net.0.weight"], model.state_dict()["net.0.weight"])
    ev = Message(RecordDict({"arrays": ArrayRecord(model.state_dict()), "config": s.to_config()}), dst_node_id=101,
                 message_type=MessageType.EVALUATE)
    metrics = client_app(ev, _context(pid=1)).content["metrics"]
    assert metrics["num-examples"] == len(fed.clients[1].y_test) and 0 <= metrics["accuracy"] <= 1


def test_gas_bytes_are_measured_on_the_messages_and_a_dropped_client_does_not_break_it():
    s = _settings(fail_partition=1, fail_iter=2)
    grid = InProcessGrid(client_app, 3, seed=4)
    partitions = node_partitions(grid, 3)
    from paperzoo.federated import MeteredGrid

    meter = MeteredGrid(grid)
    with meter.stage("gas"):
        res = run_gas(meter, partitions, s)
    assert res.dropped_replies == 1 and res.skipped_iterations == 0
    assert res.judge_counts.sum() == s.gan_iters * s.gan_batch  # G stepped every iteration
    down = arrayrecord_bytes({"x": ((8, 64), "float32"), "y": ((8,), "int64")})
    up = arrayrecord_bytes({"score": ((8,), "float32"), "grad": ((8, 64), "float32")})
    t = meter.traffic("gas")
    assert t.bytes_sent == 3 * s.gan_iters * down
    assert t.bytes_received == (3 * s.gan_iters - 1) * up and t.errors == 1


def test_fedavg_weights_equal_client_fractions_and_a_dropped_round_is_counted():
    s = _settings(rounds=1, local_lr=1e-2)
    fed = federated_data(s.data)
    grid = InProcessGrid(client_app, 3, seed=1)
    partitions = node_partitions(grid, 3)
    out = run_fes(grid, partitions, s)
    # the same round by hand: every client trains the same initial model, averaged by data fraction
    from paperzoo.papers.fedmgd.federation import _local_train, _seeded

    sizes = np.array(fed.sizes, float)
    states = []
    for pid, c in enumerate(fed.clients):
        m = _seeded(Classifier, s.seed * 1000 + 999, 64, 10)
        _local_train(m, c.x_train, c.y_train, s, (s.seed, pid, 1, 7))
        states.append(m.state_dict())
    for k, v in out["model"].state_dict().items():
        want = sum(w * st[k] for w, st in zip(sizes / sizes.sum(), states, strict=True))
        assert torch.allclose(v, want.float(), atol=1e-5)
    failing = run_fes(grid, partitions, _settings(rounds=2, fail_partition=2, fail_round=2))
    assert failing["failures"] == 1 and len(failing["curve"]) == 3


def test_server_step_runs_after_aggregation_and_records_acceptance():
    s = _settings(gan_iters=5)
    grid = InProcessGrid(client_app, 3)
    partitions = node_partitions(grid, 3)
    gas = run_gas(grid, partitions, s)
    out = run_fes(grid, partitions, s, gas.generator)
    assert len(out["acceptance"]) == s.rounds and all(0 <= a <= 1 for a in out["acceptance"])
    calls = []
    strategy = FedMGDAvg(server_step=lambda r, arrays: calls.append(r) or arrays)
    assert strategy.aggregate_train(1, []) == (None, None) and calls == []  # no replies: no server step


def test_smoke_100_gas_iterations_and_2_rounds_through_the_estimators():
    spec = DataSpec("digits", n_train=600, n_test=200, alpha=0.1, n_clients=3, min_size=20, seed=0)
    fed = federated_data(spec.key)
    mgd = FedMGD(gan_iters=100, rounds=2, seed=0, gan_batch=16, server_steps=5).fit(spec)
    avg = FedAvgBaseline(rounds=2, seed=0).fit(spec)
    for est in (mgd, avg):
        assert 0.1 < est.evaluate(fed.x_test, fed.y_test) <= 1.0
    assert mgd.bytes_["gas"]["total"] > 0 and avg.bytes_["gas"]["total"] == 0
    assert mgd.bytes_["fes"]["total"] == avg.bytes_["fes"]["total"]  # same rounds, same messages
    assert mgd.generator_ is not None and mgd.history_["gas_dropped"] == 0
    # user arrays go through the in-process Grid as well
    clients = [(c.x_train, c.y_train) for c in fed.clients]
    own = FedAvgBaseline(rounds=1, seed=0).fit(clients)
    assert 0.0 <= own.evaluate(fed.x_test, fed.y_test) <= 1.0


def test_bad_settings_and_inputs():
    with pytest.raises(ValueError, match="judge"):
        Settings(judge="best")
    with pytest.raises(ValueError, match="gan_batch"):
        Settings(gan_batch=0)
    with pytest.raises(ValueError, match="lr_g"):
        Settings(lr_g=0.0)
    with pytest.raises(ValueError, match="engine"):
        FedMGD(engine="cluster")
    with pytest.raises(ValueError, match="DataSpec"):
        FedMGD(engine="simulation").fit([(np.zeros((4, 64), np.float32), np.arange(4))])
    with pytest.raises(RuntimeError, match="fit"):
        FedAvgBaseline().evaluate(np.zeros((1, 64)), np.zeros(1, int))
    with pytest.raises(TypeError, match="integers"):
        register_clients([(np.zeros((4, 3)), np.zeros(4))])
    with pytest.raises(ValueError, match="same number of features"):
        register_clients([(np.zeros((4, 3)), np.arange(4)), (np.zeros((4, 2)), np.arange(4))])
    with pytest.raises(KeyError, match="registered"):
        federated_data("mem:nothing")


def test_config_round_trip():
    s = _settings(judge="random", prox_mu=0.01)
    assert Settings.from_config(s.to_config(iter=3)) == s
    flat = ConfigRecord({f"fm.{k}": v for k, v in s.__dict__.items()})
    assert Settings.from_config(flat) == s


def test_the_deployed_server_app_main_reads_a_flat_run_config_and_writes_its_result(tmp_path):
    import json

    from paperzoo.papers.fedmgd.federation import _main

    s = _settings(gan_iters=3, rounds=1)
    result = tmp_path / "result.json"
    run_config = {"method": "fedmgd", **{f"fm.{k}": v for k, v in s.__dict__.items()}, "result-path": str(result)}
    context = Context(run_id=1, node_id=0, node_config={}, state=RecordDict(), run_config=run_config)
    _main(InProcessGrid(client_app, 3, seed=2), context)
    out = json.loads(result.read_text())
    assert out["method"] == "fedmgd" and len(out["curve"]) == 2 and out["bytes"]["gas"]["messages"] == 9
