"""The run record: the JSON written for every run, and atomic file writes.

Example:
    >>> record = RunRecord.load("reports/dmf-saddle/record.json")   # doctest: +SKIP
    >>> [c.id for c in record.claims if not c.passed]                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperzoo.core.claims import ClaimResult
from paperzoo.core.errors import UserError

SCHEMA_VERSION = 1
RECORD_NAME = "record.json"


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types: numpy/torch scalars and arrays become numbers and lists, tuples
    lists, paths strings, and non-finite floats the strings "nan", "inf", "-inf" (strict JSON)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(value.tolist())
    if hasattr(value, "item"):
        return jsonable(value.item())
    raise TypeError(f"cannot store a {type(value).__name__} in a run record: {value!r:.80}")


@dataclass
class RunRecord:
    """One run of one paper at one preset (the schema of `record.json`)."""

    paper: str
    title: str
    arxiv: str
    preset: str
    seeds: list[int]
    started: str
    seconds: float
    environment: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, Any]
    claims: list[ClaimResult]
    artifacts: list[str] = field(default_factory=list)
    git: str | None = None
    schema: int = SCHEMA_VERSION

    @property
    def claims_held(self) -> int:
        return sum(claim.passed for claim in self.claims)

    def claim_counts(self) -> dict[str, int]:
        """How many claims held, failed and were not run."""
        counts = {"held": 0, "failed": 0, "not run": 0}
        for claim in self.claims:
            counts[claim.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "paper": self.paper, "title": self.title, "arxiv": self.arxiv,
            "preset": self.preset, "seeds": list(self.seeds), "started": self.started,
            "seconds": round(float(self.seconds), 3), "environment": jsonable(self.environment),
            "git": self.git, "config": jsonable(self.config), "metrics": jsonable(self.metrics),
            "claims": [jsonable(claim.to_dict()) for claim in self.claims], "artifacts": list(self.artifacts),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        if not isinstance(data, dict):
            raise ValueError("a run record must be a JSON object")
        required = ("paper", "title", "arxiv", "preset", "seeds", "started", "seconds", "environment",
                    "config", "metrics", "claims")
        missing = [key for key in required if key not in data]
        if missing:
            raise ValueError(f"missing fields {missing}")
        if not isinstance(data["claims"], list):
            raise ValueError("'claims' must be a list")
        return cls(
            paper=str(data["paper"]), title=str(data["title"]), arxiv=str(data["arxiv"]),
            preset=str(data["preset"]), seeds=[int(s) for s in data["seeds"]], started=str(data["started"]),
            seconds=float(data["seconds"]), environment=dict(data["environment"]), config=dict(data["config"]),
            metrics=dict(data["metrics"]), claims=[ClaimResult.from_dict(c) for c in data["claims"]],
            artifacts=[str(a) for a in data.get("artifacts", [])], git=data.get("git"),
            schema=int(data.get("schema", SCHEMA_VERSION)),
        )

    def save(self, path: Path | str) -> None:
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: Path | str) -> RunRecord:
        """Read a record; a missing, unreadable or malformed file is a UserError naming it."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read run record {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise UserError(f"corrupt run record {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        except (ValueError, TypeError) as exc:
            raise UserError(f"corrupt run record {path}: {exc}") from exc
