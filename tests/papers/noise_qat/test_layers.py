import pytest
import torch
from torch import nn

from paperzoo.papers.noise_qat import (
    CNN1D,
    MLP,
    IntegerModel,
    QuantLinear,
    export_integer,
    post_training_quantize,
    quantize_model,
    quantized_layers,
    set_training_step,
    sharpness,
    train_qat,
)


def _data(n=256, d=12, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, :k].argmax(1))
    return X, y


def _mlp(seed=0, d=12):
    torch.manual_seed(seed)
    return MLP(d, (32, 32), 4)


@pytest.mark.parametrize("kw", [{"w_bits": 1, "a_bits": 2}, {"w_bits": 2, "a_bits": 9}])
def test_quantize_model_rejects_bad_bits(kw):
    with pytest.raises(ValueError, match="bits"):
        quantize_model(_mlp(), **kw)


def test_quantize_model_rejects_bad_skip_and_quantizer():
    with pytest.raises(ValueError, match="not a module"):
        quantize_model(_mlp(), 2, 2, skip=["nope"])
    with pytest.raises(ValueError, match="only nn.Linear"):
        quantize_model(_mlp(), 2, 2, skip=["1"])  # a ReLU
    with pytest.raises(TypeError, match="collection of module names"):
        quantize_model(_mlp(), 2, 2, skip="0")
    with pytest.raises(ValueError, match="quantizer"):
        quantize_model(_mlp(), 2, 2, quantizer="pact")
    with pytest.raises(TypeError, match="no noise arguments"):
        quantize_model(_mlp(), 2, 2, quantizer="lsq", lambda0=1.0)
    with pytest.raises(ValueError, match="no nn.Linear"):
        quantize_model(nn.Sequential(nn.ReLU()), 2, 2)


def test_wrapping_skip_and_signedness():
    fp = _mlp()
    q = quantize_model(fp, 3, 4, skip=["4"])
    assert isinstance(q[0], QuantLinear) and isinstance(q[2], QuantLinear)
    assert type(q[4]) is nn.Linear
    assert q[0].input_fake_quant.signed and not q[2].input_fake_quant.signed  # raw input is signed
    assert q[0].weight_fake_quant.signed and q[0].weight_fake_quant.bits == 3 and q[0].input_fake_quant.bits == 4
    assert torch.equal(q[0].weight, fp[0].weight) and fp[0].__class__ is nn.Linear  # the original is untouched


def test_lambda0_zero_reproduces_lsq_bit_for_bit():
    X, y = _data()
    fp = _mlp()
    runs = {}
    for name, kw in (("lsq", {"quantizer": "lsq"}), ("nt0", {"quantizer": "noise", "lambda0": 0.0, "tau_steps": 5.0})):
        torch.manual_seed(123)
        q = quantize_model(fp, 2, 2, **kw)
        hist = train_qat(q, X, y, X[:64], y[:64], epochs=3, batch_size=32, data_seed=7)
        runs[name] = (q.state_dict(), hist.val_accuracy, torch.rand(3))  # global RNG must be in the same state
    (a, acc_a, r_a), (b, acc_b, r_b) = runs["lsq"], runs["nt0"]
    for key, value in a.items():
        assert torch.equal(value, b[key]), key
    assert acc_a == acc_b and torch.equal(r_a, r_b)
    # with noise the result differs, but the global RNG is still untouched (noise has its own generator)
    torch.manual_seed(123)
    q = quantize_model(fp, 2, 2, "noise", lambda0=1.0, tau_steps=5.0)
    train_qat(q, X, y, X[:64], y[:64], epochs=3, batch_size=32, data_seed=7)
    assert not torch.equal(q[0].weight, a["0.weight"])
    assert torch.equal(torch.rand(3), r_a)


def test_set_training_step_reaches_every_noise_quantizer():
    q = quantize_model(_mlp(), 2, 2, "noise", lambda0=2.0, tau_steps=10.0)
    set_training_step(q, 10)
    lams = [m.lambda_t for m in q.modules() if hasattr(m, "lambda_t")]
    assert len(lams) == 6 and all(lam == pytest.approx(2.0 * torch.e ** -1) for lam in lams)


def _conv2d_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 2), nn.ReLU(),
                         nn.Flatten(), nn.Linear(3 * 3 * 3, 4))


@pytest.mark.parametrize("build,shape,per_channel", [
    (lambda: _mlp(), (64, 12), False),
    (lambda: (torch.manual_seed(0), CNN1D(20, 8, 4))[1], (64, 20), True),
    (_conv2d_model, (64, 2, 8, 8), False),
])
def test_export_and_integer_inference_reproduce_eval_outputs(build, shape, per_channel):
    X = torch.randn(*shape)
    y = torch.randint(0, 4, (shape[0],))
    q = quantize_model(build(), 2, 3, "noise", per_channel=per_channel, lambda0=1.0, tau_steps=10.0)
    train_qat(q, X, y, X, y, epochs=2, batch_size=16, data_seed=0)
    ints = export_integer(q)
    assert set(ints) == {f"{name}.weight" for name in quantized_layers(q)}
    for name, layer in quantized_layers(q).items():
        codes, scale = ints[f"{name}.weight"]
        assert codes.dtype == torch.int8
        assert codes.min() >= -4 and codes.max() <= 3
        assert torch.allclose(codes.float() * scale, layer.weight_fake_quant(layer.weight), atol=1e-6, rtol=0)
    with torch.no_grad():
        ref = q(X)
        out = IntegerModel(q)(X)
    assert torch.allclose(out, ref, atol=1e-6, rtol=1e-6)


def test_state_dict_round_trip_keeps_steps_flags_and_schedule():
    X, y = _data()
    fp = _mlp()
    q = quantize_model(fp, 2, 2, "noise", lambda0=1.0, tau_steps=20.0)
    train_qat(q, X, y, X[:64], y[:64], epochs=2, batch_size=64, data_seed=0)
    state = q.state_dict()
    assert int(state["0.weight_fake_quant.training_step"]) == 7  # 2 epochs x 4 batches, last t = 7
    fresh = quantize_model(_mlp(seed=9), 2, 2, "noise", lambda0=1.0, tau_steps=20.0)
    assert not bool(fresh[2].input_fake_quant.initialized)
    fresh.load_state_dict(state)
    for key in ("0.input_fake_quant.step", "2.weight_fake_quant.step", "2.input_fake_quant.initialized",
                "4.input_fake_quant.training_step"):
        assert torch.equal(fresh.state_dict()[key], state[key])
    assert bool(fresh[2].input_fake_quant.initialized)
    assert fresh[4].input_fake_quant.lambda_t == q[4].input_fake_quant.lambda_t
    with torch.no_grad():
        assert torch.equal(fresh.eval()(X), q.eval()(X))


def test_ptq_floor_fits_steps_and_runs_in_eval():
    X, y = _data()
    fp = _mlp()
    q = post_training_quantize(fp, 2, 2, X)
    assert not q.training
    lsq_init = quantize_model(fp, 2, 2)
    for name, layer in quantized_layers(q).items():
        w = layer.weight
        err_ptq = ((layer.weight_fake_quant(w) - w) ** 2).sum()
        err_init = ((lsq_init.get_submodule(name).weight_fake_quant(w) - w) ** 2).sum()
        assert err_ptq <= err_init + 1e-9  # MSE-fitted step is at least as good as the LSQ init
    assert q(X).shape == (len(X), 4)


def test_sharpness_is_deterministic_grows_with_rho_and_leaves_model_untouched():
    X, y = _data()
    q = quantize_model(_mlp(), 4, 4)
    train_qat(q, X, y, X[:64], y[:64], epochs=3, batch_size=32, data_seed=0)
    before = {k: v.clone() for k, v in q.state_dict().items()}
    s_small = sharpness(q, X, y, rho=0.02, draws=10, seed=0)
    s_big = sharpness(q, X, y, rho=0.2, draws=10, seed=0)
    assert s_small == sharpness(q, X, y, rho=0.02, draws=10, seed=0)
    assert s_big > s_small and s_big > 0
    for k, v in q.state_dict().items():
        assert torch.equal(v, before[k])
    with pytest.raises(ValueError, match="rho"):
        sharpness(q, X, y, rho=0.0)
