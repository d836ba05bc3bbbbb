"""The fedpetuning claim checks on hand-made metrics: they pass and fail where they should."""

import copy

import pytest

from paperzoo.papers.fedpetuning.experiment import PAPER

METHODS = ("full", "lora", "adapter", "prefix", "bitfit", "head")


def _claim(claim_id):
    return next(c for c in PAPER.claims if c.id == claim_id)


def _summary(values):
    return {"mean": sum(values) / len(values), "std": 0.0, "per_seed": list(values)}


def _metrics():
    """A run where every claim holds: FT 80 %, LoRA 78 %, skew hurts every method, LoRA/BitFit least."""
    acc = {"full": (80, 70), "lora": (78, 74), "adapter": (76, 60), "prefix": (70, 50), "bitfit": (72, 68),
           "head": (65, 60)}
    bytes_ = {"full": 600e6, "lora": 2e6, "bitfit": 1.5e6, "adapter": 3e6, "prefix": 2e6, "head": 1.2e6}
    params = {n: int(b / 8) for n, b in bytes_.items()}
    comm = {n: {"trainable_params": params[n], "bytes_per_round": b, "analytic_bytes_per_round": b,
                "rounds_exact": 10, "rounds": 10, "reduction_vs_full": bytes_["full"] / b,
                "param_ratio_vs_full": params["full"] / params[n], "paper_param_ratio": None}
            for n, b in bytes_.items()}
    runs = [{"method": n, "alpha": a, "seed": s, "best_round": 3, "best_valid_accuracy": 0.8,
             "valid_accuracy": [0.23, 0.5, 0.8, 0.8, 0.7, 0.7]} for n in METHODS for a in (0.1, 1.0) for s in (0, 1)]
    return {
        "accuracy": {n: {"1.0": _summary([hi, hi]), "0.1": _summary([lo, lo])} for n, (hi, lo) in acc.items()},
        "skew_drop": {n: _summary([hi - lo, hi - lo]) for n, (hi, lo) in acc.items()},
        "communication": comm,
        "pet_minus_ft_gap": {"best_pet": "lora", "chosen_on": "validation", **_summary([2.0, 2.0]),
                             "paired_t": {"statistic": 0.0, "p": 1.0, "effect": 0.0}},
        "mb_to_target": {"full": [900.0, 900.0], "lora": [3.0, 4.0]},
        "majority_class_accuracy": 23.0, "rounds": 5, "runs": runs,
    }


@pytest.mark.parametrize("claim_id", [c.id for c in PAPER.claims])
def test_every_claim_holds_on_the_passing_metrics(claim_id):
    result = _claim(claim_id).evaluate(_metrics())
    assert result.passed, result.detail
    assert "not converged" not in result.detail


def _evaluate(claim_id, change):
    m = _metrics()
    change(m)
    return _claim(claim_id).evaluate(m)


def test_comm_reduction_fails_below_100x_or_when_bytes_differ_from_the_framing():
    def slow_bitfit(m):
        m["communication"]["bitfit"]["reduction_vs_full"] = 99.9

    def off_by_one(m):
        m["communication"]["lora"]["rounds_exact"] = 9

    assert not _evaluate("comm-reduction", slow_bitfit).passed
    result = _evaluate("comm-reduction", off_by_one)
    assert not result.passed and "lora 9/10" in result.detail
    assert _claim("comm-reduction").evaluate(_metrics()).observed == {"lora": 300.0, "bitfit": 400.0}


def test_pet_near_ft_fails_above_3_points_or_when_ft_did_not_learn():
    def wide(m):
        m["pet_minus_ft_gap"].update(_summary([3.1, 3.1]))

    def at_chance(m):
        m["accuracy"]["full"]["1.0"] = _summary([32.0, 32.0])  # < majority 23 + 10

    assert not _evaluate("pet-near-ft", wide).passed
    result = _evaluate("pet-near-ft", at_chance)
    assert not result.passed and "not measurable" in result.detail
    assert "head-only control 65.0%" in _claim("pet-near-ft").evaluate(_metrics()).detail


def test_skew_hurts_needs_4_of_the_5_paper_methods():
    def two_flat(m):
        m["skew_drop"]["lora"] = _summary([0.0, 0.0])
        m["skew_drop"]["bitfit"] = _summary([-1.0, -1.0])

    def one_flat(m):
        m["skew_drop"]["lora"] = _summary([0.0, 0.0])
        m["skew_drop"]["head"] = _summary([-5.0, -5.0])  # the control does not count

    assert not _evaluate("skew-hurts", two_flat).passed
    result = _evaluate("skew-hurts", one_flat)
    assert result.passed and result.observed == 4


def test_mb_to_target_pass_fail_and_not_measurable():
    result = _claim("mb-to-target").evaluate(_metrics())
    assert result.passed and result.observed == 257.1

    def barely(m):
        m["mb_to_target"]["lora"] = [90.1, 90.1]  # 900 / 90.1 < 10

    def never(m):
        m["mb_to_target"]["lora"] = [None, 4.0]

    def stuck(m):
        for r in m["runs"]:
            if r["method"] == "full":
                r["valid_accuracy"], r["best_valid_accuracy"] = [0.23, 0.23, 0.24], 0.24

    assert not _evaluate("mb-to-target", barely).passed
    assert not _evaluate("mb-to-target", never).passed
    result = _evaluate("mb-to-target", stuck)
    assert not result.passed and "not measurable" in result.detail


def test_lora_bitfit_robust_compares_mean_drops():
    def equal(m):
        for n in ("lora", "bitfit", "adapter", "prefix"):
            m["skew_drop"][n] = _summary([5.0, 5.0])

    assert not _evaluate("lora-bitfit-robust", equal).passed
    assert _claim("lora-bitfit-robust").evaluate(_metrics()).observed == {"lora_bitfit": 4.0, "adapter_prefix": 18.0}


def test_a_best_round_at_the_last_round_says_not_converged():
    m = copy.deepcopy(_metrics())
    for r in m["runs"]:
        if r["method"] == "full" and r["alpha"] == 1.0 and r["seed"] == 1:
            r["best_round"] = 5
    for claim_id in ("pet-near-ft", "skew-hurts", "mb-to-target"):
        assert "not converged" in _claim(claim_id).evaluate(m).detail and "full alpha=1" in \
            _claim(claim_id).evaluate(m).detail
    assert "not converged" not in _claim("lora-bitfit-robust").evaluate(m).detail
