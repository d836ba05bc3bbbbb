"""Figures of the reproduction: α sweep, retrieved variants per seed, embedding map with clusters, the
moderation precision–recall curves, and the moderation queue (contact sheet + HTML page)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .glyphs import TEMPLATES, entity_phrases
from .moderation import moderation_queue, tile_sheet, write_queue

TEMPLATE_COLOURS = {"circle": "#e6ab02", "square": "#377eb8", "triangle": "#4daf4a", "diamond": "#984ea3"}


def alpha_sweep(ctx: Any, metrics: dict) -> None:
    import matplotlib.pyplot as plt

    sweep = metrics["alpha_sweep"]
    alphas = [float(a) for a in sweep]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for split, style in (("seen", "-"), ("heldout", "--")):
        ax.plot(alphas, [sweep[a][f"top5_{split}"] for a in sweep], style + "o", color="C0", label=f"hit@5, {split}")
        ax.plot(alphas, [sweep[a][f"top1_{split}"] for a in sweep], style + "s", color="C1", label=f"top-1, {split}",
                alpha=0.7)
    ax.axhline(metrics["chance_top5"], color="grey", lw=0.8, ls=":", label="chance hit@5")
    ax.set_xlabel("image weight α in norm(α·img + (1 − α)·txt)")
    ax.set_ylabel("retrieval of the (template, flag) image")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="lower center")
    ctx.save_figure(fig, "alpha_sweep.png")


def retrieved_variants(ctx: Any, discovery: dict, shown: int = 12) -> None:
    """Per seed template: the seed, then the first `shown` images inside its band (green = true variant)."""
    from PIL import Image

    sheets = []
    for template in discovery:
        d = discovery[template]
        hits, kinds = d["hits"], d["kinds"]
        true = int((kinds[hits] == "variant").sum())
        tiles = [(d["seed_image"], ["seed"], "black")]
        tiles += [(d["images"][i], [f"{float(d['coll'][i] @ d['seed'][0]):.2f}"],
                   "#1a9850" if kinds[i] == "variant" else "#d73027") for i in hits[:shown]]
        title = (f"{template}: band {d['band'].lower:.2f} to {d['band'].upper:.2f}, {len(hits)} found, {true} of "
                 f"{int((kinds == 'variant').sum())} variants (green = variant, red = not)")
        sheets.append(tile_sheet(tiles, columns=shown + 1, title=title))
    out = Image.new("RGB", (max(s.width for s in sheets), sum(s.height for s in sheets)), "white")
    y = 0
    for s in sheets:
        out.paste(s, (0, y))
        y += s.height
    out.save(ctx.path("retrieved_variants.png"))


def embedding_map(ctx: Any, clusters: dict) -> None:
    import matplotlib.pyplot as plt
    from scipy.spatial import ConvexHull, QhullError
    from sklearn.decomposition import PCA

    xy = PCA(2, random_state=0).fit_transform(clusters["embs"].numpy())
    templates = [g.template for g in clusters["glyphs"]]
    labels = clusters["labels"]
    fig, ax = plt.subplots(figsize=(6, 5))
    for t in TEMPLATES:
        sel = np.array([x == t for x in templates])
        ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=TEMPLATE_COLOURS[t], label=t, alpha=0.7)
    for c in set(labels.tolist()) - {-1}:
        pts = xy[labels == c]
        if len(pts) >= 3:
            try:
                hull = ConvexHull(pts)
            except QhullError:
                continue
            loop = np.append(hull.vertices, hull.vertices[0])
            ax.plot(pts[loop, 0], pts[loop, 1], color="grey", lw=0.6)
    noise = labels == -1
    ax.scatter(xy[noise, 0], xy[noise, 1], s=4, marker="x", color="black", lw=0.4, label="DBSCAN noise")
    ax.set_title(f"{len(set(labels.tolist()) - {-1})} DBSCAN clusters, noise {noise.mean():.0%}", fontsize=9)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize=7, markerscale=2)
    ctx.save_figure(fig, "embedding_map.png")


def moderation_pr(ctx: Any, discovery: dict) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for t in discovery:
        precision, recall = discovery[t]["pr"]
        ax.plot(recall, precision, color=TEMPLATE_COLOURS[t], label=t)
    ax.set_xlabel("recall (variants + copies)")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "moderation_pr.png")


def moderation_artifacts(ctx: Any, seed: tuple[str, dict], model: Any, top: int = 40) -> None:
    """One seed's queue over its collection: known variants from the validation draw, entities
    attributed with α = 0.5; contact sheet and HTML page."""
    template, d = seed
    known = d["known"]
    queue = moderation_queue(d["coll"], d["seed"], flagged_names=[template], known=known,
                             known_seed=[0] * len(known), entities=entity_phrases(), encoder=model,
                             copy_above=d["band"].upper)
    write_queue(queue, d["images"], ctx.path("moderation_queue.html").parent, top=top, truth=list(d["kinds"]))
