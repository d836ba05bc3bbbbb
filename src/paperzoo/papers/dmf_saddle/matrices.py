"""Seeded low-rank targets and observation masks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def _shape(shape: int | Sequence[int], name: str = "shape") -> tuple[int, int]:
    dims = (shape, shape) if isinstance(shape, int) else tuple(shape)
    if len(dims) != 2 or not all(isinstance(d, (int, np.integer)) and d >= 1 for d in dims):
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {shape!r}")
    return int(dims[0]), int(dims[1])


def low_rank_matrix(n: int | Sequence[int], singular_values: Sequence[float], seed: int = 0) -> torch.Tensor:
    """M = U diag(σ*) Vᵀ with U, V from the QR of Gaussian matrices (float64).

    Example:
        >>> M = low_rank_matrix(20, [10, 6, 3], seed=0)
        >>> torch.linalg.svdvals(M)[:4].round(decimals=6).tolist()
        [10.0, 6.0, 3.0, 0.0]
    """
    rows, cols = _shape(n, "n")
    sv = np.asarray(singular_values, dtype=np.float64)
    if sv.ndim != 1 or len(sv) == 0 or len(sv) > min(rows, cols):
        raise ValueError(f"singular_values must list 1..{min(rows, cols)} values, got {list(singular_values)!r}")
    if not np.all(np.isfinite(sv)) or np.any(sv < 0):
        raise ValueError(f"singular_values must be finite and >= 0, got {list(singular_values)!r}")
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((rows, len(sv))))
    v, _ = np.linalg.qr(rng.standard_normal((cols, len(sv))))
    return torch.from_numpy((u * sv) @ v.T)


def observation_mask(shape: int | Sequence[int], fraction: float | None = None, n_obs: int | None = None,
                     seed: int = 0) -> torch.Tensor:
    """A boolean mask with `n_obs` (or `round(fraction·size)`) entries set, sampled without replacement.

    With neither `fraction` nor `n_obs` every entry is observed (full reconstruction).

    Example:
        >>> int(observation_mask((20, 20), fraction=0.6, seed=0).sum())
        240
    """
    rows, cols = _shape(shape)
    size = rows * cols
    if fraction is not None and n_obs is not None:
        raise ValueError("give either fraction or n_obs, not both")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
        n_obs = round(fraction * size)
    if n_obs is None:
        return torch.ones(rows, cols, dtype=torch.bool)
    if not 1 <= n_obs <= size:
        raise ValueError(f"n_obs must lie in [1, {size}], got {n_obs!r}")
    chosen = np.random.default_rng(seed).choice(size, size=n_obs, replace=False)
    mask = np.zeros(size, dtype=bool)
    mask[chosen] = True
    return torch.from_numpy(mask.reshape(rows, cols))


def check_problem(target: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a (target, mask) pair and return them as float64 tensors (mask of 0/1)."""
    if not isinstance(target, torch.Tensor):
        target = torch.as_tensor(np.asarray(target))
    if target.ndim != 2:
        raise ValueError(f"target must be a 2-D matrix, got shape {tuple(target.shape)}")
    target = target.detach().to(torch.float64)
    if not torch.isfinite(target).all():
        raise ValueError("target contains NaN or inf entries")
    if mask is None:
        return target, torch.ones_like(target)
    if not isinstance(mask, torch.Tensor):
        mask = torch.as_tensor(np.asarray(mask))
    if tuple(mask.shape) != tuple(target.shape):
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match target shape {tuple(target.shape)}")
    if mask.dtype != torch.bool and not torch.isin(mask, torch.tensor([0, 1], dtype=mask.dtype)).all():
        raise ValueError("mask must be boolean or contain only 0 and 1")
    mask = mask.detach().to(torch.float64)
    if mask.sum() == 0:
        raise ValueError("mask observes no entry")
    return target, mask


def truncated_svd(matrix: torch.Tensor, rank: int) -> torch.Tensor:
    """The best rank-`rank` approximation of `matrix` (Eckart–Young)."""
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vh[:rank]
