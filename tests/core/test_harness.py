"""Claims, run records, atomic writes, statistics and the report, in process."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from paperzoo.core import Claim, Evidence, UserError, stats
from paperzoo.core.claims import ClaimResult
from paperzoo.core.records import RunRecord, atomic_write_text, jsonable
from paperzoo.core.report import build_report, format_value


def _record(**overrides) -> RunRecord:
    fields = dict(paper="fake-paper", title="T", arxiv="1", preset="quick", seeds=[0, 1], started="2026-01-01",
                  seconds=1.5, environment={"python": "3.11", "cpus": 2}, config={"seeds": 2, "lr": 0.1},
                  metrics={"acc": {"mean": 0.9, "std": 0.01, "per_seed": [0.89, 0.91]}, "nested": {"a": 1}},
                  claims=[ClaimResult("c1", "s", "p", 0.9, True, "d"), ClaimResult("c2", "s", "p", None, False, "x")],
                  artifacts=["fig.png"], git="abc")
    fields.update(overrides)
    return RunRecord(**fields)


def test_claim_is_computed_and_missing_metric_fails():
    claim = Claim("c", "statement", "paper", lambda m: Evidence(m["x"], m["x"] > 1, "why"))
    assert claim.evaluate({"x": 2}).passed is True
    assert claim.evaluate({"x": 0}).passed is False
    missing = claim.evaluate({})
    assert missing.passed is False and "not measured" in missing.detail
    assert Claim("n", "s", "p", lambda m: Evidence(1, np.float64(2) > 1)).evaluate({}).passed is True


def test_claim_check_must_return_evidence_with_bool():
    with pytest.raises(TypeError, match="Evidence"):
        Claim("c", "s", "p", lambda m: True).evaluate({})
    with pytest.raises(TypeError, match="bool"):
        Claim("c", "s", "p", lambda m: Evidence(1, "yes")).evaluate({})


def test_record_round_trip(tmp_path):
    record = _record()
    path = tmp_path / "r" / "record.json"
    record.save(path)
    loaded = RunRecord.load(path)
    assert loaded == record and loaded.claims_held == 1
    assert json.loads(path.read_text())["schema"] == 1


@pytest.mark.parametrize("text, needle", [("{", "not valid JSON"), ("[]", "JSON object"),
                                          ('{"paper": "x"}', "missing fields"),
                                          (json.dumps({**_record().to_dict(), "claims": [{"id": "c"}]}), "missing")])
def test_corrupt_record_names_file(tmp_path, text, needle):
    path = tmp_path / "record.json"
    path.write_text(text)
    with pytest.raises(UserError, match=needle) as info:
        RunRecord.load(path)
    assert str(path) in str(info.value)


def test_jsonable_handles_numpy_and_non_finite():
    out = jsonable({"a": np.float32(1.5), "b": np.arange(3), "c": (1, 2), "d": float("nan"), "e": -math.inf,
                    "f": Path("/x"), "g": np.bool_(True)})
    assert out == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2], "d": "nan", "e": "-inf", "f": "/x", "g": True}
    json.dumps(out, allow_nan=False)
    with pytest.raises(TypeError, match="cannot store"):
        jsonable(object())


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("paperzoo.core.records.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_stats_agree_with_scipy():
    a, b = [0.91, 0.93, 0.95, 0.90, 0.97], [0.90, 0.90, 0.94, 0.91, 0.93]
    assert stats.paired_t(a, b).pvalue == pytest.approx(st.ttest_rel(a, b).pvalue)
    assert stats.wilcoxon(a, b).pvalue == pytest.approx(st.wilcoxon(a, b).pvalue)
    assert stats.wilcoxon(a, a).pvalue == 1.0
    assert stats.spearman([1, 2, 3, 4], [1, 3, 2, 4]).statistic == pytest.approx(0.8)
    assert stats.fisher_exact([[8, 2], [1, 9]]).pvalue == pytest.approx(st.fisher_exact([[8, 2], [1, 9]])[1])
    summary = stats.summarize(a)
    assert summary["mean"] == pytest.approx(np.mean(a)) and summary["std"] == pytest.approx(np.std(a, ddof=1))
    low, high = summary["ci95"]
    assert low < summary["mean"] < high
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_t([1, 2], [1])


def test_bootstrap_ci_covers_statistic_and_is_seeded():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = x + rng.normal(scale=0.5, size=40)
    ci = stats.bootstrap_ci((x, y), lambda u, v: st.spearmanr(u, v)[0], n_resamples=300)
    rho = st.spearmanr(x, y)[0]
    assert ci[0] < rho < ci[1]
    assert ci == stats.bootstrap_ci((x, y), lambda u, v: st.spearmanr(u, v)[0], n_resamples=300)


def test_report_shows_failed_claims(tmp_path):
    _record().save(tmp_path / "fake-paper" / "record.json")
    index = build_report(tmp_path)
    html = index.read_text()
    assert "<tr class='failed'><td>c2</td><td class='verdict'>failed</td>" in html
    assert "fake-paper/fig.png" in html and "1/2" in html
    assert "| c2 | FAILED |" in (tmp_path / "summary.md").read_text()


def test_format_value():
    assert format_value({"mean": 0.5, "std": 0.1, "per_seed": [0.4, 0.6]}) == "0.5 ± 0.1 (n=2)"
    assert format_value(1 / 3) == "0.3333"
    assert format_value(list(range(10))).endswith(", …]")


def test_claim_status_separates_not_run_from_failed():
    assert ClaimResult("a", "s", "p", 1, True, "").status == "held"
    assert ClaimResult("b", "s", "p", 1, False, "below the bar").status == "failed"
    assert ClaimResult("c", "s", "p", None, False, Evidence.not_run("full only").detail).status == "not run"
    record = _record(claims=[ClaimResult("a", "s", "p", 1, True, ""), ClaimResult("c", "s", "p", None, False,
                                                                                 "Not run at quick")])
    assert record.claim_counts() == {"held": 1, "failed": 0, "not run": 1}


def test_report_shows_declared_key_metrics_only_and_captions_first(tmp_path, monkeypatch):
    from paperzoo.core import report

    record = _record(metrics={"acc": 0.9, "chain": {"a": 1, "b": 2}, "noise": 3},
                     artifacts=["b.png", "a.png", "clip.wav", "queue.html", "data.csv"])
    assert report.key_metric_rows(record, ("chain", "acc", "missing")) == [("chain.a", "1"), ("chain.b", "2"),
                                                                           ("acc", "0.9")]
    arts = report.artifacts_of(record, {"b.png": "B first", "clip.wav": "a clip"})
    assert [(a.name, a.kind, a.caption) for a in arts] == [
        ("b.png", "figure", "B first"), ("clip.wav", "audio", "a clip"), ("a.png", "figure", ""),
        ("data.csv", "file", ""), ("queue.html", "page", "")]
    record.save(tmp_path / "fake-paper" / "record.json")
    text = build_report(tmp_path).read_text()
    assert "noise" not in text.split("All metrics")[0]  # undeclared metrics only in the collapsed section
    assert "<audio controls" in text and "href='fake-paper/queue.html'" in text
