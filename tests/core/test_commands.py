"""Commands that papers register: `paperzoo <name>`, imported only when they run."""

import subprocess
import sys

import pytest

from paperzoo.core import Claim, Command, Evidence, Paper
from paperzoo.core.registry import register


def _run(config, seeds, ctx):
    return {}


def _paper(paper_id, *commands):
    return Paper(id=paper_id, title="t", arxiv="0", presets={"quick": {"seeds": 1}},
                 claims=[Claim("c", "s", "p", lambda m: Evidence(1, True))], run=_run, commands=list(commands))


def _noop(parser):
    return None


def test_registered_command_runs_and_returns_its_exit_code(paperzoo):
    proc = paperzoo("fake-echo", "hi", "--times", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hi hi"
    assert paperzoo("fake-echo", "hi", "--times", "3").returncode == 3
    assert "fake-echo" in paperzoo("--help").stdout


@pytest.mark.parametrize("args, needle", [(["fake-echo"], "required: word"),
                                          (["fake-echo", "x", "--times", "two"], "invalid int value"),
                                          (["fake-echo", "bad"], "a bad word")])
def test_command_input_errors_are_one_line_exit_2(paperzoo, args, needle):
    proc = paperzoo(*args)
    assert proc.returncode == 2 and needle in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_list_imports_no_command_code_and_nothing_heavy(cli_env, tmp_path):
    code = ("import sys; from paperzoo.cli import main; rc = main(['list']); "
            "lazy = [m for m in ('fake_command', 'paperzoo.papers.negotiation.chat', 'torch') if m in sys.modules]; "
            "print('LAZY', lazy); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], env=cli_env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "LAZY []" in proc.stdout


@pytest.mark.parametrize("name", ["list", "reproduce", "report", "info"])
def test_a_builtin_name_is_refused(name):
    with pytest.raises(ValueError, match="clashes with the built-in"):
        Command(name, "h", _noop, "m:f")


def test_clashes_and_malformed_commands_are_refused_at_registration(monkeypatch):
    from paperzoo.core import registry

    monkeypatch.setattr(registry, "_REGISTRY", {})  # a private registry for this test
    register(_paper("first-paper", Command("shared-name", "h", _noop, "m:f")))
    register(_paper("first-paper", Command("shared-name", "h", _noop, "m:f")))  # the same paper again is fine
    with pytest.raises(ValueError, match="already registered by 'first-paper'"):
        register(_paper("clash-paper", Command("shared-name", "h", _noop, "m:g")))
    assert set(registry._REGISTRY) == {"first-paper"}
    with pytest.raises(ValueError, match="duplicate command names"):
        _paper("twice-paper", Command("x", "h", _noop, "m:f"), Command("x", "h", _noop, "m:g"))
    for bad in (dict(name="Bad Name", run="m:f"), dict(name="ok", run="no-colon"), dict(name="ok", run="m:f:g")):
        with pytest.raises(ValueError):
            Command(bad["name"], "h", _noop, bad["run"])
    with pytest.raises(ValueError, match="add_arguments must be callable"):
        Command("ok", "h", None, "m:f")
