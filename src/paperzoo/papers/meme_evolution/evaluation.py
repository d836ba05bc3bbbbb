"""The measurements of the reproduction, for any `ClipBackend`: regularity retrieval on a gallery,
variant discovery with a calibrated band (and the pHash baseline), attribution, influencers, the
moderation ranking and clustering. Each study returns plain JSON-able numbers; `evaluate` runs them all
for one evaluation draw.

Example:
    >>> from paperzoo.papers.meme_evolution import GlyphMemes, TinyCLIP
    >>> result = regularity_study(TinyCLIP(), GlyphMemes(seed=0), seed=0, alphas=(0.5,))
    >>> sorted(result["vl"])
    ['0.5']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .baseline import phash_similarity
from .clustering import cluster, cluster_scores
from .glyphs import FLAGS, HATS, TEMPLATES, GlyphMemes, entity_phrases, kinds_of, paraphrases
from .regularities import (
    analogy,
    attribute_entities,
    band_from_similarities,
    calibrate_band,
    find_influencers,
    find_variants,
    fuse,
    top_k,
)

KNOWN_VARIANTS = 5      # known variants per seed handed to the moderation queue (from the validation draw)


def _composite_targets(glyphs: list, template: str, flag: str | None = None, hat: str | None = None) -> np.ndarray:
    return np.array([g.template == template and g.flag == flag and g.hat == hat and g.badge is None for g in glyphs])


def _hits(queries: torch.Tensor, keys: torch.Tensor, targets: list[np.ndarray], k: int = 5) -> tuple[list, list]:
    """Per query: is the top-1 a target, is any of the top-k a target."""
    idx = top_k(queries, keys, k).numpy()
    top1 = [bool(t[i[0]]) for i, t in zip(idx, targets, strict=True)]
    topk = [bool(t[i].any()) for i, t in zip(idx, targets, strict=True)]
    return top1, topk


def _split(values: list[bool], heldout: list[bool]) -> dict[str, Any]:
    v, h = np.asarray(values, dtype=float), np.asarray(heldout, dtype=bool)
    return {"seen": float(v[~h].mean()) if (~h).any() else float("nan"),
            "heldout": float(v[h].mean()) if h.any() else float("nan"), "all": float(v.mean()),
            "n_seen": int((~h).sum()), "n_heldout": int(h.sum())}


def regularity_study(backend: Any, gen: GlyphMemes, seed: int, alphas: Sequence[float] = (0.0, 0.2, 0.5, 0.8, 1.0),
                     query_draws: int = 2, paraphrase: bool = False) -> dict[str, Any]:
    """Top-1 / top-5 retrieval of (template, flag) composites from fused queries, seen and held-out pairs.

    vl: norm(α·img(template) + (1 − α)·txt("on the flag of c")) per α; vv: 0.5/0.5 with an image of the
    flag alone; analogy: img(t, c′) − txt(c′) + txt(c); hats: 0.5/0.5 with txt("wearing a h").
    """
    images, glyphs = gen.gallery(seed=seed)
    keys = backend.encode_image(images)
    phrases = entity_phrases()
    flag_txt = backend.encode_text([phrases[f] for f in FLAGS])
    hat_txt = backend.encode_text([phrases[h] for h in HATS])
    rows = [(t, f, d) for t in TEMPLATES for f in FLAGS for d in range(query_draws)]
    seeds = backend.encode_image(torch.stack([gen.draw(t, seed=1000 * seed + d) for t, _, d in rows]))
    held = [(t, f) in gen.heldout for t, f, _ in rows]
    targets = [_composite_targets(glyphs, t, f) for t, f, _ in rows]
    flag_i = [FLAGS.index(f) for _, f, _ in rows]
    out: dict[str, Any] = {"gallery": len(glyphs), "chance_top1": float(np.mean([t.mean() for t in targets])),
                           "chance_top5": float(np.mean([min(1.0, 5 * t.mean()) for t in targets])), "vl": {}}
    for alpha in alphas:
        top1, top5 = _hits(fuse(seeds, flag_txt[flag_i], alpha), keys, targets)
        per_template = {t: float(np.mean([h for h, (tt, _, _), ho in zip(top1, rows, held, strict=True)
                                          if tt == t and not ho])) for t in TEMPLATES}
        out["vl"][str(alpha)] = {"top1": _split(top1, held), "top5": _split(top5, held),
                                 "top1_seen_by_template": per_template}
    if paraphrase:
        para_txt = backend.encode_text([paraphrases()[f] for f in FLAGS])
        top1, top5 = _hits(fuse(seeds, para_txt[flag_i], 0.5), keys, targets)
        out["paraphrase"] = {"top1": _split(top1, held), "top5": _split(top5, held)}
    flag_only = backend.encode_image(torch.stack([gen.draw(None, flag=f, seed=1000 * seed + d) for _, f, d in rows]))
    top1, top5 = _hits(fuse(seeds, flag_only, 0.5), keys, targets)
    out["vv"] = {"top1": _split(top1, held), "top5": _split(top5, held)}
    # analogy: start from the template on the next flag whose pair was seen in training
    starts = []
    for t, f, _ in rows:
        k = FLAGS.index(f)
        other = next(FLAGS[(k + j) % 6] for j in range(1, 6) if (t, FLAGS[(k + j) % 6]) not in gen.heldout)
        starts.append(other)
    start_img = backend.encode_image(torch.stack([gen.draw(t, flag=o, seed=1000 * seed + d)
                                                  for (t, _, d), o in zip(rows, starts, strict=True)]))
    remove = flag_txt[[FLAGS.index(o) for o in starts]]
    top1, top5 = _hits(analogy(start_img, remove, flag_txt[flag_i]), keys, targets)
    out["analogy"] = {"top1": _split(top1, held), "top5": _split(top5, held)}
    hat_rows = [(t, h, d) for t in TEMPLATES for h in HATS for d in range(query_draws)]
    hat_seeds = backend.encode_image(torch.stack([gen.draw(t, seed=1000 * seed + d) for t, _, d in hat_rows]))
    top1, top5 = _hits(fuse(hat_seeds, hat_txt[[HATS.index(h) for _, h, _ in hat_rows]], 0.5), keys,
                       [_composite_targets(glyphs, t, hat=h) for t, h, _ in hat_rows])
    out["hats"] = {"top1": float(np.mean(top1)), "top5": float(np.mean(top5))}
    return out


def _prf(predicted: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    tp = float((predicted & positive).sum())
    p = tp / predicted.sum() if predicted.any() else 0.0
    r = tp / positive.sum() if positive.any() else float("nan")
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r > 0 else 0.0,
            "found": int(predicted.sum())}


def discovery_study(backend: Any, gen: GlyphMemes, template: str, seed: int, alphas: Sequence[float] = (0.5, 0.2),
                    keep: dict | None = None) -> dict[str, Any]:
    """Variant discovery for one seed template: band calibrated on the validation draw, scored on the
    collection; pHash baseline calibrated the same way; text attribution and influencers on the true
    variants; the moderation ranking's average precision. `keep` (a dict) receives the arrays figures need."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    seed_img = gen.draw(template, seed=10_000 + seed)
    m = backend.encode_image(seed_img)
    val_images, val_glyphs = gen.validation_set(template, seed)
    val_kinds = kinds_of(val_glyphs, template)
    val = backend.encode_image(val_images)
    band = calibrate_band(m, val, val_kinds)
    images, glyphs = gen.collection(template, seed)
    kinds = kinds_of(glyphs, template)
    coll = backend.encode_image(images)
    is_variant = kinds == "variant"
    hits = find_variants(m, coll, band)
    found = np.zeros(len(glyphs), dtype=bool)
    found[hits] = True
    heldout = np.array([is_variant[i] and (template, g.flag) in gen.heldout for i, g in enumerate(glyphs)])
    sims = (coll @ m[0]).numpy()
    out: dict[str, Any] = {
        "band": [band.lower, band.upper], "clip": _prf(found, is_variant),
        "recall_heldout_flag": float(found[heldout].mean()) if heldout.any() else float("nan"),
        "recall_seen": float(found[is_variant & ~heldout].mean()),
        "cosines": {k: [float(np.percentile(sims[kinds == k], q)) for q in (5, 50, 95)] for k in
                    ("copy", "variant", "other", "entity")},
    }
    phash_band = band_from_similarities(phash_similarity(seed_img, val_images), val_kinds)
    ph = phash_similarity(seed_img, images)
    out["phash_band"] = [phash_band.lower, phash_band.upper]
    out["phash"] = _prf((ph >= phash_band.lower) & (ph <= phash_band.upper), is_variant)

    variant_idx = np.flatnonzero(is_variant)
    truth = [glyphs[i].entities for i in variant_idx]
    phrases = entity_phrases()
    out["attribution"] = {}
    for alpha in alphas:
        names = attribute_entities(m, coll[variant_idx], phrases, alpha=alpha, encoder=backend)
        correct = [n in t for n, t in zip(names, truth, strict=True)]
        held = heldout[variant_idx]
        out["attribution"][str(alpha)] = {"accuracy": float(np.mean(correct)),
                                          "heldout_flag": float(np.mean(np.asarray(correct)[held])) if held.any()
                                          else float("nan")}
    infl = find_influencers(m, coll[variant_idx], coll, exclude_above=band.upper, k=3)
    top = infl.indices[:, 0]
    correct = [j >= 0 and glyphs[j].template is None and bool(set(glyphs[j].entities) & set(t))
               for j, t in zip(top, truth, strict=True)]
    # looser reading: the top-1 carries a fused entity and is not the seed template (an entity-only image or
    # another template wearing it)
    carrier = [j >= 0 and glyphs[j].template != template and bool(set(glyphs[j].entities) & set(t))
               for j, t in zip(top, truth, strict=True)]
    entity_only = kinds == "entity"
    out["influencer"] = {"top1": float(np.mean(correct)), "top1_carrier": float(np.mean(carrier)),
                         "chance": float(np.mean([sum(bool(set(glyphs[j].entities) & set(t))
                                                      for j in np.flatnonzero(entity_only)) / len(glyphs)
                                                  for t in truth]))}

    known_pool = np.flatnonzero(val_kinds == "variant")
    known = np.random.default_rng([seed, TEMPLATES.index(template)]).choice(known_pool, KNOWN_VARIANTS, replace=False)
    score = torch.maximum((coll @ m[0]), (coll @ val[known].T).max(1).values).numpy()
    positive = (kinds == "variant") | (kinds == "copy")
    precision, recall, _ = precision_recall_curve(positive, score)
    out["moderation_ap"] = float(average_precision_score(positive, score))
    out["moderation_ap_seed_only"] = float(average_precision_score(positive, sims))
    if keep is not None:
        keep.update(images=images, glyphs=glyphs, kinds=kinds, coll=coll, seed=m, hits=hits, band=band,
                    known=val[known], pr=(precision, recall), seed_image=seed_img)
    return out


def cluster_study(backend: Any, gen: GlyphMemes, seed: int, n: int, keep: dict | None = None) -> dict[str, Any]:
    """DBSCAN (eps from the k-distance curve) and HDBSCAN over `n` mixed images: purity w.r.t.
    (template, flag), noise share, ARI vs template."""
    images, glyphs = gen.mixture(n, seed=seed)
    embs = backend.encode_image(images)
    dbscan, hdbscan = cluster(embs, "dbscan"), cluster(embs, "hdbscan")
    if keep is not None:
        keep.update(embs=embs, glyphs=glyphs, labels=dbscan.labels)
    return {"n": n, "dbscan": cluster_scores(dbscan, glyphs), "hdbscan": cluster_scores(hdbscan, glyphs)}


def evaluate(backend: Any, gen: GlyphMemes, seed: int, cluster_n: int = 1000, alphas: Sequence[float] = (0.0, 0.2,
             0.5, 0.8, 1.0), query_draws: int = 2, paraphrase: bool = False, templates: Sequence[str] = TEMPLATES,
             keep: dict | None = None) -> dict[str, Any]:
    """Every study for one evaluation draw `seed` (discovery for each seed template in `templates`);
    `keep` collects arrays for the figures."""
    per_template = {}
    for template in templates:
        slot = {} if keep is not None else None
        per_template[template] = discovery_study(backend, gen, template, seed, keep=slot)
        if keep is not None:
            keep.setdefault("discovery", {})[template] = slot
    clusters = {} if keep is not None else None
    result = {"seed": seed,
              "regularity": regularity_study(backend, gen, seed, alphas, query_draws, paraphrase),
              "discovery": per_template,
              "clusters": cluster_study(backend, gen, seed, cluster_n, keep=clusters)}
    if keep is not None:
        keep["clusters"] = clusters
    return result
