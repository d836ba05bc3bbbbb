"""The reproduction runs end to end on a tiny config and every claim is measured."""

import json
import subprocess
import sys

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


def test_runs_in_worker_processes_equal_inline_runs(tmp_path):
    config = tiny_config()
    tasks = [(config["settings"][1], seed, config, False) for seed in (0, 1)]
    ctx = RunContext(tmp_path)
    assert parallel_map(experiment._run_one, tasks, 2, ctx) == parallel_map(experiment._run_one, tasks, 1, ctx)


def test_claim_fails_when_measurement_missing():
    result = experiment.PAPER.claims[0].evaluate({})
    assert not result.passed and "not measured" in result.detail


def test_experiment_import_is_light():
    code = ("import sys, paperzoo.papers.dmf_saddle.experiment, paperzoo.papers.dmf_saddle as p; "
            "assert 'torch' not in sys.modules and 'scipy' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
