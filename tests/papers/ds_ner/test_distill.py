import numpy as np
import pytest
import torch
from sklearn.svm import OneClassSVM
from torch import nn

from paperzoo.papers.ds_ner import (
    adaptive_kd_weights,
    cosine_momentum,
    distill_kl,
    ema_,
    fine_grained_ema_,
    soft_frequency,
)


def test_soft_frequency_rows_sum_to_one_and_sharpen():
    logits = torch.randn(50, 9, generator=torch.Generator().manual_seed(0))
    q = soft_frequency(logits)
    assert torch.allclose(q.sum(-1), torch.ones(50), atol=1e-6)
    p = logits.softmax(-1)
    # Squaring sharpens: the mean max probability rises.
    assert q.max(-1).values.mean() > p.max(-1).values.mean()


def test_soft_frequency_discounts_frequent_classes():
    # Two tokens equally unsure between classes 0 and 1; class 0 is frequent in the batch.
    logits = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.99, 0.01], [0.99, 0.01]]))
    q = soft_frequency(logits)
    assert q[0, 1] > q[0, 0]


def test_soft_frequency_rejects_wrong_shape():
    with pytest.raises(ValueError, match="logits"):
        soft_frequency(torch.zeros(2, 3, 4))


def test_distill_kl_zero_for_equal_logits_positive_otherwise():
    a = torch.randn(10, 5, generator=torch.Generator().manual_seed(1))
    assert float(distill_kl(a, a.clone())) == pytest.approx(0.0, abs=1e-6)
    b = torch.randn(10, 5, generator=torch.Generator().manual_seed(2))
    assert float(distill_kl(a, b)) > 0
    # Bounded below by 0 for any logits (the reference's raw-logit KLDivLoss was not).
    assert float(distill_kl(a * 50, b * 50)) >= 0
    assert float(distill_kl(torch.zeros(0, 5), torch.zeros(0, 5))) == 0.0


def test_distill_kl_scales_with_temperature_squared_formula():
    s, t = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    ps, pt = (s / 2).softmax(-1), (t / 2).softmax(-1)
    expected = 4 * float((pt * (pt.log() - ps.log())).sum())
    assert float(distill_kl(s, t, temperature=2.0)) == pytest.approx(expected, rel=1e-5)


def _sklearn_weights(g, nu):
    gram = g @ g.T
    svm = OneClassSVM(kernel="precomputed", nu=nu, tol=1e-10).fit(gram)
    w = np.zeros(len(g))
    w[svm.support_] = svm.dual_coef_[0]
    return w / w.sum()


def test_adaptive_weights_match_one_class_svm_and_stay_in_box():
    rng = np.random.default_rng(0)
    for case in range(300):
        g = rng.normal(size=(2, 9)) * rng.uniform(0.01, 10)
        if case % 3 == 0:
            g[1] = g[0] * rng.uniform(0.2, 3) + rng.normal(size=9) * 0.1  # nearly parallel gradients
        w = adaptive_kd_weights(torch.tensor(g), nu=0.75).double().numpy()
        assert w.sum() == pytest.approx(1.0)
        assert 1 / 3 - 1e-6 <= w[0] <= 2 / 3 + 1e-6
        assert w == pytest.approx(_sklearn_weights(g, 0.75), abs=1e-4)


def test_adaptive_weights_minimise_the_combined_gradient():
    g = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    w = adaptive_kd_weights(g, nu=1.0)  # box [1/2, 1/2]... nu=1 forces equal weights
    assert torch.allclose(w, torch.tensor([0.5, 0.5]))
    w = adaptive_kd_weights(g, nu=0.5)  # no box: the min-norm point weights the small gradient more
    assert float(w[0]) == pytest.approx(0.9, abs=1e-6)


def test_adaptive_weights_three_teachers_via_svm():
    g = torch.randn(3, 6, generator=torch.Generator().manual_seed(3))
    w = adaptive_kd_weights(g, nu=0.5)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-5) and float(w.max()) <= 2 / 3 + 1e-4


def test_adaptive_weights_bad_input():
    with pytest.raises(ValueError, match="grads"):
        adaptive_kd_weights(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="nu"):
        adaptive_kd_weights(torch.zeros(2, 3), nu=0.2)


def test_cosine_momentum_endpoints():
    assert cosine_momentum(0, 100, 0.8) == pytest.approx(0.8)
    assert cosine_momentum(100, 100, 0.8) == pytest.approx(1.0)
    assert cosine_momentum(50, 100, 0.8) == pytest.approx(0.9)
    values = [cosine_momentum(s, 100, 0.75) for s in range(101)]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))


def _pair(seed):
    torch.manual_seed(seed)
    teacher, student = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    return teacher, student


def test_fine_grained_ema_with_prob_one_is_plain_ema_and_zero_changes_nothing():
    teacher, student = _pair(0)
    plain = [p.clone() for p in teacher.parameters()]
    m = fine_grained_ema_(teacher, student, step=10, total=100, base=0.8, update_prob=1.0,
                          generator=torch.Generator().manual_seed(0))
    reference, _ = _pair(0)
    ema_(reference, student, m)
    for a, b in zip(teacher.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(a, b)
    assert any(not torch.allclose(a, b) for a, b in zip(teacher.parameters(), plain, strict=True))
    before = [p.clone() for p in teacher.parameters()]
    fine_grained_ema_(teacher, student, 10, 100, 0.8, update_prob=0.0, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(teacher.parameters(), before, strict=True))


def test_fine_grained_ema_updates_some_fragments_and_skips_frozen():
    teacher, student = _pair(1)
    student[0].weight.requires_grad_(False)
    before = [p.clone() for p in teacher.parameters()]
    changed = torch.zeros(4)
    for seed in range(40):
        fine_grained_ema_(teacher, student, 0, 10, 0.5, update_prob=0.5, generator=torch.Generator().manual_seed(seed))
        changed += torch.tensor([float(not torch.equal(a, b)) for a, b in zip(teacher.parameters(), before,
                                                                               strict=True)])
        before = [p.clone() for p in teacher.parameters()]
    assert changed[0] == 0  # frozen tensor skipped
    assert 5 < changed[1] < 35  # each other fragment updated about half of the time
    # Same generator seed, same coin flips.
    a, s = _pair(2)
    b, _ = _pair(2)
    fine_grained_ema_(a, s, 3, 10, 0.8, 0.5, torch.Generator().manual_seed(7))
    fine_grained_ema_(b, s, 3, 10, 0.8, 0.5, torch.Generator().manual_seed(7))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def test_fine_grained_ema_bad_input():
    teacher, student = _pair(0)
    with pytest.raises(ValueError, match="update_prob"):
        fine_grained_ema_(teacher, student, 0, 10, 0.8, update_prob=1.5)
