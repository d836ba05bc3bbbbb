import numpy as np
import pytest

from paperzoo.data.partition import fednlp_label_skew
from paperzoo.data.text import bbc_news
from paperzoo.papers.fedpetuning.textdata import split_indices


def test_bbc_news_loader():
    texts, labels, names = bbc_news()
    assert names == ("business", "entertainment", "politics", "sports", "tech")
    assert np.bincount(labels).tolist() == [510, 386, 417, 511, 401]
    assert texts[0].startswith("Ad sales boost Time Warner profit")


def test_splits_are_stratified_disjoint_and_seeded():
    _, labels, _ = bbc_news()
    tr, va, te = split_indices(labels, 600, 100, 400, seed=0)
    assert (len(tr), len(va), len(te)) == (600, 100, 400)
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    prior = np.bincount(labels) / len(labels)
    assert np.abs(np.bincount(labels[tr], minlength=5) / 600 - prior).max() < 0.01
    assert np.array_equal(tr, split_indices(labels, 600, 100, 400, seed=0)[0])
    assert not np.array_equal(tr, split_indices(labels, 600, 100, 400, seed=1)[0])
    with pytest.raises(ValueError, match="exceeds"):
        split_indices(labels, 2000, 200, 100, seed=0)


def test_fednlp_partition_equal_sizes_and_label_mix_follows_prior():
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=4000, p=[0.4, 0.3, 0.2, 0.1])
    prior = np.bincount(y) / len(y)
    for alpha, tol in ((1000.0, 0.12), (0.1, None)):
        parts = fednlp_label_skew(y, n_clients=20, alpha=alpha, seed=1)
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(y)))
        assert {len(p) for p in parts[:-1]} == {200} and len(parts[-1]) >= 200
        mixes = np.array([np.bincount(y[p], minlength=4) / len(p) for p in parts])
        if tol is not None:  # weak skew: clients close to the prior until the pools run low (the last ones)
            assert np.abs(mixes[:10] - prior).max() < tol  # multinomial noise alone: sd 0.035 at size 200
            assert np.abs(mixes[:10].mean(0) - prior).max() < 0.03
        else:  # strong skew: clients dominated by one label
            assert np.median(mixes.max(1)) > 0.8
    with pytest.raises(ValueError, match="alpha"):
        fednlp_label_skew(y, 10, 0.0)
    with pytest.raises(ValueError, match="exceeds"):
        fednlp_label_skew(y[:5], 10, 1.0)
