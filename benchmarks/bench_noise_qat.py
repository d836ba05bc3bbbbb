"""noise-qat speed target: noise tempering costs at most 1.3x LSQ per QAT epoch.

Times one epoch of W2A2 QAT of the quick preset's MLP (40-256-256-256-10, MNIST-1D-sized data,
batch 128, one thread) with LSQ and with noise tempering, interleaved, and keeps the fastest of
several repetitions of each (robust to other load on the machine). Also checks that the integer
inference path reproduces the fake-quant eval outputs.

    .venv/bin/python benchmarks/bench_noise_qat.py [--repeats 7]
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from paperzoo.papers.noise_qat import MLP, IntegerModel, quantize_model, train_qat

TARGET_RATIO = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    X, y = torch.randn(3500, 40), torch.randint(0, 10, (3500,))
    fp = MLP(40, (256, 256, 256), 10)
    models = {"lsq": quantize_model(fp, 2, 2, "lsq"),
              "noise": quantize_model(fp, 2, 2, "noise", lambda0=1.0, tau_steps=0.3 * 28 * 30)}
    for q in models.values():  # warm-up (first optimizer step, step init)
        train_qat(q, X[:256], y[:256], X[:64], y[:64], epochs=1)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, q in models.items():
            start = time.perf_counter()
            train_qat(q, X, y, X[:500], y[:500], epochs=1)
            times[name].append(time.perf_counter() - start)
    best = {name: min(ts) for name, ts in times.items()}
    ratio = best["noise"] / best["lsq"]
    x = torch.randn(1000, 40)
    with torch.no_grad():
        gap = float((IntegerModel(models["noise"])(x) - models["noise"].eval()(x)).abs().max())
    result = {"lsq_epoch_s": round(best["lsq"], 4), "noise_epoch_s": round(best["noise"], 4),
              "overhead_ratio": round(ratio, 3), "target_ratio": TARGET_RATIO, "ratio_ok": ratio <= TARGET_RATIO,
              "integer_vs_fakequant_max_abs_diff": gap, "integer_ok": gap < 1e-4}
    print(json.dumps(result, indent=1))
    return 0 if result["ratio_ok"] and result["integer_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
