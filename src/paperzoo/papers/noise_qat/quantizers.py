"""Fake quantizers: LSQ (learned step size), noise tempering, and a plain additive-noise baseline.

All three share the LSQ forward: q = round(clip(v / s, -Q_N, Q_P)) * s with a learnable step s,
the straight-through estimator for the rounding, and LSQ's gradient scale on s. The noise variants
add, in training mode only, stop-gradient noise on top of q, so their gradients equal LSQ's.

Example:
    >>> import torch
    >>> q = LSQQuantizer(bits=2, signed=True)
    >>> q.init_from(torch.tensor([-1.0, 0.2, 0.5, 1.0]))
    >>> float(q.scale)                               # 2 * mean|v| / sqrt(Q_P), Q_P = 1
    1.350000023841858
    >>> q(torch.tensor([0.3, -2.0])).tolist()        # on the grid s * {-2, -1, 0, 1}
    [0.0, -1.350000023841858]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

GRAD_SCALES = ("lsq", "ao", "none")
NOISES = ("uniform", "gaussian")
ERRORS = ("rounding", "total", "step")
MODES = ("add", "replace")
MIN_STEP = 1e-8


def round_ste(x: Tensor) -> Tensor:
    """Round half to even in the forward pass, identity in the backward pass."""
    return x + (torch.round(x) - x).detach()


def grad_scale(x: Tensor, scale: float) -> Tensor:
    """Value `x` in the forward pass, gradient multiplied by `scale` in the backward pass."""
    scaled = x * scale
    return scaled + (x - scaled).detach()


def uniform_noise(shape: torch.Size, generator: torch.Generator | None = None,
                  dtype: torch.dtype = torch.float32) -> Tensor:
    """i.i.d. U(-1, 1) at 16-bit resolution: four 16-bit codes from every 64-bit draw of the generator.

    The CPU Mersenne Twister spends one draw per element in torch.rand; sharing each draw four ways
    makes the noise about twice as cheap. Values (k + 0.5) / 32768, k in [-32768, 32767]: mean exactly 0,
    variance 1/3 - 1/(3 * 2^32).
    """
    n = math.prod(shape)
    words = torch.empty(-(-n // 4), dtype=torch.int64).random_(-(2**63), None, generator=generator)
    return words.view(torch.int16).to(dtype)[:n].add_(0.5).mul_(1 / 32768).reshape(shape)


def check_bits(bits: int, name: str = "bits") -> int:
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise TypeError(f"{name} must be an int between 2 and 8, got {type(bits).__name__}")
    if not 2 <= bits <= 8:
        raise ValueError(f"{name} must be between 2 and 8, got {bits}")
    return bits


class LSQQuantizer(nn.Module):
    """Learned step size quantization (Esser et al., ICLR 2020) of a tensor, per tensor or per channel.

    Args:
        bits: bit width, 2 to 8.
        signed: grid [-2^(b-1), 2^(b-1) - 1] (weights, raw inputs) or [0, 2^b - 1] (after ReLU).
        per_channel: one step per slice along dim 0 (weights only).
        grad_scale: "lsq" g = 1/sqrt(N * Q_P) with N the elements per sample (features of a layer input,
            elements of a weight tensor or channel); "ao" counts every element of the tensor including the
            batch, as torch.ao's _LearnableFakeQuantize does; "none" g = 1.
        is_weight: the tensor is a weight (N counts all its elements) rather than a batch of activations.

    The step is initialised from data, s = 2 * mean(|v|) / sqrt(Q_P): from the weight when a layer is
    wrapped, from the first training batch for activations. Using an activation quantizer in eval mode
    before that raises a RuntimeError.
    """

    def __init__(self, bits: int, signed: bool, per_channel: bool = False, grad_scale: str = "lsq",
                 is_weight: bool = False) -> None:
        super().__init__()
        self.bits = check_bits(bits)
        if grad_scale not in GRAD_SCALES:
            raise ValueError(f"grad_scale must be one of {GRAD_SCALES}, got {grad_scale!r}")
        self.signed = bool(signed)
        self.per_channel = bool(per_channel)
        self.grad_scale_mode = grad_scale
        self.is_weight = bool(is_weight)
        # torch.ao names: the integer range of the grid.
        self.quant_min = -(2 ** (bits - 1)) if signed else 0
        self.quant_max = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
        self.step = nn.Parameter(torch.ones(1))
        self.register_buffer("initialized", torch.tensor(False))
        self.register_buffer("fake_quant_enabled", torch.tensor(True))

    @property
    def scale(self) -> Tensor:
        """The step size actually used (clamped positive), as torch.ao calls it."""
        return self.step.detach().clamp_min(MIN_STEP)

    def enable_fake_quant(self, enabled: bool = True) -> LSQQuantizer:
        self.fake_quant_enabled.fill_(bool(enabled))
        return self

    def disable_fake_quant(self) -> LSQQuantizer:
        return self.enable_fake_quant(False)

    def _step_shape(self, v: Tensor) -> tuple[int, ...]:
        return (v.shape[0],) + (1,) * (v.dim() - 1) if self.per_channel else (1,)

    @torch.no_grad()
    def init_from(self, v: Tensor) -> None:
        """LSQ's data-dependent init: s = 2 * mean(|v|) / sqrt(Q_P)."""
        v = v.detach()
        if self.per_channel:
            mean_abs = v.abs().reshape(v.shape[0], -1).mean(1).reshape(self._step_shape(v))
        else:
            mean_abs = v.abs().mean().reshape(1)
        step = (2 * mean_abs / math.sqrt(self.quant_max)).clamp_min(MIN_STEP)
        self.step.data = step.to(self.step.dtype)
        self.initialized.fill_(True)

    def _gradient_factor(self, v: Tensor) -> float:
        if self.grad_scale_mode == "none":
            return 1.0
        if self.grad_scale_mode == "ao":
            n = v.numel()
        elif self.per_channel or not self.is_weight:
            n = v[0].numel()  # elements of one channel, or features of one sample (LSQ's N_F)
        else:
            n = v.numel()
        return 1.0 / math.sqrt(n * self.quant_max)

    def _check_ready(self, v: Tensor) -> None:
        if not bool(self.initialized):
            if not self.training:
                raise RuntimeError("LSQQuantizer used before its data-dependent init: run one training-mode "
                                   "batch through the model (or call init_from) before eval")
            self.init_from(v)

    def _lsq(self, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(q, s, d): q = round_ste(c) * s with c = clip(v / s), the step s carrying LSQ's gradient scale,
        and d = round(c) - c (detached), the rounding residual in grid units."""
        s = grad_scale(self.step.clamp_min(MIN_STEP), self._gradient_factor(v))
        c = torch.clamp(v / s, self.quant_min, self.quant_max)
        d = (torch.round(c) - c).detach()  # round_ste inlined so the residual is kept for the noise
        return (c + d) * s, s, d

    def forward(self, v: Tensor) -> Tensor:
        if not bool(self.fake_quant_enabled):
            return v
        self._check_ready(v)
        return self._lsq(v)[0]

    @torch.no_grad()
    def quantize_int(self, v: Tensor) -> Tensor:
        """The integer codes round(clip(v / s)) with the same rounding as the forward pass."""
        self._check_ready(v)
        codes = torch.round(torch.clamp(v / self.scale, self.quant_min, self.quant_max))
        return codes.to(torch.int8 if self.quant_max <= 127 else torch.int16)

    def extra_repr(self) -> str:
        return (f"bits={self.bits}, signed={self.signed}, quant_min={self.quant_min}, quant_max={self.quant_max}, "
                f"per_channel={self.per_channel}, grad_scale={self.grad_scale_mode!r}")


class NoiseTemperedQuantizer(LSQQuantizer):
    """LSQ plus exponentially decaying, quantization-error-aware noise (training mode only).

    out = q + lambda_t * e * u, with q the LSQ output, e = stopgrad(|q - clip(v)|) the rounding error
    (error="total": |q - v|, which also counts clipping; error="step": s / 2, error-unaware),
    lambda_t = lambda0 * exp(-t / tau_steps) (no decay when tau_steps is None), and u ~ U(-1, 1)
    (noise="gaussian": N(0, 1)) drawn from `generator`. mode="replace" mixes hard rounding with
    pseudo-quantization noise instead: out = m * (clip(v) + s * u / 2) + (1 - m) * q, m = min(lambda_t, 1).
    In eval mode out = q exactly. Call `set_step(t)` (or `set_training_step(model, t)`) every step.

    Example:
        >>> import torch
        >>> q = NoiseTemperedQuantizer(bits=2, signed=True, lambda0=1.0, tau_steps=100)
        >>> q.set_step(100); round(q.lambda_t, 4)
        0.3679
    """

    def __init__(self, bits: int, signed: bool, lambda0: float = 1.0, tau_steps: float | None = 100.0,
                 noise: str = "uniform", error: str = "rounding", mode: str = "add",
                 generator: torch.Generator | None = None, per_channel: bool = False,
                 grad_scale: str = "lsq", is_weight: bool = False) -> None:
        super().__init__(bits, signed, per_channel=per_channel, grad_scale=grad_scale, is_weight=is_weight)
        if not isinstance(lambda0, (int, float)) or isinstance(lambda0, bool) or lambda0 < 0:
            raise ValueError(f"lambda0 must be a number >= 0, got {lambda0!r}")
        if tau_steps is not None and not tau_steps > 0:
            raise ValueError(f"tau_steps must be > 0 or None (no decay), got {tau_steps!r}")
        for name, value, allowed in (("noise", noise, NOISES), ("error", error, ERRORS), ("mode", mode, MODES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        self.lambda0 = float(lambda0)
        self.tau_steps = None if tau_steps is None else float(tau_steps)
        self.noise, self.error, self.mode = noise, error, mode
        self.generator = generator
        self.register_buffer("training_step", torch.tensor(0, dtype=torch.long))

    def set_step(self, t: int) -> None:
        if t < 0:
            raise ValueError(f"training step must be >= 0, got {t}")
        self.training_step.fill_(int(t))

    @property
    def lambda_t(self) -> float:
        """lambda0 * exp(-t / tau_steps) at the current training step."""
        if self.tau_steps is None:
            return self.lambda0
        return self.lambda0 * math.exp(-int(self.training_step) / self.tau_steps)

    def _draw(self, like: Tensor) -> Tensor:
        if self.noise == "uniform":
            return uniform_noise(like.shape, self.generator, like.dtype)
        return torch.randn(like.shape, generator=self.generator, dtype=like.dtype, device=like.device)

    def forward(self, v: Tensor) -> Tensor:
        if not bool(self.fake_quant_enabled):
            return v
        self._check_ready(v)
        q, s, d = self._lsq(v)
        lam = self.lambda_t
        if not self.training or lam == 0.0:
            return q  # no draw: the noise generator stays untouched and the output is LSQ's exactly
        u = self._draw(v)
        if self.mode == "replace":
            clipped = torch.maximum(torch.minimum(v, self.quant_max * s), self.quant_min * s)
            m = min(lam, 1.0)
            return m * (clipped + s * u / 2) + (1 - m) * q
        with torch.no_grad():  # e is stop-grad: the noise moves the forward point, adds no gradient term
            sd = s.detach()
            if self.error == "rounding":  # |q - clip(v)| = |round(c) - c| * s
                noise = d.abs_().mul_(sd * lam)
            elif self.error == "total":
                noise = (q - v).abs_().mul_(lam)
            else:
                noise = sd * (lam / 2)
            noise = u.mul_(noise)
        return q + noise

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", lambda0={self.lambda0}, tau_steps={self.tau_steps}, noise={self.noise!r}, "
                f"error={self.error!r}, mode={self.mode!r}")


class AdditiveNoiseQuantizer(NoiseTemperedQuantizer):
    """Plain additive-noise QAT baseline: out = q + lambda0 * (s / 2) * u, no error-awareness, no decay."""

    def __init__(self, bits: int, signed: bool, lambda0: float = 1.0, noise: str = "uniform",
                 generator: torch.Generator | None = None, per_channel: bool = False,
                 grad_scale: str = "lsq", is_weight: bool = False) -> None:
        super().__init__(bits, signed, lambda0=lambda0, tau_steps=None, noise=noise, error="step", mode="add",
                         generator=generator, per_channel=per_channel, grad_scale=grad_scale, is_weight=is_weight)
