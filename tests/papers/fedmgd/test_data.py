"""Client data: partition counts, minimum sizes, IID split, spec keys and bad input."""

import numpy as np
import pytest

from paperzoo.data.partition import dirichlet_label_skew
from paperzoo.papers.fedmgd import DataSpec, federated_data


def test_partition_counts_sum_per_class_and_min_sizes_hold():
    spec = DataSpec("digits", n_train=1000, n_test=300, alpha=0.05, n_clients=5, min_size=40, seed=3)
    fed = federated_data(spec.key)
    counts = fed.class_counts() + np.stack([np.bincount(c.y_test, minlength=10) for c in fed.clients])
    assert counts.sum() == 1000 and np.all(counts.sum(0) == 100)  # class-balanced subsample, every sample once
    assert min(len(c.y_train) + len(c.y_test) for c in fed.clients) >= 40
    assert all(abs(len(c.y_test) - 0.2 * (len(c.y_train) + len(c.y_test))) <= 1 for c in fed.clients)
    assert (fed.class_counts() == 0).sum() > 10  # strong skew: many (client, class) pairs are empty
    assert fed.x_test.shape == (300, 64) and fed.x_test.min() >= -1 and fed.x_test.max() <= 1


def test_iid_split_is_near_equal_and_keys_round_trip():
    spec = DataSpec("digits", n_train=1000, n_test=300, alpha=None, n_clients=4, min_size=10)
    assert DataSpec.from_key(spec.key) == spec and "iid" in spec.key
    sizes = [len(c.y_train) + len(c.y_test) for c in federated_data(spec.key).clients]
    assert sizes == [250] * 4
    with pytest.raises(ValueError, match="spec key"):
        DataSpec.from_key("spec:digits:1")


@pytest.mark.parametrize("kwargs, match", [({"alpha": 0.0}, "alpha"), ({"alpha": -1.0}, "alpha"),
                                           ({"n_clients": 2000, "n_train": 1000}, "exceeds"),
                                           ({"min_size": 300, "n_clients": 5, "n_train": 1000}, "min_size"),
                                           ({"dataset": "cifar"}, "dataset"), ({"n_train": 0}, "n_train")])
def test_bad_specs_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataSpec(**{"dataset": "digits", **kwargs})


def test_impossible_minimum_stops_after_capped_resampling():
    y = np.repeat(np.arange(3), 300)  # at alpha 0.001 each class goes to one client: 2 of 5 stay empty
    with pytest.raises(ValueError, match="no Dirichlet"):
        dirichlet_label_skew(y, n_clients=5, alpha=0.001, min_size=10, balance_ratio=10.0, seed=0, max_tries=50)


def test_fashion_mnist_is_8x8_in_unit_range():
    pytest.importorskip("torch")
    from paperzoo.data.datasets import FASHION_MNIST_DIRS

    if not any(d.exists() for d in FASHION_MNIST_DIRS):
        pytest.skip("dataset-fashion-mnist is not installed")
    fed = federated_data(DataSpec("fashion_mnist", n_train=500, n_test=100, alpha=0.5, n_clients=2, min_size=10).key)
    assert fed.x_test.shape == (100, 64) and fed.n_classes == 10
    assert -1.0 <= fed.x_test.min() < fed.x_test.max() <= 1.0
