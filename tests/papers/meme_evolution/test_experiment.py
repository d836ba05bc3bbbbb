import json

import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.papers.meme_evolution import experiment

TEMPLATES = ("circle", "square", "triangle", "diamond")


def _claim(claim_id):
    return next(c for c in get("meme-evolution").claims if c.id == claim_id)


def _verdict(claim_id, metrics):
    return _claim(claim_id).evaluate(jsonable(metrics))


def _metrics(**extra):
    """Metrics at which every claim holds (each just at or above its threshold where a test moves it)."""
    disc = {t: {"precision": 0.8, "recall": 0.9, "f1": 0.85, "phash_f1": 0.5, "band": [0.5, 0.8],
                "recall_heldout_flag": 0.9} for t in TEMPLATES}
    m = {"full_studies": False, "chance_top1": 0.019, "chance_top5": 0.09, "n_queries": {"seen": 48, "heldout": 24},
         "vl_top1_seen_by_template": dict.fromkeys(TEMPLATES, 0.9), "vl_top1_heldout": 0.7, "vl_top5_seen": 1.0,
         "vl_top5_heldout": 0.8, "vv_top5": 0.6, "vv_top5_seen": 0.6, "vv_top5_heldout": 0.6, "vv_top1": 0.3,
         "analogy_top1": 0.9, "analogy_top1_seen": 0.9, "analogy_top1_heldout": 0.9,
         "discovery": disc, "discovery_f1": 0.85, "phash_f1": 0.5,
         "attribution_text": 0.9, "attribution_text_alpha_0.2": 0.8, "attribution_text_heldout_flag": 0.9,
         "influencer_top1": 0.7, "influencer_top1_carrier": 0.8, "influencer_chance": 0.01,
         "moderation_ap": dict.fromkeys(TEMPLATES, 0.95), "moderation_ap_mean": 0.95, "moderation_ap_seed_only": 0.9,
         "clusters": {"n": 1000, "dbscan": {"purity": 0.95, "noise": 0.2, "n_clusters": 30, "ari_template": 0.2,
                                            "eps": 0.3},
                      "hdbscan": {"purity": 0.9, "noise": 0.3, "ari_template": 0.1}}}
    m.update(extra)
    return m


def test_every_claim_holds_on_passing_metrics():
    assert all(c.evaluate(jsonable(_metrics())).passed for c in get("meme-evolution").claims)
    assert not any(c.evaluate({}).passed for c in get("meme-evolution").claims)  # nothing measured, nothing held
    assert len(get("meme-evolution").claims) == 8


@pytest.mark.parametrize("value, held", [(0.8, True), (0.79, False)])
def test_vl_regularity_needs_every_template(value, held):
    by = {**dict.fromkeys(TEMPLATES, 1.0), "diamond": value}
    assert _verdict("vl-regularity", _metrics(vl_top1_seen_by_template=by)).passed is held


@pytest.mark.parametrize("claim_id, key, at, below", [
    ("regularity-generalises", "vl_top5_heldout", 0.6, 0.59), ("vv-regularity", "vv_top5", 0.5, 0.49),
    ("analogy", "analogy_top1", 0.8, 0.79), ("moderation-ranking", "moderation_ap_mean", 0.9, 0.899),
    ("fusion-attribution", "attribution_text", 0.85, 0.84), ("fusion-attribution", "influencer_top1", 0.6, 0.59)])
def test_threshold_boundaries(claim_id, key, at, below):
    assert _verdict(claim_id, _metrics(**{key: at})).passed
    assert not _verdict(claim_id, _metrics(**{key: below})).passed


def _with_f1(values, full=False, phash=0.5):
    disc = {t: {"precision": 0.8, "recall": 0.8, "f1": v, "phash_f1": phash, "band": [0.5, 0.8]}
            for t, v in zip(TEMPLATES, values, strict=True)}
    return _metrics(discovery=disc, discovery_f1=sum(values) / 4, phash_f1=phash, full_studies=full)


@pytest.mark.parametrize("values, held", [((0.6, 0.6, 0.6, 0.1), True), ((0.6, 0.6, 0.59, 0.9), True),
                                          ((0.6, 0.59, 0.59, 0.9), False)])
def test_variant_discovery_needs_three_of_four_templates(values, held):
    assert _verdict("variant-discovery", _with_f1(values)).passed is held


def test_variant_discovery_at_full_also_needs_the_phash_margin():
    f1 = (0.7, 0.7, 0.7, 0.7)
    assert _verdict("variant-discovery", _with_f1(f1, full=True, phash=0.6)).passed
    assert not _verdict("variant-discovery", _with_f1(f1, full=True, phash=0.61)).passed
    assert _verdict("variant-discovery", _with_f1(f1, full=False, phash=0.69)).passed


@pytest.mark.parametrize("purity, noise, held", [(0.9, 0.3, True), (0.89, 0.1, False), (0.99, 0.31, False)])
def test_clusters_need_purity_and_little_noise(purity, noise, held):
    c = _metrics()["clusters"]
    c = {**c, "dbscan": {**c["dbscan"], "purity": purity, "noise": noise}}
    assert _verdict("clusters-are-variants", _metrics(clusters=c)).passed is held


def test_nan_metrics_fail():
    assert not _verdict("analogy", _metrics(analogy_top1=float("nan"))).passed
    assert not _verdict("regularity-generalises", _metrics(vl_top5_heldout=float("nan"))).passed


def _tiny(preset):
    cfg = experiment.PRESETS[preset]
    return {**cfg, "train": {**cfg["train"], "pairs": 192, "epochs": 1, "max_seconds": 30.0}, "cluster_n": 120,
            "query_draws": 1, "train_seeds": [0], "alphas": [0.0, 0.5, 1.0], "torch_threads": 1,
            "templates": ["circle", "square"],
            "text_towers": ["bow"] if preset == "quick" else cfg["text_towers"]}


def test_tiny_run_end_to_end(tmp_path):
    """The full preset's code paths (MiniLM tower, paraphrases, pHash margin) include the quick ones."""
    metrics = jsonable(experiment.run(_tiny("full"), [0], RunContext(tmp_path)))
    json.dumps(metrics, allow_nan=False)
    assert metrics["training"]["epochs_reached"] == [1] and metrics["gallery"] == 162
    assert set(metrics["alpha_sweep"]) == {"0.0", "0.5", "1.0"}
    assert metrics["n_queries"] == {"seen": 16, "heldout": 8}
    assert set(metrics["discovery"]) == {"circle", "square"}
    assert set(metrics["text_towers"]) == {"bow", "minilm"}
    assert 0 <= metrics["text_towers"]["minilm"]["paraphrase_top1_seen"] <= 1
    names = {p.name for p in tmp_path.iterdir()}
    assert names == set(get("meme-evolution").captions)
    results = {c.id: c.evaluate(metrics) for c in get("meme-evolution").claims}
    assert all(r.status in ("held", "failed") and "not measured" not in r.detail for r in results.values())
    assert "pHash +" in results["variant-discovery"].detail
    assert not results["variant-discovery"].passed  # two of four templates measured: never held


def test_presets_follow_the_spec():
    quick, full = experiment.PRESETS["quick"], experiment.PRESETS["full"]
    assert quick["seeds"] == 3 and quick["train"]["pairs"] == 6000 and quick["train"]["epochs"] == 10
    assert quick["train"]["batch_size"] == 128 and quick["train"]["lr"] == 2e-3
    assert quick["train"]["max_seconds"] <= 150 and quick["train_seeds"] == [0] and quick["cluster_n"] == 1000
    assert full["train"]["pairs"] == 20_000 and full["train"]["epochs"] == 30 and len(full["train_seeds"]) == 3
    assert full["text_towers"] == ["bow", "minilm"] and full["cluster_n"] == 5000 and full["full_studies"]
    assert experiment.CLAIM_ALPHA == "0.5" and 0.2 in quick["alphas"]
