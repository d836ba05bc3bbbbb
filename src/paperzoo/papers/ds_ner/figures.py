"""The figures of the ds-ner reproduction, drawn from the run's metrics."""

from __future__ import annotations

from typing import Any

from paperzoo.core import RunContext

_COLORS = {"distant only": "tab:gray", "BOND": "tab:blue", "SCDL": "tab:orange", "ATSEN": "tab:red",
           "ATSEN w/o adaptive": "tab:purple", "ATSEN plain EMA": "tab:brown", "gold labels": "black",
           "ATSEN code loss": "tab:pink",
           "KB matching": "tab:olive"}


def _mean_curve(rows: list[list[dict]], offset: int) -> tuple[list[int], list[float]]:
    steps = [e["step"] + offset for e in rows[0]]
    values = [sum(max(r[i]["dev_f1"].values()) for r in rows) / len(rows) * 100 for i in range(len(steps))]
    return steps, values


def save_figures(metrics: dict[str, Any], ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = metrics["primary"]
    data = metrics["datasets"][name]
    seeds = data["per_seed"]
    methods = [m for m in seeds[0]["histories"]]
    stage1 = seeds[0]["stage1_steps"]

    fig, ax = plt.subplots(figsize=(7, 4))
    steps, values = _mean_curve([s["curves"]["stage1"] for s in seeds], 0)
    ax.plot(steps, values, "o-", color=_COLORS["distant only"], label="stage I (distant labels)")
    for method in methods:
        steps, values = _mean_curve([s["histories"][method]["evals"] for s in seeds], stage1)
        ax.plot(steps, values, "o-", color=_COLORS.get(method), label=method)
    ax.axvline(stage1, color="0.7", ls=":")
    ax.set(xlabel="training step", ylabel="dev F1 (points)", title=f"{name}: dev F1 over training")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "dev_curves.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    order = [n for n in ("KB matching", "distant only", *methods, "gold labels") if n in seeds[0]["test"]]
    for s in seeds:
        ax.plot(range(len(order)), [100 * s["test"][n]["f1"] for n in order], "o-", alpha=0.8,
                label=f"seed {s['seed']}")
    ax.set_xticks(range(len(order)), order, rotation=25, ha="right", fontsize=8)
    ax.set(ylabel="test F1 (points)", title=f"{name}: test F1 of the dev-selected models, paired by seed")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "test_f1_paired.png")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, key in zip(axes, ("precision", "recall"), strict=True):
        for method in methods:
            rows = seeds[0]["histories"][method]["label_quality"]
            if rows:
                ax.plot([stage1 + r["step"] for r in rows], [100 * r[key] for r in rows], "o-",
                        color=_COLORS.get(method), label=method)
        ax.axhline(100 * seeds[0]["distant_quality"][key], color="k", ls="--", label="distant labels")
        ax.set(xlabel="training step", title=f"train-label {key} (seed {seeds[0]['seed']})")
    axes[0].set_ylabel("points")
    axes[0].legend(fontsize=7)
    ctx.save_figure(fig, "label_quality.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for s in seeds:
        for network in (1, 2):
            rows = [w for w in s["histories"].get("ATSEN", {}).get("weights", []) if w["network"] == network]
            if rows:
                ax.plot([stage1 + w["step"] for w in rows], [w["w_own"] for w in rows], "o-",
                        label=f"seed {s['seed']}, network {network}")
    ax.axhspan(1 / 3, 2 / 3, color="0.92", zorder=0)
    ax.set(xlabel="training step", ylabel="weight of own teacher", ylim=(0.3, 0.7),
           title="ATSEN adaptive distillation weights")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "adaptive_weights.png")
