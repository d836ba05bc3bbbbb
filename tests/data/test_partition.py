"""Partitioners: sizes, disjoint cover, label mix versus alpha; clear errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from paperzoo.data.partition import dirichlet_label_skew, fednlp_label_skew


def _labels(n_classes: int, per_class: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(n_classes), per_class))


def _assert_disjoint_cover(parts, n):
    joined = np.concatenate(parts)
    assert len(joined) == n and len(np.unique(joined)) == n


def _mean_max_share(y, parts):
    return np.mean([np.bincount(y[p], minlength=y.max() + 1).max() / len(p) for p in parts])


@settings(max_examples=25, deadline=None)
@given(n_clients=hs.integers(1, 8), alpha=hs.floats(0.05, 50), seed=hs.integers(0, 10_000))
def test_dirichlet_cover_and_min_size(n_clients, alpha, seed):
    y = _labels(5, 60)
    parts = dirichlet_label_skew(y, n_clients, alpha, min_size=5, seed=seed)
    _assert_disjoint_cover(parts, len(y))
    assert len(parts) == n_clients and min(len(p) for p in parts) >= 5


@settings(max_examples=25, deadline=None)
@given(n_clients=hs.integers(1, 12), alpha=hs.floats(0.05, 50), seed=hs.integers(0, 10_000))
def test_fednlp_equal_sizes_and_cover(n_clients, alpha, seed):
    y = _labels(4, 50)
    parts = fednlp_label_skew(y, n_clients, alpha, seed=seed)
    _assert_disjoint_cover(parts, len(y))
    size = len(y) // n_clients
    assert all(len(p) == size for p in parts[:-1]) and len(parts[-1]) >= size


@pytest.mark.parametrize("partition", [
    lambda y, a, s: dirichlet_label_skew(y, 10, a, min_size=10, seed=s),
    lambda y, a, s: fednlp_label_skew(y, 10, a, seed=s),
])
def test_small_alpha_gives_more_label_skew(partition):
    y = _labels(10, 200)
    skewed = np.mean([_mean_max_share(y, partition(y, 0.1, s)) for s in range(5)])
    mixed = np.mean([_mean_max_share(y, partition(y, 100.0, s)) for s in range(5)])
    assert skewed > 0.5 > 0.2 > mixed


def test_fednlp_mix_follows_prior_at_large_alpha():
    y = np.concatenate([np.zeros(800, int), np.ones(200, int)])
    parts = fednlp_label_skew(y, 10, 1000.0, seed=0)
    shares = [np.mean(y[p] == 1) for p in parts[:-1]]
    assert np.mean(shares) == pytest.approx(0.2, abs=0.05)


@pytest.mark.parametrize("call, needle", [
    (lambda y: dirichlet_label_skew(y, 3, 0.0), "alpha"),
    (lambda y: dirichlet_label_skew(y, 0, 1.0), "n_clients"),
    (lambda y: dirichlet_label_skew(y, 5, 1.0, min_size=100), "min_size"),
    (lambda y: dirichlet_label_skew(y, 20, 0.001, min_size=10, max_tries=5), "tries"),
    (lambda y: fednlp_label_skew(y, 500, 1.0), "exceeds the number of examples"),
    (lambda y: fednlp_label_skew(y.astype(float), 2, 1.0), "integers"),
])
def test_clear_errors(call, needle):
    with pytest.raises((ValueError, TypeError), match=needle):
        call(_labels(4, 50))
