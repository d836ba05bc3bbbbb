"""The method: analytic gradients, stages, plateau values, certificates, baselines, bad input."""

import numpy as np
import pytest
import torch

from paperzoo.papers.dmf_saddle import (
    DeepMatrixFactorization,
    DivergenceError,
    DMFHessian,
    check_clean,
    detect_stages,
    dmf_loss,
    factor_gradients,
    glrl,
    low_rank_matrix,
    nuclear_norm_completion,
    observation_mask,
    second_order_check,
    train_dmf,
    truncated_svd,
)
from paperzoo.papers.dmf_saddle.training import _product


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_closed_form_hessian_equals_autograd(depth):
    gen = torch.Generator().manual_seed(depth)
    dims = [5, 4, 6, 3, 7][:depth + 1]  # non-square factors and product
    factors = [torch.randn(dims[j + 1], dims[j], generator=gen, dtype=torch.float64) for j in range(depth)]
    target = torch.randn(dims[-1], dims[0], generator=gen, dtype=torch.float64)
    mask = observation_mask(target.shape, fraction=0.6, seed=depth).double()
    sizes = [f.numel() for f in factors]

    def loss(theta):
        parts = [p.reshape(f.shape) for p, f in zip(torch.split(theta, sizes), factors, strict=True)]
        return 0.5 * ((mask * (_product(parts) - target)) ** 2).sum()

    theta = torch.cat([f.reshape(-1) for f in factors])
    reference = torch.func.hessian(loss)(theta)
    hessian = DMFHessian(factors, target, mask)
    vector = torch.randn(theta.numel(), generator=gen, dtype=torch.float64)
    torch.testing.assert_close(hessian.matrix(), reference, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(hessian.matvec(vector), reference @ vector, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(hessian.gradient(), torch.func.grad(loss)(theta), rtol=1e-12, atol=1e-12)
    assert hessian.loss() == pytest.approx(float(loss(theta)), rel=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_analytic_gradient_equals_autograd(depth):
    target = torch.randn(5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mask = observation_mask((5, 7), fraction=0.5, seed=2)
    model = DeepMatrixFactorization((5, 7), depth=depth, init_scale=0.5, seed=3, width=4 if depth > 1 else None)
    dmf_loss(model, target, mask).backward()
    with torch.no_grad():
        grads, residual = factor_gradients([p.data for p in model.factors], target, mask.double())
    for param, grad in zip(model.factors, grads, strict=True):
        torch.testing.assert_close(grad, param.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(residual, mask * (model.end_to_end().detach() - target))


def test_plateau_value_and_saddle_on_tiny_full_observation_case():
    target = low_rank_matrix(8, [10, 5], seed=0)
    model = DeepMatrixFactorization(target.shape, depth=3, init_scale=1e-3, seed=0)
    hist = train_dmf(model, target, None, lr=0.01, steps=12_000, checkpoints=[7000])
    stages = detect_stages(hist)
    assert [s.rank for s in stages] == [1, 2]
    assert check_clean(hist, stages, 2) == (True, "clean")
    assert stages[0].loss == pytest.approx(0.5 * 5**2, rel=1e-3)  # the rank-1 critical point: ½σ₂²
    plateau_point = hist.checkpoints[7000]
    assert stages[0].plateau.start < 7000 < stages[0].plateau.end
    torch.testing.assert_close(_product(plateau_point), truncated_svd(target, 1), atol=2e-3, rtol=0)
    cert = second_order_check(plateau_point, target)
    assert cert.method == "exact" and cert.grad_norm < 1e-2 and cert.lambda_min < -1e-3
    lanczos = second_order_check(plateau_point, target, method="lanczos")
    assert lanczos.lambda_min == pytest.approx(cert.lambda_min, rel=1e-6)
    assert lanczos.lambda_max == pytest.approx(cert.lambda_max, rel=1e-6)


def test_seeded_setup_has_r_stages_and_ends_second_order():
    target = low_rank_matrix(20, [10, 6, 3], seed=0)
    model = DeepMatrixFactorization(target.shape, depth=3, init_scale=1e-3, seed=0)
    hist = train_dmf(model, target, None, lr=0.01, steps=30_000)
    stages = detect_stages(hist)
    assert [s.rank for s in stages] == [1, 2, 3] and check_clean(hist, stages, 3)[0]
    assert [len(detect_stages(hist, tau)) for tau in (0.05, 0.1, 0.3)] == [3, 3, 3]
    assert 2000 < stages[0].step < stages[1].step < stages[2].step < 12_000
    assert [s.loss for s in stages[:2]] == pytest.approx([0.5 * (36 + 9), 0.5 * 9], rel=1e-3)
    cert = second_order_check(model, target)
    assert cert.is_second_order(grad_tol=1e-6, eig_tol=1e-6)
    assert np.all(np.isfinite(hist.loss)) and hist.loss[-1] < 1e-10


def test_razin_cohen_w11_grows_while_loss_falls():
    target = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[False, True], [True, True]])  # w11 unobserved
    grew = 0
    for seed in range(6):
        model = DeepMatrixFactorization((2, 2), depth=3, init_scale=0.03, seed=seed)
        if torch.linalg.det(model.end_to_end().detach()) <= 0:
            continue  # the effect needs det(W) > 0 at init: GD cannot reach the det = -1 solutions
        hist = train_dmf(model, target, mask, lr=0.05, steps=10_000, log_every=1000, checkpoints=[1000, 10_000])
        w11 = [abs(float(_product(hist.checkpoints[t])[0, 0])) for t in (1000, 10_000)]
        assert w11[1] > w11[0] > 1
        assert hist.loss[-1] < hist.loss[1]
        grew += 1
    assert grew >= 2


def test_glrl_full_observation_gives_truncated_svd():
    target = low_rank_matrix(10, [5, 3, 1.5], seed=4)
    result = glrl(target, eps=1e-3)
    assert result.rank == 3
    for k, iterate in enumerate(result.iterates, start=1):
        torch.testing.assert_close(iterate, truncated_svd(target, k), atol=1e-6, rtol=0)


def test_nuclear_norm_solution_satisfies_constraints():
    target = low_rank_matrix(10, [5, 2], seed=1)
    mask = observation_mask(target.shape, n_obs=60, seed=1)
    X = nuclear_norm_completion(target, mask, tol=1e-3)
    assert float((mask * (X - target)).abs().max()) <= 1e-3 + 1e-6
    assert torch.linalg.matrix_norm(X, ord="nuc") <= torch.linalg.matrix_norm(target, ord="nuc") + 1e-3


def test_same_seed_same_history():
    target = low_rank_matrix(10, [5, 2], seed=0)
    mask = observation_mask(target.shape, fraction=0.7, seed=0)
    runs = [train_dmf(DeepMatrixFactorization(target.shape, seed=s, init_scale=1e-2), target, mask, steps=500)
            for s in (0, 0, 1)]
    for field in ("steps", "loss", "grad_norm", "singular_values"):
        assert np.array_equal(getattr(runs[0], field), getattr(runs[1], field))
    assert not np.array_equal(runs[0].loss, runs[2].loss)


def test_generators():
    M = low_rank_matrix((6, 9), [4, 2], seed=3)
    assert M.shape == (6, 9) and M.dtype == torch.float64
    np.testing.assert_allclose(torch.linalg.svdvals(M)[:3], [4, 2, 0], atol=1e-12)
    assert torch.equal(M, low_rank_matrix((6, 9), [4, 2], seed=3))
    mask = observation_mask((6, 9), n_obs=20, seed=0)
    assert mask.dtype == torch.bool and int(mask.sum()) == 20
    assert bool(observation_mask(5).all())


def test_bad_input_is_rejected_with_clear_messages():
    target = low_rank_matrix(6, [3, 1], seed=0)
    model = DeepMatrixFactorization(target.shape, depth=2)
    with pytest.raises(ValueError, match="mask shape"):
        train_dmf(model, target, torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="depth"):
        DeepMatrixFactorization((6, 6), depth=0)
    bad = target.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="target contains NaN"):
        train_dmf(model, bad)
    with pytest.raises(ValueError, match="target shape"):
        train_dmf(model, torch.zeros(5, 5))
    with pytest.raises(ValueError, match="lr"):
        train_dmf(model, target, lr=-1.0)
    with pytest.raises(ValueError, match="either fraction or n_obs"):
        observation_mask(6, fraction=0.5, n_obs=3)
    with pytest.raises(ValueError, match="singular_values"):
        low_rank_matrix(3, [1, 2, 3, 4])
    with pytest.raises(TypeError, match="DeepMatrixFactorization"):
        train_dmf(torch.nn.Linear(2, 2), target)


def test_divergence_stops_with_an_error_naming_the_learning_rate():
    target = low_rank_matrix(20, [10, 6, 3], seed=0)
    model = DeepMatrixFactorization(target.shape, depth=3, init_scale=0.1, seed=0)
    with pytest.raises(DivergenceError, match=r"lr=0\.5 is too large"):
        train_dmf(model, target, lr=0.5, steps=5_000)
