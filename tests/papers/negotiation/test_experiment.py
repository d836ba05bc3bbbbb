import json

import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.papers.negotiation import experiment


def _claim(claim_id):
    return next(c for c in get("negotiation").claims if c.id == claim_id)


def _verdict(claim_id, metrics):
    return _claim(claim_id).evaluate(jsonable(metrics))


def _base(**extra):
    side = {"agreement": 0.8, "score_agreed": 6.0}
    per_seed = [{"seed": s, "score_gain": 0.4, "heldout": {"rl": side, "sl": side}} for s in (0, 1)]
    return {"full_studies": False, "per_seed": per_seed, "rl_score_all": 7.0, "sl_score_all": 6.6, **extra}


@pytest.mark.parametrize("mean, low, held", [(0.3, 0.01, True), (0.29, 0.1, False), (0.5, 0.0, False),
                                              (0.5, -0.2, False), (float("nan"), 0.1, False)])
def test_rl_beats_supervised_needs_gain_and_ci(mean, low, held):
    m = _base(rl_minus_sl_score={"mean": mean, "ci95": [low, 1.0], "n": 800})
    assert _verdict("rl-beats-supervised", m).passed is held


@pytest.mark.parametrize("changes, held", [([-0.1, -0.01], True), ([-0.5, 0.0], False), ([0.2, -0.3], False),
                                           ([], False)])
def test_rl_exploits_partner_in_every_seed(changes, held):
    assert _verdict("rl-exploits-partner", _base(rl_partner_change=changes)).passed is held


@pytest.mark.parametrize("agree, score, held", [(-0.01, 0.01, True), (-0.009, 0.5, False), (-0.2, 0.0, False),
                                                (-0.05, -0.1, False)])
def test_rl_agrees_less_boundaries(agree, score, held):
    m = _base(heldout_agreement_change=agree, heldout_score_agreed_change=score)
    assert _verdict("rl-agrees-less", m).passed is held


def _pareto(**ratios):
    rates = {"sl": 2.5, "rl": 2.5, "boulware": 3.0, "conceder": 2.0, "random": 1.2, **ratios}
    return _base(pareto={k: {"rate": 0.2 * r, "base": 0.2, "ratio": r} for k, r in rates.items()})


@pytest.mark.parametrize("ratios, held", [({}, True), ({"conceder": 1.99}, False), ({"rl": 1.5}, False),
                                          ({"random": 1.5}, False), ({"boulware": float("nan")}, False)])
def test_pareto_above_chance_boundaries(ratios, held):
    assert _verdict("pareto-above-chance", _pareto(**ratios)).passed is held


def test_pareto_agent_without_deals_fails_and_says_so():
    result = _verdict("pareto-above-chance", _pareto(boulware=float("nan")))
    assert not result.passed and "boulware no deals in self-play" in result.detail


def _bvc(b, c):
    keys = ("score_agreed", "length", "agreement")
    price = {k: 0.5 for k in keys}
    sides = {"boulware": dict(zip(keys, b, strict=True)), "conceder": dict(zip(keys, c, strict=True))}
    return _base(boulware_vs_conceder=sides,
                 boulware_vs_conceder_price={"boulware": price, "conceder": price})


@pytest.mark.parametrize("b, c, held", [((8, 9, 0.9), (6, 4, 0.9), True), ((8, 9, 0.9), (8, 4, 0.95), False),
                                        ((8, 4, 0.9), (6, 4, 0.95), False), ((8, 9, 0.95), (6, 4, 0.94), False)])
def test_boulware_vs_conceder_boundaries(b, c, held):
    assert _verdict("boulware-vs-conceder", _bvc(b, c)).passed is held


def _parse(items_rt=1.0, items_para=0.9, price_rt=1.0, price_para=0.95):
    return _base(parse={"items": {"round_trip": items_rt, "round_trip_n": 1000, "paraphrase_accuracy": items_para,
                                  "paraphrase_n": 120},
                        "price": {"round_trip": price_rt, "round_trip_n": 1000, "paraphrase_accuracy": price_para,
                                  "paraphrase_n": 135}})


@pytest.mark.parametrize("kwargs, held", [({}, True), ({"items_rt": 0.999}, False), ({"price_para": 0.89}, False)])
def test_acts_parse_boundaries(kwargs, held):
    assert _verdict("acts-parse", _parse(**kwargs)).passed is held


def test_full_only_claims_are_not_run_at_quick_and_judged_at_full():
    for claim_id in ("rollouts-help", "utility-fairness-tradeoff", "end-to-end-drifts"):
        result = _verdict(claim_id, _base())
        assert not result.passed and result.detail == "not run: at quick (full preset only)"
        assert result.status == "not run"
    pair = {"mean": 0.2, "ci95": [0.05, 0.4], "n": 800}
    full = _base(full_studies=True, rollouts_minus_sl_score=pair, rollouts_minus_sl_pareto_deals=pair,
                 act_rl={"margin": {"utility": 0.6, "agreement": 0.5, "fairness": -0.4, "length": 9},
                         "fair": {"utility": 0.5, "agreement": 0.7, "fairness": -0.1, "length": 8}},
                 e2e={"before": 0.9, "after": 0.85, "modular": 1.0})
    assert all(_verdict(c, full).passed for c in ("rollouts-help", "utility-fairness-tradeoff", "end-to-end-drifts"))
    worse = {**full, "e2e": {"before": 0.9, "after": 0.86, "modular": 1.0},
             "rollouts_minus_sl_pareto_deals": {"mean": 0.1, "ci95": [-0.01, 0.2], "n": 800},
             "act_rl": {**full["act_rl"], "fair": {**full["act_rl"]["fair"], "agreement": 0.5}}}
    assert not any(_verdict(c, worse).passed for c in ("rollouts-help", "utility-fairness-tradeoff",
                                                       "end-to-end-drifts"))
    assert not _claim("rl-beats-supervised").evaluate({}).passed  # nothing measured, nothing held


def _tiny(preset):
    cfg = {**experiment.PRESETS[preset], "train_scenarios": 100, "test_scenarios": 24, "curve_scenarios": 8,
           "sl": {**experiment.PRESETS["quick"]["sl"], "epochs": 2}, "rl": {**experiment.PRESETS["quick"]["rl"],
                                                                             "dialogues": 64},
           "curve_every": 32, "tournament_scenarios": 4, "price_listings": 6, "parse_acts": 50, "paraphrase_draws": 1,
           "bootstrap": 100, "concession_scenarios": 6, "workers": 1}
    if preset == "full":
        cfg.update(rollouts={"candidates": 2, "rollouts": 2},
                   act_rl={"dialogues": 16, "rewards": ["margin", "fair", "length"], "price_train": 30},
                   e2e={"epochs": 1, "rl_dialogues": 3, "lr": 1e-3, "eval_games": 3})
    return cfg


def test_tiny_run_end_to_end_with_the_full_studies(tmp_path):
    """The full preset's code paths include the quick ones: one tiny run covers both."""
    metrics = jsonable(experiment.run(_tiny("full"), [0, 1], RunContext(tmp_path)))
    json.dumps(metrics, allow_nan=False)
    assert len(metrics["per_seed"]) == 2 and metrics["rl_minus_sl_score"]["n"] == 2 * 24 * 2
    assert set(metrics["pareto"]) >= {"sl", "rl", "boulware", "conceder@0.3", "random"}
    assert metrics["parse"]["items"]["round_trip"] == 1.0
    assert len(metrics["rl_curve"][0]) == 3 and metrics["rl_curve"][0][-1]["parse_rate"] == 1.0
    assert set(metrics["act_rl"]) == {"supervised", "margin", "fair", "length"}
    assert set(metrics["e2e"]) == {"before", "after", "modular"} and metrics["e2e"]["modular"] == 1.0
    assert metrics["rollouts_minus_sl_score"]["n"] == 2 * 24 * 2
    names = {p.name for p in tmp_path.iterdir()}
    assert names == set(get("negotiation").captions) | {"tournament_items.jsonl", "tournament_price.jsonl"}
    assert all(c.evaluate(metrics).status != "not run" for c in get("negotiation").claims)
    quick = {**metrics, "full_studies": False}
    assert _claim("rollouts-help").evaluate(quick).status == "not run"


def test_presets_follow_the_spec():
    quick, full = experiment.PRESETS["quick"], experiment.PRESETS["full"]
    assert quick["seeds"] == 2 and full["seeds"] == 5
    assert quick["rl"]["dialogues"] == 4000 and full["rl"]["dialogues"] == 20_000 and quick["rl"]["batch"] == 32
    assert (quick["train_scenarios"], quick["test_scenarios"], quick["price_listings"]) == (2000, 400, 300)
    assert full["rollouts"] == {"candidates": 10, "rollouts": 5} and full["act_rl"]["dialogues"] == 10_000
    assert not quick["full_studies"] and full["full_studies"]
