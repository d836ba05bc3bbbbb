"""Claim verdicts at their boundaries, the pairing of compared methods, and run() on the tiny preset."""

import json

import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.core.stats import paired_t, summarize
from paperzoo.papers.fedmgd import experiment


def _verdict(claim_id, metrics):
    claim = next(c for c in get("fedmgd").claims if c.id == claim_id)
    return claim.evaluate(jsonable(metrics))


def _gain(per_seed):
    g = summarize(per_seed)
    if len(per_seed) > 1:
        g["paired_t"] = {"p": paired_t(per_seed, [0.0] * len(per_seed), alternative="greater").pvalue}
    return g


def _base(strong=(3.2, 3.1, 3.0, 3.3, 3.4), iid=(0.1, -0.2, 0.3, 0.0, 0.1), argmax=(0.9,) * 5, random=(0.8,) * 5,
          per_class=(0.9,) * 10):
    return {"strong_alpha": "0.05", "gain_vs_fedavg": {"0.05": _gain(list(strong)), "iid": _gain(list(iid))},
            "fidelity": {"argmax": {"per_class": list(per_class), "mean_per_seed": list(argmax)},
                         "random": {"per_class": [0.5] * 10, "mean_per_seed": list(random)}}}


@pytest.mark.parametrize("strong, held", [((3.2, 3.1, 3.0, 3.3, 3.4), True),
                                          ((2.9, 3.0, 2.95, 3.05, 2.99), False),   # mean just below 3
                                          ((12.0, -5.0, 10.0, -4.0, 3.0), False)])  # mean 3.2 but p > 0.05
def test_beats_fedavg_needs_three_points_and_a_significant_paired_test(strong, held):
    assert _verdict("beats-fedavg-strong-skew", _base(strong=strong)).passed is held


@pytest.mark.parametrize("iid, held", [((0.1, -0.2, 0.3, 0.0, 0.1), True), ((1.5, 1.5, 1.5, 1.5, 1.5), True),
                                       ((1.6, 1.5, 1.5, 1.5, 1.5), False), ((-1.6, -1.5, -1.5, -1.5, -1.5), False),
                                       ((3.5, 3.5, 3.5, 3.5, 3.5), False)])
def test_gain_shrinks_boundaries(iid, held):
    m = _base(iid=iid)
    if held and min(iid) == 1.5:
        m = _base(strong=(2.0,) * 5, iid=iid)  # strong gain need not be significant for this claim
    assert _verdict("gain-shrinks", m).passed is held


def test_gain_shrinks_fails_when_the_strong_gain_is_not_larger():
    assert not _verdict("gain-shrinks", _base(strong=(0.0,) * 5, iid=(0.5,) * 5)).passed


@pytest.mark.parametrize("argmax, random, held", [((0.9, 0.9, 0.9, 0.9, 0.7), (0.8,) * 5, True),
                                                  ((0.9, 0.9, 0.9, 0.7, 0.7), (0.8,) * 5, False),
                                                  ((0.8,) * 5, (0.8,) * 5, False),  # ties are not wins
                                                  ((0.9,) * 4, (0.8,) * 4, False)])  # fewer than 5 seeds
def test_best_client_judging_needs_four_of_five_seeds(argmax, random, held):
    assert _verdict("best-client-judging", _base(argmax=argmax, random=random)).passed is held


@pytest.mark.parametrize("per_class, held", [((0.8,) * 10, True), ((0.95,) * 9 + (0.5,), True),
                                             ((0.95,) * 9 + (0.49,), False), ((0.79,) * 10, False)])
def test_covers_union_boundaries(per_class, held):
    assert _verdict("covers-union", _base(per_class=per_class)).passed is held


def test_missing_metrics_fail_as_not_measured():
    result = _verdict("covers-union", {"strong_alpha": "0.05"})
    assert not result.passed and "not measured" in result.detail


def test_tasks_pair_every_method_on_the_same_seeds_and_partitions():
    config = experiment.PRESETS["quick"]
    tasks = experiment._tasks(config, [0, 1, 2, 3, 4])
    keys = {(t[1], experiment.alpha_key(t[2]), t[3]) for t in tasks}
    for seed in range(5):
        for a in ("0.05", "iid"):
            assert {("fedmgd", a, seed), ("fedavg", a, seed)} <= keys
        assert ("random-k", "0.05", seed) in keys and ("random-k", "iid", seed) not in keys
    s_mgd = experiment._settings(config, 0.05, 3)
    s_avg = experiment._settings(config, 0.05, 3)
    assert s_mgd == s_avg and s_mgd.rounds == 30 and s_mgd.local_epochs == 1  # same data, rounds x epochs


def test_run_tiny_end_to_end(tmp_path):
    config = experiment.PRESETS["tiny"]
    ctx = RunContext(tmp_path)
    metrics = experiment.run(config, [0, 1], ctx)
    json.dumps(jsonable(metrics))
    acc = metrics["accuracy"]
    for a in ("0.05", "iid"):
        diffs = [m - b for m, b in zip(acc["fedmgd"][a]["per_seed"], acc["fedavg"][a]["per_seed"], strict=True)]
        assert metrics["gain_vs_fedavg"][a]["per_seed"] == pytest.approx(diffs)  # paired by seed
    assert metrics["cost"]["fedmgd@0.05"]["bytes_gas"] > 0 and metrics["cost"]["fedavg@0.05"]["bytes_gas"] == 0
    assert metrics["cost"]["fedmgd@0.05"]["bytes_fes"] == metrics["cost"]["fedavg@0.05"]["bytes_fes"]
    rel = metrics["reliability"]
    assert rel["gas_dropped"] == 1 and rel["failures"] == 1 and 0 <= rel["accuracy"] <= 1
    assert len(metrics["fidelity"]["argmax"]["per_class"]) == 10
    for name in ("accuracy_vs_alpha.png", "generated_samples.png", "fidelity_per_class.png",
                 "screening_acceptance.png", "bytes_per_stage.png"):
        assert (tmp_path / name).exists()
        assert name in get("fedmgd").captions
    for claim in get("fedmgd").claims:
        claim.evaluate(jsonable(metrics))  # every claim evaluates on real metrics
