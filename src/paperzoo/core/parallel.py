"""Seeded tasks over worker processes, with one BLAS/OpenMP thread each: local or on a Ray cluster.

Many small CPU-bound runs (one per setting and seed) scale with processes, not threads: two
processes that each start a thread pool per core spend the run fighting over the cores. A full study
that outgrows one machine runs the same tasks on Ray (`paperzoo reproduce ... --ray ADDRESS`); every
task seeds itself, so the results are the same on either backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from paperzoo.core.context import RunContext
from paperzoo.core.errors import UserError

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
    processes when there is more than one, or as one-CPU Ray tasks when `ctx.ray_address` is set (the
    cluster then decides how many run at once). `function` must be importable (module level) and each
    task must seed itself, so that results do not depend on the number of workers or the backend.

    Example:
        >>> parallel_map(pow, [(2, 3), (3, 2)], workers=1, ctx=RunContext("/tmp/out"))
        [8, 9]
    """
    if ctx.ray_address is not None:
        return _ray_map(function, tasks, ctx, description)
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


# ------------------------------------------------------------------------------------------ Ray
def check_ray_address(address: str) -> str:
    """`address` if it names a Ray cluster to use: "auto" (the local cluster `ray start` left running, or
    a new local Ray), "HOST:PORT" of a head node's GCS, or "ray://HOST:PORT" of a Ray Client server; a
    named head must answer on its port (Ray itself would retry for minutes). Else a UserError."""
    import socket

    if address == "auto":
        return address
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UserError(f"--ray expects auto, HOST:PORT or ray://HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise UserError(f"no Ray head answers at {address}: {exc.strerror or exc}") from None
    return address


def _call(function: Callable[..., Any], task: tuple[Any, ...]) -> Any:
    return function(*task)


@contextmanager
def _ray_session(address: str) -> Iterator[Any]:
    """Ray, connected to `address`; disconnected afterwards unless the caller had connected already."""
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # CPU only: no accelerator variables
    import ray

    if ray.is_initialized():
        yield ray
        return
    try:
        ray.init(address=None if address == "auto" else address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError) as exc:
        raise UserError(f"cannot connect to Ray at {address}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _ray_map(function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], ctx: RunContext,
             description: str) -> list[Any]:
    with _ray_session(check_ray_address(ctx.ray_address)) as ray:
        remote = ray.remote(num_cpus=1, max_retries=0,
                            runtime_env={"env_vars": dict.fromkeys(_THREAD_VARIABLES, "1")})(_call)
        refs = [remote.remote(function, tuple(task)) for task in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(tasks)

        def finished() -> Iterator[Any]:
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield done[0]

        try:
            for ref in ctx.track(finished(), total=len(tasks), description=description):
                results[index[ref]] = ray.get(ref)
        except BaseException:
            # Fail now, not after the queued tasks. Only tasks still pending, and without force: Ray 2's
            # driver aborts when a task it force-kills completes at the same moment.
            _, pending = ray.wait(refs, num_returns=len(refs), timeout=0)
            for ref in pending:
                ray.cancel(ref)
            raise
        return results
