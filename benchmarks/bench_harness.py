"""Harness speed: `paperzoo list` must stay under 1 s (it must not import torch).

Run: .venv/bin/python benchmarks/bench_harness.py
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "paperzoo"


def main() -> None:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([str(BIN), "list"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"paperzoo list: median {median:.3f} s over 5 runs (target < 1 s): {'OK' if median < 1 else 'SLOW'}")
    if median >= 1:
        sys.exit(1)


if __name__ == "__main__":
    main()
