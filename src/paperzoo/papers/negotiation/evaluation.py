"""The survey's evaluation measures over a set of dialogues.

Agreement rate; score(all) (0 on no deal for items) and score(agreed) reported separately, since an agent
can gain on one and lose on the other; Pareto rate of deals with the base rate of Pareto outcomes; joint
score and Nash ratio; price utility, margin and fairness; length in messages.

Example:
    >>> from paperzoo.papers.negotiation import ItemDivision, boulware, conceder, play, metrics
    >>> env = ItemDivision()
    >>> games = [play(boulware(), conceder(), env.sample(seed=s), seed=s) for s in range(20)]
    >>> m = metrics(games, seat=0)
    >>> m["agreement"], m["score_agreed"] > metrics(games, seat=1)["score_agreed"]
    (1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

METRIC_NAMES = ("agreement", "score_all", "score_agreed", "pareto", "pareto_base", "joint", "nash_ratio",
                "margin", "fairness", "length")


def _rows(dialogues: Sequence[Any]) -> list[dict[str, Any]]:
    return [d if isinstance(d, dict) else d.row() for d in dialogues]


def _seats(seat: int | Sequence[int] | None, n: int) -> np.ndarray | None:
    if seat is None:
        return None
    if isinstance(seat, int | np.integer):
        if seat not in (0, 1):
            raise ValueError(f"seat must be 0, 1, a sequence of them or None, got {seat!r}")
        return np.full(n, int(seat))
    seats = np.asarray(seat, dtype=int)
    if seats.shape != (n,) or not np.isin(seats, (0, 1)).all():
        raise ValueError(f"seat must list 0 or 1 for each of the {n} dialogues")
    return seats


def own_scores(dialogues: Sequence[Any], seat: int | Sequence[int] | None = None) -> np.ndarray:
    """Each dialogue's score from `seat` (an int, one per dialogue, or None for the mean of both)."""
    rows = _rows(dialogues)
    scores = np.array([r["scores"] for r in rows], dtype=float).reshape(len(rows), 2)
    seats = _seats(seat, len(rows))
    return scores.mean(axis=1) if seats is None else scores[np.arange(len(rows)), seats]


def metrics(dialogues: Sequence[Any], seat: int | Sequence[int] | None = None) -> dict[str, float]:
    """Evaluation measures of `dialogues` (Dialogue objects or their `row()` dicts) from `seat`.

    Scores are those of `seat` (0, 1, one per dialogue, or None: the mean of both seats). Rates of
    Pareto-optimal deals are over deals only; `pareto_base` is the mean fraction of Pareto-optimal
    divisions in the scenarios (what random divisions would reach).
    """
    rows = _rows(dialogues)
    if not rows:
        raise ValueError("dialogues is empty")
    agreed = np.array([r["agreed"] for r in rows], dtype=bool)
    scores = own_scores(rows, seat)
    out = {
        "n": float(len(rows)), "agreement": float(agreed.mean()), "score_all": float(scores.mean()),
        "score_agreed": float(scores[agreed].mean()) if agreed.any() else float("nan"),
        "joint": float(np.mean([sum(r["scores"]) for r in rows])),
        "length": float(np.mean([r["length"] for r in rows])),
    }
    if "pareto_base" in rows[0]:
        deals = [r for r in rows if r["agreed"]]
        out["pareto"] = float(np.mean([r["pareto"] for r in deals])) if deals else float("nan")
        out["pareto_base"] = float(np.mean([r["pareto_base"] for r in rows]))
        out["nash_ratio"] = float(np.mean([r["nash_ratio"] for r in rows]))
    if "margin" in rows[0]:
        seats = _seats(seat, len(rows))
        margins = np.array([r["margin"] for r in rows])
        if seats is not None:  # the buyer's margin is the seller's negated, except on no deal
            margins = np.where(agreed & (seats == 1), -margins, margins)
        out["margin"] = float(margins.mean())
        out["fairness"] = float(np.mean([r["fairness"] for r in rows if r["agreed"]])) if agreed.any() else float("nan")
    return out


def bootstrap_mean(values: Sequence[float], seed: int = 0, n_resamples: int = 2000) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean (a point interval when every value is equal).

    Vectorized and without BCa's jackknife, which costs O(n²) memory and seconds per call on the
    thousands of games of a tournament; for means of that many values the two intervals agree.
    """
    from scipy import stats

    array = np.asarray(values, dtype=float)
    if array.size < 2 or np.all(array == array[0]):
        mean = float(array.mean()) if array.size else float("nan")
        return (mean, mean)
    result = stats.bootstrap((array,), np.mean, vectorized=True, n_resamples=n_resamples, method="percentile",
                             random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))
