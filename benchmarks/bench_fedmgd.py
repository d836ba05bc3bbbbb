"""FedMGD benchmarks: one GAS round trip through the ClientApp, in-process and in Flower's simulation;
optionally the same apps as a real deployment (SuperLink + SuperNodes on loopback).

    .venv/bin/python benchmarks/bench_fedmgd.py                   # in-process + simulation
    .venv/bin/python benchmarks/bench_fedmgd.py --deployment      # also a real deployment

1. Target: one GAS round trip (server -> 5 clients `train.gan_step` -> server, tiny nets, batch 32) <= 10 ms,
   median over iterations, on the in-process Grid (what the quick preset uses).
2. The same loop through `paperzoo.federated.simulate` (Ray): the reason the quick preset does not use it.
3. Deployment: `run_local_deployment` of `server_app`/`client_app` (FedMGD, 20 GAS iterations, 2 rounds); the
   measured GAS bytes must equal iterations x clients x (x̂, ŷ down + scores, gradients up) in Flower's framing.
The host load is printed next to each timing (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

SPEC = dict(dataset="digits", n_train=1000, n_test=300, alpha=0.05, n_clients=5, min_size=20, seed=0)


def _settings(iters: int, **extra):  # noqa: ANN202
    from paperzoo.papers.fedmgd import DataSpec, Settings

    return Settings(data=DataSpec(**SPEC).key, gan_iters=iters, **extra)


def _gas(grid, iters: int) -> dict:  # noqa: ANN001
    import numpy as np

    from paperzoo.federated import node_partitions
    from paperzoo.papers.fedmgd import run_gas

    partitions = node_partitions(grid, expected=SPEC["n_clients"])
    res = run_gas(grid, partitions, _settings(iters))
    trips = res.round_trip_ms[5:]  # the first iterations import and warm up
    return {"iterations": iters, "median_ms": round(float(np.median(trips)), 2),
            "p90_ms": round(float(np.percentile(trips, 90)), 2), "load": round(os.getloadavg()[0], 2)}


def bench_inprocess(iters: int = 300) -> dict:
    import logging

    import torch

    from paperzoo.federated import InProcessGrid
    from paperzoo.papers.fedmgd import client_app

    logging.getLogger("flwr").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    out = _gas(InProcessGrid(client_app, SPEC["n_clients"]), iters)
    return out | {"target_ms": 10, "passed": out["median_ms"] <= 10}


def bench_simulation(iters: int = 50) -> dict:
    from paperzoo.federated import simulate
    from paperzoo.papers.fedmgd import client_app

    start = time.perf_counter()
    out = simulate(lambda grid, context: _gas(grid, iters), client_app, num_supernodes=SPEC["n_clients"],
                   num_cpus_per_client=0.4)
    return out | {"total_seconds_with_ray_startup": round(time.perf_counter() - start, 1)}


def bench_deployment(timeout: float = 600) -> dict:
    from paperzoo.federated import arrayrecord_bytes, run_local_deployment
    from paperzoo.federated.deployment import remove

    s = _settings(20, rounds=2, server_steps=5)
    result = Path(tempfile.mkdtemp(prefix="fedmgd-deploy-")) / "result.json"
    config = {"method": "fedmgd", **{f"fm.{k}": v for k, v in s.__dict__.items()}, "result-path": str(result)}
    run = run_local_deployment("paperzoo.papers.fedmgd.federation:server_app",
                               "paperzoo.papers.fedmgd.federation:client_app", config,
                               num_supernodes=SPEC["n_clients"], timeout=timeout, workdir=result.parent,
                               wait_for=result)
    if not result.exists():
        raise RuntimeError(f"the deployed run wrote no result; logs in {run.workdir}\n{run.log_tail()}")
    res = json.loads(result.read_text())
    b = s.gan_batch
    per_trip = arrayrecord_bytes({"x": ((b, 64), "float32"), "y": ((b,), "int64")}) + \
        arrayrecord_bytes({"score": ((b,), "float32"), "grad": ((b, 64), "float32")})
    expected = s.gan_iters * SPEC["n_clients"] * per_trip
    out = {"deployment_seconds": round(run.seconds, 1), "accuracy": res["accuracy"], "gas_bytes": res["bytes"]["gas"],
           "expected_gas_bytes": expected, "passed": res["bytes"]["gas"]["total"] == expected, "logs": str(run.workdir)}
    if out["passed"]:
        remove(run)
        out["logs"] = "removed"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployment", action="store_true")
    parser.add_argument("--skip-simulation", action="store_true")
    args = parser.parse_args()
    report = {"inprocess_round_trip": bench_inprocess()}
    if not args.skip_simulation:
        report["simulation_round_trip"] = bench_simulation()
    if args.deployment:
        report["deployment"] = bench_deployment()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
