"""Datasets that ship with packages or are generated here: nothing is downloaded at run time."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from paperzoo.core.records import atomic_write_bytes

FASHION_MNIST_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)


class Split(NamedTuple):
    """A train/test split of features and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def cache_dir() -> Path:
    """Where generated datasets are cached: `$PAPERZOO_CACHE`, else `~/.cache/paperzoo`."""
    root = os.environ.get("PAPERZOO_CACHE") or Path.home() / ".cache" / "paperzoo"
    return Path(root)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits: X float32 in [0, 1] of shape (1797, 64), y int64."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def mnist1d(seed: int = 42, num_samples: int = 5000) -> Split:
    """MNIST-1D generated offline with the package's default arguments (4,000/1,000 signals of length 40).

    The generation takes a few seconds, so the arrays are cached (atomically) under `cache_dir()`.
    """
    if num_samples < 10:
        raise ValueError(f"num_samples must be at least 10, got {num_samples}")
    path = cache_dir() / f"mnist1d-seed{seed}-n{num_samples}.npz"
    if path.exists():
        try:
            with np.load(path) as cached:
                return Split(*(cached[k] for k in Split._fields))
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged cache file is regenerated
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed, args.num_samples = seed, num_samples
    raw = make_dataset(args)
    split = Split(raw["x"].astype(np.float32), raw["y"].astype(np.int64),
                  raw["x_test"].astype(np.float32), raw["y_test"].astype(np.int64))
    buffer = io.BytesIO()
    np.savez(buffer, **split._asdict())
    atomic_write_bytes(path, buffer.getvalue())
    return split


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {array.size}")
    return array.reshape(shape)


def fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST from its IDX files: X uint8 (n, 28, 28), y int64.

    Looked for in `$PAPERZOO_DATA/fashion-mnist/` and in the Debian package `dataset-fashion-mnist`.
    """
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folders = list(FASHION_MNIST_DIRS)
    if os.environ.get("PAPERZOO_DATA"):
        folders.insert(0, Path(os.environ["PAPERZOO_DATA"]) / "fashion-mnist")
    for folder in folders:
        for suffix in ("", ".gz"):
            images = folder / f"{prefix}-images-idx3-ubyte{suffix}"
            labels = folder / f"{prefix}-labels-idx1-ubyte{suffix}"
            if images.exists() and labels.exists():
                return _read_idx(images), _read_idx(labels).astype(np.int64)
    raise FileNotFoundError(
        "Fashion-MNIST not found in " + ", ".join(map(str, folders))
        + ": install it with `apt-get install dataset-fashion-mnist` or put the IDX files in "
        "$PAPERZOO_DATA/fashion-mnist/")
