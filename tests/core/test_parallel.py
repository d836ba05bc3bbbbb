"""parallel_map: ordered results, single-threaded children, clear errors."""

import os

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


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_worker_count_is_a_value_error(bad):
    with pytest.raises(ValueError, match="workers"):
        resolve_workers(bad)


def test_zero_workers_means_one_per_core():
    assert resolve_workers(0) == resolve_workers(None) == (os.cpu_count() or 1)
