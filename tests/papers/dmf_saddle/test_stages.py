"""The clean-run rule on synthetic histories: a stage counts only with a loss plateau before the next."""

import numpy as np
import pytest

from paperzoo.papers.dmf_saddle.stages import check_clean, detect_stages, find_plateaus
from paperzoo.papers.dmf_saddle.training import History


def history(onsets, steps=4000, every=50):
    """sigma_k jumps from 0 to its target at onsets[k]; the loss and gradient are flat between jumps and
    spike (gradient) for one logged step at each jump."""
    t = np.arange(0, steps + 1, every)
    targets = [10.0, 6.0, 3.0][:len(onsets)]
    sv = np.zeros((len(t), 4))
    loss = np.full(len(t), 0.5 * sum(s * s for s in targets))
    grad = np.full(len(t), 1e-4)
    for k, onset in enumerate(onsets):
        after = t >= onset
        sv[after, k] = targets[k]
        loss[after] = 0.5 * sum(s * s for s in targets[k + 1:]) + 1e-3
        grad[(t >= onset - every) & (t <= onset)] = 1.0
    return History(steps=t, loss=loss, grad_norm=grad, singular_values=sv, lr=0.01)


def test_stages_with_a_plateau_between_are_clean():
    hist = history([500, 1500])
    stages = detect_stages(hist)
    assert [(s.step, s.rank, s.jump) for s in stages] == [(500, 1, 1), (1500, 2, 1)]
    assert check_clean(hist, stages, 2) == (True, "clean")


def test_onsets_without_a_plateau_between_are_not_clean():
    hist = history([500, 600])  # 100 steps apart: shorter than the 200-step plateau window
    stages = detect_stages(hist)
    assert [s.jump for s in stages] == [1, 1] and stages[-1].rank == 2  # rank rises one at a time ...
    clean, reason = check_clean(hist, stages, 2)
    assert not clean and reason == "0 loss plateaus between onsets at steps 500 and 600"  # ... but no plateau


def test_plateau_needs_a_small_gradient():
    hist = history([500, 1500])
    hist.grad_norm[(hist.steps > 600) & (hist.steps < 1400)] = 0.5  # flat loss, gradient not small
    assert not any(600 < p.start < 1400 for p in find_plateaus(hist))
    assert not check_clean(hist, detect_stages(hist), 2)[0]


@pytest.mark.parametrize("onsets, rank", [([500, 1500], 3), ([500], 2)])
def test_runs_that_miss_the_target_rank_are_not_clean(onsets, rank):
    hist = history(onsets)
    assert not check_clean(hist, detect_stages(hist), rank)[0]
