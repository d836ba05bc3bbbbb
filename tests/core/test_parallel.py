"""parallel_map: ordered results, single-threaded children, clear errors."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperzoo.core import RunContext
from paperzoo.core.parallel import parallel_map, resolve_workers


def test_parallel_map_keeps_task_order_and_matches_inline(tmp_path):
    tasks = [(base, 3) for base in range(7)]
    ctx = RunContext(tmp_path)
    assert parallel_map(pow, tasks, 2, ctx) == parallel_map(pow, tasks, 1, ctx) == [b**3 for b in range(7)]


def test_children_run_with_one_blas_thread_and_parent_env_is_restored(tmp_path):
    before = os.environ.get("OMP_NUM_THREADS")
    seen = parallel_map(os.getenv, [("OMP_NUM_THREADS",), ("OPENBLAS_NUM_THREADS",)], 2, RunContext(tmp_path))
    assert seen == ["1", "1"]
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_a_failing_task_stops_the_rest(tmp_path):
    start = time.monotonic()
    with pytest.raises(ValueError, match="non-negative"):
        parallel_map(time.sleep, [(-1,)] + [(2,)] * 10, 2, RunContext(tmp_path))
    assert time.monotonic() - start < 8  # the queued tasks would take 10 s on 2 workers


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_worker_count_is_a_value_error(bad):
    with pytest.raises(ValueError, match="workers"):
        resolve_workers(bad)


def test_zero_workers_means_one_per_core():
    assert resolve_workers(0) == resolve_workers(None) == (os.cpu_count() or 1)


def test_workers_exit_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        "import time\n"
        "from paperzoo.core import RunContext\n"
        "from paperzoo.core.parallel import parallel_map\n"
        "if __name__ == '__main__':\n"
        f"    parallel_map(time.sleep, [(60,), (60,)], 2, RunContext({str(tmp_path)!r}))\n")
    parent = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 30
    while not (children := _children(parent.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [pid for pid in children if "spawn_main" in _cmdline(pid)]
    assert workers, "no worker started"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
