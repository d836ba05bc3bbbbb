"""What a paper's `run` receives besides its config: where to put figures, progress, logging."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# A progress factory: (iterable, total, description) -> iterator that advances a bar as it goes.
Tracker = Callable[[Iterable[Any], int | None, str], Iterator[Any]]


def _no_progress(iterable: Iterable[T], total: int | None, description: str) -> Iterator[T]:
    yield from iterable


class RunContext:
    """Handed to `Paper.run`: the folder for artifacts, progress bars and log lines.

    Everything a run writes goes through `path()` or `save_figure()` into a staging folder; the
    harness moves it into place only when the run has finished, so a failed run leaves the
    previous results untouched.
    """

    def __init__(self, out_dir: Path | str, preset: str = "quick", tracker: Tracker | None = None,
                 log_stream: Any = None, ray_address: str | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.preset = preset
        # Where `parallel_map` sends tasks: None = local worker processes, else a Ray cluster address.
        self.ray_address = ray_address
        self._tracker = tracker or _no_progress
        self._log_stream = log_stream

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        """Iterate with a progress bar on stderr, e.g. `for seed in ctx.track(seeds, description="seeds")`."""
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        return self._tracker(iterable, total, description)

    def log(self, message: str) -> None:
        """A progress line on stderr (never stdout: `--json` keeps stdout for the record)."""
        print(message, file=self._log_stream or sys.stderr, flush=True)

    def path(self, name: str) -> Path:
        """Where to write an artifact called `name` (a plain file name, e.g. "stages.png")."""
        if not name or Path(name).name != name:
            raise ValueError(f"artifact name must be a plain file name, got {name!r}")
        return self.out_dir / name

    def save_figure(self, fig: Any, name: str) -> Path:
        """Save a matplotlib figure as PNG under `name` and close it."""
        import matplotlib.pyplot as plt

        target = self.path(name)
        fig.savefig(target, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return target

    def stage(self, description: str) -> AbstractContextManager[None]:
        """Mark a block of work in the log: `with ctx.stage("training teachers"): ...`."""
        self.log(f"  {description}")
        return nullcontext()
