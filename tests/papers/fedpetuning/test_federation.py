import random

import pytest
import torch
from flwr.app import ArrayRecord, Context, Message, MessageType, RecordDict
from flwr.clientapp import ClientApp

from paperzoo.federated import InProcessGrid, add_partition_query, arrayrecord_bytes, node_partitions
from paperzoo.papers.fedpetuning import (
    FedSettings,
    PETConfig,
    client_app,
    run_on_grid,
    trainable_state_dict,
)
from paperzoo.papers.fedpetuning.federation import client_evaluate, client_train, from_record, model_for, to_record

TINY = {"num_clients": 2, "clients_per_round": 2, "n_train": 40, "n_valid": 20, "n_test": 20, "max_len": 16,
        "num_layers": 1}


@pytest.fixture(autouse=True)
def task_identity(monkeypatch):
    """Instruction messages take their run/node/task ids from the process's TaskIdentity (set by Flower)."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr in ("_run_id", "_node_id", "_task_id"):
        monkeypatch.setattr(TaskIdentity, attr, 1)


def test_config_record_round_trip():
    pet, s = PETConfig("prefix", prefix_tokens=4, head="linear"), FedSettings(alpha=0.1, seed=3, **TINY)
    assert from_record(to_record(pet, s)) == (pet, s)
    assert from_record(to_record(pet, FedSettings(n_train=None, lr=None)))[1].n_train is None


def _context(pid):
    return Context(run_id=1, node_id=pid + 1, node_config={"partition-id": pid, "num-partitions": 2},
                   state=RecordDict(), run_config={})


def _train_message(pet, s, arrays, server_round=1, message_type=MessageType.TRAIN):
    config = to_record(pet, s)
    config["server-round"] = server_round
    return Message(RecordDict({"arrays": ArrayRecord(arrays), "config": config}), dst_node_id=1,
                   message_type=message_type)


def test_client_handlers_start_from_the_global_state():
    pet, s = PETConfig("lora", rank=2), FedSettings(**TINY)
    global_state = {k: v.clone() for k, v in trainable_state_dict(model_for(pet, s, 5)).items()}
    first = client_app(_train_message(pet, s, global_state), _context(0))
    client_app(_train_message(pet, s, global_state), _context(1))
    again = client_app(_train_message(pet, s, global_state), _context(0))
    a, b = first.content["arrays"].to_torch_state_dict(), again.content["arrays"].to_torch_state_dict()
    assert set(a) == set(global_state)
    for key in a:  # same incoming state + same partition -> same update: nothing leaks between calls
        torch.testing.assert_close(a[key], b[key])
    assert any(not torch.equal(a[k], global_state[k]) for k in a)  # and it did train
    assert first.content["metrics"]["num-examples"] == 20
    ev = client_app(_train_message(pet, s, global_state, message_type=MessageType.EVALUATE), _context(1))
    assert 0.0 <= ev.content["metrics"]["accuracy"] <= 1.0 and ev.content["metrics"]["num-examples"] == 10


def test_client_app_answers_the_partition_query():
    grid = InProcessGrid(client_app, num_nodes=3, seed=5)
    assert node_partitions(grid, expected=3) == {grid.node_of(p): p for p in range(3)}


def test_bad_settings():
    with pytest.raises(ValueError, match="alpha"):
        FedSettings(alpha=0.0)
    with pytest.raises(TypeError):
        FedSettings(tiny_hidden=32)  # test-only knobs are not public settings
    with pytest.raises(ValueError, match="num_clients"):
        FedSettings(num_clients=50, clients_per_round=5, n_train=20)
    with pytest.raises(ValueError, match="clients_per_round"):
        FedSettings(num_clients=2, clients_per_round=3)


def _failing_app(fail_round):
    """The paper's ClientApp, except that partition 0 raises in `fail_round`."""
    app = add_partition_query(ClientApp())

    @app.train()
    def train(msg, context):
        if int(msg.content["config"]["server-round"]) == fail_round and context.node_config["partition-id"] == 0:
            raise RuntimeError("injected failure")
        return client_train(msg, context)

    app.evaluate()(client_evaluate)
    return app


def test_fedavg_on_a_grid_bytes_exact_sampling_seeded_and_a_failing_client_tolerated():
    ok_run = (PETConfig("bitfit"), FedSettings(rounds=1, **TINY))
    sampling = (PETConfig("head"), FedSettings(**{**TINY, "clients_per_round": 1, "rounds": 3}))
    res_ok, first, again = run_on_grid(InProcessGrid(client_app, num_nodes=2, seed=1), [ok_run, sampling, sampling])
    # Same seed, same run: the partitions come from random.Random(seed), whatever the (random) node ids.
    expected = random.Random(0)
    assert first.sampled_partitions == again.sampled_partitions == [expected.sample([0, 1], 1) for _ in range(3)]
    assert first.valid_accuracy == again.valid_accuracy and first.train_loss == again.train_loss
    assert sorted(res_ok.sampled_partitions[0]) == [0, 1]
    assert res_ok.messages_down == [2] and res_ok.messages_up == [2] and res_ok.failures == [0]
    state = trainable_state_dict(model_for(*ok_run, num_labels=5))
    assert res_ok.message_bytes == arrayrecord_bytes(state)
    assert res_ok.bytes_down == [2 * arrayrecord_bytes(state)] == res_ok.bytes_up  # exact: Flower's framing
    assert len(res_ok.valid_accuracy) == 2 and 0.0 <= res_ok.best_test_accuracy <= 1.0

    failing = (PETConfig("lora", rank=2), FedSettings(rounds=2, **TINY))
    (res_fail,) = run_on_grid(InProcessGrid(_failing_app(1), num_nodes=2, seed=2), [failing])
    assert res_fail.failures == [1, 0] and res_fail.messages_up == [1, 2]
    assert res_fail.bytes_up[0] == res_fail.bytes_down[0] // 2  # only what was delivered counts
    assert len(res_fail.valid_accuracy) == 3


def test_flower_simulation_smoke_two_supernodes_one_round():
    from paperzoo.papers.fedpetuning import run_many

    run = (PETConfig("bitfit"), FedSettings(rounds=1, **TINY))
    (res,) = run_many([run])
    state = trainable_state_dict(model_for(*run, num_labels=5))
    assert res.messages_down == [2] and res.messages_up == [2] and res.failures == [0]
    assert res.bytes_down == [2 * arrayrecord_bytes(state)] == res.bytes_up
    assert len(res.valid_accuracy) == 2
