"""The paper registry: each paper's `experiment.py` registers one `Paper`.

Papers are discovered by importing `paperzoo.papers.<package>.experiment`; extra papers (your own,
or a test's) come from the modules named in the environment variable `PAPERZOO_PLUGINS`
(comma-separated). Experiment modules keep heavy imports (torch, scipy, ...) inside `run`, so
listing papers stays fast.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperzoo.core.claims import Claim
from paperzoo.core.context import RunContext
from paperzoo.core.errors import UserError

# The order papers are listed and reported in.
PAPER_ORDER = ("edge-inference", "dmf-saddle", "neural-collapse", "fedpetuning", "negotiation", "fedmgd",
               "prosody2vec", "meme-evolution", "ds-ner", "noise-qat")

RunFunction = Callable[[Mapping[str, Any], Sequence[int], RunContext], Mapping[str, Any]]


@dataclass(frozen=True)
class Paper:
    """A reproducible paper.

    `presets` maps a preset name ("quick", "full") to its config; every config has an int "seeds",
    the default number of seeds. `run(config, seeds, ctx)` trains and measures, saves figures with
    `ctx.save_figure`, and returns the metrics (JSON-able: numbers, strings, lists, dicts, numpy
    values). The claims are then evaluated on those metrics by the harness.
    """

    id: str
    title: str
    arxiv: str
    presets: Mapping[str, Mapping[str, Any]]
    claims: Sequence[Claim]
    run: RunFunction
    summary: str = ""
    readme: Path | None = None
    key_metrics: Sequence[str] = field(default_factory=tuple)
    # Artifact file name -> caption shown in the report: PNG/SVG figures, WAV audio, extra HTML pages.
    captions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", self.id):
            raise ValueError(f"paper id must be lowercase words joined by '-', got {self.id!r}")
        if not self.presets:
            raise ValueError(f"paper {self.id!r} needs at least one preset")
        for name, config in self.presets.items():
            seeds = config.get("seeds")
            if not isinstance(seeds, int) or seeds < 1:
                raise ValueError(f"paper {self.id!r} preset {name!r}: config needs an int 'seeds' >= 1")
        ids = [claim.id for claim in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"paper {self.id!r}: duplicate claim ids in {ids}")

    def config(self, preset: str) -> dict[str, Any]:
        """The config of `preset`, or a UserError naming the presets there are."""
        if preset not in self.presets:
            raise UserError(f"unknown preset {preset!r} for {self.id} (choose from: {', '.join(self.presets)})")
        return dict(self.presets[preset])


_REGISTRY: dict[str, Paper] = {}
_discovered = False


def register(paper: Paper) -> Paper:
    """Add `paper` to the registry (called at import time by each `experiment.py`)."""
    existing = _REGISTRY.get(paper.id)
    if existing is not None and existing.run is not paper.run:
        raise ValueError(f"paper id {paper.id!r} is registered twice")
    _REGISTRY[paper.id] = paper
    return paper


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import paperzoo.papers as papers_pkg

    for info in pkgutil.iter_modules(papers_pkg.__path__):
        if info.ispkg and (Path(info.module_finder.path) / info.name / "experiment.py").exists():
            importlib.import_module(f"{papers_pkg.__name__}.{info.name}.experiment")
    for module in filter(None, (m.strip() for m in os.environ.get("PAPERZOO_PLUGINS", "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UserError(f"cannot import paper plugin {module!r} from PAPERZOO_PLUGINS: {exc}") from exc


def _order(paper_id: str) -> tuple[int, str]:
    return (PAPER_ORDER.index(paper_id) if paper_id in PAPER_ORDER else len(PAPER_ORDER), paper_id)


def all_papers() -> list[Paper]:
    """Every registered paper, in the project's order."""
    _discover()
    return [_REGISTRY[pid] for pid in sorted(_REGISTRY, key=_order)]


def get(paper_id: str) -> Paper:
    """The paper registered as `paper_id`, or a UserError listing the known ids."""
    _discover()
    if paper_id not in _REGISTRY:
        known = ", ".join(p.id for p in all_papers()) or "none"
        raise UserError(f"unknown paper id {paper_id!r} (known: {known})")
    return _REGISTRY[paper_id]


__all__ = ["PAPER_ORDER", "Paper", "RunContext", "all_papers", "get", "register"]
