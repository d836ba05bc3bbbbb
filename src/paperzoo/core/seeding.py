"""One way to seed a run: same seed, same machine, same metrics."""

from __future__ import annotations

import random


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (when installed) and make torch pick deterministic kernels."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
