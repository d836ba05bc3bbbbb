"""Clusters of embeddings as the paper forms meme clusters (PCA, then DBSCAN with Euclidean distance), with
eps read off the k-distance curve, HDBSCAN as the alternative, and the scores that say what they mean.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> blobs = np.concatenate([rng.normal(c, 0.01, (20, 8)) for c in (0.0, 1.0)])
    >>> labels = cluster(blobs).labels
    >>> len(set(labels) - {-1})
    2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PCA_DIMS = 128          # the paper reduces to 128 dimensions before DBSCAN (cluster.py)
MIN_SAMPLES = 5         # DBSCAN min_samples of the paper
EPS_FACTOR = 1.5        # eps = 1.5 × median k-distance (spec: eps from the k-distance curve)


@dataclass(frozen=True)
class Clusters:
    """Cluster labels (-1 = noise), the eps used (None for HDBSCAN) and the method."""

    labels: np.ndarray
    eps: float | None
    method: str

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels.tolist()) - {-1})

    @property
    def noise(self) -> float:
        return float(np.mean(self.labels == -1)) if len(self.labels) else 0.0


def k_distance(points: np.ndarray, k: int = MIN_SAMPLES) -> np.ndarray:
    """Distance of every point to its k-th nearest other point (the DBSCAN k-distance curve, unsorted)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(points) - 1)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return dist[:, k]


def cluster(embs: Any, method: str = "dbscan", eps: float | None = None, min_samples: int = MIN_SAMPLES,
            normalise: bool = True) -> Clusters:
    """DBSCAN (the paper's) or HDBSCAN over L2-normalised embeddings, after PCA to 128 dims when wider.

    eps None: `EPS_FACTOR` × the median distance to the `min_samples`-th neighbour.
    """
    from sklearn.cluster import DBSCAN, HDBSCAN
    from sklearn.decomposition import PCA

    if method not in ("dbscan", "hdbscan"):
        raise ValueError(f"method must be 'dbscan' or 'hdbscan', got {method!r}")
    if not isinstance(min_samples, int) or min_samples < 2:
        raise ValueError(f"min_samples must be an int >= 2, got {min_samples!r}")
    if eps is not None and not eps > 0:
        raise ValueError(f"eps must be None or > 0, got {eps!r}")
    x = np.asarray(embs.numpy() if hasattr(embs, "numpy") else embs, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"embs must be a non-empty (N, d) array, got shape {x.shape}")
    if len(x) <= min_samples:
        raise ValueError(f"embs must hold more than min_samples={min_samples} rows, got {len(x)}")
    if normalise:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if x.shape[1] > PCA_DIMS:
        x = PCA(PCA_DIMS, random_state=0).fit_transform(x)
    if method == "hdbscan":
        return Clusters(HDBSCAN(min_cluster_size=2 * min_samples, min_samples=min_samples, copy=True).fit_predict(x),
                        None, method)
    if eps is None:
        eps = float(EPS_FACTOR * np.median(k_distance(x, min_samples)))
        eps = max(eps, 1e-9)
    return Clusters(DBSCAN(eps=eps, min_samples=min_samples).fit_predict(x), eps, method)


def purity(labels: np.ndarray, truth: list[Any]) -> float:
    """Share of clustered (non-noise) points that carry their cluster's majority truth label."""
    labels = np.asarray(labels)
    truth_ids = np.unique(np.array([str(t) for t in truth]), return_inverse=True)[1]
    clustered = labels != -1
    if not clustered.any():
        return float("nan")
    total = 0
    for c in np.unique(labels[clustered]):
        total += np.bincount(truth_ids[labels == c]).max()
    return float(total / clustered.sum())


def cluster_scores(clusters: Clusters, glyphs: list[Any]) -> dict[str, float]:
    """Purity w.r.t. (template, flag), noise share, number of clusters, ARI of clustered points vs template."""
    from sklearn.metrics import adjusted_rand_score

    labels = clusters.labels
    pairs = [(g.template, g.flag) for g in glyphs]
    templates = np.array([str(g.template) for g in glyphs])
    clustered = labels != -1
    return {"purity": purity(labels, pairs), "noise": clusters.noise, "n_clusters": clusters.n_clusters,
            "ari_template": float(adjusted_rand_score(templates, labels)),
            "ari_template_clustered": float(adjusted_rand_score(templates[clustered], labels[clustered]))
            if clustered.any() else float("nan"),
            "eps": clusters.eps}
