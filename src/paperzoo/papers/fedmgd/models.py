"""The tiny nets of our FedMGD stand-in (MLPs on 8x8 images flattened to 64 values in [-1, 1]).

The paper uses a 32x32 ResNet cGAN and a small CNN; at our scale (2 CPU cores, minutes) the spec fixes
MLPs without BatchNorm, so that a sample's loss depends on that sample only (per-sample input gradients).

Example:
    >>> import torch
    >>> G = ConditionalGenerator(z_dim=32, n_classes=10, out_dim=64)
    >>> x = G(torch.randn(4, 32), torch.tensor([0, 1, 2, 3]))
    >>> tuple(x.shape), tuple(Discriminator(64)(x).shape), tuple(Classifier(64, 10)(x).shape)
    ((4, 64), (4,), (4, 10))
"""

from __future__ import annotations

import torch
from torch import nn


def _positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


class ConditionalGenerator(nn.Module):
    """G(z, y): [z ⊕ one-hot(y)] → 128 → 128 → out_dim, LeakyReLU(0.2), tanh output."""

    def __init__(self, z_dim: int = 32, n_classes: int = 10, out_dim: int = 64, hidden: int = 128) -> None:
        super().__init__()
        _positive(z_dim=z_dim, n_classes=n_classes, out_dim=out_dim, hidden=hidden)
        self.z_dim, self.n_classes, self.out_dim = z_dim, n_classes, out_dim
        self.net = nn.Sequential(nn.Linear(z_dim + n_classes, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out_dim), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = nn.functional.one_hot(y.long(), self.n_classes).to(z.dtype)
        return self.net(torch.cat([z, onehot], dim=1))

    def sample(self, n: int, generator: torch.Generator | None = None,
               y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z, y, G(z, y)) with z ~ N(0, I) and, unless given, y ~ Uniform(classes)."""
        z = torch.randn(n, self.z_dim, generator=generator)
        if y is None:
            y = torch.randint(0, self.n_classes, (n,), generator=generator)
        return z, y, self(z, y)


class Discriminator(nn.Module):
    """D(x) ∈ (0, 1): in_dim → 128 → 1, LeakyReLU(0.2), sigmoid (unconditional, as in the paper)."""

    def __init__(self, in_dim: int = 64, hidden: int = 128) -> None:
        super().__init__()
        _positive(in_dim=in_dim, hidden=hidden)
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x)).squeeze(1)


class Classifier(nn.Module):
    """C(x) logits: in_dim → 64 → n_classes, ReLU; the clients' C_k and the federated model alike."""

    def __init__(self, in_dim: int = 64, n_classes: int = 10, hidden: int = 64) -> None:
        super().__init__()
        _positive(in_dim=in_dim, n_classes=n_classes, hidden=hidden)
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


__all__ = ["Classifier", "ConditionalGenerator", "Discriminator"]
