import json

import numpy as np
import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.papers.noise_qat import experiment


def _paired_block(diffs):
    from paperzoo.papers.noise_qat.experiment import _paired

    return _paired([d for d in diffs], [0.0] * len(diffs))


def _metrics(diffs):
    block = _paired_block(diffs)
    summary = {"mean": 1.0, "std": 0.0, "ci95": [1.0, 1.0], "per_seed": [1.0]}
    return {"nt_vs_lsq_acc": block, "lsq_minus_nt_sharpness": block, "lsq_minus_nt_instability": block,
            "primary_setting": "mlp-w2a2", "selected_lambda0": 1.0, "lsq_acc": summary, "nt_acc": summary,
            "ptq_acc": summary, "fp32_acc": summary}


def test_claims_need_a_significant_positive_paired_difference_over_ten_seeds():
    paper = get("noise-qat")
    held = [c.evaluate(_metrics([0.5 + 0.1 * i for i in range(10)])) for c in paper.claims]
    assert all(r.passed for r in held) and held[0].observed["p"] < 0.05
    mixed = [c.evaluate(_metrics([(-1) ** i * 0.5 for i in range(10)])) for c in paper.claims]
    assert not any(r.passed for r in mixed)
    few = [c.evaluate(_metrics([1.0, 2.0, 3.0])) for c in paper.claims]
    assert not any(r.passed for r in few) and "fewer than 10 seeds" in few[0].detail
    assert not paper.claims[0].evaluate({}).passed  # nothing measured, nothing held


def test_tiny_run_produces_metrics_and_figures(tmp_path):
    config = {**experiment.PRESETS["quick"], "seeds": 2, "fp_epochs": 1, "qat_epochs": 2, "mlp_hidden": [16],
              "sharpness_draws": 2, "sharpness_samples": 100, "instability_epochs": 2, "additive": True,
              "lambda0_grid": [0.5, 4.0]}
    metrics = jsonable(experiment.run(config, [0, 1], RunContext(tmp_path)))
    json.dumps(metrics)
    # lambda0 is the best on validation; the claims' paired differences are taken the right way round.
    val = metrics["val_acc_by_lambda0"]
    assert set(val) == {"0.5", "4.0"} and val["0.5"] != val["4.0"]  # no tie, so the pick is informative
    assert val[str(metrics["selected_lambda0"])] == max(val.values())
    nt = experiment._nt_name(metrics["selected_lambda0"])
    acc = {m: np.array(v["per_seed"]) for m, v in metrics["test_acc_by_setting"]["mlp-w2a2"].items()}
    assert metrics["nt_acc"]["per_seed"] == pytest.approx(acc[nt])
    assert metrics["nt_vs_lsq_acc"]["diff"]["per_seed"] == pytest.approx(acc[nt] - acc["lsq"])
    assert metrics["additive_vs_lsq_acc"]["diff"]["per_seed"] == pytest.approx(acc["additive"] - acc["lsq"])
    sharp = {m: np.array(metrics["sharpness"][m]["0.05"]["per_seed"]) for m in ("lsq", nt)}
    assert metrics["lsq_minus_nt_sharpness"]["diff"]["per_seed"] == pytest.approx(sharp["lsq"] - sharp[nt])
    unstable = {m: np.array(metrics["instability"][m]["per_seed"]) for m in ("lsq", nt)}
    assert metrics["lsq_minus_nt_instability"]["diff"]["per_seed"] == pytest.approx(unstable["lsq"] - unstable[nt])
    assert set(metrics["sharpness"]) == {"lsq", nt, "additive"}
    assert metrics["integer_max_abs_diff"] < 1e-4
    assert 0 <= metrics["ptq_acc"]["mean"] <= 100
    assert {p.name for p in tmp_path.iterdir()} == {"paired_accuracy.png", "sharpness_vs_rho.png",
                                                   "lambda_schedule.png", "validation_curves.png"}
    assert set(experiment.PAPER.captions) == {p.name for p in tmp_path.iterdir()}
    assert experiment.PRESETS["quick"]["seeds"] >= 10 and experiment.PRESETS["full"]["seeds"] >= 10


def test_compared_methods_start_from_one_fp32_model_and_see_one_data_order(monkeypatch, tmp_path):
    import torch

    from paperzoo.papers.noise_qat import layers, training

    seen = {}
    real_quantize, real_train = layers.quantize_model, training.train_qat

    def quantize(model, w_bits, a_bits, kind="lsq", **kwargs):
        qmodel = real_quantize(model, w_bits, a_bits, kind, **kwargs)
        qmodel._paperzoo_kind = (kind, kwargs.get("lambda0"), kwargs.get("noise"), kwargs.get("noise_seed"))
        return qmodel

    def train(qmodel, X, y, X_val, y_val, epochs, bs, lr, data_seed):
        weights = {k: v.clone() for k, v in qmodel.state_dict().items() if k.endswith(("weight", "bias"))}
        seen[qmodel._paperzoo_kind] = {"data_seed": data_seed, "weights": weights, "X": X, "y": y}
        return real_train(qmodel, X, y, X_val, y_val, epochs, bs, lr, data_seed=data_seed)

    monkeypatch.setattr(layers, "quantize_model", quantize)
    monkeypatch.setattr(training, "train_qat", train)
    gen = torch.Generator().manual_seed(0)
    data = {"Xtr": torch.randn(192, 40, generator=gen), "ytr": torch.randint(0, 10, (192,), generator=gen),
            "Xva": torch.randn(64, 40, generator=gen), "yva": torch.randint(0, 10, (64,), generator=gen)}
    data |= {"Xte": data["Xva"], "yte": data["yva"]}
    config = {**experiment.PRESETS["quick"], "fp_epochs": 1, "qat_epochs": 1, "mlp_hidden": [8], "sharpness_draws": 1,
              "sharpness_samples": 32, "instability_epochs": 1, "lambda0_grid": [0.5, 1.0],
              "variants": [{"noise": "gaussian"}], "additive": True}
    out = experiment._train_setting("mlp", 2, 3, config, data, RunContext(tmp_path))
    assert set(out) == {"fp32", "ptq", "lsq", "nt-l0.5", "nt-l1", "nt-gaussian-l1", "additive"}
    assert len(seen) == 5
    lsq = seen["lsq", None, None, 3003]
    for kind, run in seen.items():
        assert kind[3] == 3003  # one noise seed per (setting, seed)
        assert run["data_seed"] == lsq["data_seed"] == 3002
        assert run["X"] is data["Xtr"] and run["y"] is data["ytr"]
        assert run["weights"].keys() == lsq["weights"].keys()
        assert all(torch.equal(run["weights"][k], lsq["weights"][k]) for k in lsq["weights"])
