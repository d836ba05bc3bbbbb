"""Partition query, seeded sampling, reply order, metered bytes and FedAvg on an in-process Grid."""

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord, ConfigRecord, Error, Message, MessageType, MetricRecord, RecordDict

from paperzoo.federated import (
    PARTITION_QUERY,
    ByteCountingFedAvg,
    InProcessGrid,
    MeteredGrid,
    PartitionSampler,
    array_record,
    arrayrecord_bytes,
    in_partition_order,
    node_partitions,
)


def gan_messages(grid, x, config=None):
    record = RecordDict({"arrays": array_record({"x": x}), "config": ConfigRecord(config or {})})
    return [Message(record, dst_node_id=n, message_type=f"{MessageType.TRAIN}.gan_step")
            for n in sorted(grid.get_node_ids())]


def test_partition_query_maps_random_node_ids_to_partitions(demo_app):
    grid = InProcessGrid(demo_app, num_nodes=4, seed=3)
    partitions = node_partitions(grid, expected=4)
    assert sorted(partitions.values()) == [0, 1, 2, 3]
    assert all(grid.node_of(p) == n for n, p in partitions.items())
    assert sorted(partitions) != [1, 2, 3, 4]  # ids are random, as in Flower

    first = next(iter(grid.contexts.values()))
    first.node_config["partition-id"] = 1 if first.node_config["partition-id"] != 1 else 0
    with pytest.raises(RuntimeError, match="distinct"):
        node_partitions(grid, expected=4)
    del first.node_config["partition-id"]  # the handler raises, its reply is an error
    with pytest.raises(RuntimeError, match="3 of 4 nodes answered"):
        node_partitions(grid, expected=4)
    with pytest.raises(RuntimeError, match="connected"):
        node_partitions(grid, expected=5, timeout_s=0.0)


def test_sampler_is_seeded_by_partition_not_by_node_id():
    def draws(node_ids, seed):
        sampler = PartitionSampler({n: p for p, n in enumerate(node_ids)}, seed=seed)
        return [sampler.sample(3) for _ in range(4)], [sampler.node_of(p) for p in range(10)]

    rng = np.random.default_rng(0)
    ids_a, ids_b = (rng.choice(10**9, size=10, replace=False).tolist() for _ in range(2))
    (a, nodes_a), (b, nodes_b) = draws(ids_a, 4), draws(ids_b, 4)
    assert a == b and nodes_a == ids_a and nodes_b == ids_b
    assert draws(ids_a, 5)[0] != a
    assert all(len(set(r)) == 3 for r in a)
    with pytest.raises(ValueError, match="share"):
        PartitionSampler({1: 0, 2: 0})
    with pytest.raises(ValueError, match="k must be"):
        PartitionSampler({1: 0}).sample(2)
    with pytest.raises(KeyError, match="no node owns"):
        PartitionSampler({1: 0}).node_of(3)


def test_replies_in_partition_order(demo_app, task_identity):
    grid = InProcessGrid(demo_app, num_nodes=5, seed=1)
    partitions = node_partitions(grid, expected=5)
    replies = list(grid.send_and_receive(gan_messages(grid, np.ones((2, 3), np.float32))))
    rng = np.random.default_rng(0)
    shuffled = [replies[i] for i in rng.permutation(5)]
    ordered = in_partition_order(shuffled, partitions)
    assert [partitions[m.metadata.src_node_id] for m in ordered] == [0, 1, 2, 3, 4]


def test_metered_grid_counts_a_custom_action_exactly(demo_app, task_identity):
    grid = MeteredGrid(InProcessGrid(demo_app, num_nodes=3, seed=0))
    with grid.stage("partitions"):
        partitions = node_partitions(grid, expected=3)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    with grid.stage("gan"):
        replies = list(grid.send_and_receive(gan_messages(grid, x)))
        replies += list(grid.send_and_receive(gan_messages(grid, x, {"fail-partition": 2})))
    gan = grid.traffic("gan")
    assert (gan.exchanges, gan.sent, gan.received, gan.errors) == (2, 6, 5, 1)
    assert gan.bytes_sent == 6 * arrayrecord_bytes({"x": x}) == 6 * (4 * 12 + 128 + 1)
    assert gan.bytes_received == 5 * arrayrecord_bytes({"score": ((4,), "float32")})
    assert grid.traffic("partitions").bytes_sent == 0 and grid.traffic("partitions").received == 3
    assert grid.traffic(message_type=PARTITION_QUERY).exchanges == 1
    ok = [m for m in replies if not m.has_error()]
    by_partition = {partitions[m.metadata.src_node_id]: m for m in ok[3:]}
    np.testing.assert_allclose(by_partition[1].content["arrays"]["score"].numpy(), 2 * x.sum(1))
    # context.state persists on a node: its second call counts 2
    assert [int(m.content["metrics"]["calls"]) for m in ok[3:]] == [2, 2]
    # push / pull directly: the same counts
    ids = grid.push_messages(gan_messages(grid, x))
    assert len(list(grid.pull_messages(ids))) == 3
    assert grid.exchanges[-1].received == 3 and grid.exchanges[-1].bytes_sent == gan.bytes_sent // 2
    assert grid.exchanges[-1].to_dict()["missing"] == 0


def _fedavg(demo_app, node_seed, rounds=3, fail=None):
    grid = InProcessGrid(demo_app, num_nodes=6, seed=node_seed)
    partitions = node_partitions(grid, expected=6)
    strategy = ByteCountingFedAvg(fraction_train=0.5, fraction_evaluate=0.0, min_available_nodes=3,
                                  partitions=partitions, seed=7)
    initial = {"w": np.zeros(5, np.float32)}
    config = ConfigRecord({} if fail is None else {"fail-partition": fail})
    result = strategy.start(grid=grid, initial_arrays=array_record(initial), num_rounds=rounds, train_config=config)
    return strategy, result.arrays["w"].numpy(), arrayrecord_bytes(initial)


def test_fedavg_bytes_per_round_are_exact_and_runs_repeat_whatever_the_node_ids(demo_app, task_identity):
    strategy, w, per_message = _fedavg(demo_app, node_seed=0)
    assert strategy.messages_down == {1: 3, 2: 3, 3: 3} == strategy.messages_up
    assert all(strategy.bytes_down[r] == 3 * per_message == strategy.bytes_up[r] for r in (1, 2, 3))
    # each round adds the weighted mean of (partition + 1) with weights (partition + 1)
    gain = sum(sum((p + 1) ** 2 for p in s) / sum(p + 1 for p in s) for s in strategy.sampled_partitions.values())
    np.testing.assert_allclose(w, np.full(5, gain, np.float32), rtol=1e-6)
    again, w_again, _ = _fedavg(demo_app, node_seed=99)
    assert again.sampled_partitions == strategy.sampled_partitions and np.array_equal(w, w_again)


def test_fedavg_drops_a_failing_client_and_counts_it(demo_app, task_identity):
    strategy, _, per_message = _fedavg(demo_app, node_seed=0, rounds=3, fail=2)
    for r, chosen in strategy.sampled_partitions.items():
        failed = int(2 in chosen)
        assert strategy.failures[r] == failed and strategy.messages_up[r] == 3 - failed
        assert strategy.bytes_up[r] == (3 - failed) * per_message and strategy.bytes_down[r] == 3 * per_message
    assert sum(strategy.failures.values()) >= 1  # seed 7 samples partition 2 at least once


def reply(arrays=None, n=1, error=None, src=1):
    request = Message(RecordDict({"config": ConfigRecord({"x": 1})}), dst_node_id=src, message_type=MessageType.TRAIN)
    if error is not None:
        return Message(error, reply_to=request)
    return Message(RecordDict({"arrays": ArrayRecord(arrays), "metrics": MetricRecord({"num-examples": n})}),
                   reply_to=request)


def test_aggregation_is_the_weighted_mean_in_partition_order(task_identity):
    rng = np.random.default_rng(0)
    states = [{"w": torch.tensor(rng.normal(size=(3, 2)), dtype=torch.float32),
               "b": torch.tensor(rng.normal(size=4), dtype=torch.float32)} for _ in range(3)]
    sizes = [10, 30, 60]
    strategy = ByteCountingFedAvg(min_train_replies=2, partitions={11: 0, 12: 1, 13: 2})
    replies = [reply(s, n, src=11 + i) for i, (s, n) in enumerate(zip(states, sizes, strict=True))]
    replies.append(reply(error=Error(code=0, reason="boom")))
    forward, _ = strategy.aggregate_train(1, replies)
    backward, _ = strategy.aggregate_train(1, replies[::-1])
    for key in ("w", "b"):
        expected = sum(n * s[key] for s, n in zip(states, sizes, strict=True)) / sum(sizes)
        torch.testing.assert_close(forward.to_torch_state_dict()[key], expected)
        assert torch.equal(forward.to_torch_state_dict()[key], backward.to_torch_state_dict()[key])
    assert strategy.failures[1] == 1 and strategy.messages_up[1] == 3
    arrays, metrics = strategy.aggregate_train(2, replies[:1] + replies[3:])  # below min_train_replies
    assert arrays is None and metrics is None and strategy.failures[2] == 1
    with pytest.raises(ValueError, match="min_train_replies"):
        ByteCountingFedAvg(min_train_replies=0)


def test_inprocess_grid_rejects_bad_arguments(demo_app):
    with pytest.raises(TypeError, match="ClientApp"):
        InProcessGrid(object(), 2)
    with pytest.raises(ValueError, match="num_nodes"):
        InProcessGrid(demo_app, 0)
    with pytest.raises(TypeError, match="Grid"):
        MeteredGrid(object())
