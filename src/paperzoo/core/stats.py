"""Statistics for claims: thin wrappers over scipy that return plain floats.

Example:
    >>> from paperzoo.core import stats
    >>> stats.summarize([0.91, 0.93, 0.92])["mean"]
    0.92
    >>> round(stats.paired_t([1.0, 2.0, 3.1], [0.5, 1.4, 2.6]).pvalue, 3)
    0.007
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


@dataclass(frozen=True)
class TestResult:
    """A test's statistic and p-value; `effect` is the mean paired difference a - b where it applies."""

    statistic: float
    pvalue: float
    effect: float = float("nan")


def _array(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    return array


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean (a point interval for a single value)."""
    array = _array(values, "values")
    mean = float(array.mean())
    if array.size < 2 or np.all(array == array[0]):
        return (mean, mean)
    low, high = _st.t.interval(confidence, array.size - 1, loc=mean, scale=_st.sem(array))
    return (float(low), float(high))


def summarize(values: Sequence[float]) -> dict:
    """Mean, sample std, 95% CI and the per-seed values: the form a per-seed metric takes in a record."""
    array = _array(values, "values")
    return {
        "mean": round(float(array.mean()), 12),
        "std": float(array.std(ddof=1)) if array.size > 1 else 0.0,
        "ci95": list(mean_ci(array)),
        "per_seed": array.tolist(),
    }


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = _array(a, "a"), _array(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"paired samples need equal lengths, got {x.size} and {y.size}")
    return x, y


def paired_t(a: Sequence[float], b: Sequence[float], alternative: str = "two-sided") -> TestResult:
    """Paired t-test of a against b (alternative "greater" means a > b)."""
    x, y = _paired(a, b)
    result = _st.ttest_rel(x, y, alternative=alternative)
    return TestResult(float(result.statistic), float(result.pvalue), float((x - y).mean()))


def wilcoxon(a: Sequence[float], b: Sequence[float], alternative: str = "two-sided") -> TestResult:
    """Wilcoxon signed-rank test of the paired differences a - b; p = 1 when every difference is 0."""
    x, y = _paired(a, b)
    diff = x - y
    if np.all(diff == 0):
        return TestResult(0.0, 1.0, 0.0)
    result = _st.wilcoxon(x, y, alternative=alternative)
    return TestResult(float(result.statistic), float(result.pvalue), float(diff.mean()))


def fisher_exact(table: Sequence[Sequence[int]], alternative: str = "two-sided") -> TestResult:
    """Fisher's exact test on a 2x2 table; the statistic is the odds ratio."""
    result = _st.fisher_exact(np.asarray(table), alternative=alternative)
    return TestResult(float(result.statistic), float(result.pvalue))


def spearman(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Spearman rank correlation; the statistic is rho."""
    a, b = _paired(x, y)
    result = _st.spearmanr(a, b)
    return TestResult(float(result.statistic), float(result.pvalue))


def bootstrap_ci(data: Sequence[float] | tuple[Sequence[float], ...], statistic: Callable[..., float],
                 confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0,
                 paired: bool = True) -> tuple[float, float]:
    """Percentile-BCa bootstrap interval of `statistic`.

    `data` is one sample, or a tuple of samples resampled together when `paired` (e.g. x and y of
    a correlation: `bootstrap_ci((x, y), lambda x, y: spearmanr(x, y)[0])`).
    """
    samples = data if isinstance(data, tuple) else (data,)
    arrays = tuple(_array(sample, "data") for sample in samples)
    result = _st.bootstrap(arrays, statistic, confidence_level=confidence, n_resamples=n_resamples,
                           paired=paired, vectorized=False, random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))

