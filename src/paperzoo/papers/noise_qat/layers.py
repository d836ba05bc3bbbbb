"""Quantized Linear/Conv1d/Conv2d layers and `quantize_model`, which wraps every such layer of a model.

Each wrapped layer quantizes its weight (`weight_fake_quant`, signed) and its input activation
(`input_fake_quant`, unsigned after a ReLU, signed for the raw network input); the bias stays in
floating point. Names follow torch.ao's QAT modules (`from_float`, `weight_fake_quant`).

Example:
    >>> import torch
    >>> from torch import nn
    >>> fp = nn.Sequential(nn.Linear(40, 64), nn.ReLU(), nn.Linear(64, 10))
    >>> qmodel = quantize_model(fp, w_bits=2, a_bits=2, quantizer="noise", lambda0=1.0, tau_steps=300)
    >>> qmodel(torch.randn(8, 40)).shape                  # the first training batch initialises steps
    torch.Size([8, 10])
    >>> sorted(export_integer(qmodel))
    ['0.weight', '2.weight']
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .quantizers import AdditiveNoiseQuantizer, LSQQuantizer, NoiseTemperedQuantizer, check_bits

QUANTIZERS = {"lsq": LSQQuantizer, "noise": NoiseTemperedQuantizer, "additive": AdditiveNoiseQuantizer}
SUPPORTED = (nn.Linear, nn.Conv1d, nn.Conv2d)


class _QuantLayer:
    """Shared parts of the quantized layers: the two fake quantizers and the quantized operands."""

    weight: Tensor
    weight_fake_quant: LSQQuantizer
    input_fake_quant: LSQQuantizer

    def _attach(self, weight_fake_quant: LSQQuantizer, input_fake_quant: LSQQuantizer) -> None:
        self.weight_fake_quant = weight_fake_quant
        self.input_fake_quant = input_fake_quant
        weight_fake_quant.init_from(self.weight)

    @classmethod
    def from_float(cls, mod: nn.Module, weight_fake_quant: LSQQuantizer, input_fake_quant: LSQQuantizer) -> nn.Module:
        """A quantized copy of the float layer `mod` (same weights), like torch.ao's `from_float`."""
        qmod = copy.deepcopy(mod)
        qmod.__class__ = cls
        qmod._attach(weight_fake_quant, input_fake_quant)
        return qmod

    def quantized_operands(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.input_fake_quant(x), self.weight_fake_quant(self.weight)


class QuantLinear(_QuantLayer, nn.Linear):
    def forward(self, x: Tensor) -> Tensor:
        xq, wq = self.quantized_operands(x)
        return F.linear(xq, wq, self.bias)


class QuantConv1d(_QuantLayer, nn.Conv1d):
    def forward(self, x: Tensor) -> Tensor:
        xq, wq = self.quantized_operands(x)
        return self._conv_forward(xq, wq, self.bias)


class QuantConv2d(_QuantLayer, nn.Conv2d):
    def forward(self, x: Tensor) -> Tensor:
        xq, wq = self.quantized_operands(x)
        return self._conv_forward(xq, wq, self.bias)


QUANT_CLASS = {nn.Linear: QuantLinear, nn.Conv1d: QuantConv1d, nn.Conv2d: QuantConv2d}


def quantized_layers(model: nn.Module) -> dict[str, _QuantLayer]:
    """The quantized layers of `model` by module name, in definition order."""
    return {name: mod for name, mod in model.named_modules() if isinstance(mod, _QuantLayer)}


def quantize_model(model: nn.Module, w_bits: int, a_bits: int, quantizer: str = "lsq", skip: Iterable[str] = (),
                   signed_inputs: Iterable[str] | None = None, per_channel: bool = False, grad_scale: str = "lsq",
                   noise_seed: int = 0, **quantizer_kwargs: Any) -> nn.Module:
    """A copy of `model` with every nn.Linear/Conv1d/Conv2d (except those named in `skip`) quantized.

    Args:
        w_bits, a_bits: weight and input-activation bit widths (2 to 8).
        quantizer: "lsq", "noise" (noise tempering) or "additive" (plain additive-noise baseline).
        skip: module names (as in `model.named_modules()`) of supported layers to keep in float.
        signed_inputs: names of layers whose input is signed; default: only the first quantized layer
            (it sees the raw network input), every other input is taken to follow a ReLU.
        per_channel: per-output-channel weight steps.
        grad_scale: "lsq" | "ao" | "none", see `LSQQuantizer`; applied to every quantizer.
        noise_seed: seed of the one torch.Generator all noise quantizers of the model draw from, so the
            global RNG (dropout, data order) is never touched by the noise.
        **quantizer_kwargs: passed to the quantizer class, e.g. lambda0, tau_steps, noise, error, mode.

    Weight steps are initialised now; input steps on the first training-mode batch.
    """
    check_bits(w_bits, "w_bits")
    check_bits(a_bits, "a_bits")
    if quantizer not in QUANTIZERS:
        raise ValueError(f"quantizer must be one of {sorted(QUANTIZERS)}, got {quantizer!r}")
    if quantizer == "lsq" and quantizer_kwargs:
        raise TypeError(f"quantizer='lsq' takes no noise arguments, got {sorted(quantizer_kwargs)}")
    if isinstance(skip, str):
        raise TypeError(f"skip must be a collection of module names, got the string {skip!r}")
    modules = dict(model.named_modules())
    skip = set(skip)
    for name in skip:
        if name not in modules:
            raise ValueError(f"skip names {name!r}, which is not a module of the model "
                             f"(modules: {sorted(modules)[:12]})")
        if type(modules[name]) not in QUANT_CLASS:
            raise ValueError(f"skip names {name!r}, a {type(modules[name]).__name__}; only nn.Linear, nn.Conv1d and "
                             "nn.Conv2d are quantized, so only they can be skipped")
    targets = [name for name, mod in modules.items() if type(mod) in QUANT_CLASS and name not in skip]
    if not targets:
        raise ValueError("the model has no nn.Linear, nn.Conv1d or nn.Conv2d layer to quantize")
    signed = set(targets[:1]) if signed_inputs is None else set(signed_inputs)
    unknown = signed - set(targets)
    if unknown:
        raise ValueError(f"signed_inputs names {sorted(unknown)}, which are not quantized layers of the model")

    qmodel = copy.deepcopy(model)
    cls = QUANTIZERS[quantizer]
    extra = dict(quantizer_kwargs)
    if quantizer != "lsq":
        extra["generator"] = torch.Generator().manual_seed(int(noise_seed))
    for name in targets:
        mod = qmodel.get_submodule(name)
        wq = cls(w_bits, signed=True, per_channel=per_channel, grad_scale=grad_scale, is_weight=True, **extra)
        aq = cls(a_bits, signed=name in signed, grad_scale=grad_scale, **extra)
        _set_submodule(qmodel, name, QUANT_CLASS[type(mod)].from_float(mod, wq, aq))
    return qmodel


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


def set_training_step(model: nn.Module, t: int) -> None:
    """Set the step t of every noise-tempered quantizer: lambda_t = lambda0 * exp(-t / tau_steps)."""
    for mod in model.modules():
        if isinstance(mod, NoiseTemperedQuantizer):
            mod.set_step(t)


def export_integer(model: nn.Module) -> dict[str, tuple[Tensor, Tensor]]:
    """{"<layer>.weight": (integer codes, step)} for every quantized layer; w ≈ codes * step."""
    return {f"{name}.weight": (mod.weight_fake_quant.quantize_int(mod.weight), mod.weight_fake_quant.scale.clone())
            for name, mod in quantized_layers(model).items()}


@torch.no_grad()
def post_training_quantize(model: nn.Module, w_bits: int, a_bits: int, calibration: Tensor,
                           skip: Iterable[str] = (), signed_inputs: Iterable[str] | None = None,
                           grid: int = 50) -> nn.Module:
    """PTQ: quantize `model` without training, every step chosen to minimise the MSE of its tensor.

    Weight steps fit the weights; input steps fit the float inputs each layer sees on `calibration`.
    Returns the model in eval mode.
    """
    qmodel = quantize_model(model, w_bits, a_bits, "lsq", skip=skip, signed_inputs=signed_inputs)
    layers = quantized_layers(qmodel)
    inputs: dict[str, Tensor] = {}
    hooks = [mod.register_forward_pre_hook(lambda m, args, name=name: inputs.__setitem__(name, args[0]))
             for name, mod in layers.items()]
    for mod in layers.values():
        mod.input_fake_quant.disable_fake_quant()
    qmodel.eval()(calibration)
    for hook in hooks:
        hook.remove()
    for name, mod in layers.items():
        _fit_step_mse(mod.weight_fake_quant, mod.weight, grid)
        _fit_step_mse(mod.input_fake_quant, inputs[name], grid)
        mod.input_fake_quant.enable_fake_quant()
    return qmodel


def _fit_step_mse(q: LSQQuantizer, v: Tensor, grid: int) -> None:
    """Per-tensor step minimising ||round(clip(v / s)) * s - v||² over `grid` fractions of max|v| / range."""
    top = float(v.abs().max()) / max(-q.quant_min if q.signed else q.quant_max, 1)
    best, best_err = top, float("inf")
    for fraction in torch.linspace(0.05, 1.0, grid).tolist():
        s = max(top * fraction, 1e-8)
        err = float(((torch.clamp(torch.round(v / s), q.quant_min, q.quant_max) * s - v) ** 2).sum())
        if err < best_err:
            best, best_err = s, err
    q.step.data = torch.full_like(q.step, best)
    q.initialized.fill_(True)
