"""Running a paper: config and seeds in, a run record and its artifacts out, all or nothing.

A run works in a staging folder next to its final place; only a finished run replaces the
previous `DIR/<id>/`. A run that raises or is interrupted leaves the previous record untouched and
removes its staging folder.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperzoo import __version__
from paperzoo.core.context import RunContext, Tracker
from paperzoo.core.records import RECORD_NAME, RunRecord, jsonable
from paperzoo.core.registry import Paper


def environment() -> dict[str, Any]:
    """Versions and CPU count of this machine, stored in every record."""
    from importlib import metadata

    versions: dict[str, Any] = {"python": platform.python_version(), "paperzoo": __version__,
                                "platform": platform.platform(), "cpus": os.cpu_count()}
    for package in ("torch", "numpy", "scipy", "scikit-learn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def host_load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages of this host (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_commit() -> str | None:
    """The commit of the source tree paperzoo runs from, when it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def run_paper(paper: Paper, preset: str, out_dir: Path, n_seeds: int | None = None,
              tracker: Tracker | None = None, ray_address: str | None = None) -> RunRecord:
    """Run `paper` at `preset` and write `out_dir/<id>/` (record.json + artifacts) atomically;
    `ray_address` sends the run's `parallel_map` tasks to a Ray cluster."""
    config = paper.config(preset)
    seeds = list(range(n_seeds if n_seeds is not None else int(config["seeds"])))
    config["seeds"] = len(seeds)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{paper.id}.staging-"))
    try:
        ctx = RunContext(staging, preset=preset, tracker=tracker, ray_address=ray_address)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        load_start = host_load()
        clock = time.perf_counter()
        metrics = jsonable(paper.run(config, seeds, ctx))
        seconds = time.perf_counter() - clock
        env = environment() | {"load_start": load_start, "load_end": host_load(),
                               "parallel": "local" if ray_address is None else f"ray {ray_address}"}
        record = RunRecord(
            paper=paper.id, title=paper.title, arxiv=paper.arxiv, preset=preset, seeds=seeds,
            started=started, seconds=seconds, environment=env, config=config, metrics=metrics,
            claims=[claim.evaluate(metrics) for claim in paper.claims],
            artifacts=sorted(p.name for p in staging.iterdir() if p.is_file()), git=git_commit(),
        )
        record.save(staging / RECORD_NAME)
        _swap_into_place(staging, out_dir / paper.id)
        return record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Replace the folder `target` by `staging` (two renames; the old folder is removed last)."""
    retired = None
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, retired)
    os.replace(staging, target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
