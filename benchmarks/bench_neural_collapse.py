"""Speed target of the neural-collapse metrics: nc_metrics on 50,000 x 512 features, 100 classes, <= 2 s.

Also checks the fast path against the direct formula (d x d Σ_W and pinv of Σ_B) on the same data.
Run: .venv/bin/python benchmarks/bench_neural_collapse.py
"""

import statistics
import sys
import time

import numpy as np

from paperzoo.papers.neural_collapse import RCOND, nc_metrics

TARGET_S = 2.0


def direct_nc1(H: np.ndarray, y: np.ndarray) -> float:
    K, N = y.max() + 1, len(y)
    means = np.stack([H[y == k].mean(0) for k in range(K)])
    centred = H - means[y]
    Sw = centred.T @ centred / N
    M = means - H.mean(0)
    Sb = M.T @ M / K
    return float(np.trace(Sw @ np.linalg.pinv(Sb, rtol=RCOND, hermitian=True)) / K)


def main() -> None:
    rng = np.random.default_rng(0)
    N, d, K = 50_000, 512, 100
    y = rng.integers(0, K, N)
    H = (rng.normal(size=(N, d)) + 2.0 * rng.normal(size=(K, d))[y]).astype(np.float32)
    W = rng.normal(size=(K, d))
    nc_metrics(H[:1000], y[:1000])  # warm-up
    times, result = [], None
    for _ in range(5):
        start = time.perf_counter()
        result = nc_metrics(H, y, W)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    reference = direct_nc1(H.astype(np.float64), y)
    rel = abs(result["nc1"] - reference) / reference
    ok = median <= TARGET_S and rel < 1e-8
    print(f"nc_metrics (NC1+NC2+NC3) on {N} x {d}, {K} classes: median {median:.3f} s over 5 runs "
          f"(min {min(times):.3f} s; target <= {TARGET_S} s); NC1 {result['nc1']:.6f} vs direct formula "
          f"{reference:.6f} (rel. diff {rel:.1e}): {'OK' if ok else 'FAIL'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
