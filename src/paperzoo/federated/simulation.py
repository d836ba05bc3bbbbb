"""Launching Flower apps: the simulation engine (Ray), and the CPU threads of clients and server.

`simulate(main, client_app, num_supernodes)` runs `main(grid, context)` as the ServerApp of one
Flower simulation and returns what `main` returns (or raises what it raised: Flower itself only logs
a failing ServerApp). Node i gets the node config `partition-id=i num-partitions=N`. The same
`ClientApp` and a `ServerApp` built with `server_app(main)` run unchanged as a real deployment
(SuperLink + SuperNodes, see `paperzoo.federated.deployment`).

Threads: Ray gives every ClientApp `num_cpus_per_client` cores; `client_threads(context)` matches
torch to it. A synchronous server (FedAvg) computes while every client waits, so its own evaluation
may use all the cores the clients leave idle: `with torch_threads(available_cores()): ...`.

Example::

    def main(grid, context):
        partitions = node_partitions(grid, expected=4)
        ...
        return metrics

    metrics = simulate(main, client_app, num_supernodes=4, num_cpus_per_client=1)
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flwr.app import Context
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

T = TypeVar("T")

# Offline, quiet and at the caller's priority: no telemetry, no hub look-ups, Ray workers not re-niced.
SIMULATION_ENV = {"FLWR_TELEMETRY_ENABLED": "0", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                  "RAY_DEDUP_LOGS": "0", "RAY_worker_niceness": "0"}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with torch's intra-op thread count set to `n`, then restore it."""
    import torch

    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def client_threads(context: Context, default: int = 1) -> int:
    """Set torch's threads in a ClientApp to the node's `torch-threads` config (else `default`); returns it."""
    import torch

    n = int(context.node_config.get("torch-threads", default))
    torch.set_num_threads(max(1, n))
    return n


def server_app(main: Callable[[Grid, Context], Any]) -> ServerApp:
    """A ServerApp whose main is `main(grid, context)` (its return value is dropped)."""
    app = ServerApp()

    @app.main()
    def _main(grid: Grid, context: Context) -> None:
        main(grid, context)

    return app


def simulate(main: Callable[[Grid, Context], T], client_app: ClientApp, num_supernodes: int, *,
             num_cpus_per_client: float = 1.0, quiet: bool = True) -> T:
    """Run `main(grid, context)` as the ServerApp of one Flower simulation; returns its result.

    num_cpus_per_client: Ray resources per ClientApp (so `cores / num_cpus_per_client` run at once).
    quiet: hide Flower's per-round INFO logs and its deprecation notices.
    """
    from flwr.simulation import run_simulation

    if not isinstance(client_app, ClientApp):
        raise TypeError(f"client_app must be a flwr ClientApp, got {type(client_app).__name__}")
    if not isinstance(num_supernodes, int) or num_supernodes < 1:
        raise ValueError(f"num_supernodes must be an int >= 1, got {num_supernodes!r}")
    if num_cpus_per_client <= 0:
        raise ValueError(f"num_cpus_per_client must be > 0, got {num_cpus_per_client!r}")
    for key, value in SIMULATION_ENV.items():
        os.environ.setdefault(key, value)
    outcome: dict[str, Any] = {}

    def capture(grid: Grid, context: Context) -> None:
        try:
            outcome["result"] = main(grid, context)
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error
            raise

    flwr_logger = logging.getLogger("flwr")
    level = flwr_logger.level
    if quiet:
        flwr_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
            run_simulation(server_app=server_app(capture), client_app=client_app, num_supernodes=num_supernodes,
                           backend_config={"client_resources": {"num_cpus": num_cpus_per_client, "num_gpus": 0.0},
                                           "init_args": {"logging_level": logging.ERROR, "log_to_driver": False}})
    finally:
        flwr_logger.setLevel(level)
    if "error" in outcome:
        raise RuntimeError(f"the ServerApp failed: {outcome['error']!r}") from outcome["error"]
    if "result" not in outcome:
        raise RuntimeError("the simulation ended before the ServerApp finished (see the Flower log above)")
    return outcome["result"]


__all__ = ["SIMULATION_ENV", "available_cores", "client_threads", "server_app", "simulate", "torch_threads"]
