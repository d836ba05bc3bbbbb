"""The command-line contract, through real subprocesses."""

import json
import subprocess
import sys
import time

import pytest


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_list_shows_fake_paper_and_does_not_import_torch(cli_env, tmp_path):
    code = ("import sys; from paperzoo.cli import main; rc = main(['list']); "
            "heavy = [m for m in ('torch', 'scipy', 'sklearn', 'flwr', 'transformers') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=cli_env, capture_output=True, text=True, cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert "fake-paper" in proc.stdout and "4 claims" in proc.stdout
    assert "HEAVY []" in proc.stdout
    assert elapsed < 10  # generous for a loaded CI box; the 1 s target is measured in benchmarks


def test_info(paperzoo):
    proc = paperzoo("info", "fake-paper")
    assert proc.returncode == 0, proc.stderr
    assert "above-threshold" in proc.stdout and "quick" in proc.stdout and "threshold" in proc.stdout


def test_reproduce_writes_record_report_and_json(paperzoo, tmp_path):
    proc = paperzoo("reproduce", "fake-paper", "--seeds", "3", "--out", "out", "--json")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)  # stdout is pure JSON
    assert len(records) == 1
    record = records[0]
    assert record["paper"] == "fake-paper" and record["seeds"] == [0, 1, 2] and record["schema"] == 1
    assert record["environment"]["cpus"] >= 1 and record["environment"]["python"]
    assert len(record["environment"]["load_start"]) == 3 and len(record["environment"]["load_end"]) == 3
    verdicts = {c["id"]: c["passed"] for c in record["claims"]}
    assert verdicts == {"mean-positive": True, "above-threshold": False, "never-measured": False, "full-only": False}
    assert "not measured" in next(c["detail"] for c in record["claims"] if c["id"] == "never-measured")
    out = tmp_path / "out"
    assert json.loads((out / "fake-paper" / "record.json").read_text()) == record
    assert (out / "fake-paper" / "values.png").stat().st_size > 0
    assert record["artifacts"] == ["page.html", "tone.wav", "values.png"]
    html = (out / "index.html").read_text()
    assert "above-threshold" in html and "failed" in html and "fake &lt;b&gt;&amp;" in html
    assert "above-threshold | FAILED" in (out / "summary.md").read_text()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    # stderr is not a terminal here: progress comes as plain lines, not bars
    assert "seeds: 3/3 after" in proc.stderr


def test_same_seed_same_metrics(paperzoo, tmp_path):
    runs = [json.loads(paperzoo("reproduce", "fake-paper", "--out", f"o{i}", "--json").stdout)[0] for i in (1, 2)]
    assert runs[0]["metrics"] == runs[1]["metrics"]


@pytest.mark.parametrize("args, needle", [
    (["reproduce", "no-such-paper"], "unknown paper id 'no-such-paper'"),
    (["reproduce", "fake-paper", "--preset", "huge"], "unknown preset 'huge'"),
    (["reproduce", "fake-paper", "--seeds", "0"], "must be at least 1"),
    (["reproduce", "fake-paper", "--seeds", "two"], "expected a whole number"),
    (["reproduce"], "name at least one paper id"),
    (["reproduce", "fake-paper", "--all"], "not both"),
    (["info", "nope"], "unknown paper id"),
    (["frobnicate"], "invalid choice"),
    (["report", "--out", "missing"], "no report folder"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(paperzoo, tmp_path, args, needle):
    before = set(tmp_path.iterdir())
    line = _one_line_error(paperzoo(*args))
    assert needle in line
    assert set(tmp_path.iterdir()) == before


def test_out_is_a_file_or_unwritable(paperzoo, tmp_path):
    (tmp_path / "afile").write_text("x")
    assert "is a file" in _one_line_error(paperzoo("reproduce", "fake-paper", "--out", "afile"))
    assert "not writable" in _one_line_error(paperzoo("reproduce", "fake-paper", "--out", "afile/sub"))
    assert "not writable" in _one_line_error(paperzoo("reproduce", "fake-paper", "--out", "/proc/paperzoo-out"))
    assert (tmp_path / "afile").read_text() == "x"


def test_corrupt_record_is_named_by_report(paperzoo, tmp_path):
    assert paperzoo("reproduce", "fake-paper", "--out", "out").returncode == 0
    bad = tmp_path / "out" / "other" / "record.json"
    bad.parent.mkdir()
    bad.write_text('{"paper": "other", ')
    index_before = (tmp_path / "out" / "index.html").read_text()
    line = _one_line_error(paperzoo("report", "--out", "out"))
    assert "corrupt run record" in line and str(bad.relative_to(tmp_path)) in line
    assert (tmp_path / "out" / "index.html").read_text() == index_before


@pytest.mark.parametrize("preset, code", [("boom", 1), ("interrupt", 130)])
def test_failed_or_interrupted_run_keeps_previous_results(paperzoo, tmp_path, preset, code):
    assert paperzoo("reproduce", "fake-paper", "--out", "out").returncode == 0
    out = tmp_path / "out"
    snapshot = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = paperzoo("reproduce", "fake-paper", "--out", "out", "--preset", preset)
    assert proc.returncode == code, proc.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == snapshot  # same files, same bytes, no staging leftovers
