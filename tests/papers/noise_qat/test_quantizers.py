import math

import pytest
import torch

from paperzoo.papers.noise_qat import AdditiveNoiseQuantizer, LSQQuantizer, NoiseTemperedQuantizer
from paperzoo.papers.noise_qat.quantizers import uniform_noise


def _ready(q, v):
    q.init_from(v)
    return q


@pytest.mark.parametrize("bits", [1, 9, 0, -2])
def test_bits_outside_2_to_8_are_rejected(bits):
    with pytest.raises(ValueError, match="bits must be between 2 and 8"):
        LSQQuantizer(bits, signed=True)
    with pytest.raises(ValueError, match="bits"):
        NoiseTemperedQuantizer(bits, signed=False, tau_steps=10)


def test_non_integer_bits_and_bad_options_are_rejected():
    with pytest.raises(TypeError, match="bits"):
        LSQQuantizer(2.0, signed=True)
    with pytest.raises(ValueError, match="grad_scale"):
        LSQQuantizer(2, signed=True, grad_scale="bogus")
    with pytest.raises(ValueError, match="noise"):
        NoiseTemperedQuantizer(2, True, tau_steps=10, noise="laplace")
    with pytest.raises(ValueError, match="lambda0"):
        NoiseTemperedQuantizer(2, True, lambda0=-1.0, tau_steps=10)
    with pytest.raises(ValueError, match="tau_steps"):
        NoiseTemperedQuantizer(2, True, tau_steps=0)


def test_activation_quantizer_in_eval_before_init_raises():
    q = LSQQuantizer(4, signed=False).eval()
    with pytest.raises(RuntimeError, match="before its data-dependent init"):
        q(torch.rand(3, 5))
    q.train()(torch.rand(3, 5))  # first training batch initialises the step
    assert bool(q.initialized)
    q.eval()(torch.rand(3, 5))


def test_init_is_lsq_rule():
    v = torch.randn(1000)
    q = _ready(LSQQuantizer(3, signed=True), v)
    assert torch.allclose(q.scale, 2 * v.abs().mean() / math.sqrt(3))
    assert (q.quant_min, q.quant_max) == (-4, 3)
    assert (LSQQuantizer(3, signed=False).quant_min, LSQQuantizer(3, signed=False).quant_max) == (0, 7)


@pytest.mark.parametrize("signed,per_channel", [(True, False), (False, False), (True, True)])
def test_eval_outputs_lie_on_the_grid(signed, per_channel):
    torch.manual_seed(0)
    v = torch.randn(8, 16) * 3
    q = _ready(NoiseTemperedQuantizer(3, signed, tau_steps=10, per_channel=per_channel, is_weight=True), v).eval()
    out = q(v)
    codes = out / q.scale
    assert torch.allclose(codes, codes.round(), atol=1e-5)
    assert codes.min() >= q.quant_min - 1e-5 and codes.max() <= q.quant_max + 1e-5
    assert torch.equal(out, LSQQuantizer.forward(q, v))  # eval: no noise, exactly LSQ


def _closed_form_grads(v, s, qmin, qmax):
    r = v / s
    inside = (r > qmin) & (r < qmax)
    clipped = torch.where(r <= qmin, torch.tensor(float(qmin)), torch.tensor(float(qmax)))
    ds = torch.where(inside, -r + torch.round(r), clipped)
    return inside.float(), ds


@pytest.mark.parametrize("quantizer", ["lsq", "noise", "additive", "noise-total"])
@pytest.mark.parametrize("signed", [True, False])
def test_ste_gradients_equal_lsq_closed_form_with_grad_scale(quantizer, signed):
    torch.manual_seed(1)
    v = (torch.randn(4, 50) * 2).requires_grad_(True)
    cls = {"lsq": lambda: LSQQuantizer(2, signed),
           "noise": lambda: NoiseTemperedQuantizer(2, signed, lambda0=1.0, tau_steps=100),
           "additive": lambda: AdditiveNoiseQuantizer(2, signed, lambda0=1.0),
           "noise-total": lambda: NoiseTemperedQuantizer(2, signed, lambda0=2.0, tau_steps=100, error="total")}
    q = cls[quantizer]().train()
    q.init_from(v)
    q.step.data.fill_(0.7)
    if quantizer != "lsq":
        q.set_step(30)
        assert q.lambda_t > 0
    out = q(v)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    dx, ds = _closed_form_grads(v.detach(), 0.7, q.quant_min, q.quant_max)
    g = 1 / math.sqrt(v[0].numel() * q.quant_max)  # activation: N_F = features per sample
    assert torch.allclose(v.grad, grad_out * dx)
    assert torch.allclose(q.step.grad, (grad_out * ds).sum().reshape(1) * g, rtol=1e-5, atol=1e-6)


def test_weight_gradient_scale_counts_all_elements_and_ao_counts_batch():
    w = torch.randn(6, 10)
    for mode, n in (("lsq", 60), ("ao", 60), ("none", None)):
        q = _ready(LSQQuantizer(4, True, grad_scale=mode, is_weight=True), w)
        q.step.grad = None
        q(w).sum().backward()
        ref = _ready(LSQQuantizer(4, True, grad_scale="none", is_weight=True), w)
        ref.step.data.copy_(q.step.data)
        ref(w).sum().backward()
        g = 1.0 if n is None else 1 / math.sqrt(n * 7)
        assert torch.allclose(q.step.grad, ref.step.grad * g, rtol=1e-5)
    x = torch.rand(5, 10)
    q = _ready(LSQQuantizer(4, False, grad_scale="ao"), x)
    ref = _ready(LSQQuantizer(4, False, grad_scale="lsq"), x)
    q(x).sum().backward()
    ref(x).sum().backward()
    assert torch.allclose(q.step.grad * math.sqrt(5), ref.step.grad, rtol=1e-5)  # ao counts the batch too


def test_lambda_schedule():
    q = NoiseTemperedQuantizer(2, True, lambda0=1.5, tau_steps=40)
    for t in (0, 1, 40, 123):
        q.set_step(t)
        assert q.lambda_t == pytest.approx(1.5 * math.exp(-t / 40))
    assert NoiseTemperedQuantizer(2, True, lambda0=0.5, tau_steps=None).lambda_t == 0.5
    with pytest.raises(ValueError, match="step"):
        q.set_step(-1)


def test_uniform_noise_statistics_and_rounding_error_scale():
    torch.manual_seed(2)
    v = torch.randn(400, 500)
    q = _ready(NoiseTemperedQuantizer(2, True, lambda0=0.8, tau_steps=1000,
                                      generator=torch.Generator().manual_seed(0)), v).train()
    q.set_step(200)
    lam = q.lambda_t
    out = q(v).detach()
    qq = LSQQuantizer.forward(q, v).detach()
    s = q.scale
    e = (qq - v.clamp(q.quant_min * s, q.quant_max * s)).abs()
    assert float(e.max()) <= float(s) / 2 + 1e-6  # the rounding error is at most half a step
    noise = out - qq
    mask = e > 1e-3
    z = noise[mask] / (lam * e[mask])
    assert abs(float(z.mean())) < 0.01
    assert float(z.std()) == pytest.approx(1 / math.sqrt(3), rel=0.01)
    assert float(z.abs().max()) <= 1.0 + 1e-4
    assert float(noise.mean()) == pytest.approx(0.0, abs=2e-3)


def test_gaussian_noise_and_additive_baseline_statistics():
    v = torch.randn(300, 400)
    g = _ready(NoiseTemperedQuantizer(2, True, lambda0=1.0, tau_steps=None, noise="gaussian",
                                      generator=torch.Generator().manual_seed(1)), v).train()
    noise = (g(v) - LSQQuantizer.forward(g, v)).detach()
    e = (LSQQuantizer.forward(g, v) - v.clamp(g.quant_min * g.scale, g.quant_max * g.scale)).abs().detach()
    mask = e > 1e-3
    assert float((noise[mask] / e[mask]).std()) == pytest.approx(1.0, rel=0.02)
    a = _ready(AdditiveNoiseQuantizer(2, True, lambda0=1.0, generator=torch.Generator().manual_seed(1)), v).train()
    noise = (a(v) - LSQQuantizer.forward(a, v)).detach()
    assert float(noise.std()) == pytest.approx(float(a.scale) / 2 / math.sqrt(3), rel=0.01)  # error-unaware: s/2
    assert float(noise.abs().max()) <= float(a.scale) / 2 + 1e-6


def test_total_error_exceeds_rounding_error_on_clipped_values():
    v = torch.tensor([10.0, -10.0, 0.3, 0.1])
    out = {}
    for error in ("rounding", "total"):
        q = NoiseTemperedQuantizer(2, True, lambda0=1.0, tau_steps=None, error=error,
                                   generator=torch.Generator().manual_seed(3)).train()
        q.init_from(torch.ones(4))
        out[error] = (q(v) - LSQQuantizer.forward(q, v)).detach()
    assert torch.equal(out["rounding"][:2], torch.zeros(2))  # clipped values have no rounding error
    assert float(out["total"][:2].abs().min()) > 0


def test_no_draw_when_lambda_is_zero_and_no_noise_in_eval():
    gen = torch.Generator().manual_seed(5)
    v = torch.randn(10, 10)
    q = _ready(NoiseTemperedQuantizer(2, True, lambda0=0.0, tau_steps=10, generator=gen), v).train()
    state = gen.get_state()
    q(v)
    assert torch.equal(gen.get_state(), state)
    q.lambda0 = 1.0
    q.eval()(v)
    assert torch.equal(gen.get_state(), state)
    q.train()(v)
    assert not torch.equal(gen.get_state(), state)


def test_uniform_noise_helper():
    u = uniform_noise(torch.Size([1000, 300]), torch.Generator().manual_seed(0))
    assert u.shape == (1000, 300) and u.dtype == torch.float32
    assert float(u.min()) > -1 and float(u.max()) < 1
    assert abs(float(u.mean())) < 3e-3
    assert float(u.var()) == pytest.approx(1 / 3, rel=0.01)
    a = uniform_noise(torch.Size([7]), torch.Generator().manual_seed(4))
    assert torch.equal(a, uniform_noise(torch.Size([7]), torch.Generator().manual_seed(4)))
