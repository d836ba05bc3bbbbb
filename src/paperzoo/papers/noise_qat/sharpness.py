"""Sharpness of a deployed quantized model: expected loss increase under random weight perturbations.

S_rho = E_delta[L(w_hat + delta)] - L(w_hat), with w_hat the dequantized weights of every quantized
layer (float weights for layers left in float), activations quantized as deployed, and per layer
delta ~ N(0, rho² ||w_hat||² / n * I), n the layer's element count.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from paperzoo.papers.noise_qat.layers import quantize_model
    >>> q = quantize_model(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), 4, 4)
    >>> X, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    >>> _ = q(X); sharpness(q.eval(), X, y, rho=0.05, draws=5, seed=0) > -1
    True
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import SUPPORTED, quantized_layers


@torch.no_grad()
def sharpness(model: nn.Module, X: Tensor, y: Tensor, rho: float, draws: int = 20, seed: int = 0) -> float:
    """S_rho of `model` on (X, y) with cross-entropy, averaged over `draws` perturbations from `seed`."""
    if not rho > 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    deployed = copy.deepcopy(model).eval()
    for layer in quantized_layers(deployed).values():
        layer.weight.copy_(layer.weight_fake_quant(layer.weight))   # w_hat, then no second rounding
        layer.weight_fake_quant.disable_fake_quant()
    weights = [mod.weight for mod in deployed.modules() if isinstance(mod, SUPPORTED)]
    originals = [w.clone() for w in weights]
    base = float(F.cross_entropy(deployed(X), y))
    generator = torch.Generator().manual_seed(int(seed))
    total = 0.0
    for _ in range(draws):
        for w, w0 in zip(weights, originals, strict=True):
            sigma = rho * float(w0.norm()) / w0.numel() ** 0.5
            w.copy_(w0 + sigma * torch.randn(w0.shape, generator=generator, dtype=w0.dtype))
        total += float(F.cross_entropy(deployed(X), y))
    return total / draws - base
