"""The `paperzoo` command: list | reproduce | report | info, and the commands papers register.

Bad input exits with code 2 and one line on stderr; `reproduce --json` keeps stdout pure JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import Any, NoReturn

from paperzoo.core.errors import UserError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UserError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="paperzoo", description="Reproduce the headline claims of ten deep-learning papers.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="one line per paper: id, title, number of claims")
    rep = sub.add_parser("reproduce", help="run papers and write their records and the report")
    rep.add_argument("ids", nargs="*", metavar="ID", help="paper ids (see `paperzoo list`)")
    rep.add_argument("--all", action="store_true", help="run every paper")
    rep.add_argument("--preset", default="quick", help="quick (default, minutes) or full")
    rep.add_argument("--seeds", type=_positive_int, metavar="N", help="run seeds 0..N-1 instead of the preset's")
    rep.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR", help="report folder (reports/)")
    rep.add_argument("--json", action="store_true", help="print the run records as a JSON array on stdout")
    rep.add_argument("--ray", metavar="ADDRESS", help="run parallel tasks on a Ray cluster: HOST:PORT of its head, "
                     "ray://HOST:PORT, or auto (the local cluster, or a new local Ray)")
    report = sub.add_parser("report", help="rebuild the report from the records present")
    report.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR")
    info = sub.add_parser("info", help="a paper's claims, presets and config")
    info.add_argument("id", metavar="ID")
    _add_paper_commands(sub)
    return parser


def _add_paper_commands(sub: Any) -> None:
    """One subcommand per command a paper registered; its code is imported only when it runs."""
    from paperzoo.core import registry

    for command in registry.all_commands().values():
        parser = sub.add_parser(command.name, help=command.help)
        command.add_arguments(parser)
        parser.set_defaults(paper_command=command)


def _prepare_out_dir(out: Path) -> None:
    """Create `out` if needed and prove it writable, or fail with one line before any work."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UserError(f"--out {out} is not writable: {exc.strerror or exc}") from None


class _Progress:
    """Progress bars on stderr: one for the papers, one per tracked loop inside a paper."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=self.console, transient=False)

    def track(self, iterable: Iterable[Any], total: int | None, description: str) -> Iterator[Any]:
        task = self.bars.add_task(f"  {description}", total=total)
        # Bars are not drawn into a log file or a CI log: print a line at every tenth instead.
        plain = not self.console.is_terminal and bool(total)
        start, every = time.perf_counter(), max(1, (total or 1) // 10)
        try:
            for done, item in enumerate(iterable, start=1):
                yield item
                self.bars.advance(task)
                if plain and (done % every == 0 or done == total):
                    print(f"  {description}: {done}/{total} after {time.perf_counter() - start:.0f} s",
                          file=sys.stderr, flush=True)
        finally:
            self.bars.remove_task(task)


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout, by Python or by child processes, to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _print_claims(console: Any, record: Any) -> None:
    from rich.table import Table

    from paperzoo.core.report import format_value

    counts = record.claim_counts()
    not_run = f", {counts['not run']} not run" if counts["not run"] else ""
    table = Table(title=f"{record.paper} ({record.preset}): {counts['held']}/{len(record.claims)} claims held"
                        f"{not_run}, {record.seconds:.0f} s")
    for column in ("claim", "verdict", "paper", "observed", "detail"):
        table.add_column(column, overflow="fold")
    for claim in record.claims:
        verdict = {"held": "[green]held[/green]", "failed": "[red]FAILED[/red]", "not run": "[dim]not run[/dim]"}[
            claim.status]
        table.add_row(claim.id, verdict, claim.paper_value, format_value(claim.observed), claim.detail)
    console.print(table)


def cmd_list() -> int:
    from paperzoo.core import registry

    papers = registry.all_papers()
    width = max((len(p.id) for p in papers), default=0)
    for paper in papers:
        print(f"{paper.id:<{width}}  {len(paper.claims):>2} claims  {paper.title}")
    return 0


def cmd_info(paper_id: str) -> int:
    from paperzoo.core import registry

    paper = registry.get(paper_id)
    print(f"{paper.id}: {paper.title}\narXiv {paper.arxiv}  https://arxiv.org/abs/{paper.arxiv}")
    if paper.summary:
        print(paper.summary)
    if paper.readme:
        print(f"README: {paper.readme}")
    print(f"\nClaims ({len(paper.claims)}):")
    for claim in paper.claims:
        print(f"  {claim.id}: {claim.statement} (paper: {claim.paper_value})")
    print("\nPresets:")
    for name, config in paper.presets.items():
        print(f"  {name}: {json.dumps(config, default=str)}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from paperzoo.core import registry

    if args.all and args.ids:
        raise UserError("give paper ids or --all, not both")
    if not args.all and not args.ids:
        raise UserError("name at least one paper id (see `paperzoo list`) or use --all")
    papers = registry.all_papers() if args.all else [registry.get(pid) for pid in dict.fromkeys(args.ids)]
    for paper in papers:
        paper.config(args.preset)  # validate every preset before any run starts
    if args.ray is not None:
        from paperzoo.core.parallel import check_ray_address

        check_ray_address(args.ray)
    _prepare_out_dir(args.out)

    from paperzoo.core.report import build_report
    from paperzoo.core.runner import run_paper

    progress = _Progress()
    records, crashed = [], []
    with _stdout_to_stderr() if args.json else nullcontext(), progress.bars:
        overall = progress.bars.add_task("papers", total=len(papers))
        for paper in papers:
            progress.bars.update(overall, description=f"{paper.id} [{args.preset}]")
            try:
                record = run_paper(paper, args.preset, args.out, args.seeds, tracker=progress.track,
                                   ray_address=args.ray)
            except (KeyboardInterrupt, UserError):
                raise
            except Exception:  # a bug in one paper must not lose the others' results
                progress.console.print(f"[red]{paper.id} crashed; its previous record is kept:[/red]")
                progress.console.print(traceback.format_exc(), markup=False, highlight=False)
                crashed.append(paper.id)
                continue
            records.append(record)
            progress.bars.advance(overall)
            if not args.json:
                _print_claims(progress.console, record)
    if records or (args.out / "index.html").exists():
        index = build_report(args.out)
        progress.console.print(f"report: {index.resolve()}")
    if args.json:
        print(json.dumps([record.to_dict() for record in records], indent=2))
    if crashed:
        progress.console.print(f"[red]crashed: {', '.join(crashed)}[/red]")
        return 1
    return 0


def cmd_report(out: Path) -> int:
    from paperzoo.core.report import build_report

    print(build_report(out).resolve())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return cmd_list()
        if args.command == "info":
            return cmd_info(args.id)
        if args.command == "report":
            return cmd_report(args.out)
        if getattr(args, "paper_command", None) is not None:
            return args.paper_command.invoke(args)
        return cmd_reproduce(args)
    except UserError as exc:
        print(f"paperzoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paperzoo: interrupted; earlier records and the report are untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
