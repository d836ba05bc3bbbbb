"""Neural-collapse metrics NC1, NC2, NC3 on a matrix of features (NumPy and SciPy only).

Conventions (those of tding1/Neural-Collapse, with class counts taken from the labels):
Σ_W averages over all N samples (not per class first), Σ_B over the K classes, and the global mean
μ_G is the sample mean. NC1 = tr(Σ_W Σ_B^†)/K uses the pseudo-inverse of Σ_B with the fixed
relative cutoff `RCOND` on its eigenvalues, computed in float64.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(np.arange(3), 50)
    >>> H = np.eye(3)[y] * 5 + 0.1 * rng.normal(size=(150, 3))
    >>> round(nc_metrics(H, y)["nc1"], 4) < 0.01
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

# Eigenvalues of Σ_B below RCOND * (largest eigenvalue) count as zero in the pseudo-inverse.
# Σ_B has rank <= K - 1 (<= d), so its "zero" eigenvalues must be cut explicitly; numpy, scipy and
# torch use different default cutoffs, hence a fixed one here.
RCOND = 1e-10


def _as_numpy(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - report which argument could not be converted
        raise TypeError(f"{name} must be an array or tensor, got {type(value).__name__}") from exc


def class_means(H: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate features and labels; return (H float64, class index per row, counts, class means).

    Raises ValueError for a non-2-D H, mismatched lengths, fewer than two classes, or a class with a
    single sample (its within-class scatter is undefined).
    """
    H = _as_numpy(H, "H")
    y = _as_numpy(y, "y")
    if H.ndim != 2:
        raise ValueError(f"H must be 2-D (samples x features), got shape {H.shape}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}")
    if H.shape[0] != y.shape[0]:
        raise ValueError(f"H and y have mismatched lengths: {H.shape[0]} feature rows, {y.shape[0]} labels")
    if not np.issubdtype(H.dtype, np.number):
        raise TypeError(f"H must be numeric, got dtype {H.dtype}")
    H = H.astype(np.float64, copy=False)
    labels, index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if labels.size < 2:
        raise ValueError(f"y needs at least 2 classes, got {labels.size}")
    if counts.min() < 2:
        lonely = labels[counts < 2].tolist()
        raise ValueError(f"every class needs at least 2 samples; class(es) {lonely} in y have only one")
    # Class sums as a sparse one-hot product: one pass over H, no copy (np.add.at is far slower).
    onehot = csr_matrix((np.ones(index.size), (index, np.arange(index.size))), shape=(labels.size, index.size))
    sums = np.asarray(onehot @ H)
    if not np.all(np.isfinite(sums)):  # any NaN/inf in H propagates into its class sum
        raise ValueError("H contains NaN or infinite values")
    return H, index, counts, sums / counts[:, None]


def simplex_etf(K: int) -> np.ndarray:
    """The Gram matrix of a K-class simplex ETF normalised to unit Frobenius norm."""
    return (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)


def nc_metrics(H: Any, y: Any, W: Any = None) -> dict[str, float]:
    """NC1, NC2 (and NC3 when the classifier W, shape (K, d), is given) of features H with labels y.

    H: (N, d) features (NumPy array or torch tensor); y: (N,) labels, any K >= 2 distinct values, each
    at least twice. Rows of W follow the sorted label values. Smaller is more collapse for all three.

    Example:
        >>> import numpy as np
        >>> y = np.array([0, 0, 1, 1, 2, 2]); H = np.eye(3)[y]
        >>> m = nc_metrics(H, y, W=np.eye(3))
        >>> round(m["nc1"], 12), round(m["nc2"], 12), round(m["nc3"], 12)
        (0.0, 0.0, 0.0)
    """
    H, index, counts, means = class_means(H, y)
    K, N = counts.size, H.shape[0]
    mu_G = counts @ means / N
    M = (means - mu_G).T  # d x K, columns μ_k − μ_G

    # Σ_B = M Mᵀ / K = U diag(s²/K) Uᵀ, so tr(Σ_W Σ_B^†) = Σ_j (K / s_j²) u_jᵀ Σ_W u_j over kept j;
    # projecting the centred features on the K columns of U avoids forming the d x d Σ_W.
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    eig = s**2 / K
    keep = eig > RCOND * eig.max() if eig.max() > 0 else np.zeros_like(eig, dtype=bool)
    if keep.any():
        P = H @ U[:, keep] - (means @ U[:, keep])[index]  # (h_i − μ_{y_i}) projected, N x r
        within = np.einsum("ij,ij->j", P, P) / N  # u_jᵀ Σ_W u_j
        nc1 = float(np.sum(within / eig[keep]) / K)
    else:  # all class means coincide: no between-class spread at all
        nc1 = float("inf")

    E = simplex_etf(K)
    gram = M.T @ M
    norm = np.linalg.norm(gram)
    out = {"nc1": nc1, "nc2": float(np.linalg.norm(gram / norm - E)) if norm > 0 else float("nan")}
    if W is not None:
        W = _as_numpy(W, "W").astype(np.float64)
        if W.shape != (K, H.shape[1]):
            raise ValueError(f"W must have shape (K, d) = ({K}, {H.shape[1]}), got {W.shape}")
        WM = W @ M
        wnorm = np.linalg.norm(WM)
        out["nc3"] = float(np.linalg.norm(WM / wnorm - E)) if wnorm > 0 else float("nan")
    return out
