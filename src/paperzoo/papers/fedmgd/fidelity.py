"""Generator fidelity by an oracle: a classifier trained on the pooled data, never used in training.

fidelity[c] = fraction of G(z, c) that the oracle classifies as c (z ~ N(0, I)).

Example:
    >>> import numpy as np, torch
    >>> from paperzoo.papers.fedmgd.models import ConditionalGenerator
    >>> x, y = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32), np.arange(200) % 2
    >>> oracle = train_oracle(x, y, n_classes=2, epochs=2)
    >>> class_fidelity(ConditionalGenerator(8, 2, 4), oracle, per_class=10).shape
    (2,)
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .models import Classifier

ORACLE_HIDDEN = 256


def train_oracle(x: np.ndarray, y: np.ndarray, n_classes: int, epochs: int = 30, lr: float = 1e-3,
                 batch: int = 64, seed: int = 0) -> Classifier:
    """A wider Classifier (hidden 256) trained centrally with Adam on (x, y)."""
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = Classifier(x.shape[1], n_classes, hidden=ORACLE_HIDDEN)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.int64))
    for _ in range(epochs):
        for idx in torch.split(torch.randperm(len(yt), generator=gen), batch):
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def class_fidelity(G: torch.nn.Module, oracle: torch.nn.Module, per_class: int = 500, seed: int = 0) -> np.ndarray:
    """Per class c: the fraction of per_class samples G(z, c) that the oracle labels c."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for c in range(G.n_classes):
        y = torch.full((per_class,), c, dtype=torch.long)
        x = G(torch.randn(per_class, G.z_dim, generator=gen), y)
        out.append(float((oracle(x).argmax(1) == y).float().mean()))
    return np.array(out)


@torch.no_grad()
def sample_grid(G: torch.nn.Module, per_class: int = 8, seed: int = 0) -> np.ndarray:
    """(classes, per_class, dim) samples of G, for a picture of what it learned."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for c in range(G.n_classes):
        y = torch.full((per_class,), c, dtype=torch.long)
        rows.append(G(torch.randn(per_class, G.z_dim, generator=gen), y).numpy())
    return np.stack(rows)


__all__ = ["ORACLE_HIDDEN", "class_fidelity", "sample_grid", "train_oracle"]
