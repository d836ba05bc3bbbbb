"""The reproduction runs end to end on a tiny config and every claim is measured."""

import json
import subprocess
import sys

import pytest

from paperzoo.core import RunContext
from paperzoo.core.parallel import parallel_map
from paperzoo.core.records import jsonable
from paperzoo.papers.dmf_saddle import experiment


def tiny_config():
    settings = [experiment._setting(8, [10.0, 5.0], d, s, f, 0.01, 20_000)
                for d, s, f in [(3, 1e-3, None), (3, 1e-3, 0.8), (3, 1e-2, None), (2, 1e-2, None)]]
    config = dict(experiment.PRESETS["quick"], settings=settings, seeds=2,
                  depth_pair=[settings[3]["name"], settings[2]["name"]], glrl_setting=settings[1]["name"],
                  figure_settings=[settings[0]["name"]], overview_settings=[s["name"] for s in settings],
                  workers=1)
    config["completion"] = dict(config["completion"], n=8, n_obs=[40], claim_n_obs=40, steps=3000, seeds=2)
    return config


def test_tiny_run_measures_every_claim(tmp_path):
    metrics = jsonable(experiment.run(tiny_config(), [0, 1], RunContext(tmp_path)))
    json.dumps(metrics)
    results = {c.id: c.evaluate(metrics) for c in experiment.PAPER.claims}
    assert len(results) == 7
    assert not any(r.detail.startswith("not measured") for r in results.values())
    assert metrics["clean_rate_by_setting"][tiny_config()["settings"][0]["name"]] == 1.0
    assert results["plateaus-at-saddle-values"].passed
    small_init = [e for e in metrics["end_certificates"] if e["setting"] == tiny_config()["settings"][0]["name"]]
    assert len(small_init) == 2 and all(e["grad_norm"] < 1e-6 and e["lambda_min"] > -1e-6 for e in small_init)
    assert results["plateaus-are-saddles"].passed
    assert metrics["origin"]["depth3"]["lambda_min"] == 0.0 and metrics["origin"]["depth2"]["lambda_min"] < 0
    assert {p.name for p in tmp_path.iterdir()} >= {"stages.png", "certificates.png", "completion.png"}
    # The claim inputs are the per-run measurements, aggregated per setting and paired as configured.
    config, settings = tiny_config(), metrics["settings"]
    for name, st in settings.items():
        assert metrics["clean_rate_by_setting"][name] == sum(st["clean"]) / 2
    assert metrics["depth3_settings"] == [s["name"] for s in config["settings"] if s["depth"] == 3]
    pair = metrics["depth_pair"]
    assert pair["clean_depth2"] == settings[config["depth_pair"][0]]["clean"]
    assert pair["clean_depth3"] == settings[config["depth_pair"][1]]["clean"]
    assert pair["fisher_p"] == experiment._depth_fisher_p(pair["clean_depth2"], pair["clean_depth3"])
    assert len(metrics["glrl_min_cosine"]) == 2
    full_clean = [r for st in settings.values() if st["fraction"] is None for r in st["runs"] if r["clean"]]
    assert len(metrics["plateau_rel_errors"]) == len(full_clean) >= 2  # rank 2: one plateau (k = 1) per clean run
    partial_clean = [r for st in settings.values() if st["fraction"] is not None for r in st["runs"] if r["clean"]]
    assert len(metrics["plateau_certificates"]) == len(full_clean) + len(partial_clean)
    assert len(metrics["end_certificates"]) == len(full_clean) + len(partial_clean)  # every setting is certified
    assert len(metrics["completion"]["40"]["depth3_wins"]) == 2
    assert set(metrics["completion"]["40"]["mse"]) == {"depth2", "depth3", "nuclear"}
    assert metrics["thresholds"]["completion_n_obs"] == 40
    assert set(experiment.PAPER.captions) == {"stages.png", "settings.png", "certificates.png", "completion.png"}


def test_runs_in_worker_processes_equal_inline_runs(tmp_path):
    config = tiny_config()
    short = dict(config["settings"][1], steps=6000)  # the GLRL setting: training, certificates and GLRL
    tasks = [(short, seed, config, False) for seed in (0, 1)]
    ctx = RunContext(tmp_path)
    assert parallel_map(experiment._run_one, tasks, 2, ctx) == parallel_map(experiment._run_one, tasks, 1, ctx)


def test_claim_fails_when_measurement_missing():
    result = experiment.PAPER.claims[0].evaluate({})
    assert not result.passed and "not measured" in result.detail


def test_experiment_import_is_light():
    code = ("import sys, paperzoo.papers.dmf_saddle.experiment, paperzoo.papers.dmf_saddle as p; "
            "assert 'torch' not in sys.modules and 'scipy' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _recording_fitters(monkeypatch):
    """Replace the fitters by recorders of the problem they are given (target, mask, DMF start)."""
    import torch

    from paperzoo.papers.dmf_saddle import baselines, training

    seen = []

    def fake_train(model, target, mask, **kwargs):
        seen.append(("dmf", target.clone(), mask.clone(), [f.detach().clone() for f in model.factors]))
        raise training.DivergenceError("recorded")

    def fake_nuclear(target, mask, tol):
        seen.append(("nuclear", target.clone(), mask.clone(), None))
        return torch.zeros_like(target)

    monkeypatch.setattr(training, "train_dmf", fake_train)
    monkeypatch.setattr(baselines, "nuclear_norm_completion", fake_nuclear)
    return seen


def test_completion_methods_see_the_same_target_and_mask(monkeypatch):
    import torch

    seen = _recording_fitters(monkeypatch)
    cfg = tiny_config()["completion"]
    for method in ("depth2", "depth3", "nuclear"):
        experiment._completion_one(cfg, 40, 1, method)
    (_, t2, m2, _), (_, t3, m3, _), (_, tn, mn, _) = seen
    assert torch.equal(t2, t3) and torch.equal(t3, tn)
    assert torch.equal(m2, m3) and torch.equal(m3, mn) and int(m2.sum()) == 40
    experiment._completion_one(cfg, 40, 2, "depth3")
    assert not torch.equal(seen[-1][1], t3)  # another seed, another problem


def test_depth_pair_settings_share_target_mask_and_seed(monkeypatch):
    import torch

    seen = _recording_fitters(monkeypatch)
    config = tiny_config()
    depth2, depth3 = (next(s for s in config["settings"] if s["name"] == name) for name in config["depth_pair"])
    for setting in (depth2, depth3, depth3):
        assert experiment._run_one(setting, 1, config, False)["diverged"]
    (_, t2, m2, f2), (_, t3, m3, f3), (_, t3b, _, f3b) = seen
    assert torch.equal(t2, t3) and torch.equal(m2, m3) and bool(m2.all())  # full observation
    assert all(torch.equal(a, b) for a, b in zip(f3, f3b, strict=True))  # same seed, same start
    assert len(f2) == 2 and len(f3) == 3 and float(f2[0].std()) == pytest.approx(float(f3[0].std()), rel=0.3)


def test_completion_counts_a_win_only_when_depth_three_beats_both(monkeypatch, tmp_path):
    mse = {(0, "depth2"): 2.0, (0, "depth3"): 1.0, (0, "nuclear"): 3.0,   # beats both
           (1, "depth2"): 0.5, (1, "depth3"): 1.0, (1, "nuclear"): 3.0,   # loses to depth 2
           (2, "depth2"): 2.0, (2, "depth3"): 1.0, (2, "nuclear"): 0.9,   # loses to nuclear
           (3, "depth2"): 1.0, (3, "depth3"): 1.0, (3, "nuclear"): 1.0}   # a tie is no win
    monkeypatch.setattr(experiment, "_completion_one", lambda cfg, n_obs, seed, method: mse[seed, method])
    config = tiny_config()
    config["completion"] = dict(config["completion"], seeds=4)
    out = experiment._completion(config, [0, 1, 2, 3], RunContext(tmp_path))
    assert out["40"]["depth3_wins"] == [True, False, False, False]
    assert out["40"]["mse"]["depth2"]["per_seed"] == [2.0, 0.5, 2.0, 1.0]
