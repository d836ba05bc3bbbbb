import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Split and unsplit outputs are compared bit for bit, which needs the same thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
