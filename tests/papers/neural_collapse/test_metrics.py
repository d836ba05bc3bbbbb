"""NC metrics: exact values on constructed features, invariances, agreement with the formula."""

import numpy as np
import pytest
import torch

from paperzoo.papers.neural_collapse import RCOND, nc_metrics, simplex_etf


def direct_nc1(H, y):
    """The spec's formula written out: Σ_W over N, Σ_B over K, pinv with a fixed cutoff."""
    classes = np.unique(y)
    K, N = len(classes), len(y)
    mu_G = H.mean(0)
    mus = np.stack([H[y == c].mean(0) for c in classes])
    Sw = sum((H[y == c] - mus[i]).T @ (H[y == c] - mus[i]) for i, c in enumerate(classes)) / N
    Sb = (mus - mu_G).T @ (mus - mu_G) / K
    return np.trace(Sw @ np.linalg.pinv(Sb, rtol=RCOND, hermitian=True)) / K


def etf_means(K, d, scale=3.0, seed=0):
    """K class means forming a simplex ETF in R^d (d >= K), randomly rotated."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, K)))
    return scale * (Q @ (np.eye(K) - 1.0 / K)).T  # K x d


def test_collapsed_features_give_zero_nc1():
    y = np.repeat(np.arange(4), 10)
    H = etf_means(4, 8)[y]
    assert nc_metrics(H, y)["nc1"] == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("imbalanced", [False, True])
def test_nc1_matches_direct_formula(imbalanced):
    rng = np.random.default_rng(1)
    sizes = [5, 40, 12, 25, 8] if imbalanced else [20] * 5
    y = np.repeat(np.arange(5), sizes)
    H = rng.normal(size=(len(y), 7)) + 2 * rng.normal(size=(5, 7))[y]
    assert nc_metrics(H, y)["nc1"] == pytest.approx(direct_nc1(H, y), rel=1e-9)


def test_nc1_matches_direct_formula_when_d_below_k_minus_1():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(10), 6)
    H = rng.normal(size=(60, 3)) + rng.normal(size=(10, 3))[y]  # rank(Σ_B) = d = 3 < K-1
    assert nc_metrics(H, y)["nc1"] == pytest.approx(direct_nc1(H, y), rel=1e-9)


def test_pinv_cutoff_drops_numerically_null_directions():
    # Means on a line plus a 1e-9 wobble off it: that eigenvalue (~1e-18 relative) is below RCOND,
    # so NC1 only sees the line; a default-free pinv would blow up by 1e18.
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(3), 20)
    means = np.array([[0.0, 0.0], [1.0, 1e-9], [2.0, 0.0]])
    H = means[y] + np.c_[0.1 * rng.normal(size=60), np.zeros(60)]
    nc1 = nc_metrics(H, y)["nc1"]
    assert 0 < nc1 < 1
    assert nc1 == pytest.approx(direct_nc1(H, y), rel=1e-9)


@pytest.mark.parametrize("scale", [1e-3, -2.5, 40.0])
def test_nc1_invariant_to_scale_and_shift(scale):
    rng = np.random.default_rng(4)
    y = np.repeat(np.arange(4), 15)
    H = rng.normal(size=(60, 6)) + rng.normal(size=(4, 6))[y]
    base = nc_metrics(H, y)
    moved = nc_metrics(scale * H + rng.normal(size=6) * 100, y)
    assert moved["nc1"] == pytest.approx(base["nc1"], rel=1e-8)
    assert moved["nc2"] == pytest.approx(base["nc2"], rel=1e-8)


def test_nc2_zero_for_simplex_etf_and_positive_otherwise():
    y = np.repeat(np.arange(5), 3)
    rng = np.random.default_rng(5)
    assert nc_metrics(etf_means(5, 9)[y] + 0.0, y)["nc2"] == pytest.approx(0.0, abs=1e-10)
    assert nc_metrics(rng.normal(size=(5, 9))[y] + 0.01 * rng.normal(size=(15, 9)), y)["nc2"] > 0.1


def test_nc3_zero_when_classifier_is_the_centred_means():
    y = np.repeat(np.arange(4), 6)
    means = etf_means(4, 6)
    noise = 0.05 * np.random.default_rng(6).normal(size=(4, 3, 6))
    H = means[y] + np.concatenate([noise, -noise], axis=1).reshape(24, 6)  # class means stay an ETF
    centred = np.stack([H[y == k].mean(0) for k in range(4)]) - H.mean(0)
    assert nc_metrics(H, y, W=centred)["nc3"] == pytest.approx(0.0, abs=1e-10)
    assert nc_metrics(H, y, W=np.random.default_rng(7).normal(size=(4, 6)))["nc3"] > 0.1


def test_simplex_etf_has_unit_norm():
    assert np.linalg.norm(simplex_etf(7)) == pytest.approx(1.0)


def test_torch_tensors_give_the_same_result_as_arrays():
    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(3), 10)
    H = rng.normal(size=(30, 4)) + rng.normal(size=(3, 4))[y]
    W = rng.normal(size=(3, 4))
    a = nc_metrics(H, y, W)
    b = nc_metrics(torch.tensor(H, dtype=torch.float64), torch.tensor(y), torch.tensor(W))
    assert a == pytest.approx(b)


def test_arbitrary_label_values_are_accepted():
    rng = np.random.default_rng(9)
    y = np.repeat(np.arange(3), 10)
    H = rng.normal(size=(30, 4)) + rng.normal(size=(3, 4))[y]
    assert nc_metrics(H, y + 5)["nc1"] == pytest.approx(nc_metrics(H, np.array(list("abc"))[y])["nc1"])


@pytest.mark.parametrize("H, y, match", [
    (np.ones((4, 2)), np.zeros(4), "at least 2 classes"),
    (np.random.default_rng(0).normal(size=(4, 2)), np.array([0, 0, 0, 1]), "only one"),
    (np.ones((4, 2)), np.array([0, 1, 0]), "mismatched lengths"),
    (np.ones(4), np.array([0, 1, 0, 1]), "2-D"),
    (np.array([[np.nan, 1.0]] * 4), np.array([0, 1, 0, 1]), "NaN"),
])
def test_bad_input_is_named(H, y, match):
    with pytest.raises(ValueError, match=match):
        nc_metrics(H, y)


def test_bad_classifier_shape_is_named():
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="W must have shape"):
        nc_metrics(np.random.default_rng(0).normal(size=(4, 3)), y, W=np.ones((3, 2)))
