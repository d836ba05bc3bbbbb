"""The BBC News topic task: fixed stratified splits by seed, tokenised once per process.

Example:
    >>> task = load_task(n_train=60, n_valid=20, n_test=40, max_len=32, seed=0)
    >>> task.train.input_ids.shape, task.num_labels
    (torch.Size([60, 32]), 5)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from paperzoo.data.minilm import minilm_tokenizer
from paperzoo.data.text import bbc_news


@dataclass(frozen=True)
class Encoded:
    """Tokenised examples: input ids and attention mask (n, max_len), labels (n,)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: np.ndarray) -> Encoded:
        i = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return Encoded(self.input_ids[i], self.attention_mask[i], self.labels[i])


@dataclass(frozen=True)
class Task:
    train: Encoded
    valid: Encoded
    test: Encoded
    label_names: tuple[str, ...]
    train_texts: tuple[str, ...]
    test_texts: tuple[str, ...]

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


def split_indices(labels: np.ndarray, n_train: int | None, n_valid: int | None, n_test: int | None,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/valid/test indices; None sizes mean 60/10/30 of the whole corpus."""
    from sklearn.model_selection import train_test_split

    n = len(labels)
    sizes = [round(0.6 * n), round(0.1 * n)]
    sizes.append(n - sum(sizes))
    n_train, n_valid, n_test = (s if v is None else v for s, v in zip(sizes, (n_train, n_valid, n_test), strict=True))
    for name, v in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if n_train + n_valid + n_test > n:
        raise ValueError(f"n_train + n_valid + n_test = {n_train + n_valid + n_test} exceeds the {n} examples")
    index = np.arange(n)
    train, rest = train_test_split(index, train_size=n_train, stratify=labels, random_state=seed)
    valid, rest = train_test_split(rest, train_size=n_valid, stratify=labels[rest], random_state=seed)
    test = rest if len(rest) == n_test else train_test_split(rest, train_size=n_test, stratify=labels[rest],
                                                            random_state=seed)[0]
    return np.sort(train), np.sort(valid), np.sort(test)


def encode(texts: list[str], labels: np.ndarray, max_len: int, model_path: str | None = None) -> Encoded:
    if not isinstance(max_len, int) or max_len < 4:
        raise ValueError(f"max_len must be an int >= 4, got {max_len!r}")
    tok = minilm_tokenizer(model_path)
    # Title + first sentences: the first ~6 tokens' worth of characters per max_len token is plenty.
    enc = tok([t[: 8 * max_len] for t in texts], truncation=True, max_length=max_len, padding="max_length",
              return_tensors="pt")
    return Encoded(enc["input_ids"], enc["attention_mask"], torch.as_tensor(labels, dtype=torch.long))


@lru_cache(maxsize=8)
def load_task(n_train: int | None, n_valid: int | None, n_test: int | None, max_len: int, seed: int,
              model_path: str | None = None) -> Task:
    """BBC News split by `seed` (stratified) and tokenised to `max_len`; cached per process."""
    texts, labels, names = bbc_news()
    parts = split_indices(labels, n_train, n_valid, n_test, seed)
    enc = [encode([texts[i] for i in p], labels[p], max_len, model_path) for p in parts]
    return Task(*enc, label_names=names, train_texts=tuple(texts[i] for i in parts[0]),
                test_texts=tuple(texts[i] for i in parts[2]))
