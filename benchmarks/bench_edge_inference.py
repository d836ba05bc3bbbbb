"""edge-inference targets: DAG min-cut on a 200-node graph <= 50 ms; runtime overhead per hop on loopback
(no emulated latency, slowdown 1) <= 2 ms for a 1 MB tensor.  Run: python benchmarks/bench_edge_inference.py"""

import statistics
import time

import numpy as np
import torch
from torch import nn

from paperzoo.papers.edge_inference import (
    Link,
    Plan,
    Runtime,
    Tier,
    mincut_partition,
    plan_cost_ns,
    profile_graph,
    random_dag,
)


def bench_mincut() -> float:
    g = random_dag(np.random.default_rng(0), 200, max_preds=2, window=8)
    tiers, links = [Tier("device", 10), Tier("cloud", 1)], [Link(10e6, 0.01)]
    times = []
    for _ in range(10):
        start = time.perf_counter()
        mincut_partition(g, tiers, links)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_hop() -> float:
    torch.set_num_threads(1)
    model, x = nn.Sequential(nn.Identity(), nn.Identity()).eval(), torch.randn(1, 262_144)  # 1 MB
    prof = profile_graph(model, x, repeats=3)
    tiers, links = [Tier("device", 1), Tier("edge", 1)], [Link(1e15, 0.0)]
    local = Plan((0, 0, 0), 0, "chain", prof, tuple(tiers), tuple(links))
    remote = Plan((0, 0, 1), plan_cost_ns(prof, (0, 0, 1), tiers, links) / 1e9, "chain", prof, tuple(tiers),
                  tuple(links))
    with Runtime(model, remote, tiers, links) as rt:
        rt.infer(x)
        hop = statistics.median(rt.infer(x).seconds for _ in range(50))
        rt.set_plan(local)
        base = statistics.median(rt.infer(x).seconds for _ in range(50))
    return (hop - base) / 2  # one request = a hop out and a hop back


if __name__ == "__main__":
    m = bench_mincut()
    print(f"min-cut, 200-node DAG, 2 tiers: {1e3 * m:.1f} ms (target <= 50 ms) {'OK' if m <= 0.05 else 'MISSED'}")
    h = bench_hop()
    verdict = "OK" if h <= 0.002 else "MISSED"
    print(f"runtime overhead per hop, 1 MB, loopback: {1e3 * h:.2f} ms (target <= 2 ms) {verdict}")
