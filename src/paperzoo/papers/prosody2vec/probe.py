"""Linear probes with group-disjoint folds: what a representation says about a label on unseen groups.

`probe(x, y, groups)` fits a standardised logistic regression on every fold but one group set and
predicts the rest (`GroupKFold`), so no group (a voice, or a sentence) is ever in both the training and
the test side of a fold. `test_mask` limits test predictions to some rows (the held-out voices) while
the probe still trains on every other row of the fold.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40); x = y[:, None] + 0.3 * rng.normal(size=(80, 2))
    >>> probe(x, y, groups=np.tile(np.arange(8), 10)).ua > 0.9
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProbeResult:
    """Weighted accuracy (WA = accuracy), unweighted accuracy (UA = mean class recall), chance = 1 / classes."""

    wa: float
    ua: float
    chance: float
    n_test: int
    folds: int


def fold_indices(groups: np.ndarray, folds: int, test_mask: np.ndarray | None = None) -> list[tuple[np.ndarray,
                                                                                                   np.ndarray]]:
    """(train, test) index pairs: the test groups of a fold never appear in its training rows."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    mask = np.ones(len(groups), dtype=bool) if test_mask is None else np.asarray(test_mask, dtype=bool)
    candidates = np.unique(groups[mask])
    n = min(folds, len(candidates))
    if len(np.unique(groups)) < 2 or n < 1:
        raise ValueError(f"groups: need at least 2 distinct groups, {len(candidates)} among the test rows")
    splits = [np.arange(1)] if n == 1 else [held for _, held in GroupKFold(n_splits=n).split(candidates,
                                                                                             groups=candidates)]
    pairs = []
    for held in splits:
        test_groups = candidates[held]
        in_test = np.isin(groups, test_groups)
        pairs.append((np.flatnonzero(~in_test), np.flatnonzero(in_test & mask)))
    return pairs


def probe(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 4, test_mask: np.ndarray | None = None,
          c: float = 1.0) -> ProbeResult:
    """Cross-validated logistic-regression probe of labels `y` from features `x` over group-disjoint folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=np.float64)
    y, groups = np.asarray(y), np.asarray(groups)
    if x.ndim != 2 or len(x) != len(y) or len(y) != len(groups):
        raise ValueError(f"x (n, d), y (n,) and groups (n,) must agree: got {x.shape}, {y.shape}, {groups.shape}")
    predictions = np.empty(len(y), dtype=object)
    tested = np.zeros(len(y), dtype=bool)
    pairs = fold_indices(groups, folds, test_mask)
    for train, test in pairs:
        if len(np.unique(y[train])) < 2:
            raise ValueError("y: a fold's training rows hold a single class")
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        model.fit(x[train], y[train])
        predictions[test] = model.predict(x[test])
        tested[test] = True
    truth, guess = y[tested], predictions[tested]
    recalls = [np.mean(guess[truth == label] == label) for label in np.unique(truth)]
    return ProbeResult(float(np.mean(guess == truth)), float(np.mean(recalls)), 1.0 / len(np.unique(y)),
                       int(tested.sum()), len(pairs))
