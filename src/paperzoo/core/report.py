"""The report: `DIR/summary.md` and a self-contained `DIR/index.html` built from every run record.

Per paper: the claims table, then the figures with their captions (audio players for WAV artifacts,
links for extra HTML pages), then the paper's key metrics; all metrics, the config and the
environment sit in collapsed sections. The overview says at a glance what held, what failed and
what was not run, with preset, seeds, wall time and host load.

The HTML has no scripts or remote assets; artifacts are referenced relative to DIR, so the folder
opens from disk and can be copied as a whole.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperzoo.core.errors import UserError
from paperzoo.core.records import RECORD_NAME, RunRecord, atomic_write_text

if TYPE_CHECKING:
    from paperzoo.core.registry import Paper

MAX_KEY_METRIC_ROWS = 40
FIGURE_TYPES = (".png", ".svg", ".jpg", ".jpeg")
AUDIO_TYPES = (".wav",)
PAGE_TYPES = (".html", ".htm")


def load_records(out_dir: Path) -> list[RunRecord]:
    """Every `DIR/<id>/record.json`, in the project's paper order; a corrupt one is a UserError."""
    from paperzoo.core.registry import PAPER_ORDER

    if not out_dir.is_dir():
        raise UserError(f"no report folder at {out_dir}")
    records = [RunRecord.load(path) for path in sorted(out_dir.glob(f"*/{RECORD_NAME}"))]
    order = {pid: i for i, pid in enumerate(PAPER_ORDER)}
    return sorted(records, key=lambda r: (order.get(r.paper, len(order)), r.paper))


def format_value(value: Any) -> str:
    """A metric or observed value, short: 4 significant digits, mean ± std for a per-seed summary."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping) and "mean" in value and "std" in value:
        n = len(value.get("per_seed", []))
        return f"{format_value(value['mean'])} ± {format_value(value['std'])}" + (f" (n={n})" if n else "")
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(format_value(v) for v in value[:8]) + (", …" if len(value) > 8 else "") + "]"
        return text
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in list(value.items())[:6]) + \
            (", …" if len(value) > 6 else "") + "}"
    return str(value)


def _flatten(metrics: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, value) pairs, descending into dicts that are not per-seed summaries."""
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not ("mean" in value and "std" in value) and len(value) <= 12:
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def key_metric_rows(record: RunRecord, key_metrics: Sequence[str]) -> list[tuple[str, str]]:
    """The rows of the paper's declared key metrics, in declared order (a dict metric gives one row per
    entry), capped at MAX_KEY_METRIC_ROWS; metrics the run did not produce are left out."""
    rows = []
    for key in key_metrics:
        if key in record.metrics:
            value = record.metrics[key]
            rows += _flatten(value, f"{key}.") if isinstance(value, Mapping) and not (
                "mean" in value and "std" in value) else [(key, value)]
    return [(name, format_value(value)) for name, value in rows[:MAX_KEY_METRIC_ROWS]]


@dataclass(frozen=True)
class Artifact:
    """A file of a run as the report shows it: a figure, an audio clip, a page, or another file."""

    name: str
    kind: str  # "figure", "audio", "page" or "file"
    caption: str


def artifacts_of(record: RunRecord, captions: Mapping[str, str]) -> list[Artifact]:
    """The record's artifacts with their captions: declared ones first, in declared order."""
    present = set(record.artifacts) - {RECORD_NAME}
    names = [name for name in captions if name in present] + sorted(present - set(captions))
    out = []
    for name in names:
        suffix = Path(name).suffix.lower()
        kind = ("figure" if suffix in FIGURE_TYPES else "audio" if suffix in AUDIO_TYPES
                else "page" if suffix in PAGE_TYPES else "file")
        out.append(Artifact(name, kind, captions.get(name, "")))
    return out


def _registered(paper_id: str) -> Paper | None:
    """The registered paper of a record, if any (a report may hold records of papers not installed here)."""
    from paperzoo.core import registry

    try:
        return registry.get(paper_id)
    except UserError:
        return None


def _host_load(record: RunRecord) -> str:
    """The 1-minute load average at the start and end of the run, e.g. "0.1 → 2.0" ("n/a" if unknown)."""
    start, end = record.environment.get("load_start"), record.environment.get("load_end")
    if not start or not end:
        return "n/a"
    return f"{start[0]:.1f} → {end[0]:.1f}"


def _counts_text(record: RunRecord) -> str:
    counts = record.claim_counts()
    text = f"{counts['held']}/{len(record.claims)} held"
    if counts["not run"]:
        text += f", {counts['not run']} not run"
    return text


def _paper_view(record: RunRecord) -> tuple[Paper | None, list[Artifact], list[tuple[str, str]]]:
    paper = _registered(record.paper)
    captions = dict(paper.captions) if paper else {}
    key_metrics = tuple(paper.key_metrics) if paper else ()
    return paper, artifacts_of(record, captions), key_metric_rows(record, key_metrics)


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(records: list[RunRecord]) -> str:
    lines = ["# paperzoo report", "",
             "| paper | preset | held | failed | not run | seeds | time | host load (1 min, start → end) | run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        c = r.claim_counts()
        lines.append(f"| [{r.paper}](#{r.paper}) | {r.preset} | {c['held']}/{len(r.claims)} | {c['failed']} | "
                     f"{c['not run']} | {len(r.seeds)} | {r.seconds:.0f} s | {_host_load(r)} | {r.started} |")
    for r in records:
        _, artifacts, rows = _paper_view(r)
        lines += ["", f"## {r.paper}", "", f"{r.title} (arXiv {r.arxiv}), preset `{r.preset}`, "
                  f"seeds {r.seeds}, {r.seconds:.1f} s, host load {_host_load(r)}.", "",
                  "| claim | verdict | paper | observed | detail |", "|---|---|---|---|---|"]
        for c in r.claims:
            lines.append(f"| {c.id} | {c.status.upper()} | {_md_cell(c.paper_value)} | "
                         f"{_md_cell(format_value(c.observed))} | {_md_cell(c.detail)} |")
        for a in artifacts:
            target = f"{r.paper}/{a.name}"
            lines += ["", f"![{a.caption or a.name}]({target})" if a.kind == "figure"
                      else f"[{a.name}]({target})" + (f": {a.caption}" if a.caption else "")]
            if a.kind == "figure" and a.caption:
                lines.append(f"*{a.caption}*")
        if rows:
            lines += ["", "| key metric | value |", "|---|---|"] + [f"| {n} | {_md_cell(v)} |" for n, v in rows]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.8em 0;width:100%}
th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f3f3f3} tr.held td.verdict{background:#d9f2d9;color:#145214;font-weight:bold}
tr.failed td.verdict{background:#f8d7d7;color:#8a1010;font-weight:bold}
tr.not-run td.verdict{background:#eee;color:#555;font-style:italic}
td.num{font-variant-numeric:tabular-nums} section{border-top:2px solid #ddd;margin-top:2em}
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
figure{margin:0;flex:1 1 46%;max-width:48%} figure img{max-width:100%;border:1px solid #ddd}
figure audio{width:100%} figcaption{font-size:.88em;color:#333} figcaption code{color:#777}
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.85em} .muted{color:#666}
details{margin:.4em 0} summary{cursor:pointer;color:#335}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _row_class(status: str) -> str:
    return status.replace(" ", "-")


def _artifact_html(paper_id: str, a: Artifact) -> str:
    src = f"{_e(paper_id)}/{_e(a.name)}"
    caption = f"<figcaption>{_e(a.caption)} <code>{_e(a.name)}</code></figcaption>" if a.caption else \
        f"<figcaption><code>{_e(a.name)}</code></figcaption>"
    if a.kind == "figure":
        return f"<figure class='figure'><img src='{src}' alt='{_e(a.caption or a.name)}'>{caption}</figure>"
    if a.kind == "audio":
        return f"<figure class='audio'><audio controls preload='metadata' src='{src}'></audio>{caption}</figure>"
    return f"<li><a class='{a.kind}' href='{src}'>{_e(a.caption or a.name)}</a> <code>{_e(a.name)}</code></li>"


def _overview_html(records: list[RunRecord]) -> list[str]:
    out = ["<table id='overview'><tr><th>paper</th><th>title</th><th>preset</th><th>held</th><th>failed</th>"
           "<th>not run</th><th>seeds</th><th>time</th><th>host load<br>(1 min, start → end)</th>"
           "<th>run started</th></tr>"]
    for r in records:
        c = r.claim_counts()
        cls = "failed" if c["failed"] else ("not-run" if c["not run"] else "held")
        out.append(f"<tr class='{cls}' data-paper='{_e(r.paper)}'><td><a href='#{_e(r.paper)}'>{_e(r.paper)}</a></td>"
                   f"<td>{_e(r.title)}</td><td>{_e(r.preset)}</td>"
                   f"<td class='verdict held-count'>{c['held']}/{len(r.claims)}</td>"
                   f"<td class='num failed-count'>{c['failed']}</td><td class='num not-run-count'>{c['not run']}</td>"
                   f"<td class='num'>{len(r.seeds)}</td><td class='num'>{r.seconds:.0f} s</td>"
                   f"<td class='num'>{_e(_host_load(r))}</td><td>{_e(r.started)}</td></tr>")
    out.append("</table>")
    return out


def _json_details(summary: str, value: Any, css_class: str) -> str:
    return (f"<details class='{css_class}'><summary>{_e(summary)}</summary>"
            f"<pre>{_e(json.dumps(value, indent=1)[:200_000])}</pre></details>")


def render_html(records: list[RunRecord]) -> str:
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>paperzoo report</title>",
           f"<style>{CSS}</style></head><body><h1>paperzoo report</h1>",
           "<p class='muted'>Each claim is checked on our own runs at our scale; a failed claim is a result, "
           "shown as failed with its numbers. A claim the preset does not measure is shown as not run.</p>"]
    out += _overview_html(records)
    for r in records:
        paper, artifacts, rows = _paper_view(r)
        arxiv = f"<a href='https://arxiv.org/abs/{_e(r.arxiv)}'>arXiv {_e(r.arxiv)}</a>"
        readme = paper.readme if paper and paper.readme and paper.readme.exists() else None
        readme_link = f" · <a href='{_e(readme.resolve().as_uri())}'>README</a>" if readme else ""
        out += [f"<section id='{_e(r.paper)}'><h2>{_e(r.paper)}</h2>",
                f"<p>{_e(r.title)} · {arxiv}{readme_link}<br><span class='muted'>preset {_e(r.preset)}, "
                f"seeds {_e(r.seeds)}, {r.seconds:.1f} s, host load {_e(_host_load(r))}, "
                f"git {_e(r.git or 'n/a')} · {_e(_counts_text(r))}</span></p>",
                "<h3>Claims</h3><table class='claims'><tr><th>claim</th><th>verdict</th><th>statement</th>"
                "<th>paper</th><th>observed</th><th>detail</th></tr>"]
        for c in r.claims:
            out.append(f"<tr class='{_row_class(c.status)}'><td>{_e(c.id)}</td><td class='verdict'>{c.status}</td>"
                       f"<td>{_e(c.statement)}</td><td>{_e(c.paper_value)}</td>"
                       f"<td class='num'>{_e(format_value(c.observed))}</td><td>{_e(c.detail)}</td></tr>")
        out.append("</table>")
        media = [a for a in artifacts if a.kind in ("figure", "audio")]
        links = [a for a in artifacts if a.kind in ("page", "file")]
        if media:
            out += ["<h3>Figures</h3><div class='figures'>"] + [_artifact_html(r.paper, a) for a in media] + ["</div>"]
        if links:
            out += ["<h3>Pages and files</h3><ul class='artifacts'>"] + \
                [_artifact_html(r.paper, a) for a in links] + ["</ul>"]
        if rows:
            out.append("<h3>Key metrics</h3><table class='metrics'>")
            out += [f"<tr><td>{_e(name)}</td><td class='num'>{_e(value)}</td></tr>" for name, value in rows]
            out.append("</table>")
        out += [_json_details("All metrics", r.metrics, "all-metrics"), _json_details("Config", r.config, "config"),
                _json_details("Environment", r.environment, "environment"), "</section>"]
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def build_report(out_dir: Path | str) -> Path:
    """Rebuild `summary.md` and `index.html` in `out_dir` from its records; returns the HTML path."""
    out_dir = Path(out_dir)
    records = load_records(out_dir)
    if not records:
        raise UserError(f"no run records in {out_dir} (run `paperzoo reproduce` first)")
    atomic_write_text(out_dir / "summary.md", render_markdown(records))
    index = out_dir / "index.html"
    atomic_write_text(index, render_html(records))
    return index
