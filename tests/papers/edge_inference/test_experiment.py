"""The reproduction end to end on the tiny preset, and every claim check on metrics that pass and fail."""

import copy

import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.papers.edge_inference import experiment

IDLE = {"start": [0.2, 0.2, 0.2], "end": [1.1, 0.5, 0.3], "cpus": 2}


def _verdict(claim_id, metrics):
    claim = next(c for c in get("edge-inference").claims if c.id == claim_id)
    return claim.evaluate(jsonable(metrics))


def _chain(ks, k_reg=None, ratios=None, ratios_reg=None, L=19):
    k_reg = ks if k_reg is None else k_reg
    ratios = ratios or [1.0] * len(ks)
    ratios_reg = ratios_reg or [1.0] * len(ks)
    names = ["0.1 Mbit/s", "3G", "LTE", "Wi-Fi", "1 Gbit/s"][:len(ks)]
    rows = zip(names, ks, k_reg, ratios, ratios_reg, strict=True)
    return [{"network": n, "bandwidth_mbps": 1.0, "L": L, "k_star": k, "k_reg": kr, "ratio_planner": r,
             "ratio_regression": rr, "mape": 0.1} for n, k, kr, r, rr in rows]


def _base(**extra):
    m = {"chain": _chain([19, 19, 19, 3, 0]), "edgenet_k_star": [{"network": "3G", "k_star": 17, "L": 17}],
         "model": "MiniAlexNet", "model_host_ms": 4.7, "edgenet_host_ms": 1.1, "host_load": IDLE,
         "regression": {"conv": {"mape": 0.3}, "linear": {"mape": 0.2}}}
    m.update(extra)
    return m


@pytest.mark.parametrize("ks, held", [([19, 19, 19, 3, 0], True), ([19, 7, 0], True), ([19, 19, 19, 19, 0], False),
                                      ([18, 19, 3, 3, 0], False), ([19, 19, 3, 3, 1], False),
                                      ([19, 19, 19, 19, 19], False)])
def test_split_moves_needs_device_then_interior_then_cloud(ks, held):
    assert _verdict("split-moves-with-bandwidth", _base(chain=_chain(ks))).passed is held


@pytest.mark.parametrize("ratios, held", [([1.0, 1.0, 1.1, 1.0, 1.0], True), ([1.0, 1.0, 1.1001, 1.0, 1.0], False)])
def test_plan_near_best_boundary(ratios, held):
    assert _verdict("plan-near-best-measured", _base(chain=_chain([19, 19, 19, 3, 0], ratios=ratios))).passed is held


@pytest.mark.parametrize("k_reg, ratios, held, why", [
    ([19, 19, 19, 3, 0], [1.0, 1.0, 1.15, 1.0, 1.0], True, ""),
    ([19, 19, 19, 3, 0], [1.0, 1.0, 1.1501, 1.0, 1.0], False, ""),
    ([19, 19, 19, 19, 19], [1.0] * 5, False, "not informative"),  # the plan never changes: nothing was tested
])
def test_regression_plan_must_change_and_be_near_best(k_reg, ratios, held, why):
    result = _verdict("regression-plan", _base(chain=_chain([19, 19, 19, 3, 0], k_reg=k_reg, ratios_reg=ratios)))
    assert result.passed is held and why in result.detail


@pytest.mark.parametrize("equal, held", [((200, 100), True), ((199, 100), False), ((200, 99), False)])
def test_mincut_equal_on_every_dag(equal, held):
    m = {"mincut": {"equal_2tier": equal[0], "n_2tier": 200, "equal_3tier": equal[1], "n_3tier": 100}}
    assert _verdict("mincut-equals-bruteforce", m).passed is held


def _cell(best, gain):
    return {"de_mbps": 10, "ec_mbps": 1, "best_measured": best, "three_tier_gain": gain}


@pytest.mark.parametrize("cells, held", [([_cell("device", -0.3), _cell("three-tier", 0.05)], True),
                                         ([_cell("three-tier", 0.049)], False), ([_cell("device", 0.2)], False)])
def test_three_tier_needs_a_cell_with_five_percent(cells, held):
    assert _verdict("three-tier-helps", _base(three_tier=cells)).passed is held


def _exits(ratio, drop):
    seed = {"seed": 0, "exit_rates": [0.5, 0.2, 0.2, 0.1], "path_host_s": [1e-4, 2e-4, 3e-4, 4e-4],
            "no_exit_host_s": 3.5e-4}
    return _base(early_exit=[seed], early_exit_latency_ratio={"mean": ratio},
                 early_exit_acc_drop_pt={"mean": drop, "per_seed": [drop]})


@pytest.mark.parametrize("ratio, drop, held", [(0.8, 1.0, True), (0.801, 0.0, False), (0.5, 1.01, False)])
def test_early_exit_latency_and_accuracy_boundaries(ratio, drop, held):
    assert _verdict("early-exit-speedup", _exits(ratio, drop)).passed is held


def _edgent_rows(met, missed, wrong_exit=0, infeasible=0):
    rows = [{"exit": 3, "brute_exit": 3, "met": True, "measured_s": 0.01, "budget_s": 0.02}] * met
    rows += [{"exit": 3, "brute_exit": 3, "met": False, "measured_s": 0.03, "budget_s": 0.02}] * missed
    rows += [{"exit": 2, "brute_exit": 1, "met": True, "measured_s": 0.01, "budget_s": 0.02}] * wrong_exit
    rows += [{"exit": None, "brute_exit": None}] * infeasible
    return _base(edgent=rows)


@pytest.mark.parametrize("rows, held", [(_edgent_rows(9, 1), True), (_edgent_rows(8, 1, infeasible=2), False),
                                        (_edgent_rows(17, 2, infeasible=3), False),
                                        (_edgent_rows(10, 0, wrong_exit=1), False), (_edgent_rows(0, 0, 0, 3), False)])
def test_edgent_budget_share_and_brute_force_exit(rows, held):
    assert _verdict("edgent-meets-budget", rows).passed is held


@pytest.mark.parametrize("diff, held", [(1e-5, True), (1.1e-5, False)])
def test_d2d_exactness_boundary(diff, held):
    m = {"d2d": {"max_abs_diff": {"fused-2": 0.0, "runtime-layerwise-4": diff}}}
    assert _verdict("d2d-equal-output", m).passed is held


def _d2d(s2, s4):
    mode = {"speedup": {"1": 1.0, "2": s2, "4": s4}, "breakdown_s": {"2": {"compute": 0.02, "link": 0.01}}}
    return _base(d2d={"T1_s": 0.03, "modes": {"fused": mode, "layerwise": copy.deepcopy(mode)}})


@pytest.mark.parametrize("s2, s4, held", [(1.3, 1.31, True), (1.2999, 2.0, False), (1.5, 1.5, False)])
def test_d2d_speedup_boundaries(s2, s4, held):
    result = _verdict("d2d-speedup-grows", _d2d(s2, s4))
    assert result.passed is held and "critical-path" in result.detail


def test_wall_clock_claims_say_when_the_host_was_loaded():
    loaded = _base(host_load={"start": [1.3, 1.0, 0.5], "end": [2.4, 1.5, 0.7], "cpus": 2})
    assert "LOADED" in _verdict("plan-near-best-measured", loaded).detail
    assert "not loaded" in _verdict("plan-near-best-measured", _base()).detail


def test_tiny_run_end_to_end(tmp_path):
    config = experiment.PRESETS["tiny"]
    metrics = experiment.run(config, [0], RunContext(tmp_path, preset="tiny"))
    m = jsonable(metrics)
    assert [c["network"] for c in m["chain"]] == [n for n, _ in config["networks"]]
    assert m["host_load"]["start"] is not None and m["host_load"]["end"] is not None
    assert m["hop_overhead_s"] > 0 and m["d2d"]["max_abs_diff"]["runtime-fused-2"] <= 1e-5
    assert all(r["exact"] for r in m["dagnet"])
    assert set(m["d2d"]["modes"]["fused"]["breakdown_s"]["2"]) >= {"compute", "serialisation", "grpc", "link"}
    for c in m["chain"]:  # every measured plan went through the runtime and k* was among them
        assert c["k_star"] in [int(k) for k in c["measured_s"]]
    for claim in get("edge-inference").claims:
        result = claim.evaluate(m)
        assert isinstance(result.passed, bool) and result.detail
    assert {p.name for p in tmp_path.rglob("*.png")} >= {"latency_vs_split.png", "d2d_breakdown.png"}
