"""Client data for FedMGD: Fashion-MNIST (or sklearn digits) at 8x8, split over clients by label skew.

Every node must find its own partition from a small message config, in this process or in a Ray
worker, so a dataset is named by a key string:
- `DataSpec(...).key` ("spec:fashion_mnist:6000:2000:0.05:5:50:0"), rebuilt (and cached) from the
  Debian package's IDX files wherever it is read;
- `register_clients(clients)` ("mem:<uuid>"), user data held in this process (the in-process Grid).

Each client's data is split 80/20 into local train and local test, as in the paper.

Example:
    >>> spec = DataSpec("digits", n_train=1000, n_test=300, alpha=0.5, n_clients=5, min_size=20, seed=0)
    >>> fed = federated_data(spec.key)
    >>> len(fed.clients), fed.x_test.shape, float(fed.x_test.min()) >= -1.0
    (5, (300, 64), True)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DATASETS = ("fashion_mnist", "digits")
IMAGE_SIDE = 8  # 8x8 = 64 inputs, the spec's MLP width
FASHION_CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")
_MEMORY: dict[str, FederatedData] = {}


@dataclass(frozen=True)
class ClientData:
    """One client's local train and local test arrays (x float32 in [-1, 1], y int64)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class FederatedData:
    """All clients' data plus the global test set (never seen by any client)."""

    clients: tuple[ClientData, ...]
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def sizes(self) -> list[int]:
        return [len(c.y_train) for c in self.clients]

    def class_counts(self) -> np.ndarray:
        """(clients, classes) counts of the local training labels."""
        return np.stack([np.bincount(c.y_train, minlength=self.n_classes) for c in self.clients])


@dataclass(frozen=True)
class DataSpec:
    """A reproducible federated dataset: alpha None = IID (a random equal split), else Dirichlet(alpha)."""

    dataset: str = "fashion_mnist"
    n_train: int = 6000
    n_test: int = 2000
    alpha: float | None = 0.05
    n_clients: int = 5
    min_size: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        for name in ("n_train", "n_test", "n_clients"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.alpha is not None and (not np.isfinite(self.alpha) or self.alpha <= 0):
            raise ValueError(f"alpha must be > 0 (or None for IID), got {self.alpha!r}")
        if self.n_clients > self.n_train:
            raise ValueError(f"n_clients ({self.n_clients}) exceeds the training samples ({self.n_train})")
        if not isinstance(self.min_size, int) or self.min_size < 0 or self.min_size * self.n_clients > self.n_train:
            raise ValueError(f"min_size={self.min_size!r} for {self.n_clients} clients needs "
                             f"{self.min_size * self.n_clients} training samples, only {self.n_train}")

    @property
    def key(self) -> str:
        alpha = "iid" if self.alpha is None else repr(float(self.alpha))
        return f"spec:{self.dataset}:{self.n_train}:{self.n_test}:{alpha}:{self.n_clients}:{self.min_size}:{self.seed}"

    @classmethod
    def from_key(cls, key: str) -> DataSpec:
        parts = key.split(":")
        if len(parts) != 8 or parts[0] != "spec":
            raise ValueError(f"not a data spec key: {key!r}")
        _, dataset, n_train, n_test, alpha, n_clients, min_size, seed = parts
        return cls(dataset, int(n_train), int(n_test), None if alpha == "iid" else float(alpha), int(n_clients),
                   int(min_size), int(seed))


def _to_unit(images: np.ndarray, scale: float) -> np.ndarray:
    return (images.reshape(len(images), -1) / scale * 2.0 - 1.0).astype(np.float32)


@lru_cache(maxsize=4)
def _pool(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) of the whole dataset at 8x8 in [-1, 1]."""
    if dataset == "digits":
        from sklearn.model_selection import train_test_split

        from paperzoo.data.datasets import digits

        x, y = digits()  # already 8x8 in [0, 1]
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=400, stratify=y, random_state=0)
        return _to_unit(x_tr, 1.0), y_tr, _to_unit(x_te, 1.0), y_te
    import io

    import torch

    from paperzoo.core.records import atomic_write_bytes
    from paperzoo.data.datasets import cache_dir, fashion_mnist

    path = cache_dir() / f"fashion-mnist-{IMAGE_SIDE}x{IMAGE_SIDE}.npz"  # decoding + pooling 70k images takes ~5 s
    if path.exists():
        try:
            with np.load(path) as cached:
                return tuple(cached[k] for k in ("x_train", "y_train", "x_test", "y_test"))  # type: ignore[return-value]
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    out = {}
    for split in ("train", "test"):
        images, labels = fashion_mnist(split)
        small = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(np.array(images)).float().unsqueeze(1),
                                                        IMAGE_SIDE)  # area averaging, 28x28 -> 8x8
        out[f"x_{split}"], out[f"y_{split}"] = _to_unit(small.numpy(), 255.0), labels
    buffer = io.BytesIO()
    np.savez(buffer, **out)
    atomic_write_bytes(path, buffer.getvalue())
    return out["x_train"], out["y_train"], out["x_test"], out["y_test"]


def _balanced(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices with (as near as possible) equal counts per class."""
    classes = np.unique(y)
    if n > len(y):
        raise ValueError(f"asked for {n} samples, the split has {len(y)}")
    per, extra = divmod(n, len(classes))
    picks = [rng.choice(np.flatnonzero(y == c), per + (i < extra), replace=False) for i, c in enumerate(classes)]
    return np.sort(np.concatenate(picks))


def split_clients(x: np.ndarray, y: np.ndarray, parts: Sequence[np.ndarray], seed: int = 0,
                  local_test: float = 0.2) -> tuple[ClientData, ...]:
    """Each client's indices shuffled and split (1 - local_test) / local_test into local train / test."""
    rng = np.random.default_rng(seed)
    clients = []
    for idx in parts:
        idx = rng.permutation(idx)
        cut = len(idx) - int(round(local_test * len(idx)))
        tr, te = idx[:cut], idx[cut:]
        clients.append(ClientData(x[tr], y[tr], x[te], y[te]))
    return tuple(clients)


def iid_split(n: int, n_clients: int, seed: int = 0) -> list[np.ndarray]:
    """A random split of range(n) into n_clients near-equal parts."""
    return [np.sort(p) for p in np.array_split(np.random.default_rng(seed).permutation(n), n_clients)]


@lru_cache(maxsize=16)
def _from_spec(key: str) -> FederatedData:
    from paperzoo.data.partition import dirichlet_label_skew

    spec = DataSpec.from_key(key)
    x_tr, y_tr, x_te, y_te = _pool(spec.dataset)
    rng = np.random.default_rng(10_007)  # the subsample is the same for every seed; the partition is not
    tr, te = _balanced(y_tr, min(spec.n_train, len(y_tr)), rng), _balanced(y_te, min(spec.n_test, len(y_te)), rng)
    x, y = x_tr[tr], y_tr[tr]
    if spec.alpha is None:
        parts = iid_split(len(y), spec.n_clients, spec.seed)
    else:
        parts = dirichlet_label_skew(y, spec.n_clients, spec.alpha, min_size=spec.min_size, seed=spec.seed)
    return FederatedData(split_clients(x, y, parts, spec.seed), x_te[te], y_te[te], int(y_tr.max()) + 1)


def register_clients(clients: Sequence[tuple[np.ndarray, np.ndarray]], x_test: np.ndarray | None = None,
                     y_test: np.ndarray | None = None, n_classes: int | None = None, seed: int = 0) -> str:
    """Hold user data [(x_k, y_k), ...] in this process; returns its key (for the in-process Grid)."""
    if not isinstance(clients, Sequence) or len(clients) == 0:
        raise ValueError("clients must be a non-empty sequence of (x, y) pairs")
    xs, ys = [], []
    for k, pair in enumerate(clients):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"clients[{k}] must be an (x, y) pair")
        x, y = np.asarray(pair[0], dtype=np.float32), np.asarray(pair[1])
        if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or len(y) < 2:
            raise ValueError(f"clients[{k}] must be x (n, dim) and y (n,) with n >= 2, got {x.shape}, {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"clients[{k}] labels must be integers, got {y.dtype}")
        xs.append(x)
        ys.append(y.astype(np.int64))
    if len({x.shape[1] for x in xs}) != 1:
        raise ValueError("every client's x must have the same number of features")
    classes = n_classes or int(max(y.max() for y in ys)) + 1
    offsets = np.cumsum([0] + [len(y) for y in ys])
    parts = [np.arange(a, b) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    split = split_clients(np.concatenate(xs), np.concatenate(ys), parts, seed)
    x_test = np.zeros((0, xs[0].shape[1]), np.float32) if x_test is None else np.asarray(x_test, np.float32)
    y_test = np.zeros(0, np.int64) if y_test is None else np.asarray(y_test, np.int64)
    key = f"mem:{uuid.uuid4().hex}"
    _MEMORY[key] = FederatedData(split, x_test, y_test, classes)
    return key


def release(key: str) -> None:
    """Forget registered data (a no-op for spec keys)."""
    _MEMORY.pop(key, None)


def federated_data(key: str) -> FederatedData:
    """The dataset a key names (see the module docstring)."""
    if key.startswith("mem:"):
        if key not in _MEMORY:
            raise KeyError(f"no client data registered under {key!r} in this process (the in-process Grid "
                           "shares memory; a Ray simulation needs a DataSpec key)")
        return _MEMORY[key]
    return _from_spec(key)


__all__ = ["DATASETS", "FASHION_CLASSES", "ClientData", "DataSpec", "FederatedData", "federated_data", "iid_split",
           "register_clients", "release", "split_clients"]
