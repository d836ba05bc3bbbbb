"""A Flower `Grid` that delivers messages to a ClientApp in this process (tests, fast loops).

Each node has a random id (seeded, as Flower's are random), a node config with `partition-id` and
`num-partitions`, and a `Context` that persists across messages, so stateful clients (`context.state`)
behave as on a SuperNode. A handler that raises yields an error reply, as in Flower. Message contents
are handed over without serialisation: a handler must not modify the message it receives.

Example::

    grid = InProcessGrid(client_app, num_nodes=3, seed=0)
    partitions = node_partitions(grid, expected=3)
    replies = grid.send_and_receive([Message(record, node, "train.gan_step") for node in partitions])
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import uuid4

from flwr.app import Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid

CLIENT_APP_RAISED_EXCEPTION = 2  # flwr's ErrorCode for a ClientApp that raised


def _ensure_task_identity(run_id: int, node_id: int) -> None:
    """Messages take their run and source ids from the process's task identity, which Flower sets in a
    ServerApp process; set it when it is missing (plain Python, tests)."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr, value in (("_run_id", run_id), ("_node_id", node_id), ("_task_id", 0)):
        if getattr(TaskIdentity, attr) is None:
            setattr(TaskIdentity, attr, value)


class InProcessGrid(Grid):
    """Runs `client_app` for every message, synchronously, on `num_nodes` in-process nodes.

    node_config: extra node config per partition id (`lambda pid: {"torch-threads": 1}`);
    run_config: the run config every node's Context carries; seed: draws the node ids.
    """

    def __init__(self, client_app: ClientApp, num_nodes: int, *,
                 node_config: Callable[[int], Mapping[str, Any]] | None = None,
                 run_config: Mapping[str, Any] | None = None, seed: int = 0, run_id: int = 1) -> None:
        if not isinstance(client_app, ClientApp):
            raise TypeError(f"client_app must be a flwr ClientApp, got {type(client_app).__name__}")
        if not isinstance(num_nodes, int) or num_nodes < 1:
            raise ValueError(f"num_nodes must be an int >= 1, got {num_nodes!r}")
        self.client_app = client_app
        ids = random.Random(seed).sample(range(1, 2**53), num_nodes)
        self.contexts: dict[int, Context] = {
            node: Context(run_id=run_id, node_id=node,
                          node_config={"partition-id": pid, "num-partitions": num_nodes,
                                       **(dict(node_config(pid)) if node_config else {})},
                          state=RecordDict(), run_config=dict(run_config or {}))
            for pid, node in enumerate(ids)}
        self._replies: dict[str, Message] = {}
        self._run: Any = None
        _ensure_task_identity(run_id, 0)

    def node_of(self, partition_id: int) -> int:
        """The node id that owns `partition_id`."""
        for node, context in self.contexts.items():
            if context.node_config["partition-id"] == partition_id:
                return node
        raise KeyError(f"no node owns partition {partition_id}")

    def _deliver(self, message: Message) -> Message:
        context = self.contexts.get(message.metadata.dst_node_id)
        if context is None:
            raise ValueError(f"no node with id {message.metadata.dst_node_id}")
        try:
            reply = self.client_app(message, context)
        except Exception as error:  # noqa: BLE001 - a failing ClientApp becomes an error reply, as in Flower
            reason = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
            reply = Message(Error(code=CLIENT_APP_RAISED_EXCEPTION, reason=reason), reply_to=message)
        reply.metadata.__dict__["_message_id"] = str(uuid4())
        return reply

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = str(uuid4())  # what a SuperLink assigns
            ids.append(message.metadata.message_id)
            self._replies[message.metadata.message_id] = self._deliver(message)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return [self._replies.pop(i) for i in message_ids if i in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        return self.pull_messages(self.push_messages(messages))

    def get_node_ids(self) -> Iterable[int]:
        return list(self.contexts)

    def set_run(self, run: Any) -> None:
        self._run = run

    @property
    def run(self) -> Any:
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)


__all__ = ["InProcessGrid"]
