"""Every claim check on hand-built metrics: one that passes at the boundary, one that fails just past it."""

import copy

import pytest

from paperzoo.papers.dmf_saddle import experiment

CLAIMS = {c.id: c for c in experiment.PAPER.claims}
D3 = ["n20-d3-a", "n20-d3-b"]


def passing_metrics():
    """Metrics on which every claim holds, each at its threshold where it has one."""
    plateau = {"setting": D3[0], "seed": 0, "k": 1, "grad_ratio": 1e-3, "lambda_min": -1e-3}
    end = {"setting": D3[0], "seed": 0, "final_rank": 3, "rank": 3, "grad_norm": 1e-6, "lambda_min": -1e-6}
    return {
        "clean_rate_by_setting": {D3[0]: 0.8, D3[1]: 1.0, "n20-d2": 0.0},
        "unit_increment_rate_by_setting": {D3[0]: 1.0, D3[1]: 1.0, "n20-d2": 0.0},
        "depth3_settings": list(D3),
        "plateau_rel_errors": [0.0, 1e-4, 0.02],
        "plateau_certificates": [dict(plateau, lambda_min=-0.5), plateau],
        "certified_clean_runs": 2,
        "origin": {"depth2": {"lambda_min": -10.0, "lambda_max": 10.0}, "depth3": {"lambda_min": 0.0,
                                                                                    "lambda_max": 0.0}},
        "init_lambda_min": [-1e-4, -2e-4],
        "end_certificates": [dict(end, grad_norm=1e-9, lambda_min=1e-8), end],
        "depth_pair": {"depth2": "n20-d2", "depth3": D3[1], "clean_depth2": [True] * 4 + [False] * 6,
                       "clean_depth3": [True] * 10, "unit_increment_rate_depth2": 0.0,
                       "unit_increment_rate_depth3": 1.0, "fisher_p": 0.0054},
        "glrl_min_cosine": [0.9, 0.99, 0.999, 1.0, None],
        "completion": {"300": {"depth3_wins": [True, True, False],
                               "mse": {"depth2": {"mean": 1e-2}, "depth3": {"mean": 1e-5}, "nuclear": {"mean": 2e-2}}}},
        "thresholds": {"clean_min_fraction": 0.8, "depth_test": "gap", "depth_min_gap": 0.6, "depth_alpha": None,
                       "glrl_min_cosine": 0.9, "glrl_min_fraction": 0.8, "completion_n_obs": 300,
                       "completion_min_win_fraction": 2 / 3},
    }


def changed(edit):
    metrics = copy.deepcopy(passing_metrics())
    edit(metrics)
    return metrics


def test_every_claim_holds_at_its_boundary():
    results = {cid: claim.evaluate(passing_metrics()) for cid, claim in CLAIMS.items()}
    assert set(results) == {"stages-equal-rank", "plateaus-at-saddle-values", "plateaus-are-saddles",
                            "ends-second-order", "depth-sharpens-stages", "matches-glrl", "depth-helps-completion"}
    assert all(r.passed for r in results.values()), {k: r.detail for k, r in results.items() if not r.passed}


def _set(path, value):
    def edit(m):
        *parents, last = path
        target = m
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


def _set_item(path, index, **fields):
    def edit(m):
        target = m
        for key in path:
            target = target[key]
        target[index] = dict(target[index], **fields)
    return edit


@pytest.mark.parametrize("claim, edit", [
    # one depth-3 setting just below the clean fraction fails the claim, though the other is perfect
    ("stages-equal-rank", _set(["clean_rate_by_setting", D3[0]], 0.79)),
    ("stages-equal-rank", _set(["depth3_settings"], [])),
    ("plateaus-at-saddle-values", _set(["plateau_rel_errors"], [0.0, 1e-4, 0.0201])),
    ("plateaus-at-saddle-values", _set(["plateau_rel_errors"], [])),
    # one plateau without enough negative curvature is enough to fail
    ("plateaus-are-saddles", _set_item(["plateau_certificates"], 1, lambda_min=-0.99e-3)),
    ("plateaus-are-saddles", _set(["plateau_certificates"], [])),
    ("ends-second-order", _set_item(["end_certificates"], 1, grad_norm=1.01e-6)),
    ("ends-second-order", _set_item(["end_certificates"], 1, lambda_min=-1.01e-6)),
    ("ends-second-order", _set_item(["end_certificates"], 1, final_rank=2)),
    ("ends-second-order", _set(["end_certificates"], [])),
    ("depth-sharpens-stages", _set(["depth_pair", "clean_depth2"], [True] * 5 + [False] * 5)),
    ("depth-sharpens-stages", _set(["depth_pair", "clean_depth3"], [True] * 9 + [False])),
    ("depth-sharpens-stages", _set(["depth_pair", "clean_depth2"], None)),
    ("matches-glrl", _set(["glrl_min_cosine"], [0.8999, 0.99, 0.999, 1.0, None])),
    ("matches-glrl", _set(["glrl_min_cosine"], [])),
    ("depth-helps-completion", _set(["completion", "300", "depth3_wins"], [True, False, False])),
    ("depth-helps-completion", _set(["completion", "300", "depth3_wins"], [])),
])
def test_claim_fails_just_past_its_boundary(claim, edit):
    assert CLAIMS[claim].evaluate(passing_metrics()).passed
    result = CLAIMS[claim].evaluate(changed(edit))
    assert not result.passed, result.detail


def test_stage_claim_summarises_many_settings_and_still_needs_all():
    names = [f"s{i}" for i in range(8)]
    m = changed(lambda m: m.update(depth3_settings=names,
                                   clean_rate_by_setting=dict.fromkeys(names, 0.8),
                                   unit_increment_rate_by_setting=dict.fromkeys(names, 1.0)))
    assert CLAIMS["stages-equal-rank"].evaluate(m).passed
    m["clean_rate_by_setting"]["s7"] = 0.7
    result = CLAIMS["stages-equal-rank"].evaluate(m)
    assert not result.passed and result.detail.startswith("7/8 depth-3 settings")


def test_depth_claim_with_fisher_test_uses_alpha():
    def fisher(p):
        return changed(lambda m: (m["thresholds"].update(depth_test="fisher", depth_alpha=0.05),
                                  m["depth_pair"].update(fisher_p=p)))

    assert CLAIMS["depth-sharpens-stages"].evaluate(fisher(0.0499)).passed
    assert not CLAIMS["depth-sharpens-stages"].evaluate(fisher(0.05)).passed


def test_saddle_claim_reports_the_gradient_but_does_not_test_it():
    # Plateau detection already bounds the gradient over the window, so the verdict rests on curvature.
    m = changed(_set_item(["plateau_certificates"], 1, grad_ratio=0.5))
    result = CLAIMS["plateaus-are-saddles"].evaluate(m)
    assert result.passed and result.observed["max_grad_ratio"] == 0.5


def test_depth_fisher_p_is_one_sided_toward_depth_three():
    assert experiment._depth_fisher_p([False] * 10, [True] * 10) < 1e-4
    assert experiment._depth_fisher_p([True] * 10, [False] * 10) == pytest.approx(1.0)
    assert experiment._depth_fisher_p([True] * 5 + [False] * 5, [True] * 5 + [False] * 5) > 0.5


def test_missing_metric_is_not_measured():
    for claim in CLAIMS.values():
        result = claim.evaluate({})
        assert not result.passed and "not measured" in result.detail
