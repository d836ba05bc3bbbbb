"""Federated partitioners: how a labelled dataset is split over clients.

Two label-skew schemes that are easy to mix up:
- `dirichlet_label_skew`: per class, proportions over clients ~ Dir(α·1) (client sizes vary).
- `fednlp_label_skew`: per client, a label mix ~ Dir(α·global prior), every client the same size.

Example:
    >>> import numpy as np
    >>> y = np.repeat(np.arange(10), 100)
    >>> parts = dirichlet_label_skew(y, n_clients=5, alpha=0.5, min_size=20, seed=0)
    >>> sum(len(p) for p in parts)
    1000
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(labels: Sequence[int] | np.ndarray, n_clients: int, alpha: float) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    if not isinstance(n_clients, (int, np.integer)) or n_clients < 1:
        raise ValueError(f"n_clients must be a positive int, got {n_clients!r}")
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if n_clients > y.size:
        raise ValueError(f"n_clients ({n_clients}) exceeds the number of examples ({y.size})")
    return y


def dirichlet_label_skew(labels: Sequence[int] | np.ndarray, n_clients: int, alpha: float, min_size: int = 10,
                         balance_ratio: float = 1.0, seed: int = 0, max_tries: int = 1000) -> list[np.ndarray]:
    """Split example indices over clients with per-class proportions ~ Dir(α·1_K).

    A client stops receiving new classes once it holds more than `balance_ratio`·N/K examples, and
    the draw is repeated until every client has at least `min_size` examples (at most `max_tries`
    times; then a ValueError says so). Smaller α gives more skew. Returns one sorted index array per
    client; together they cover every example exactly once.
    """
    y = _check(labels, n_clients, alpha)
    if min_size < 0 or min_size * n_clients > y.size:
        raise ValueError(f"min_size={min_size} for {n_clients} clients needs {min_size * n_clients} examples, "
                         f"only {y.size} given")
    if balance_ratio <= 0:
        raise ValueError(f"balance_ratio must be > 0, got {balance_ratio}")
    rng = np.random.default_rng(seed)
    cap = balance_ratio * y.size / n_clients
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    for _ in range(max_tries):
        parts: list[list[int]] = [[] for _ in range(n_clients)]
        for idx in by_class:
            idx = rng.permutation(idx)
            share = rng.dirichlet(np.full(n_clients, alpha))
            share = share * np.array([len(p) < cap for p in parts])  # full clients take no more
            if share.sum() == 0:
                share = np.full(n_clients, 1.0)
            cuts = (np.cumsum(share / share.sum()) * len(idx)).astype(int)[:-1]
            for part, chunk in zip(parts, np.split(idx, cuts), strict=True):
                part.extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]
    raise ValueError(f"no Dirichlet(alpha={alpha}) draw in {max_tries} tries gave every one of {n_clients} "
                     f"clients at least min_size={min_size} examples; lower min_size or raise alpha")


def fednlp_label_skew(labels: Sequence[int] | np.ndarray, n_clients: int, alpha: float,
                      seed: int = 0) -> list[np.ndarray]:
    """FedNLP label skew: equal client sizes N // C, each with a label mix ~ Dir(α·global label prior).

    Each client takes its labels' shares from the per-label pools; a share its pool cannot fill is
    taken from the other labels' pools, and the last client also takes the leftovers.
    """
    y = _check(labels, n_clients, alpha)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    prior = counts / counts.sum()
    pools = [list(rng.permutation(np.flatnonzero(y == c))) for c in classes]
    size = y.size // n_clients
    parts = []
    for client in range(n_clients):
        mix = rng.dirichlet(alpha * prior)
        want = rng.multinomial(size, mix)
        chosen: list[int] = []
        for k, n in enumerate(want):
            take = min(n, len(pools[k]))
            chosen += pools[k][:take]
            del pools[k][:take]
        while len(chosen) < size:  # fill from the labels that still have examples, richest first
            k = int(np.argmax([len(pool) for pool in pools]))
            chosen.append(pools[k].pop())
        if client == n_clients - 1:
            chosen += [i for pool in pools for i in pool]
        parts.append(np.sort(np.asarray(chosen, dtype=np.int64)))
    return parts
