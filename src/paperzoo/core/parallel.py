"""Seeded tasks over worker processes, with one BLAS/OpenMP thread each.

Many small CPU-bound runs (one per setting and seed) scale with processes, not threads: two
processes that each start a thread pool per core spend the run fighting over the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from paperzoo.core.context import RunContext

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def resolve_workers(workers: int | None) -> int:
    """`workers` itself, or one per core for 0 / None."""
    if workers is None or workers == 0:
        return os.cpu_count() or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ValueError(f"workers must be an int >= 0 (0 = one per core), got {workers!r}")
    return workers


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Children started inside inherit one-thread settings, read when their libraries load."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the parent dies (killed runs leave no busy orphans)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def parallel_map(function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int | None,
                 ctx: RunContext, description: str = "") -> list[Any]:
    """[function(*task) for task in tasks], in order, with a progress bar; in `workers` spawned
    processes when there is more than one. `function` must be importable (module level) and each task
    must seed itself, so that results do not depend on the number of workers.

    Example:
        >>> parallel_map(pow, [(2, 3), (3, 2)], workers=1, ctx=RunContext("/tmp/out"))
        [8, 9]
    """
    workers = min(resolve_workers(workers), max(len(tasks), 1))
    if workers == 1:
        return [function(*task) for task in ctx.track(tasks, description=description)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: list[Any] = [None] * len(tasks)
    with _single_threaded_children(), \
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(function, *task): i for i, task in enumerate(tasks)}
        try:
            for future in ctx.track(as_completed(futures), total=len(tasks), description=description):
                results[futures[future]] = future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # fail now, not after the queued tasks
            raise
    return results
