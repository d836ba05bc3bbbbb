"""Fixtures for the federated tests, and a small ClientApp (`demo_app`) with a custom action.

gan_step: replies score = x.sum(1) · (partition + 1) and counts its calls in `context.state`.
train: replies w + (partition + 1) with num-examples = partition + 1.
Either handler raises when the config's "fail-partition" names this node's partition.
"""

import os
import sys

import numpy as np
import pytest
from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from paperzoo.federated import add_partition_query, array_record, node_partition

app = add_partition_query(ClientApp())


def _fail_if_asked(msg, pid):
    if int(msg.content["config"].get("fail-partition", -1)) == pid:
        raise RuntimeError(f"partition {pid} asked to fail")


@app.train("gan_step")
def gan_step(msg, context):
    pid, _ = node_partition(context)
    _fail_if_asked(msg, pid)
    calls = int(context.state["counter"]["calls"]) + 1 if "counter" in context.state else 1
    context.state["counter"] = ConfigRecord({"calls": calls})
    x = msg.content["arrays"]["x"].numpy()
    score = (x.sum(1) * (pid + 1)).astype(np.float32)
    return Message(RecordDict({"arrays": array_record({"score": score}), "metrics": MetricRecord({"calls": calls})}),
                   reply_to=msg)


@app.train()
def train(msg, context):
    pid, _ = node_partition(context)
    _fail_if_asked(msg, pid)
    w = msg.content["arrays"]["w"].numpy() + np.float32(pid + 1)
    return Message(RecordDict({"arrays": array_record({"w": w}), "metrics": MetricRecord({"num-examples": pid + 1})}),
                   reply_to=msg)


os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")


@pytest.fixture
def demo_app():
    return app


@pytest.fixture
def demo_module():
    return sys.modules[__name__]


@pytest.fixture
def task_identity(monkeypatch):
    """Messages built outside a Flower process take their run/node/task ids from Flower's task identity."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr in ("_run_id", "_node_id", "_task_id"):
        monkeypatch.setattr(TaskIdentity, attr, 1)
