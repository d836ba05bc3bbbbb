"""Semantic regularities in a CLIP space and the variant-discovery pipeline built on them (Qu et al.):
fused queries, the similarity band that separates variants from copies, influencers and entity
attribution. All embeddings are L2-normalised before every cosine.

Example:
    >>> import torch
    >>> m, t = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    >>> fuse(m, t, alpha=0.5)
    tensor([0.7071, 0.7071])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F


def _as_matrix(x: Any, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor or array, got {type(x).__name__}")
    if x.ndim == 1:
        x = x.unsqueeze(0)
    if x.ndim != 2:
        raise ValueError(f"{name} must be (d,) or (N, d), got shape {tuple(x.shape)}")
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise ValueError(f"{name} must hold finite floats")
    return F.normalize(x.float(), dim=-1)


def _check_alpha(alpha: float, name: str = "alpha") -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {alpha!r}")
    return float(alpha)


def fuse(image: Any, other: Any, alpha: float = 0.5) -> torch.Tensor:
    """norm(α·norm(image) + (1 − α)·norm(other)): a meme image fused with an entity (text or image).

    Rows broadcast: one seed against many entities or the reverse. α = 1 is the image alone.
    """
    alpha = _check_alpha(alpha)
    a, b = _as_matrix(image, "image"), _as_matrix(other, "other")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"image and other must have the same width, got {a.shape[1]} and {b.shape[1]}")
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        raise ValueError(f"image and other must have one row or the same rows, got {len(a)} and {len(b)}")
    out = F.normalize(alpha * a + (1 - alpha) * b, dim=-1)
    return out[0] if getattr(image, "ndim", 2) == 1 and getattr(other, "ndim", 2) == 1 else out


def analogy(image: Any, remove: Any, add: Any) -> torch.Tensor:
    """norm(image − remove + add): e.g. img(circle on azuria) − txt(azuria) + txt(rubria)."""
    a, r, p = _as_matrix(image, "image"), _as_matrix(remove, "remove"), _as_matrix(add, "add")
    return F.normalize(a - r + p, dim=-1)


def cosine(queries: Any, keys: Any) -> torch.Tensor:
    """Cosine similarities (Q, K) of normalised rows."""
    q, k = _as_matrix(queries, "queries"), _as_matrix(keys, "keys")
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"queries and keys must have the same width, got {q.shape[1]} and {k.shape[1]}")
    return q @ k.T


def top_k(queries: Any, keys: Any, k: int) -> torch.Tensor:
    """Indices (Q, k) of the k most similar keys per query."""
    sims = cosine(queries, keys)
    return sims.topk(min(k, sims.shape[1]), dim=1).indices


@dataclass(frozen=True)
class Band:
    """Cosine band [lower, upper] to a seed: inside are variants, above are copies."""

    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lower) and np.isfinite(self.upper)):
            raise ValueError(f"band must have finite bounds, got [{self.lower}, {self.upper}]")
        if self.lower > self.upper:
            raise ValueError(f"band: lower {self.lower:.4g} > upper {self.upper:.4g}")


def calibrate_band(seed: Any, embeddings: Any, kinds: Sequence[str], lower_pct: float = 5.0) -> Band:
    """The band from a labelled validation collection: lower = 5th percentile of the seed–variant cosines,
    upper = midpoint of the variants' 95th and the copies' 5th percentile (capped below by lower).

    `kinds` labels each row of `embeddings` ("variant", "copy", ...: `glyphs.variant_kind`).
    """
    s, e = _as_matrix(seed, "seed"), _as_matrix(embeddings, "embeddings")
    return band_from_similarities((e @ s[0]).numpy(), kinds, lower_pct)


def band_from_similarities(sims: np.ndarray, kinds: Sequence[str], lower_pct: float = 5.0) -> Band:
    """`calibrate_band` on precomputed similarities to the seed (any similarity, e.g. 1 − pHash distance)."""
    sims, kinds = np.asarray(sims, dtype=float), np.asarray(kinds)
    if len(kinds) != len(sims):
        raise ValueError(f"kinds must label every embedding: {len(kinds)} kinds for {len(sims)} embeddings")
    if not 0 < lower_pct < 50:
        raise ValueError(f"lower_pct must be in (0, 50), got {lower_pct!r}")
    variants, copies = sims[kinds == "variant"], sims[kinds == "copy"]
    if len(variants) == 0 or len(copies) == 0:
        raise ValueError("kinds must include at least one 'variant' and one 'copy'")
    lower = float(np.percentile(variants, lower_pct))
    upper = float((np.percentile(variants, 100 - lower_pct) + np.percentile(copies, lower_pct)) / 2)
    return Band(lower, max(lower, upper))


def _band(band: Band | tuple[float, float]) -> Band:
    if isinstance(band, Band):
        return band
    try:
        lower, upper = band
    except (TypeError, ValueError):
        raise ValueError(f"band must be a Band or (lower, upper), got {band!r}") from None
    return Band(float(lower), float(upper))


def find_variants(seed: Any, embeddings: Any, band: Band | tuple[float, float]) -> np.ndarray:
    """Indices of the images whose cosine to `seed` lies in the band (similar, not a copy), most similar first."""
    band = _band(band)
    e = _as_matrix(embeddings, "embeddings")
    if len(e) == 0:
        raise ValueError("embeddings is empty: no collection to search")
    sims = (e @ _as_matrix(seed, "seed")[0]).numpy()
    hits = np.flatnonzero((sims >= band.lower) & (sims <= band.upper))
    return hits[np.argsort(-sims[hits], kind="stable")]


@dataclass(frozen=True)
class Influencers:
    """Per variant: the top-k influencer indices into the pool, their fusion scores, and whether the best
    fusion clears `keep_above` (the paper's final threshold)."""

    indices: np.ndarray   # (V, k), -1 where fewer than k candidates survive the exclusion
    scores: np.ndarray    # (V, k), cos(v, norm(w·m + (1 − w)·x_j)); -inf where no candidate
    kept: np.ndarray      # (V,) bool


def find_influencers(seed: Any, variants: Any, coll: Any, exclude_above: float, keep_above: float | None = None,
                     k: int = 3, weight: float = 0.5) -> Influencers:
    """The paper's visual-regularity rule: for each variant v, fuse the seed with every image x_j of the pool
    `coll` (c_j = norm(w·m + (1 − w)·x_j), w = 0.5), drop x_j with cos(v, x_j) > `exclude_above` (the
    variant itself and its copies are no influencers), rank by cos(v, c_j), keep the top `k`; a variant
    is kept when its best score exceeds `keep_above` (None keeps all)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    weight = _check_alpha(weight, "weight")
    m, v, x = _as_matrix(seed, "seed"), _as_matrix(variants, "variants"), _as_matrix(coll, "coll")
    if len(x) == 0:
        raise ValueError("coll is empty: no influencer candidates")
    fused = F.normalize(weight * m + (1 - weight) * x, dim=-1)     # (P, d)
    scores = v @ fused.T                                              # (V, P)
    scores[(v @ x.T) > exclude_above] = -torch.inf
    k_eff = min(k, len(x))
    best = scores.topk(k_eff, dim=1)
    idx = best.indices.numpy().copy()
    val = best.values.numpy().copy()
    idx[~np.isfinite(val)] = -1
    kept = np.isfinite(val[:, 0]) & (val[:, 0] > (keep_above if keep_above is not None else -np.inf))
    return Influencers(idx, val, kept)


def entity_embeddings(entities: Mapping[str, Any], encoder: Any = None) -> tuple[list[str], torch.Tensor]:
    """(names, embeddings) from a mapping name → embedding, or name → phrase with `encoder.encode_text`."""
    if not entities:
        raise ValueError("entities is empty")
    names = list(entities)
    values = list(entities.values())
    if all(isinstance(v, str) for v in values):
        if encoder is None:
            raise ValueError("entities are phrases: pass encoder= (a ClipBackend) to embed them")
        return names, _as_matrix(encoder.encode_text(values), "entities")
    return names, _as_matrix(torch.stack([torch.as_tensor(v) for v in values]), "entities")


def attribute_entities(seed: Any, variants: Any, entities: Mapping[str, Any], alpha: float = 0.5,
                       encoder: Any = None) -> list[str]:
    """The entity fused into each variant: argmax over entities e of cos(v, norm(α·m + (1 − α)·t(e))).

    `entities` maps names to text embeddings, or to phrases embedded by `encoder`. Seeds broadcast: one
    seed for all variants, or one seed row per variant.
    """
    alpha = _check_alpha(alpha)
    names, t = entity_embeddings(entities, encoder)
    m, v = _as_matrix(seed, "seed"), _as_matrix(variants, "variants")
    if len(v) == 0:
        return []
    if len(m) not in (1, len(v)):
        raise ValueError(f"seed must be one row or one per variant, got {len(m)} for {len(v)} variants")
    fused = F.normalize(alpha * m.unsqueeze(1) + (1 - alpha) * t.unsqueeze(0), dim=-1)   # (S, E, d)
    scores = torch.einsum("vd,ved->ve", v, fused.expand(len(v), -1, -1))
    return [names[i] for i in scores.argmax(1).tolist()]
