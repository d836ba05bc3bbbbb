"""Second-order certificates: ‖∇_θ ℓ‖ and λ_min(∇²_θ ℓ) over all factors θ = (W_1, …, W_N).

The Hessian of ℓ = ½‖P_Ω(W_N⋯W_1 − M)‖² is used in closed form (equal to autograd's, tested): with
A_k = W_N⋯W_{k+1}, B_k = W_{k−1}⋯W_1, C_{ki} = W_{k−1}⋯W_{i+1} and R = P_Ω(W − M),

    VᵀHV = ‖P_Ω(Σ_k A_k V_k B_k)‖² + 2 Σ_{i<k} ⟨A_kᵀ R B_iᵀ, V_k C_{ki} V_i⟩.

Small problems (≤ `exact_limit` parameters) build the matrix and take all its eigenvalues; larger ones
hand the Hessian-vector products to `scipy.sparse.linalg.eigsh` on the shifted operator λ_max·I − H,
since Lanczos converges slowly on "SA" when λ_min ≈ 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from .matrices import check_problem
from .training import DeepMatrixFactorization, factor_gradients

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


class DMFHessian:
    """∇ℓ and ∇²ℓ of deep matrix factorization at fixed factors, in closed form. θ is the factors
    flattened row-major and concatenated, W_1 first: `torch.cat([f.reshape(-1) for f in factors])`.

    Example:
        >>> H = DMFHessian(list(dmf.factors), M, mask)    # doctest: +SKIP
        >>> H.matrix().shape                              # doctest: +SKIP
        torch.Size([1200, 1200])
    """

    def __init__(self, factors: Sequence[torch.Tensor], target: torch.Tensor, mask: torch.Tensor) -> None:
        self.factors = [f.detach().to(torch.float64) for f in factors]
        self.mask = mask.to(torch.float64)
        depth = len(self.factors)
        # span[i][m] = W_{i+m} ⋯ W_{i+1} (1-based factors), the identity when m == 0.
        self.span: list[list[torch.Tensor]] = []
        for i in range(depth + 1):
            dim = self.factors[i].shape[1] if i < depth else self.factors[-1].shape[0]
            row = [torch.eye(dim, dtype=torch.float64)]
            for k in range(i, depth):
                row.append(self.factors[k] @ row[-1])
            self.span.append(row)
        self.grads, self.residual = factor_gradients(self.factors, target, self.mask)
        self.sizes = [f.numel() for f in self.factors]
        # G_ki = A_kᵀ R B_iᵀ couples factor k with factor i < k through the residual.
        self.coupling = {(k, i): self.after(k).T @ self.residual @ self.before(i).T
                         for k in range(depth) for i in range(k)}

    def after(self, k: int) -> torch.Tensor:
        """A_k = W_N ⋯ W_{k+1} for 0-based factor k."""
        return self.span[k + 1][len(self.factors) - k - 1]

    def before(self, k: int) -> torch.Tensor:
        """B_k = W_{k−1} ⋯ W_1 for 0-based factor k."""
        return self.span[0][k]

    def between(self, k: int, i: int) -> torch.Tensor:
        """C_ki = W_{k−1} ⋯ W_{i+1} for 0-based factors i < k."""
        return self.span[i + 1][k - i - 1]

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def loss(self) -> float:
        return 0.5 * float((self.residual * self.residual).sum())

    def gradient(self) -> torch.Tensor:
        return torch.cat([g.reshape(-1) for g in self.grads])

    def matvec(self, vector: torch.Tensor) -> torch.Tensor:
        """H·v without forming H."""
        parts = [p.reshape(f.shape) for p, f in zip(torch.split(vector, self.sizes), self.factors, strict=True)]
        depth = len(parts)
        change = self.mask * sum(self.after(k) @ parts[k] @ self.before(k) for k in range(depth))
        out = []
        for k in range(depth):
            block = self.after(k).T @ change @ self.before(k).T
            for i in range(k):
                block = block + self.coupling[k, i] @ (self.between(k, i) @ parts[i]).T
            for j in range(k + 1, depth):
                block = block + (parts[j] @ self.between(j, k)).T @ self.coupling[j, k]
            out.append(block.reshape(-1))
        return torch.cat(out)

    def matrix(self) -> torch.Tensor:
        """The dense Hessian (n_params × n_params)."""
        depth = len(self.factors)
        observed = self.mask.reshape(-1, 1)
        # Row-major vec(A V B)[(p, q)] = Σ A[p, a] V[a, c] B[c, q]: Jacobian block J_k[(p, q), (a, c)].
        jac = [torch.einsum("pa,cq->pqac", self.after(k), self.before(k)).reshape(self.mask.numel(), -1)
               for k in range(depth)]
        blocks = [[(jac[k] * observed).T @ jac[i] for i in range(depth)] for k in range(depth)]
        for k in range(depth):
            for i in range(k):
                # ⟨G, V_k C V_i⟩ = Σ G[a, b] V_k[a, c] C[c, e] V_i[e, b]
                cross = torch.einsum("ab,ce->aceb", self.coupling[k, i], self.between(k, i))
                cross = cross.reshape(self.sizes[k], self.sizes[i])
                blocks[k][i] = blocks[k][i] + cross
                blocks[i][k] = blocks[i][k] + cross.T
        return torch.cat([torch.cat(row, dim=1) for row in blocks], dim=0)


def second_order_check(model: DeepMatrixFactorization | Sequence[torch.Tensor], target: torch.Tensor,
                       mask: torch.Tensor | None = None, method: str = "auto", exact_limit: int = 2000,
                       tol: float = 1e-10, seed: int = 0) -> Certificate:
    """‖∇_θ ℓ‖ and the extreme Hessian eigenvalues of ℓ at `model` (or at a list of factors), in float64.

    method="exact" builds the full Hessian (N·n² ≤ a few thousand); "lanczos" uses Hessian-vector
    products + eigsh; "auto" picks exact when the parameter count is ≤ `exact_limit`.

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
    hessian = DMFHessian(factors, target, mask)
    n = hessian.n_params
    if method == "exact" or (method == "auto" and n <= exact_limit):
        eigs = np.linalg.eigvalsh(hessian.matrix().numpy())
        lam_min, lam_max, used = float(eigs[0]), float(eigs[-1]), "exact"
    else:
        def hvp(v: np.ndarray) -> np.ndarray:
            return hessian.matvec(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))).numpy()

        v0 = np.random.default_rng(seed).standard_normal(n)
        op = LinearOperator((n, n), matvec=hvp, dtype=np.float64)
        lam_max = float(eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        shift = max(lam_max, 0.0) + 1.0  # λ_max(shift·I − H) = shift − λ_min(H), well separated
        shifted = LinearOperator((n, n), matvec=lambda v: shift * v - hvp(v), dtype=np.float64)
        top = float(eigsh(shifted, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        lam_min, used = shift - top, "lanczos"
    return Certificate(float(hessian.gradient().norm()), lam_min, lam_max, hessian.loss(), n, used)
