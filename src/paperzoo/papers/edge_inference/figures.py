"""The reproduction's six figures, drawn from the metrics."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _k(d: dict) -> tuple[list[int], list[float]]:
    ks = sorted(d, key=int)
    return [int(k) for k in ks], [d[k] * 1e3 for k in ks]


def all_figures(m: dict, ctx) -> None:
    fig, axes = plt.subplots(1, len(m["chain"]), figsize=(3.2 * len(m["chain"]), 3), sharey=False)
    for ax, c in zip(np.atleast_1d(axes), m["chain"], strict=True):
        ax.plot(*_k(c["predicted_s"]), "-", label="predicted (profile)")
        ax.plot(*_k(c["regression_s"]), ":", label="predicted (regression)")
        ax.plot(*_k(c["measured_s"]), "o", label="measured")
        ax.axvline(c["k_star"], color="gray", lw=0.8)
        ax.set_yscale("log")
        ax.set_title(f"{c['network']} ({c['bandwidth_mbps']} Mbit/s)", fontsize=9)
        ax.set_xlabel("layers on device k")
    np.atleast_1d(axes)[0].set_ylabel("latency (ms)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    ctx.save_figure(fig, "latency_vs_split.png")

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.semilogx([c["bandwidth_mbps"] for c in m["chain"]], [c["k_star"] for c in m["chain"]], "o-", label="profile")
    ax.semilogx([c["bandwidth_mbps"] for c in m["chain"]], [c["k_reg"] for c in m["chain"]], "x--", label="regression")
    ax.set_xlabel("bandwidth (Mbit/s)")
    ax.set_ylabel("chosen split k* (layers on device)")
    ax.legend()
    ctx.save_figure(fig, "split_vs_bandwidth.png")

    de = sorted({g["de_mbps"] for g in m["three_tier"]})
    ec = sorted({g["ec_mbps"] for g in m["three_tier"]})
    gain = np.zeros((len(de), len(ec)))
    for g in m["three_tier"]:
        gain[de.index(g["de_mbps"]), ec.index(g["ec_mbps"])] = 100 * g["three_tier_gain"]
    fig, ax = plt.subplots(figsize=(4, 3))
    im = ax.imshow(gain, cmap="RdBu", vmin=-abs(gain).max(), vmax=abs(gain).max())
    for i in range(len(de)):
        for j in range(len(ec)):
            ax.text(j, i, f"{gain[i, j]:.0f}%", ha="center", va="center")
    ax.set_xticks(range(len(ec)), ec)
    ax.set_yticks(range(len(de)), de)
    ax.set_xlabel("edge-cloud Mbit/s")
    ax.set_ylabel("device-edge Mbit/s")
    ax.set_title("best 3-tier vs best 2-tier (measured)")
    fig.colorbar(im)
    ctx.save_figure(fig, "three_tier_heatmap.png")

    fig, ax = plt.subplots(figsize=(4, 3))
    for e in m["early_exit"]:
        ax.plot(1e3 * e["latency_full_s"], 100 * e["acc_full"], "ks")
        ax.plot(1e3 * e["latency_exit_s"], 100 * e["acc_exit"], "ro")
    ax.plot([], [], "ks", label="no exit")
    ax.plot([], [], "ro", label="with exits")
    ax.set_xlabel("device latency per sample (ms)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    ctx.save_figure(fig, "early_exit_tradeoff.png")

    fig, ax = plt.subplots(figsize=(4, 3))
    for mode, d in m["d2d"]["modes"].items():
        ps = sorted(d["speedup"], key=int)
        ax.plot([int(p) for p in ps], [d["speedup"][p] for p in ps], "o-", label=mode)
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_xlabel("workers P")
    ax.set_ylabel("speed-up T(1)/T(P)")
    ax.legend()
    ctx.save_figure(fig, "d2d_speedup.png")

    modes = list(m["d2d"]["modes"])
    kinds = ["compute", "serialisation", "grpc", "link", "device", "other"]
    fig, axes = plt.subplots(1, len(modes), figsize=(4 * len(modes), 3), sharey=True)
    for ax, mode in zip(np.atleast_1d(axes), modes, strict=True):
        parts = m["d2d"]["modes"][mode]["breakdown_s"]
        ps = sorted(parts, key=int)
        bottom = np.zeros(len(ps))
        for kind in kinds:
            vals = np.array([1e3 * parts[p].get(kind, 0.0) for p in ps])
            ax.bar([str(p) for p in ps], vals, bottom=bottom, label=kind)
            bottom += vals
        ax.set_title(mode)
        ax.set_xlabel("workers P")
    np.atleast_1d(axes)[0].set_ylabel("ms per request (critical path)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    ctx.save_figure(fig, "d2d_breakdown.png")
