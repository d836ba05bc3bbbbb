import os

import pytest
import torch

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny nets: one thread is faster than several fighting over shared cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def task_identity(monkeypatch):
    """Messages built outside a Flower process take their run/node/task ids from Flower's task identity."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr in ("_run_id", "_node_id", "_task_id"):
        monkeypatch.setattr(TaskIdentity, attr, 1)
