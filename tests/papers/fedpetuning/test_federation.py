import random

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Error, Message, MessageType, MetricRecord, RecordDict

from paperzoo.papers.fedpetuning import (
    ByteCountingFedAvg,
    FedSettings,
    PETConfig,
    client_app,
    run_many,
    trainable_state_dict,
)
from paperzoo.papers.fedpetuning.federation import from_record, model_for, node_partitions, to_record

TINY = {"num_clients": 2, "clients_per_round": 2, "n_train": 40, "n_valid": 20, "n_test": 20, "max_len": 16,
        "tiny_hidden": 32, "num_layers": 2}


@pytest.fixture(autouse=True)
def task_identity(monkeypatch):
    """Instruction messages take their run/node/task ids from the process's TaskIdentity (set by Flower)."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr in ("_run_id", "_node_id", "_task_id"):
        monkeypatch.setattr(TaskIdentity, attr, 1)


class FakeGrid:
    def __init__(self, n):
        self.n = n

    def get_node_ids(self):
        return list(range(1, self.n + 1))


def reply_to(request, arrays=None, n=1, error=None):
    if error is not None:
        return Message(error, reply_to=request)
    content = RecordDict({"arrays": ArrayRecord(arrays), "metrics": MetricRecord({"num-examples": n})})
    return Message(content, reply_to=request)


def request():
    return Message(RecordDict({"config": ConfigRecord({"x": 1})}), dst_node_id=1, message_type=MessageType.TRAIN)


def test_aggregation_is_the_weighted_mean_and_failures_are_dropped():
    rng = np.random.default_rng(0)
    states = [{"w": torch.tensor(rng.normal(size=(3, 2)), dtype=torch.float32),
               "b": torch.tensor(rng.normal(size=4), dtype=torch.float32)} for _ in range(3)]
    sizes = [10, 30, 60]
    strategy = ByteCountingFedAvg(min_train_replies=2)
    replies = [reply_to(request(), s, n) for s, n in zip(states, sizes, strict=True)]
    replies.append(reply_to(request(), error=Error(code=0, reason="boom")))
    arrays, _ = strategy.aggregate_train(1, replies)
    got = arrays.to_torch_state_dict()
    for key in ("w", "b"):
        expected = sum(n * s[key] for s, n in zip(states, sizes, strict=True)) / sum(sizes)
        torch.testing.assert_close(got[key], expected)
    assert strategy.failures[1] == 1 and strategy.messages_up[1] == 3
    # Fewer valid replies than the minimum: the global model is kept.
    arrays, metrics = strategy.aggregate_train(2, replies[:1] + replies[3:])
    assert arrays is None and metrics is None and strategy.failures[2] == 1


def test_measured_bytes_are_four_per_parameter_plus_a_fixed_overhead():
    per_message = {}
    for n in (1_000, 50_000):
        state = {"a": torch.zeros(n), "b": torch.zeros(7, 3)}
        strategy = ByteCountingFedAvg(fraction_train=0.5, min_train_nodes=2, min_available_nodes=2)
        msgs = list(strategy.configure_train(1, ArrayRecord(state), ConfigRecord(), FakeGrid(6)))
        assert len(msgs) == 3 == strategy.messages_down[1]
        per_message[n] = strategy.bytes_down[1] / 3 - 4 * (n + 21)
    assert per_message[1_000] == per_message[50_000]  # overhead independent of size
    assert 0 < per_message[1_000] < 2 * 400  # a few hundred bytes of header per tensor


def test_config_record_round_trip():
    pet, s = PETConfig("prefix", prefix_tokens=4, train_pooler=True), FedSettings(alpha=0.1, seed=3, **TINY)
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


def test_sampling_follows_partitions_not_random_node_ids():
    """Node ids differ between simulations; the same seed must still pick the same partitions."""
    arrays, config = ArrayRecord([np.zeros(2, dtype=np.float32)]), ConfigRecord({"x": 1})

    def sampled(node_ids, seed):
        strategy = ByteCountingFedAvg(fraction_train=0.3, min_train_nodes=3, min_available_nodes=3,
                                      partitions={n: p for p, n in enumerate(node_ids)}, seed=seed)
        rounds = []
        for server_round in (1, 2, 3):
            messages = strategy.configure_train(server_round, arrays, ConfigRecord(dict(config)), FakeGrid(10))
            rounds.append([node_ids.index(m.metadata.dst_node_id) for m in messages])
            assert rounds[-1] == strategy.sampled_partitions[server_round]
        return rounds

    rng = np.random.default_rng(0)
    first, second = (rng.choice(10**9, size=10, replace=False).tolist() for _ in range(2))
    assert sampled(first, seed=4) == sampled(second, seed=4)
    assert sampled(first, seed=4) != sampled(first, seed=5)
    assert all(len(set(r)) == 3 for r in sampled(first, seed=4))


class QueryGrid(FakeGrid):
    """Routes query messages to the real ClientApp; node i + 1 owns partition `owned[i]`."""

    def __init__(self, owned):
        super().__init__(len(owned))
        self.owned = owned

    def send_and_receive(self, messages, timeout=None):
        return [client_app(m, _context(self.owned[m.metadata.dst_node_id - 1])) for m in messages]


def test_node_partitions_asks_the_client_app():
    assert node_partitions(QueryGrid([1, 0]), expected=2) == {1: 1, 2: 0}
    with pytest.raises(RuntimeError, match="distinct"):
        node_partitions(QueryGrid([0, 0]), expected=2)


def test_average_does_not_depend_on_reply_order():
    rng = np.random.default_rng(1)
    strategy = ByteCountingFedAvg(partitions={10 + p: p for p in range(5)})
    replies = []
    for p in range(5):
        req = Message(RecordDict({"config": ConfigRecord({"x": 1})}), dst_node_id=10 + p,
                      message_type=MessageType.TRAIN)
        replies.append(reply_to(req, {"w": torch.tensor(rng.normal(size=50), dtype=torch.float32)}, n=3 + p))
    forward, _ = strategy.aggregate_train(1, replies)
    backward, _ = strategy.aggregate_train(1, replies[::-1])
    assert torch.equal(forward.to_torch_state_dict()["w"], backward.to_torch_state_dict()["w"])


def test_bad_settings():
    with pytest.raises(ValueError, match="alpha"):
        FedSettings(alpha=0.0)
    with pytest.raises(ValueError, match="num_clients"):
        FedSettings(num_clients=50, clients_per_round=5, n_train=20)
    with pytest.raises(ValueError, match="clients_per_round"):
        FedSettings(num_clients=2, clients_per_round=3)


def test_simulation_smoke_and_a_client_failing_once_does_not_abort():
    ok_run = (PETConfig("bitfit"), FedSettings(rounds=1, **TINY))
    failing = (PETConfig("lora", rank=2), FedSettings(rounds=2, fail_round=1, **TINY))
    sampling = (PETConfig("bitfit"), FedSettings(**{**TINY, "clients_per_round": 1, "rounds": 3}))
    res_ok, res_fail, first, again = run_many([ok_run, failing, sampling, sampling])
    # Same seed, same run: the partitions come from random.Random(seed), whatever the (random) node ids.
    expected = random.Random(0)
    assert first.sampled_partitions == again.sampled_partitions == [expected.sample([0, 1], 1) for _ in range(3)]
    assert first.valid_accuracy == again.valid_accuracy and first.train_loss == again.train_loss
    assert sorted(res_ok.sampled_partitions[0]) == [0, 1]
    assert res_ok.messages_down == [2] and res_ok.messages_up == [2] and res_ok.failures == [0]
    per_message = res_ok.bytes_down[0] / 2
    assert 4 * res_ok.trainable_params < per_message < 4 * res_ok.trainable_params + 400 * 40
    assert res_ok.bytes_up == res_ok.bytes_down
    assert len(res_ok.valid_accuracy) == 2 and 0.0 <= res_ok.best_test_accuracy <= 1.0
    assert res_fail.failures == [1, 0] and res_fail.messages_up == [1, 2]
    assert res_fail.bytes_up[0] == res_fail.bytes_down[0] // 2
    assert len(res_fail.valid_accuracy) == 3
