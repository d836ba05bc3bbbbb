"""Offline loaders: shapes, label ranges, caching, and clear errors."""

import gzip

import numpy as np
import pytest

from paperzoo.data import digits, fashion_mnist, mnist1d


def test_digits():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert set(np.unique(y)) == set(range(10))


def test_mnist1d_generated_offline_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path))
    split = mnist1d(num_samples=200)
    assert split.x_train.shape == (160, 40) and split.x_test.shape == (40, 40)
    assert (tmp_path / "mnist1d-seed42-n200.npz").exists()
    again = mnist1d(num_samples=200)
    assert all(np.array_equal(a, b) for a, b in zip(split, again, strict=True))
    (tmp_path / "mnist1d-seed42-n200.npz").write_bytes(b"garbage")  # a damaged cache is rebuilt
    assert np.array_equal(mnist1d(num_samples=200).x_train, split.x_train)


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    _write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3]))
    monkeypatch.setenv("PAPERZOO_DATA", str(tmp_path))
    X, y = fashion_mnist("test")
    assert np.array_equal(X, images) and y.tolist() == [1, 2, 3]


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr("paperzoo.data.datasets.FASHION_MNIST_DIRS", (tmp_path / "none",))
    monkeypatch.setenv("PAPERZOO_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist("train")
    with pytest.raises(ValueError, match="split"):
        fashion_mnist("validation")


def test_fashion_mnist_debian_package():
    X, y = fashion_mnist("test")  # installed by scripts/system-deps.sh (make test)
    assert X.shape == (10000, 28, 28) and set(np.unique(y)) == set(range(10))
