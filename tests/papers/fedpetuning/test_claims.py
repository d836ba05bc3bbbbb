"""The fedpetuning claim checks on hand-made metrics: they pass and fail where they should."""

from paperzoo.papers.fedpetuning.experiment import PAPER


def _claim(claim_id):
    return next(c for c in PAPER.claims if c.id == claim_id)


def _metrics(ft_valid_curve, lora_mb, ft_mb=(900.0, 900.0)):
    runs = [{"method": "full", "alpha": 1.0, "seed": s, "valid_accuracy": ft_valid_curve,
             "best_valid_accuracy": max(ft_valid_curve)} for s in (0, 1)]
    return {"mb_to_target": {"full": list(ft_mb), "lora": list(lora_mb)}, "runs": runs}


def test_mb_to_target_passes_when_lora_is_cheaper_and_ft_learned():
    result = _claim("mb-to-target").evaluate(_metrics([0.23, 0.5, 0.8], [3.0, 4.0]))
    assert result.passed and result.observed == 257.1


def test_mb_to_target_fails_when_ft_never_learned():
    # FT at its starting accuracy makes "95% of FT's best" trivial to reach: not a measurement
    result = _claim("mb-to-target").evaluate(_metrics([0.23, 0.23, 0.24], [3.0, 4.0]))
    assert not result.passed and "not measurable" in result.detail


def test_mb_to_target_fails_when_lora_never_reaches_the_target():
    assert not _claim("mb-to-target").evaluate(_metrics([0.23, 0.5, 0.8], [None, 4.0])).passed
