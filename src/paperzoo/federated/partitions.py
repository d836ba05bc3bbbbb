"""Reproducible federated runs whatever the node ids: partition ids, seeded sampling, ordered replies.

Flower gives every node a random id in every simulation and deployment, so anything keyed by node id
(FedAvg's sampling with the global `random`, the order in which replies arrive) changes between runs.
A node knows its data partition from its node config (`partition-id`, `num-partitions`). The server
asks each node once (`node_partitions`, answered by the handler `add_partition_query` registers),
then samples partitions with its own seeded generator (`PartitionSampler`) and processes replies in
partition order (`in_partition_order`): the same seed gives the same run.

Example (ClientApp side, then inside a ServerApp's main)::

    app = ClientApp()
    add_partition_query(app)                       # answers "query.partition" messages

    partitions = node_partitions(grid, expected=10)    # {node id: partition id}
    sampler = PartitionSampler(partitions, seed=0)
    chosen = sampler.sample(5)                         # partition ids, reproducible by seed
    replies = grid.send_and_receive([Message(record, sampler.node_of(p), "train") for p in chosen])
    replies = in_partition_order(replies, partitions)
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping

from flwr.app import Context, Message, MessageType, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid

PARTITION_QUERY = f"{MessageType.QUERY}.partition"


def node_partition(context: Context) -> tuple[int, int]:
    """(partition id, number of partitions) from a node's config; a clear error when they are missing."""
    cfg = context.node_config
    if "partition-id" not in cfg or "num-partitions" not in cfg:
        raise ValueError("the node config needs 'partition-id' and 'num-partitions' "
                         f"(e.g. --node-config \"partition-id=0 num-partitions=2\"), got {dict(cfg)}")
    pid, n = int(cfg["partition-id"]), int(cfg["num-partitions"])
    if not 0 <= pid < n:
        raise ValueError(f"partition-id {pid} is outside [0, {n})")
    return pid, n


def partition_reply(msg: Message, context: Context) -> Message:
    """The handler of a partition query: this node's partition id and the number of partitions."""
    pid, n = node_partition(context)
    return Message(RecordDict({"metrics": MetricRecord({"partition-id": pid, "num-partitions": n})}), reply_to=msg)


def add_partition_query(app: ClientApp) -> ClientApp:
    """Register `partition_reply` on `app` for "query.partition" messages; returns `app`."""
    if not isinstance(app, ClientApp):
        raise TypeError(f"app must be a flwr ClientApp, got {type(app).__name__}")
    app.query("partition")(partition_reply)
    return app


def node_partitions(grid: Grid, expected: int, timeout_s: float = 300.0, poll_s: float = 0.5) -> dict[int, int]:
    """Ask every connected node for its partition id; returns {node id: partition id}.

    Waits until `expected` nodes are connected; raises RuntimeError if fewer connect within `timeout_s`,
    if a node does not answer, or if two nodes claim the same partition (sampling would silently change).
    """
    if not isinstance(expected, int) or expected < 1:
        raise ValueError(f"expected must be an int >= 1, got {expected!r}")
    deadline = time.monotonic() + timeout_s
    while len(node_ids := sorted(grid.get_node_ids())) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(node_ids)} of {expected} nodes connected within {timeout_s:.0f} s")
        time.sleep(poll_s)
    queries = [Message(RecordDict(), dst_node_id=n, message_type=PARTITION_QUERY) for n in node_ids]
    replies = list(grid.send_and_receive(queries, timeout=timeout_s))
    partitions = {r.metadata.src_node_id: int(r.content["metrics"]["partition-id"])
                  for r in replies if not r.has_error()}
    if len(partitions) < len(node_ids) or len(set(partitions.values())) < len(partitions):
        raise RuntimeError(f"partition query: {len(partitions)} of {len(node_ids)} nodes answered, "
                           f"partition ids {sorted(partitions.values())} (must be distinct)")
    return partitions


class PartitionSampler:
    """Samples partitions (not node ids) with its own generator, so a seed fixes the clients of a run.

    >>> sampler = PartitionSampler({901: 1, 17: 0, 55: 2}, seed=0)
    >>> sampler.sample(2), sampler.node_of(0)
    ([1, 2], 17)
    """

    def __init__(self, partitions: Mapping[int, int], seed: int = 0) -> None:
        self.partitions = dict(partitions)
        if not self.partitions:
            raise ValueError("partitions is empty")
        self._node_of = {p: n for n, p in self.partitions.items()}
        if len(self._node_of) < len(self.partitions):
            raise ValueError(f"two nodes share a partition id: {self.partitions}")
        self._rng = random.Random(seed)

    @property
    def partition_ids(self) -> list[int]:
        return sorted(self._node_of)

    def node_of(self, partition_id: int) -> int:
        """The node id that owns `partition_id`."""
        if partition_id not in self._node_of:
            raise KeyError(f"no node owns partition {partition_id} (known: {self.partition_ids})")
        return self._node_of[partition_id]

    def sample(self, k: int) -> list[int]:
        """k distinct partition ids, drawn from the sampler's generator (the draws advance it)."""
        if not isinstance(k, int) or not 1 <= k <= len(self._node_of):
            raise ValueError(f"k must be an int in [1, {len(self._node_of)}], got {k!r}")
        return self._rng.sample(self.partition_ids, k)


def in_partition_order(replies: Iterable[Message], partitions: Mapping[int, int]) -> list[Message]:
    """Replies sorted by the partition of their sender (unknown senders last, by node id).

    Replies arrive in completion order; a fixed order keeps float sums (e.g. an average) reproducible.
    """
    unknown = max(partitions.values(), default=0) + 1
    return sorted(replies, key=lambda m: (partitions.get(m.metadata.src_node_id, unknown), m.metadata.src_node_id))


__all__ = ["PARTITION_QUERY", "PartitionSampler", "add_partition_query", "in_partition_order", "node_partition",
           "node_partitions", "partition_reply"]
