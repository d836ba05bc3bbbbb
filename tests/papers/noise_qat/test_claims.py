"""The claim checks at their boundaries, the paired differences' direction, and the lambda0 picker."""

import copy

import pytest

from paperzoo.papers.noise_qat import experiment

CLAIMS = {c.id: c for c in experiment.PAPER.claims}
KEYS = {"nt-accuracy": "nt_vs_lsq_acc", "nt-flatter": "lsq_minus_nt_sharpness", "nt-stable": "lsq_minus_nt_instability"}


def block(mean=1e-9, p=0.0499, n=10):
    return {"diff": {"mean": mean, "std": 1.0, "ci95": [mean - 1, mean + 1], "per_seed": [mean] * n},
            "p_wilcoxon": p, "wins": n, "n": n}


def passing_metrics():
    """Every claim at its boundary: a mean difference just above 0, p just below 0.05, exactly 10 seeds."""
    summary = {"mean": 80.0, "std": 1.0, "ci95": [79.0, 81.0], "per_seed": [80.0] * 10}
    return {**{key: block() for key in KEYS.values()}, "primary_setting": "mlp-w2a2", "selected_lambda0": 1.0,
            "lsq_acc": summary, "nt_acc": summary, "ptq_acc": summary, "fp32_acc": summary}


def test_every_claim_holds_at_its_boundary():
    assert set(CLAIMS) == set(KEYS)
    results = {cid: claim.evaluate(passing_metrics()) for cid, claim in CLAIMS.items()}
    assert all(r.passed for r in results.values()), {k: r.detail for k, r in results.items()}


@pytest.mark.parametrize("claim", sorted(KEYS))
@pytest.mark.parametrize("change", [{"mean": 0.0}, {"mean": -0.5, "p": 0.01}, {"p": 0.05}, {"n": 9}])
def test_each_claim_fails_just_past_its_boundary_and_reads_its_own_difference(claim, change):
    metrics = copy.deepcopy(passing_metrics())
    metrics[KEYS[claim]] = block(**{"mean": 1e-9, "p": 0.0499, "n": 10, **change})
    results = {cid: c.evaluate(metrics) for cid, c in CLAIMS.items()}
    assert not results[claim].passed, results[claim].detail
    assert all(r.passed for cid, r in results.items() if cid != claim)  # the others read other differences


def test_too_few_seeds_are_said_to_be_untestable():
    metrics = passing_metrics()
    metrics["nt_vs_lsq_acc"] = block(mean=2.0, p=0.001, n=9)
    result = CLAIMS["nt-accuracy"].evaluate(metrics)
    assert not result.passed and "fewer than 10 seeds" in result.detail


def test_missing_metric_is_not_measured():
    for claim in CLAIMS.values():
        result = claim.evaluate({})
        assert not result.passed and "not measured" in result.detail


def test_paired_difference_is_first_minus_second_and_tested_one_sided():
    better = [80.0 + 0.1 * i for i in range(10)]
    worse = [79.0] * 10
    up = experiment._paired(better, worse)
    assert up["diff"]["per_seed"] == pytest.approx([b - w for b, w in zip(better, worse, strict=True)])
    assert up["diff"]["mean"] > 0 and up["wins"] == 10 and up["n"] == 10 and up["p_wilcoxon"] < 0.01
    down = experiment._paired(worse, better)
    assert down["diff"]["mean"] < 0 and down["wins"] == 0 and down["p_wilcoxon"] > 0.99
    assert experiment._paired([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])["wins"] == 2  # a tie is no win


def test_lambda0_picker_takes_the_best_validation_score():
    assert experiment.select_lambda0({0.5: 70.0, 1.0: 75.0, 2.0: 80.0}) == 2.0
    assert experiment.select_lambda0({0.5: 82.0, 1.0: 75.0, 2.0: 80.0}) == 0.5
    assert experiment.select_lambda0({0.5: 80.0, 1.0: 80.0, 2.0: 80.0}) == 1.0  # a tie keeps the default
    assert experiment.select_lambda0({0.5: 80.0, 2.0: 80.0, 4.0: 79.0}) == 0.5  # nearest the default
