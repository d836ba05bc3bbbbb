"""Deep matrix factorization W = W_N ⋯ W_1 trained by full-batch gradient descent.

The loss is the sum form ℓ = ½‖P_Ω(W − M)‖_F² (not the mean over Ω, which would divide the step by
|Ω|). Training uses the closed-form factor gradients ∂ℓ/∂W_j = (W_N⋯W_{j+1})ᵀ P_Ω(W − M) (W_{j−1}⋯W_1)ᵀ
under `torch.no_grad()`; autograd is kept for the second-order certificates and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .matrices import _shape, check_problem

LOSS_FORM = "sum: 0.5 * sum over observed (W_ij - M_ij)^2"
INITS = ("gaussian", "arora")


class DivergenceError(ValueError):
    """Gradient descent blew up (non-finite loss): the learning rate is too large."""


class DeepMatrixFactorization(nn.Module):
    """W = W_N ⋯ W_1 with bias-free factors (float64), hidden width `width` (default min(shape)).

    init="gaussian": every factor entry ~ N(0, init_scale²). init="arora": per-layer std
    init_scale^{1/N}·width^{-1/2}, so that ‖W‖_F ≈ init_scale·√width (Arora et al. 2019).

    Example:
        >>> dmf = DeepMatrixFactorization((20, 20), depth=3, init_scale=1e-3, seed=0)
        >>> dmf.end_to_end().shape
        torch.Size([20, 20])
    """

    def __init__(self, shape: int | Sequence[int], depth: int = 3, init: str = "gaussian",
                 init_scale: float = 1e-3, seed: int = 0, width: int | None = None) -> None:
        super().__init__()
        rows, cols = _shape(shape)
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be an int >= 1, got {depth!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if not (isinstance(init_scale, (int, float)) and math.isfinite(init_scale) and init_scale > 0):
            raise ValueError(f"init_scale must be a finite number > 0, got {init_scale!r}")
        width = min(rows, cols) if width is None else width
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be an int >= 1, got {width!r}")
        self.shape, self.depth, self.init, self.init_scale, self.seed = (rows, cols), depth, init, init_scale, seed
        dims = [cols] + [width] * (depth - 1) + [rows]
        std = init_scale if init == "gaussian" else init_scale ** (1 / depth) / math.sqrt(width)
        gen = torch.Generator().manual_seed(seed)
        self.factors = nn.ParameterList(
            nn.Parameter(torch.randn(dims[j + 1], dims[j], generator=gen, dtype=torch.float64) * std)
            for j in range(depth))

    def end_to_end(self) -> torch.Tensor:
        """The product W = W_N ⋯ W_1 (differentiable)."""
        return _product(list(self.factors))

    def forward(self) -> torch.Tensor:
        return self.end_to_end()


def dmf_loss(model: DeepMatrixFactorization, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """ℓ = ½‖P_Ω(W − M)‖_F² (differentiable, sum form)."""
    target, mask = check_problem(target, mask)
    return 0.5 * ((mask * (model.end_to_end() - target)) ** 2).sum()


def factor_gradients(factors: Sequence[torch.Tensor], target: torch.Tensor, mask: torch.Tensor
                     ) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Closed-form ∂ℓ/∂W_j for all factors and the residual P_Ω(W − M), for float64 0/1 `mask`.

    Prefix products W_{j}⋯W_1 are formed once; the suffix (W_N⋯W_{j+1})ᵀ R is carried backwards.
    """
    prefixes = [factors[0]]
    for factor in factors[1:]:
        prefixes.append(factor @ prefixes[-1])
    residual = mask * (prefixes[-1] - target)
    grads: list[torch.Tensor] = [residual] * len(factors)
    carried = residual
    for j in range(len(factors) - 1, 0, -1):
        grads[j] = carried @ prefixes[j - 1].T
        carried = factors[j].T @ carried
    grads[0] = carried
    return grads, residual


@dataclass
class History:
    """What `train_dmf` logs every `log_every` steps (and at steps 0 and `steps`).

    `singular_values[i]` are the singular values of W at `steps[i]` in decreasing order; `grad_norm` is
    ‖∇_θ ℓ‖ over all factors; `checkpoints` maps a requested step to copies of the factors there.
    """

    steps: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    singular_values: np.ndarray
    lr: float
    loss_form: str = LOSS_FORM
    checkpoints: dict[int, list[torch.Tensor]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.steps)


def train_dmf(model: DeepMatrixFactorization, target: torch.Tensor, mask: torch.Tensor | None = None,
              lr: float = 0.01, steps: int = 30_000, log_every: int = 50,
              checkpoints: Iterable[int] = ()) -> History:
    """Full-batch gradient descent on all factors at once, W_j ← W_j − lr·∂ℓ/∂W_j (in place).

    Raises `DivergenceError` (a ValueError naming `lr`) as soon as a logged loss is not finite, so a
    History never holds NaN. `checkpoints` lists steps at which copies of the factors are kept
    (step t = the parameters after t updates).

    Example:
        >>> M = low_rank_matrix(20, [10, 6, 3], seed=0)             # doctest: +SKIP
        >>> hist = train_dmf(DeepMatrixFactorization(M.shape), M)    # doctest: +SKIP
    """
    if not isinstance(model, DeepMatrixFactorization):
        raise TypeError(f"model must be a DeepMatrixFactorization, got {type(model).__name__}")
    target, mask = check_problem(target, mask)
    if tuple(target.shape) != model.shape:
        raise ValueError(f"target shape {tuple(target.shape)} does not match the model's shape {model.shape}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if not isinstance(log_every, int) or log_every < 1:
        raise ValueError(f"log_every must be an int >= 1, got {log_every!r}")
    keep = {int(t) for t in checkpoints}
    if any(t < 0 or t > steps for t in keep):
        raise ValueError(f"checkpoints must lie in [0, {steps}], got {sorted(keep)}")

    log_steps, losses, grad_norms, spectra = [], [], [], []
    saved: dict[int, list[torch.Tensor]] = {}
    with torch.no_grad():
        factors = [p.data for p in model.factors]  # updated in place: the module sees every step
        for t in range(steps + 1):
            if t in keep:
                saved[t] = [f.clone() for f in factors]
            grads, residual = factor_gradients(factors, target, mask)
            if t % log_every == 0 or t == steps:
                loss = 0.5 * float((residual * residual).sum())
                if not math.isfinite(loss):
                    raise DivergenceError(
                        f"gradient descent diverged by step {t} (loss is not finite): lr={lr} is too large "
                        f"for this problem; near the minimum GD needs lr < 2/λ_max(Hessian), try lr <= {lr / 4:g}")
                log_steps.append(t)
                losses.append(loss)
                grad_norms.append(math.sqrt(sum(float((g * g).sum()) for g in grads)))
                spectra.append(torch.linalg.svdvals(_product(factors)).numpy())
            if t == steps:
                break
            for factor, grad in zip(factors, grads, strict=True):
                factor.sub_(grad, alpha=lr)
    return History(np.array(log_steps), np.array(losses), np.array(grad_norms), np.stack(spectra), float(lr),
                   checkpoints=saved)


def _product(factors: Sequence[torch.Tensor]) -> torch.Tensor:
    product = factors[0]
    for factor in factors[1:]:
        product = factor @ product
    return product
