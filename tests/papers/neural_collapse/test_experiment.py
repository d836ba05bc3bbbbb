"""The reproduction end to end on a tiny config (all code paths of both presets), and the claim checks."""

import json
import math

import numpy as np
import pytest
import torch

from paperzoo.core import RunContext
from paperzoo.papers.neural_collapse import experiment

TINY = dict(experiment.PRESETS["full"], **{
    "zoo_widths": [8, 16], "zoo_alphas": [1e-4, 1.0], "zoo_epochs": [2], "zoo_seeds": 2,
    "zoo_cnn": {"widths": [0.25], "epochs": [1]}, "bootstrap_resamples": 50,
    "pretrain_epochs": 1, "regimes": [0.05, 0.10], "ft_epochs": 1, "lr_grid": [1e-3, 3e-4],
    "tune_blocks": ["block1", "block2"]})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny run, recording every fine-tuning call of experiment B (what it starts from, on what data)."""
    from paperzoo.papers.neural_collapse import finetune

    out = tmp_path_factory.mktemp("nc")
    calls, real = [], finetune.fine_tune

    def recording(model, X, y, epochs, lr, seed, batch_size=32, l2_alpha=0.0):
        start = {k: v.clone() for k, v in (model.body if hasattr(model, "body") else model).state_dict().items()}
        trained = real(model, X, y, epochs, lr, seed, batch_size, l2_alpha)
        calls.append({"model": model, "X": X.copy(), "y": y.copy(), "seed": seed, "lr": lr, "start": start,
                      "end": {k: v.clone() for k, v in model.state_dict().items()}})
        return trained

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(finetune, "fine_tune", recording)
        metrics = experiment.run(TINY, [0, 1], RunContext(out))
    return metrics, out, calls


def test_tiny_run_produces_every_claim_metric_and_figure(tiny_run):
    metrics, out, _ = tiny_run
    json.dumps(metrics, default=float)  # JSON-able (numpy scalars aside)
    results = {c.id: c.evaluate(metrics) for c in experiment.PAPER.claims}
    assert all("not measured" not in r.detail for r in results.values()), results
    assert {p.name for p in out.iterdir()} == {"nc1_vs_lp.png", "layerwise_nc1.png", "accuracy.png"}
    assert len(metrics["zoo_models"]) == 8 and len(metrics["zoo_cnn_models"]) == 4
    assert set(metrics["accuracy"]["5%"]) == {"LP", "Full FT", "Layer-FT (block1)", "SCL-FT (block1)",
                                              "Layer-FT", "SCL-FT"}
    assert metrics["scl_trainable_fraction"] == pytest.approx(0.0844, abs=1e-3)
    assert set(metrics["selected_lr"]["10%"]["LP"]) <= {1e-3, 3e-4}
    # LP leaves the backbone untouched: its layer-wise NC1 equals the pre-trained profile.
    assert metrics["layerwise_nc1"]["LP"] == pytest.approx(metrics["layerwise_nc1"]["before"])
    assert all(math.isfinite(r["nc1_down"]) for r in metrics["zoo_models"])
    # The claim inputs follow from the per-seed accuracies: differences are SCL-FT minus the baseline.
    for regime in ("5%", "10%"):
        acc = {m: np.array(v["per_seed"]) for m, v in metrics["accuracy"][regime].items()}
        assert metrics["scl_minus_full_ft"][regime]["per_seed"] == pytest.approx(acc["SCL-FT"] - acc["Full FT"])
        assert metrics["scl_vs_lp"][regime]["mean_diff"] == pytest.approx(np.mean(acc["SCL-FT"] - acc["LP"]))
        assert metrics["scl_vs_lp"][regime]["wins"] == int(np.sum(acc["SCL-FT"] > acc["LP"]))
    assert metrics["ft_nc1_vs_accuracy"]["regime"] == "10%" and metrics["ft_nc1_vs_accuracy"]["n"] == 4 * 2
    assert metrics["scl_trainable_fraction"] == metrics["trainable_fraction"]["SCL-FT"]
    assert metrics["zoo_spearman_down"]["n"] == 8 and set(metrics["zoo_within_width"]) == {"8", "16"}
    assert set(experiment.PAPER.captions) == {"nc1_vs_lp.png", "layerwise_nc1.png", "accuracy.png"}


def test_compared_variants_start_from_one_backbone_and_see_one_training_set(tiny_run):
    from paperzoo.papers.neural_collapse.finetune import LayerFineTune

    metrics, _, calls = tiny_run
    sizes = {n: r for r, n in metrics["downstream_train_size"].items()}
    # Per seed, the last plain model trained on MNIST-1D (40 features) is experiment B's backbone: the zoo's
    # CNNs come before it, and every later call is a fine-tuning variant.
    pretrained = {c["seed"]: c["end"] for c in calls if not isinstance(c["model"], LayerFineTune)
                  and c["X"].shape[1] == 40}
    assert sizes == {100: "5%", 200: "10%"}  # stratified 5% and 10% of the 2007 downstream examples
    assert set(pretrained) == {0, 1}
    finals = [c for c in calls if isinstance(c["model"], LayerFineTune) and len(c["X"]) in sizes]
    assert len(finals) == 2 * 2 * 6  # seeds x regimes x variants
    for seed in (0, 1):
        for size in sizes:
            group = [c for c in finals if c["seed"] == seed and len(c["X"]) == size]
            assert len(group) == 6 and len({type(c["model"]).__name__ for c in group}) == 2
            first = group[0]
            for c in group:
                assert np.array_equal(c["X"], first["X"]) and np.array_equal(c["y"], first["y"])
                assert c["start"].keys() == first["start"].keys()
                for k, v in c["start"].items():  # every variant starts from this seed's pre-trained backbone
                    assert torch.equal(v, pretrained[seed][k]), k


def test_lr_picker_takes_the_best_validation_score(monkeypatch):
    from paperzoo.papers.neural_collapse import finetune
    from paperzoo.papers.neural_collapse.backbones import CNN1D

    scores = {1e-4: 0.5, 3e-4: 0.9, 1e-3: 0.7}
    fitted, validated = [], []

    def fake_fit(model, X, y, epochs, lr, seed, batch_size=32):
        fitted.append(X.copy())
        model.picked_lr = lr
        return model

    def fake_accuracy(model, X, y):
        validated.append(X.copy())
        return scores[model.picked_lr]

    monkeypatch.setattr(finetune, "fine_tune", fake_fit)
    monkeypatch.setattr(experiment, "_accuracy", fake_accuracy)
    X, y = np.random.default_rng(0).normal(size=(50, 40)).astype(np.float32), np.arange(50) % 5
    config = dict(TINY, lr_grid=list(scores))
    assert experiment._pick_lr("scl", "block2", CNN1D(num_classes=5), X, y, 0, config) == 3e-4
    scores.update({1e-4: 0.95})
    assert experiment._pick_lr("full", "all", CNN1D(num_classes=5), X, y, 0, config) == 1e-4
    assert len(fitted) == 6 and all(np.array_equal(f, fitted[0]) for f in fitted)  # one split for every lr
    assert all(np.array_equal(v, validated[0]) for v in validated) and len(fitted[0]) == 40


def _metrics(rho=-0.5, p=0.0099, within=(-0.5, -0.01, 0.2), gap_ci=(1e-6, 0.5), frac=0.10,
             lp_p=(0.0499, 0.0499), scl_minus_full=0.0, ft_rho=-1e-6, ft_p=0.0499, regimes=("5%", "10%")):
    """Metrics on which every claim holds, each at its threshold."""
    acc = {r: {m: {"mean": 0.8, "per_seed": [0.8] * 5} for m in ("LP", "SCL-FT", "Full FT")} for r in ("5%", "10%")}
    return {
        "zoo_spearman_down": {"rho": rho, "p": p, "n": 36, "ci95": [-0.9, -0.4]},
        "zoo_spearman_source": {"rho": -0.1, "p": 0.5, "n": 36, "ci95": [-0.4, 0.3]},
        "zoo_within_width": {str(w): {"rho": r, "p": 0.1} for w, r in zip((16, 32, 64), within, strict=True)},
        "zoo_abs_rho_gap": {"value": 0.3, "ci95": list(gap_ci)},
        "scl_trainable_fraction": frac,
        "scl_vs_lp": {r: {"p": q, "mean_diff": 0.1, "wins": 5} for r, q in zip(("5%", "10%"), lp_p, strict=True)
                      if r in regimes},
        "scl_minus_full_ft": {"5%": {"mean": scl_minus_full, "ci95": [-0.1, 0.1], "per_seed": [scl_minus_full] * 5}},
        "accuracy": acc,
        "sklearn_lp_accuracy": {r: {"mean": 0.7} for r in ("5%", "10%")},
        "ft_nc1_vs_accuracy": {"regime": "10%", "rho": ft_rho, "p": ft_p, "n": 20},
    }


def test_every_claim_holds_at_its_boundary():
    results = {c.id: c.evaluate(_metrics()) for c in experiment.PAPER.claims}
    assert len(results) == 6 and all(r.passed for r in results.values()), results


@pytest.mark.parametrize("change, claim", [
    ({"rho": -0.4999}, "nc1-predicts-transfer"),
    ({"p": 0.01}, "nc1-predicts-transfer"),
    ({"within": (-0.5, 0.0, 0.2)}, "nc1-predicts-transfer"),  # negative within only 1 of 3 widths
    ({"gap_ci": (0.0, 0.4)}, "source-nc-nuanced"),
    ({"frac": 0.1001}, "scl-param-reduction"),
    ({"lp_p": (0.0499, 0.05)}, "scl-beats-lp"),  # both regimes must hold
    ({"lp_p": (0.05, 0.0499)}, "scl-beats-lp"),
    ({"regimes": ("10%",)}, "scl-beats-lp"),
    ({"scl_minus_full": -1e-9}, "scl-scarce-data"),
    ({"ft_p": 0.05}, "ft-collapse-accuracy"),
    ({"ft_rho": 0.0}, "ft-collapse-accuracy"),
])
def test_claims_fail_just_past_their_boundary(change, claim):
    results = {c.id: c.evaluate(_metrics(**change)) for c in experiment.PAPER.claims}
    assert not results[claim].passed, results[claim].detail
    assert all(r.passed for cid, r in results.items() if cid != claim)


def test_missing_metric_is_not_measured():
    for claim in experiment.PAPER.claims:
        result = claim.evaluate({})
        assert not result.passed and "not measured" in result.detail


def _summary_inputs(scl, lp, full):
    """Hand-built per-seed results for `_summarise_b`: accuracy per variant; NC1 falls as accuracy rises."""
    variants = {"LP": lp, "Full FT": full, "Layer-FT": [a - 0.01 for a in full], "SCL-FT": scl}
    acc = {r: {v: list(a) for v, a in variants.items()} for r in ("5%", "10%")}
    nc1 = {r: {v: [2.0 - x for x in a] for v, a in variants.items()} for r in ("5%", "10%")}
    lrs = {r: {v: [1e-3] * len(scl) for v in variants} for r in ("5%", "10%")}
    profile = {"before": [[1.0, 0.8, 0.6, 0.4]]} | {v: [[1.0, 0.7, 0.5, 0.3]] for v in variants}
    fractions = {"LP": 0.01, "Full FT": 1.0, "Layer-FT": 0.08, "SCL-FT": 0.084}
    config = {"regimes": [0.05, 0.10], "lr_grid": None, "profile_regime": 0.10}
    return config, acc, nc1, lrs, {r: [0.7] * len(scl) for r in ("5%", "10%")}, profile, [0.9], fractions, \
        ["block2"], {"5%": 100, "10%": 200}


def test_paired_summaries_are_scl_minus_baseline(tmp_path):
    scl = [0.80, 0.82, 0.84, 0.86, 0.88, 0.90]
    lp = [0.70, 0.71, 0.72, 0.73, 0.74, 0.75]
    full = [0.85, 0.80, 0.86, 0.84, 0.90, 0.88]
    out = experiment._summarise_b(*_summary_inputs(scl, lp, full), RunContext(tmp_path), np)
    assert out["scl_minus_full_ft"]["5%"]["per_seed"] == pytest.approx(np.subtract(scl, full))
    assert out["scl_vs_lp"]["5%"]["mean_diff"] == pytest.approx(np.mean(np.subtract(scl, lp)))
    assert out["scl_vs_lp"]["5%"]["wins"] == 6 and out["scl_vs_lp"]["5%"]["p"] < 0.05  # one-sided, SCL-FT > LP
    assert out["ft_nc1_vs_accuracy"]["rho"] == pytest.approx(-1.0) and out["ft_nc1_vs_accuracy"]["n"] == 24
    worse = experiment._summarise_b(*_summary_inputs(lp, scl, full), RunContext(tmp_path), np)
    assert worse["scl_vs_lp"]["10%"]["p"] > 0.5 and worse["scl_vs_lp"]["10%"]["wins"] == 0
