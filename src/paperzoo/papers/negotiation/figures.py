"""The reproduction's figures (declared with captions in `experiment.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def make_figures(ctx: Any, metrics: dict, studies: list[dict], tournaments: dict, env: Any, scenario: Any) -> None:
    plt = _plt()
    _heatmaps(ctx, plt, metrics)
    _agreement_vs_score(ctx, plt, metrics, studies)
    _rl_curve(ctx, plt, metrics)
    _frontier(ctx, plt, tournaments["items"], env, scenario)
    _concession(ctx, plt, metrics["concession"])


def _heatmaps(ctx: Any, plt: Any, metrics: dict) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, key, title in ((axes[0], "pairwise_items", "items: score(all), points"),
                           (axes[1], "pairwise_price", "prices: utility (all games)")):
        matrix = metrics[key]
        names = list(matrix)
        values = np.array([[matrix[r][c] for c in names] for r in names])
        image = ax.imshow(values, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{values[i, j]:.2f}" if "price" in key else f"{values[i, j]:.1f}", ha="center",
                        va="center", fontsize=6, color="w" if values[i, j] < values.mean() else "k")
        ax.set_xlabel("partner (column)")
        ax.set_ylabel("agent (row)")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.8)
    ctx.save_figure(fig, "tournament_heatmap.png")


def _agreement_vs_score(ctx: Any, plt: Any, metrics: dict, studies: list[dict]) -> None:
    from .evaluation import bootstrap_mean

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, row in metrics["tournament_items"].items():
        x, y = row["agreement"], row["score_agreed"]
        (xl, xh), (yl, yh) = row["agreement_ci95"], row["score_agreed_ci95"]
        ax.errorbar(x, y, xerr=[[x - xl], [xh - x]], yerr=[[y - yl], [yh - y]], fmt="o", capsize=3, label=name)
    for who, marker in (("sl", "s"), ("rl", "D")):
        agreed = np.concatenate([np.asarray(g["agreed"], bool) for s in studies for g in s["heldout"][who].values()])
        own = np.concatenate([np.asarray(g["own"]) for s in studies for g in s["heldout"][who].values()])
        xl, xh = bootstrap_mean(agreed.astype(float))
        yl, yh = bootstrap_mean(own[agreed])
        x, y = agreed.mean(), own[agreed].mean()
        ax.errorbar(x, y, xerr=[[x - xl], [xh - x]], yerr=[[y - yl], [yh - y]], fmt=marker, ms=8, capsize=3,
                    color="k" if who == "rl" else "grey", label=f"{who.upper()} vs held-out partners")
    ax.set_xlabel("agreement rate")
    ax.set_ylabel("score(agreed), points")
    ax.set_title("items: what each agent gets per deal vs how often it agrees")
    ax.legend(fontsize=7, ncol=2)
    ctx.save_figure(fig, "agreement_vs_score.png")


def _rl_curve(ctx: Any, plt: Any, metrics: dict) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    twin = ax.twinx()
    for k, curve in enumerate(metrics["rl_curve"]):
        x = [p["dialogues"] for p in curve]
        ax.plot(x, [p["score"] for p in curve], "-", color="tab:blue", alpha=0.7, label="RL score" if k == 0 else None)
        ax.plot(x, [p["partner"] for p in curve], "--", color="tab:orange", alpha=0.7,
                label="partner score" if k == 0 else None)
        twin.plot(x, [p["parse_rate"] for p in curve], ":", color="tab:green", alpha=0.7,
                  label="parse rate" if k == 0 else None)
    ax.set_xlabel("RL dialogues")
    ax.set_ylabel("score(all) on validation scenarios")
    twin.set_ylabel("parse rate of rendered acts")
    twin.set_ylim(0, 1.05)
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="lower right")
    ax.set_title("REINFORCE against the frozen supervised partner (one line per seed)")
    ctx.save_figure(fig, "rl_curve.png")


def _frontier(ctx: Any, plt: Any, results: Any, env: Any, scenario: Any) -> None:
    from collections import Counter

    from .environments import pareto_mask

    scores = env.outcome_scores(scenario)
    mask = pareto_mask(scores)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(scores[:, 0], scores[:, 1], s=12, color="lightgrey", label="all divisions")
    front = scores[mask][np.argsort(scores[mask][:, 0])]
    ax.plot(front[:, 0], front[:, 1], "-o", color="tab:red", ms=4, label="Pareto frontier")
    nash = scores[np.argmax(scores.prod(axis=1))]
    ax.scatter(*nash, marker="*", s=200, color="gold", edgecolor="k", zorder=5, label="Nash point")
    deals = Counter(tuple(row["scores"]) for row in results.rows if row["scenario"] == 0 and row["agreed"])
    if deals:
        points = np.array(list(deals))
        sizes = np.array(list(deals.values()), dtype=float)
        ax.scatter(points[:, 0], points[:, 1], s=30 + 400 * sizes / sizes.max(), facecolor="none",
                   edgecolor="tab:blue", lw=1.5, label="deals reached (size = count)")
    ax.set_xlabel("score of A")
    ax.set_ylabel("score of B")
    ax.set_title(f"counts {scenario.counts}, values A {scenario.values[0]}, B {scenario.values[1]}")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "pareto_frontier.png")


def _concession(ctx: Any, plt: Any, curves: dict) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for e, curve in curves.items():
        line, = ax.plot(curve["positions"], curve["target"], "-", label=f"e = {e}")
        points = [(t, b) for t, b in zip(curve["positions"], curve["bid"], strict=True) if b is not None]
        if points:
            ax.plot(*zip(*points, strict=True), "o", color=line.get_color(), ms=4)
    ax.set_xlabel("message position t (of T)")
    ax.set_ylabel("own utility (share of the best score)")
    ax.set_title("time-dependent concession vs a linear partner (lines: target, dots: mean bid)")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "concession_curves.png")
