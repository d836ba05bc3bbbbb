"""Second-order certificates: ‖∇_θ ℓ‖ and λ_min(∇²_θ ℓ) over all factors θ = (W_1, …, W_N).

Hessian-vector products come from `torch.func` (forward-over-reverse); λ_min is found by
`scipy.sparse.linalg.eigsh` on the shifted operator λ_max·I − H, since Lanczos converges slowly on
"SA" when λ_min ≈ 0. Small problems (≤ `exact_limit` parameters) use the exact Hessian instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from .matrices import check_problem
from .training import DeepMatrixFactorization, _product

METHODS = ("auto", "exact", "lanczos")


@dataclass(frozen=True)
class Certificate:
    """First- and second-order information at one point: a second-order critical point has
    grad_norm ≈ 0 and lambda_min ≥ −tol; a strict saddle has lambda_min < 0."""

    grad_norm: float
    lambda_min: float
    lambda_max: float
    loss: float
    n_params: int
    method: str

    def is_second_order(self, grad_tol: float = 1e-6, eig_tol: float = 1e-6) -> bool:
        return self.grad_norm <= grad_tol and self.lambda_min >= -eig_tol


def _flat_loss(factors: Sequence[torch.Tensor], target: torch.Tensor, mask: torch.Tensor
               ) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    shapes = [tuple(f.shape) for f in factors]
    sizes = [f.numel() for f in factors]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        parts = [p.reshape(s) for p, s in zip(torch.split(theta, sizes), shapes, strict=True)]
        return 0.5 * ((mask * (_product(parts) - target)) ** 2).sum()

    theta = torch.cat([f.detach().reshape(-1).to(torch.float64) for f in factors])
    return loss, theta


def second_order_check(model: DeepMatrixFactorization | Sequence[torch.Tensor], target: torch.Tensor,
                       mask: torch.Tensor | None = None, method: str = "auto", exact_limit: int = 2000,
                       tol: float = 1e-10, seed: int = 0) -> Certificate:
    """‖∇_θ ℓ‖ and the extreme Hessian eigenvalues of ℓ at `model` (or at a list of factors), in float64.

    method="exact" builds the full Hessian (N·n² ≤ a few thousand); "lanczos" uses HVPs + eigsh;
    "auto" picks exact when the parameter count is ≤ `exact_limit`.

    Example:
        >>> cert = second_order_check(dmf, M, mask)      # doctest: +SKIP
        >>> cert.grad_norm < 1e-6 and cert.lambda_min > -1e-6   # doctest: +SKIP
        True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    factors = list(model.factors) if isinstance(model, DeepMatrixFactorization) else list(model)
    if not factors or not all(isinstance(f, torch.Tensor) and f.ndim == 2 for f in factors):
        raise TypeError("model must be a DeepMatrixFactorization or a list of 2-D factor tensors")
    target, mask = check_problem(target, mask)
    rows, cols = factors[-1].shape[0], factors[0].shape[1]
    if (rows, cols) != tuple(target.shape):
        raise ValueError(f"target shape {tuple(target.shape)} does not match the model's shape {(rows, cols)}")
    loss_fn, theta = _flat_loss(factors, target, mask)
    grad_fn = torch.func.grad(loss_fn)
    grad = grad_fn(theta)
    n = theta.numel()
    if method == "exact" or (method == "auto" and n <= exact_limit):
        hessian = torch.func.hessian(loss_fn)(theta)
        eigs = torch.linalg.eigvalsh(0.5 * (hessian + hessian.T))
        lam_min, lam_max, used = float(eigs[0]), float(eigs[-1]), "exact"
    else:
        def hvp(v: np.ndarray) -> np.ndarray:
            vec = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
            return torch.func.jvp(grad_fn, (theta,), (vec,))[1].numpy()

        v0 = np.random.default_rng(seed).standard_normal(n)
        op = LinearOperator((n, n), matvec=hvp, dtype=np.float64)
        lam_max = float(eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        shift = max(lam_max, 0.0) + 1.0  # λ_max(shift·I − H) = shift − λ_min(H), well separated
        shifted = LinearOperator((n, n), matvec=lambda v: shift * v - hvp(v), dtype=np.float64)
        top = float(eigsh(shifted, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        lam_min, used = shift - top, "lanczos"
    return Certificate(float(grad.norm()), lam_min, lam_max, float(loss_fn(theta)), n, used)
