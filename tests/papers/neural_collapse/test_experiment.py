"""The reproduction end to end on a tiny config (all code paths of both presets), and the claim checks."""

import json
import math

import pytest

from paperzoo.core import RunContext
from paperzoo.papers.neural_collapse import experiment

TINY = dict(experiment.PRESETS["full"], **{
    "zoo_widths": [8, 16], "zoo_alphas": [1e-4, 1.0], "zoo_epochs": [2], "zoo_seeds": 2,
    "zoo_cnn": {"widths": [0.25], "epochs": [1]}, "bootstrap_resamples": 50,
    "pretrain_epochs": 1, "regimes": [0.05, 0.10], "ft_epochs": 1, "lr_grid": [1e-3, 3e-4],
    "tune_blocks": ["block1", "block2"]})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("nc")
    metrics = experiment.run(TINY, [0, 1], RunContext(out))
    return metrics, out


def test_tiny_run_produces_every_claim_metric_and_figure(tiny_run):
    metrics, out = tiny_run
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


def _metrics(rho=-0.7, p=1e-4, within=(-0.5, -0.3, 0.2), gap_ci=(0.1, 0.5), frac=0.084,
             lp_p=(0.03, 0.03), scl_minus_full=0.01, ft_rho=-0.6, ft_p=0.01):
    acc = {r: {m: {"mean": 0.8, "per_seed": [0.8] * 5} for m in ("LP", "SCL-FT", "Full FT")} for r in ("5%", "10%")}
    return {
        "zoo_spearman_down": {"rho": rho, "p": p, "n": 36, "ci95": [-0.9, -0.4]},
        "zoo_spearman_source": {"rho": -0.1, "p": 0.5, "n": 36, "ci95": [-0.4, 0.3]},
        "zoo_within_width": {str(w): {"rho": r, "p": 0.1} for w, r in zip((16, 32, 64), within, strict=True)},
        "zoo_abs_rho_gap": {"value": 0.3, "ci95": list(gap_ci)},
        "scl_trainable_fraction": frac,
        "scl_vs_lp": {"5%": {"p": lp_p[0], "mean_diff": 0.1, "wins": 5}, "10%": {"p": lp_p[1], "mean_diff": 0.1,
                                                                                  "wins": 5}},
        "scl_minus_full_ft": {"5%": {"mean": scl_minus_full, "ci95": [-0.1, 0.1], "per_seed": [scl_minus_full] * 5}},
        "accuracy": acc,
        "sklearn_lp_accuracy": {r: {"mean": 0.7} for r in ("5%", "10%")},
        "ft_nc1_vs_accuracy": {"regime": "10%", "rho": ft_rho, "p": ft_p, "n": 20},
    }


@pytest.mark.parametrize("change, claim", [
    ({"rho": -0.45}, "nc1-predicts-transfer"),
    ({"p": 0.02}, "nc1-predicts-transfer"),
    ({"within": (-0.5, 0.1, 0.2)}, "nc1-predicts-transfer"),
    ({"gap_ci": (-0.01, 0.4)}, "source-nc-nuanced"),
    ({"frac": 0.11}, "scl-param-reduction"),
    ({"lp_p": (0.03, 0.06)}, "scl-beats-lp"),
    ({"scl_minus_full": -0.001}, "scl-scarce-data"),
    ({"ft_p": 0.2}, "ft-collapse-accuracy"),
    ({"ft_rho": 0.3}, "ft-collapse-accuracy"),
])
def test_claims_pass_on_support_and_fail_without(change, claim):
    claims = {c.id: c for c in experiment.PAPER.claims}
    assert all(c.evaluate(_metrics()).passed for c in claims.values())
    assert not claims[claim].evaluate(_metrics(**change)).passed
