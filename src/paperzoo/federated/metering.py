"""A Grid that measures the bytes of every message it sends and every reply it delivers.

`MeteredGrid` wraps any Flower `Grid` (the simulation's, a deployment's, `InProcessGrid`) and is
handed to strategies and server loops in its place. Each `send_and_receive` (or `push_messages` /
`pull_messages`) is logged as an `Exchange` under the current stage label, with the bytes counted by
`ArrayRecord.count_bytes()` on the messages that went out and on the replies that came back without
an error. Nothing is computed from parameter counts.

Example (inside a ServerApp's main, with `grid` from Flower)::

    grid = MeteredGrid(grid)
    with grid.stage("gan"):
        replies = grid.send_and_receive(messages)
    with grid.stage("fedavg"):
        strategy.start(grid=grid, initial_arrays=arrays, num_rounds=3)
    grid.traffic("gan").bytes_sent, grid.traffic("fedavg").bytes_received
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from flwr.app import Message
from flwr.serverapp import Grid

from .framing import message_bytes


@dataclass
class Exchange:
    """One batch of messages and its replies.

    bytes_*: ArrayRecord bytes (`count_bytes()`); record_bytes_*: all records (arrays, config, metrics).
    received: replies without error; errors: replies carrying an error; missing: no reply at all.
    """

    stage: str
    message_type: str
    sent: int = 0
    bytes_sent: int = 0
    record_bytes_sent: int = 0
    received: int = 0
    bytes_received: int = 0
    record_bytes_received: int = 0
    errors: int = 0

    @property
    def missing(self) -> int:
        return self.sent - self.received - self.errors

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "missing": self.missing}


@dataclass(frozen=True)
class Traffic:
    """Totals over exchanges (see `MeteredGrid.traffic`)."""

    exchanges: int
    sent: int
    bytes_sent: int
    received: int
    bytes_received: int
    errors: int

    @property
    def bytes_total(self) -> int:
        return self.bytes_sent + self.bytes_received


class MeteredGrid(Grid):
    """A `Grid` proxy that logs the bytes of what it sends and delivers, by stage and message type."""

    def __init__(self, grid: Grid, stage: str = "") -> None:
        if not isinstance(grid, Grid):
            raise TypeError(f"grid must be a flwr Grid, got {type(grid).__name__}")
        self.grid = grid
        self._stage = stage
        self.exchanges: list[Exchange] = []
        self._pending: dict[str, Exchange] = {}  # message id -> its exchange (push/pull use)

    # -- labelling
    @contextmanager
    def stage(self, label: str) -> Iterator[MeteredGrid]:
        """Log the exchanges inside the block under `label` (stages nest: the inner label wins)."""
        previous, self._stage = self._stage, str(label)
        try:
            yield self
        finally:
            self._stage = previous

    @property
    def current_stage(self) -> str:
        return self._stage

    def traffic(self, stage: str | None = None, message_type: str | None = None) -> Traffic:
        """Totals of the exchanges of `stage` and/or `message_type` (None = all)."""
        chosen = [e for e in self.exchanges if (stage is None or e.stage == stage)
                  and (message_type is None or e.message_type == message_type)]
        return Traffic(len(chosen), sum(e.sent for e in chosen), sum(e.bytes_sent for e in chosen),
                       sum(e.received for e in chosen), sum(e.bytes_received for e in chosen),
                       sum(e.errors for e in chosen))

    # -- counting
    def _outgoing(self, messages: Iterable[Message]) -> tuple[list[Message], Exchange]:
        messages = list(messages)
        types = {m.metadata.message_type for m in messages}
        exchange = Exchange(self._stage, types.pop() if len(types) == 1 else ",".join(sorted(types)))
        exchange.sent = len(messages)
        exchange.bytes_sent = sum(message_bytes(m) for m in messages)
        exchange.record_bytes_sent = sum(message_bytes(m, "all") for m in messages)
        self.exchanges.append(exchange)
        return messages, exchange

    @staticmethod
    def _incoming(replies: Iterable[Message], exchange: Exchange) -> list[Message]:
        replies = list(replies)
        for reply in replies:
            if reply.has_error():
                exchange.errors += 1
            else:
                exchange.received += 1
                exchange.bytes_received += message_bytes(reply)
                exchange.record_bytes_received += message_bytes(reply, "all")
        return replies

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        messages, exchange = self._outgoing(messages)
        return self._incoming(self.grid.send_and_receive(messages, timeout=timeout), exchange)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        messages, exchange = self._outgoing(messages)
        ids = list(self.grid.push_messages(messages))
        self._pending.update(dict.fromkeys(ids, exchange))
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        replies = list(self.grid.pull_messages(message_ids))
        for reply in replies:
            exchange = self._pending.pop(reply.metadata.reply_to_message_id, None)
            if exchange is not None:
                self._incoming([reply], exchange)
        return replies

    # -- delegated unchanged
    def set_run(self, run: Any) -> None:
        self.grid.set_run(run)

    @property
    def run(self) -> Any:
        return self.grid.run

    def create_message(self, content: Any, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return self.grid.get_node_ids()

    def get_nodes(self) -> Iterable[Any]:
        return self.grid.get_nodes()


__all__ = ["Exchange", "MeteredGrid", "Traffic"]
