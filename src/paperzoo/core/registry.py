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

# The CLI's own subcommands: a paper's command may not take these names.
BUILTIN_COMMANDS = ("list", "reproduce", "report", "info")


@dataclass(frozen=True)
class Command:
    """An extra `paperzoo <name>` subcommand that a paper registers (e.g. an interactive demo).

    `add_arguments(parser)` adds its options to an argparse parser; it runs whenever the CLI is
    built, so it must import nothing heavy. `run` is "module:function": imported only when the command
    runs, called with the parsed arguments, and returning the exit code. It may raise `UserError` for
    bad input (one line on stderr, exit 2).

    >>> Command("hello", "say hello", lambda parser: None, "mypkg.demo:hello").name
    'hello'
    """

    name: str
    help: str
    add_arguments: Callable[[Any], None]
    run: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", self.name):
            raise ValueError(f"command name must be lowercase words joined by '-', got {self.name!r}")
        if self.name in BUILTIN_COMMANDS:
            raise ValueError(f"command name {self.name!r} clashes with the built-in command of that name")
        if not callable(self.add_arguments):
            raise ValueError(f"command {self.name!r}: add_arguments must be callable")
        if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", self.run):
            raise ValueError(f"command {self.name!r}: run must be 'module:function', got {self.run!r}")

    def invoke(self, args: Any) -> int:
        """Import the run function and call it with the parsed arguments."""
        module, _, function = self.run.partition(":")
        return int(getattr(importlib.import_module(module), function)(args))


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
    # Extra CLI subcommands (`paperzoo <name>`), e.g. an interactive demo of the method.
    commands: Sequence[Command] = field(default_factory=tuple)

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
        names = [command.name for command in self.commands]
        if len(set(names)) != len(names):
            raise ValueError(f"paper {self.id!r}: duplicate command names in {names}")

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
    for command in paper.commands:
        owner = next((p.id for p in _REGISTRY.values() if p.id != paper.id
                      and any(c.name == command.name for c in p.commands)), None)
        if owner is not None:
            raise ValueError(f"paper {paper.id!r}: command {command.name!r} is already registered by {owner!r}")
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


def all_commands() -> dict[str, Command]:
    """Every paper's registered command by name."""
    return {command.name: command for paper in all_papers() for command in paper.commands}


def get(paper_id: str) -> Paper:
    """The paper registered as `paper_id`, or a UserError listing the known ids."""
    _discover()
    if paper_id not in _REGISTRY:
        known = ", ".join(p.id for p in all_papers()) or "none"
        raise UserError(f"unknown paper id {paper_id!r} (known: {known})")
    return _REGISTRY[paper_id]


__all__ = ["BUILTIN_COMMANDS", "PAPER_ORDER", "Command", "Paper", "RunContext", "all_commands", "all_papers", "get",
           "register"]
