"""The report: `DIR/summary.md` and a self-contained `DIR/index.html` built from every run record.

The HTML has no scripts or remote assets; figures are referenced relative to DIR, so the folder
opens from disk and can be copied as a whole.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperzoo.core.errors import UserError
from paperzoo.core.records import RECORD_NAME, RunRecord, atomic_write_text

if TYPE_CHECKING:
    from paperzoo.core.registry import Paper

MAX_METRIC_ROWS = 40


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


def key_metric_rows(record: RunRecord, key_metrics: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The metrics shown in the report: the paper's key metrics first, then the rest, capped."""
    rows = list(_flatten(record.metrics))
    rows.sort(key=lambda row: (row[0] not in key_metrics, key_metrics.index(row[0]) if row[0] in key_metrics else 0))
    return [(name, format_value(value)) for name, value in rows[:MAX_METRIC_ROWS]]


def _registered(paper_id: str) -> Paper | None:
    """The registered paper of a record, if any (a report may hold records of papers not installed here)."""
    from paperzoo.core import registry

    try:
        return registry.get(paper_id)
    except UserError:
        return None


def render_markdown(records: list[RunRecord]) -> str:
    lines = ["# paperzoo report", "", "| paper | preset | claims held | seeds | time | run |",
             "|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| [{r.paper}](#{r.paper}) | {r.preset} | {r.claims_held}/{len(r.claims)} | "
                     f"{len(r.seeds)} | {r.seconds:.0f} s | {r.started} |")
    for r in records:
        lines += ["", f"## {r.paper}", "", f"{r.title} (arXiv {r.arxiv}), preset `{r.preset}`, "
                  f"seeds {r.seeds}, {r.seconds:.1f} s.", "",
                  "| claim | held | paper | observed | detail |", "|---|---|---|---|---|"]
        for c in r.claims:
            detail = c.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {c.id} | {'HELD' if c.passed else 'FAILED'} | {c.paper_value} | "
                         f"{format_value(c.observed)} | {detail} |")
        lines += [""] + [f"![{a}]({r.paper}/{a})" for a in r.artifacts if a.endswith(".png")]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.8em 0;width:100%}
th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f3f3f3} tr.held td.verdict{background:#d9f2d9;color:#145214;font-weight:bold}
tr.failed td.verdict{background:#f8d7d7;color:#8a1010;font-weight:bold}
td.num{font-variant-numeric:tabular-nums} section{border-top:2px solid #ddd;margin-top:2em}
figure{display:inline-block;margin:.5em;max-width:48%} figure img{max-width:100%;border:1px solid #ddd}
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.85em} .muted{color:#666}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def render_html(records: list[RunRecord]) -> str:
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>paperzoo report</title>",
           f"<style>{CSS}</style></head><body><h1>paperzoo report</h1>",
           "<p class='muted'>Each claim is checked on our own runs at our scale; a failed claim is a result, "
           "shown as failed with its numbers.</p>",
           "<table id='overview'><tr><th>paper</th><th>title</th><th>preset</th><th>claims held</th>"
           "<th>seeds</th><th>time</th><th>run started</th></tr>"]
    for r in records:
        cls = "held" if r.claims_held == len(r.claims) else "failed"
        out.append(f"<tr class='{cls}'><td><a href='#{_e(r.paper)}'>{_e(r.paper)}</a></td><td>{_e(r.title)}</td>"
                   f"<td>{_e(r.preset)}</td><td class='verdict'>{r.claims_held}/{len(r.claims)}</td>"
                   f"<td>{len(r.seeds)}</td><td class='num'>{r.seconds:.0f} s</td><td>{_e(r.started)}</td></tr>")
    out.append("</table>")
    for r in records:
        arxiv = f"<a href='https://arxiv.org/abs/{_e(r.arxiv)}'>arXiv {_e(r.arxiv)}</a>"
        paper = _registered(r.paper)
        readme = paper.readme if paper and paper.readme and paper.readme.exists() else None
        readme_link = f" · <a href='{_e(readme.resolve().as_uri())}'>README</a>" if readme else ""
        out += [f"<section id='{_e(r.paper)}'><h2>{_e(r.paper)}</h2>",
                f"<p>{_e(r.title)} · {arxiv}{readme_link}<br><span class='muted'>preset {_e(r.preset)}, "
                f"seeds {_e(r.seeds)}, {r.seconds:.1f} s, git {_e(r.git or 'n/a')}</span></p>",
                "<h3>Claims</h3><table class='claims'><tr><th>claim</th><th>verdict</th><th>statement</th>"
                "<th>paper</th><th>observed</th><th>detail</th></tr>"]
        for c in r.claims:
            cls, verdict = ("held", "held") if c.passed else ("failed", "failed")
            out.append(f"<tr class='{cls}'><td>{_e(c.id)}</td><td class='verdict'>{verdict}</td>"
                       f"<td>{_e(c.statement)}</td><td>{_e(c.paper_value)}</td>"
                       f"<td class='num'>{_e(format_value(c.observed))}</td><td>{_e(c.detail)}</td></tr>")
        out.append("</table><h3>Key metrics</h3><table class='metrics'>")
        out += [f"<tr><td>{_e(name)}</td><td class='num'>{_e(value)}</td></tr>"
                for name, value in key_metric_rows(r, tuple(paper.key_metrics) if paper else ())]
        out.append("</table>")
        figures = [a for a in r.artifacts if a.lower().endswith((".png", ".svg"))]
        if figures:
            out.append("<h3>Figures</h3>")
            out += [f"<figure><img src='{_e(r.paper)}/{_e(a)}' alt='{_e(a)}'><figcaption>{_e(a)}</figcaption>"
                    "</figure>" for a in figures]
        out += ["<details><summary>Config, environment and all metrics</summary>",
                f"<pre>{_e(json.dumps({'config': r.config, 'environment': r.environment}, indent=2))}</pre>",
                f"<pre>{_e(json.dumps(r.metrics, indent=1)[:200_000])}</pre></details></section>"]
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
