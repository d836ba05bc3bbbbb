"""FedAvg with reproducible sampling by partition, partition-ordered averaging and measured bytes per round.

Example (inside a ServerApp's main)::

    partitions = node_partitions(grid, expected=10)
    strategy = ByteCountingFedAvg(fraction_train=0.5, fraction_evaluate=0.0, partitions=partitions, seed=0)
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(state), num_rounds=5)
    strategy.bytes_down[1], strategy.bytes_up[1], strategy.sampled_partitions[1]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from .metering import MeteredGrid
from .partitions import PartitionSampler, in_partition_order

log = logging.getLogger(__name__)


class ByteCountingFedAvg(FedAvg):
    """FedAvg (weighted by `num-examples`) that records, per round, the bytes sent and delivered.

    `start` runs on a `MeteredGrid` (the given grid, wrapped unless it already is one), so
    bytes_down[r] is `count_bytes()` of the train messages sent in round r and bytes_up[r] that of the
    replies that arrived without error. Failed replies are dropped and counted in failures[r] (errors
    and replies that never came); with fewer than `min_train_replies` valid replies the global model is
    kept for that round. With `partitions` ({node id: partition id}, see `node_partitions`) the nodes
    are sampled by partition from a generator seeded by `seed` (FedAvg samples node ids with the global
    `random`), and replies are averaged in partition order, so the same seed gives the same run.
    """

    def __init__(self, *args: Any, min_train_replies: int = 1, partitions: Mapping[int, int] | None = None,
                 seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(min_train_replies, int) or min_train_replies < 1:
            raise ValueError(f"min_train_replies must be an int >= 1, got {min_train_replies!r}")
        self.min_train_replies = min_train_replies
        self.partitions = dict(partitions or {})
        self.sampler = PartitionSampler(self.partitions, seed) if self.partitions else None
        self.meter: MeteredGrid | None = None
        self.sampled_partitions: dict[int, list[int]] = {}
        self.bytes_down: dict[int, int] = {}
        self.bytes_up: dict[int, int] = {}
        self.messages_down: dict[int, int] = {}
        self.messages_up: dict[int, int] = {}
        self.failures: dict[int, int] = {}

    def start(self, grid: Grid, *args: Any, **kwargs: Any) -> Any:
        self.meter = grid if isinstance(grid, MeteredGrid) else MeteredGrid(grid)
        return super().start(self.meter, *args, **kwargs)

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        if self.sampler is None or self.fraction_train == 0.0:
            return super().configure_train(server_round, arrays, config, grid)
        size = max(int(len(self.partitions) * self.fraction_train), self.min_train_nodes)
        chosen = self.sampler.sample(min(size, len(self.partitions)))
        self.sampled_partitions[server_round] = chosen
        config["server-round"] = server_round
        record = RecordDict({self.arrayrecord_key: arrays, self.configrecord_key: config})
        return [Message(record, dst_node_id=self.sampler.node_of(p), message_type=MessageType.TRAIN) for p in chosen]

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = in_partition_order(replies, self.partitions)
        valid = [m for m in replies if not m.has_error()]
        sent = len(replies)
        if self.meter is not None and self.meter.exchanges:  # `start` sent this round's messages just before
            exchange = self.meter.exchanges[-1]
            self.bytes_down[server_round], self.bytes_up[server_round] = exchange.bytes_sent, exchange.bytes_received
            self.messages_down[server_round], sent = exchange.sent, exchange.sent
        self.messages_up[server_round] = len(valid)
        self.failures[server_round] = sent - len(valid)
        if len(valid) < self.min_train_replies:
            log.warning("round %d: %d valid replies < min_train_replies=%d; keeping the global model",
                        server_round, len(valid), self.min_train_replies)
            return None, None
        return super().aggregate_train(server_round, valid)


__all__ = ["ByteCountingFedAvg"]
