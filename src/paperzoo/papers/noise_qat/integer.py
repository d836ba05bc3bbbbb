"""Integer inference: exported int weights times int activation codes, scales applied once per layer.

`IntegerModel(qmodel)` replaces every quantized layer of a trained model by an integer layer:
x_int = round(clip(x / s_a)), y = (x_int @ w_int^T in int32) * (s_a * s_w) + bias. Everything between
the layers (ReLU, flatten, pooling) runs as in the original model. Its outputs match the eval-mode
fake-quant outputs up to float rounding.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from paperzoo.papers.noise_qat.layers import quantize_model
    >>> q = quantize_model(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), 4, 4)
    >>> _ = q(torch.randn(32, 8)); q = q.eval()
    >>> x = torch.randn(5, 8)
    >>> torch.allclose(IntegerModel(q)(x), q(x), atol=1e-5)
    True
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import QuantLinear, _QuantLayer, _set_submodule, quantized_layers


class IntegerLayer(nn.Module):
    """A quantized Linear/Conv1d/Conv2d run on integer codes (int32 accumulation)."""

    def __init__(self, layer: _QuantLayer) -> None:
        super().__init__()
        wq, aq = layer.weight_fake_quant, layer.input_fake_quant
        if not bool(aq.initialized):
            raise RuntimeError("IntegerLayer needs initialised input steps: run one training-mode batch first")
        if not isinstance(layer, QuantLinear):
            if layer.groups != 1 or any(d != 1 for d in layer.dilation) or layer.padding_mode != "zeros" \
                    or isinstance(layer.padding, str):
                raise ValueError("integer convolution supports groups=1, dilation=1 and integer zero padding only")
            self.stride, self.padding = tuple(layer.stride), tuple(layer.padding)
        self.kind = type(layer).__name__
        self.register_buffer("weight_int", wq.quantize_int(layer.weight))
        self.register_buffer("weight_scale", wq.scale.clone().reshape(-1))
        self.register_buffer("input_scale", aq.scale.clone().reshape(()))
        self.input_min, self.input_max = aq.quant_min, aq.quant_max
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        codes = torch.round(torch.clamp(x / self.input_scale, self.input_min, self.input_max)).to(torch.int32)
        w = self.weight_int.to(torch.int32)
        if self.kind == "QuantLinear":
            acc = codes @ w.reshape(w.shape[0], -1).T
            channel_dim = -1
        else:
            acc = self._conv(codes, w)
            channel_dim = 1
        shape = [1] * acc.dim()
        shape[channel_dim] = -1
        scale = (self.input_scale * self.weight_scale).reshape(shape if self.weight_scale.numel() > 1 else [])
        out = acc.to(x.dtype) * scale
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _conv(self, codes: Tensor, w: Tensor) -> Tensor:
        pads = [p for p in reversed(self.padding) for _ in (0, 1)]
        codes = F.pad(codes, pads)
        kernel = w.shape[2:]
        for dim, (k, s) in enumerate(zip(kernel, self.stride, strict=True)):
            codes = codes.unfold(2 + dim, k, s)  # (N, C, *out, *kernel)
        n, c = codes.shape[:2]
        spatial = codes.shape[2:2 + len(kernel)]
        # (N, *out, C, *kernel) -> rows of C * prod(kernel) codes, one int matmul
        patches = codes.permute(0, *range(2, 2 + len(kernel)), 1, *range(2 + len(kernel), codes.dim()))
        acc = patches.reshape(n, *spatial, -1) @ w.reshape(w.shape[0], -1).T
        return acc.permute(0, acc.dim() - 1, *range(1, acc.dim() - 1))


class IntegerModel(nn.Module):
    """A copy of a trained quantized model whose quantized layers run in integer arithmetic (eval only)."""

    def __init__(self, qmodel: nn.Module) -> None:
        super().__init__()
        layers = quantized_layers(qmodel)
        if not layers:
            raise ValueError("qmodel has no quantized layer: build it with quantize_model first")
        self.model = copy.deepcopy(qmodel).eval()
        for name, layer in layers.items():
            _set_submodule(self.model, name, IntegerLayer(layer))

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

