"""Baselines: greedy low-rank learning (GLRL, Li, Luo & Lyu 2021) and nuclear-norm minimisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .matrices import check_problem


@dataclass
class GLRLResult:
    """The rank-k iterates of GLRL (`iterates[k-1]` has rank k) and the final factors W = U Vᵀ."""

    iterates: list[torch.Tensor]
    U: torch.Tensor
    V: torch.Tensor
    steps: list[int]

    @property
    def rank(self) -> int:
        return len(self.iterates)


def glrl(target: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-3, max_rank: int | None = None,
         lr: float = 0.01, max_steps: int = 50_000, grad_tol: float = 1e-9, stop_tol: float = 1e-6) -> GLRLResult:
    """Greedy low-rank learning, asymmetric form, for f(W) = ½‖P_Ω(W − M)‖².

    Repeat: take the top singular pair (u, s, v) of −∇f(U Vᵀ); stop if s ≤ stop_tol; append ε·u to U and
    ε·v to V; run gradient descent on f(U Vᵀ) until ‖∇‖ ≤ grad_tol (or `max_steps`). Under full
    observation the rank-k iterate is the truncated SVD of M.

    Example:
        >>> M = low_rank_matrix(20, [10, 6, 3], seed=0)        # doctest: +SKIP
        >>> [float(torch.linalg.matrix_rank(W)) for W in glrl(M).iterates]   # doctest: +SKIP
        [1.0, 2.0, 3.0]
    """
    target_t, mask_t = check_problem(target, mask)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    m, n = target_t.shape
    max_rank = min(m, n) if max_rank is None else max_rank
    if not 1 <= max_rank <= min(m, n):
        raise ValueError(f"max_rank must lie in [1, {min(m, n)}], got {max_rank!r}")
    M, P = target_t.numpy(), mask_t.numpy()
    U, V = np.zeros((m, 0)), np.zeros((n, 0))
    iterates, steps_used = [], []
    while U.shape[1] < max_rank:
        residual = P * (U @ V.T - M)
        u, s, vt = np.linalg.svd(-residual)
        if s[0] <= stop_tol:
            break
        U, V = np.column_stack([U, eps * u[:, 0]]), np.column_stack([V, eps * vt[0]])
        step = 0
        while step < max_steps:
            residual = P * (U @ V.T - M)
            gU, gV = residual @ V, residual.T @ U
            if np.sqrt((gU ** 2).sum() + (gV ** 2).sum()) <= grad_tol:
                break
            U, V = U - lr * gU, V - lr * gV
            step += 1
            if not np.isfinite(U).all():
                raise ValueError(f"GLRL gradient descent diverged: lr={lr} is too large")
        iterates.append(torch.from_numpy(U @ V.T))
        steps_used.append(step)
    return GLRLResult(iterates, torch.from_numpy(U), torch.from_numpy(V), steps_used)


def nuclear_norm_completion(target: torch.Tensor, mask: torch.Tensor | None = None, tol: float = 1e-3,
                            solver: str = "SCS", **solver_options: object) -> torch.Tensor:
    """argmin ‖X‖_* s.t. |X_ij − M_ij| ≤ tol on the observed entries (cvxpy; SCS by default).

    Example:
        >>> M = low_rank_matrix(30, [10, 6, 3], seed=0)                    # doctest: +SKIP
        >>> X = nuclear_norm_completion(M, observation_mask(M.shape, n_obs=300))   # doctest: +SKIP
    """
    import cvxpy as cp

    target_t, mask_t = check_problem(target, mask)
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    M, P = target_t.numpy(), mask_t.numpy()
    X = cp.Variable(M.shape)
    problem = cp.Problem(cp.Minimize(cp.normNuc(X)), [cp.abs(cp.multiply(P, X - M)) <= tol])
    options = {"eps": 1e-7, "max_iters": 100_000} if solver == "SCS" else {}
    problem.solve(solver=solver, **{**options, **solver_options})
    if X.value is None or problem.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"nuclear-norm solver {solver} failed: status {problem.status}")
    return torch.from_numpy(np.asarray(X.value, dtype=np.float64))
