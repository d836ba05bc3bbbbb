"""run() end to end on the tiny preset: one Flower simulation (Ray), every method, both alphas."""

from paperzoo.core.context import RunContext
from paperzoo.papers.fedpetuning.experiment import PAPER


def test_run_on_the_tiny_preset_end_to_end(tmp_path):
    config = PAPER.presets["tiny"]
    ctx = RunContext(tmp_path)
    metrics = PAPER.run(config, [0], ctx)
    methods = config["methods"]
    assert set(metrics["accuracy"]) == set(methods)
    comm = metrics["communication"]
    for name in methods:  # every round's measured bytes equal Flower's framing of the trainable tensors
        assert comm[name]["rounds_exact"] == comm[name]["rounds"] == 2, name
    assert comm["lora"]["reduction_vs_full"] > 50
    assert comm["head"]["trainable_params"] < comm["lora"]["trainable_params"]
    assert metrics["pet_minus_ft_gap"]["chosen_on"] == "validation"
    assert 0 <= metrics["tfidf_lr_accuracy"]["mean"] <= 100 and metrics["central_ft_accuracy"] is not None
    assert {r["method"] for r in metrics["runs"]} == set(methods) and len(metrics["runs"]) == 12
    for claim in PAPER.claims:
        result = claim.evaluate(metrics)
        assert isinstance(result.passed, bool) and result.detail
    for name in PAPER.captions:
        assert (tmp_path / name).exists(), name
