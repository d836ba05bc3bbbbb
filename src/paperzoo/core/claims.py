"""Claims: what a paper says, checked against the metrics of a run.

A claim never carries its verdict: `Claim.check` is a function of the run's metrics, so the verdict
in a run record is always computed from measurements.

Example:
    >>> claim = Claim(
    ...     id="loss-drops", statement="Training lowers the loss", paper_value="final < initial",
    ...     check=lambda m: Evidence(m["final_loss"], m["final_loss"] < m["initial_loss"],
    ...                              f"{m['initial_loss']:.3g} -> {m['final_loss']:.3g}"))
    >>> claim.evaluate({"initial_loss": 1.0, "final_loss": 0.1}).passed
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any

NOT_RUN = "not run"


@dataclass(frozen=True)
class Evidence:
    """What a claim's check returns: the observed value, whether it supports the claim, and why."""

    observed: Any
    passed: bool
    detail: str = ""

    @classmethod
    def not_run(cls, reason: str) -> Evidence:
        """A claim this run did not measure (e.g. one only the full preset measures): failed, shown as not run.

        >>> Evidence.not_run("full preset only").detail
        'not run: full preset only'
        """
        return cls(None, False, f"{NOT_RUN}: {reason}")


@dataclass(frozen=True)
class ClaimResult:
    """A claim evaluated on one run, as stored in the run record."""

    id: str
    statement: str
    paper_value: str
    observed: Any
    passed: bool
    detail: str

    @property
    def status(self) -> str:
        """"held", "failed", or "not run" for a failed claim whose detail starts with "not run"."""
        if self.passed:
            return "held"
        return NOT_RUN if self.detail.lower().startswith(NOT_RUN) else "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimResult:
        missing = {"id", "statement", "paper_value", "observed", "passed"} - set(data)
        if missing:
            raise ValueError(f"claim is missing {sorted(missing)}")
        if not isinstance(data["passed"], bool):
            raise ValueError(f"claim {data['id']!r}: 'passed' must be true or false")
        return cls(
            id=str(data["id"]),
            statement=str(data["statement"]),
            paper_value=str(data["paper_value"]),
            observed=data["observed"],
            passed=data["passed"],
            detail=str(data.get("detail", "")),
        )


@dataclass(frozen=True)
class Claim:
    """A headline claim of a paper and the check that tests it on a run's metrics.

    `check(metrics)` returns an `Evidence`. A metric the run did not produce (a KeyError) makes the
    claim fail with "not measured", so a missing measurement can never pass.
    """

    id: str
    statement: str
    paper_value: str
    check: Callable[[Mapping[str, Any]], Evidence]

    def evaluate(self, metrics: Mapping[str, Any]) -> ClaimResult:
        try:
            evidence = self.check(metrics)
        except KeyError as missing:
            evidence = Evidence(None, False, f"not measured: the run produced no metric {missing}")
        if not isinstance(evidence, Evidence):
            raise TypeError(f"claim {self.id!r}: check must return Evidence, got {type(evidence).__name__}")
        passed = evidence.passed
        if type(passed).__module__ == "numpy" and isinstance(passed.item(), bool):
            passed = passed.item()  # a numpy bool from comparing numpy values
        if not isinstance(passed, bool):
            raise TypeError(f"claim {self.id!r}: Evidence.passed must be a bool, got {type(passed).__name__}")
        return ClaimResult(self.id, self.statement, self.paper_value, evidence.observed, passed, evidence.detail)


def _nonfinite_floats(value: Any) -> Any:
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _nonfinite_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nonfinite_floats(v) for v in value]
    return value


def numeric_metrics(check: Callable[[Mapping[str, Any]], Evidence]) -> Callable[[Mapping[str, Any]], Evidence]:
    """Decorate a claim check so that it reads a stored record's "nan"/"inf"/"-inf" strings as floats.

    Run records store non-finite floats as those strings (strict JSON); read back as floats, a NaN fails
    every comparison, so a metric that could not be measured can never make a claim hold.

    >>> @numeric_metrics
    ... def positive(m): return Evidence(m["x"], m["x"] > 0)
    >>> positive({"x": "nan"}).passed, positive({"x": "inf"}).passed
    (False, True)
    """

    @wraps(check)
    def wrapped(metrics: Mapping[str, Any]) -> Evidence:
        return check(_nonfinite_floats(metrics))

    return wrapped
