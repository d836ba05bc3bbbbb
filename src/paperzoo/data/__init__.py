"""Offline datasets, seeded generators and federated partitioners shared by the papers.

Example:
    >>> from paperzoo.data import digits, mnist1d
    >>> X, y = digits()
    >>> X.shape, int(y.max())
    ((1797, 64), 9)
    >>> mnist1d().x_train.shape
    (4000, 40)
"""

from paperzoo.data.datasets import Split, cache_dir, digits, fashion_mnist, mnist1d
from paperzoo.data.text import bbc_news

__all__ = ["Split", "bbc_news", "cache_dir", "digits", "fashion_mnist", "mnist1d"]
