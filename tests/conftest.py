"""Shared fixtures: the fake paper as a plugin, and a `paperzoo` runner for subprocess CLI tests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running the CLI with the fake paper registered and a private cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS / "core"), env.get("PYTHONPATH")]))
    env["PAPERZOO_PLUGINS"] = "fake_paper"
    env["PAPERZOO_CACHE"] = str(tmp_path / "cache")
    return env


@pytest.fixture
def paperzoo(cli_env, tmp_path):
    """Run `paperzoo ARGS...` in a subprocess from tmp_path; returns the CompletedProcess."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "paperzoo.cli", *args], cwd=tmp_path, env=cli_env,
                              capture_output=True, text=True, timeout=timeout)

    return run
