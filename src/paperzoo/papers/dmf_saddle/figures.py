"""Figures of the reproduction: stage trajectories, loss on a log scale, certificate table, completion."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paperzoo.core import RunContext  # noqa: E402


def stage_figure(ctx: RunContext, kept: dict[str, dict[int, dict[str, Any]]], config: dict[str, Any]) -> None:
    """Singular values of W over time with stage onsets, and the loss (log scale) with the saddle values."""
    names = [n for n in config["figure_settings"] if n in kept]
    if not names:
        return
    settings = {s["name"]: s for s in config["settings"]}
    fig, axes = plt.subplots(2, len(names), figsize=(6 * len(names), 7), squeeze=False)
    for col, name in enumerate(names):
        run = kept[name][min(kept[name])]
        hist, sv = run["_history"], settings[name]["singular_values"]
        top, ax = axes[0, col], axes[1, col]
        for i in range(len(sv) + 1):
            top.plot(hist.steps, hist.singular_values[:, i], label=f"σ{i + 1}(W)")
        for s in sv:
            top.axhline(s, color="grey", lw=0.6, ls=":")
        top.axhline(config["tau"], color="k", lw=0.6, ls="--", label=f"τ = {config['tau']}")
        for stage in run["_stages"]:
            top.axvline(stage.step, color="tab:red", lw=0.8, alpha=0.6)
            ax.axvline(stage.step, color="tab:red", lw=0.8, alpha=0.6)
        top.set_title(f"{name}, seed {run['seed']} ({'clean' if run['clean'] else run['reason']})", fontsize=9)
        top.set_ylabel("singular value")
        top.legend(fontsize=7, loc="center right")
        ax.semilogy(hist.steps, np.maximum(hist.loss, 1e-30), color="k", label="loss")
        for k in range(len(sv)):
            ax.axhline(0.5 * sum(s * s for s in sv[k:]), color="tab:blue", lw=0.7, ls="--",
                       label="½Σ_{i>k} σ*_i² (full obs.)" if k == 0 else None)
        for stage in run["_stages"]:
            if stage.plateau is not None:
                ax.plot([stage.plateau.start, stage.plateau.end], [stage.plateau.loss] * 2, color="tab:orange",
                        lw=3, alpha=0.7)
        ax.set_xlabel("GD step")
        ax.set_ylabel("loss (sum form)")
        ax.legend(fontsize=7)
    fig.suptitle("Saddle-point-escaping stages: red = onset (r_τ rises), orange = detected plateau")
    ctx.save_figure(fig, "stages.png")

    names = [n for n in config["overview_settings"] if n in kept]
    if not names:
        return
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        run = kept[name][min(kept[name])]
        hist = run["_history"]
        ax.plot(hist.steps, hist.singular_values[:, :len(settings[name]["singular_values"]) + 1])
        ax.set_xscale("symlog", linthresh=100)
        ax.set_title(name, fontsize=7)
        ax.set_xlabel("step")
    fig.suptitle("σ(W) per setting (seed 0): depth and init scale", y=1.06)
    ctx.save_figure(fig, "settings.png")


def certificate_table(ctx: RunContext, metrics: dict[str, Any]) -> None:
    """A table of ‖∇‖ and λ_min at each plateau midpoint and at the end (first seed of each setting)."""
    rows = []
    for name, st in metrics["settings"].items():
        run = next((r for r in st["runs"] if r["clean"]), None) if st["certified"] else None
        if run is None:
            continue
        init = run["init"]
        rows.append([name, run["seed"], "init", "", f"{init['grad_norm']:.1e}", f"{init['lambda_min']:.2e}"])
        for p in run["plateaus"]:
            rows.append([name, run["seed"], f"plateau k={p['k']}", p["step"], f"{p['grad_norm']:.1e}",
                         f"{p['lambda_min']:.2e}"])
        rows.append([name, run["seed"], "end", st["steps"], f"{run['end']['grad_norm']:.1e}",
                     f"{run['end']['lambda_min']:.2e}"])
    for depth, o in metrics["origin"].items():
        rows.append([f"θ = 0, {depth}", "", "origin", "", f"{o['grad_norm']:.1e}", f"{o['lambda_min']:.2e}"])
    rows = rows[:60]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=["setting", "seed", "point", "step", "‖∇‖", "λ_min"], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    ax.set_title("Second-order certificates (first clean seed per setting)")
    ctx.save_figure(fig, "certificates.png")


def completion_figure(ctx: RunContext, completion: dict[str, Any]) -> None:
    """Test MSE over all entries per seed, for each number of observed entries."""
    fig, axes = plt.subplots(1, len(completion), figsize=(4.5 * len(completion), 3.2), squeeze=False)
    for ax, (n_obs, res) in zip(axes[0], completion.items(), strict=True):
        for i, (method, summary) in enumerate(res["mse"].items()):
            values = np.asarray(summary["per_seed"], dtype=float)
            ax.scatter(np.full(len(values), i), np.maximum(values, 1e-16), label=method)
        ax.set_yscale("log")
        ax.set_xticks(range(len(res["mse"])), list(res["mse"]))
        ax.set_title(f"{n_obs} observed entries")
        ax.set_ylabel("test MSE (all entries)")
    ctx.save_figure(fig, "completion.png")
