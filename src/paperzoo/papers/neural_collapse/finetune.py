"""Fine-tuning a pre-trained classifier on a new task: linear probe, one block, everything, or SCL-FT.

Every variant copies the backbone (the pre-trained model is never modified), replaces its classifier
by a new K-way linear head, and freezes what is not tuned. Frozen parts stay in eval mode even when
the model is put in train mode, so BatchNorm running statistics of frozen blocks never change.

SCL-FT (skip-connection layer fine-tuning) tunes one block plus the head and adds a skip connection
from that block's globally pooled output to the penultimate features: `concat` feeds [h, s] to the
head, `add` feeds h + P s with a zero-initialised projection P, so at initialisation the model equals
the linear-probe model.

Example:
    >>> import torch
    >>> from paperzoo.papers.neural_collapse.backbones import CNN1D
    >>> model = SCLFineTune(CNN1D(num_classes=5), tune="block2", num_classes=5, fuse="concat")
    >>> round(model.trainable_fraction(), 3)
    0.084
    >>> model = fine_tune(model, torch.randn(20, 40), torch.arange(20) % 5, epochs=1, lr=1e-3, seed=0)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from .features import POOLS, _pool, as_tensor, penultimate_layer

FUSIONS = ("concat", "add")


def _n_params(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _out_width(block: nn.Module) -> int:
    """Channel count of a block's output: from its last module that declares one."""
    for module in reversed(list(block.modules())):
        for attr in ("num_features", "out_channels", "out_features"):
            if isinstance(getattr(module, attr, None), int):
                return int(getattr(module, attr))
    raise ValueError(f"cannot tell the output width of block {type(block).__name__}")


class LayerFineTune(nn.Module):
    """A copy of `backbone` with a new `num_classes`-way head; only `tune` and the head are trained.

    `tune`: a submodule name of the backbone (e.g. "block2"), a list of names, None (head only: the
    linear probe) or "all" (full fine-tuning). The backbone's classifier is the `head` attribute if
    it is an nn.Linear, else its last nn.Linear; it must be the model's final operation.
    """

    def __init__(self, backbone: nn.Module, tune: str | list[str] | None, num_classes: int) -> None:
        super().__init__()
        if not isinstance(backbone, nn.Module):
            raise TypeError(f"backbone must be an nn.Module, got {type(backbone).__name__}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        clf_name = penultimate_layer(backbone)
        self.body = copy.deepcopy(backbone)
        clf = self.body.get_submodule(clf_name)
        self.feature_dim = clf.in_features
        _replace(self.body, clf_name, nn.Identity())
        self.tune = tune
        self.tuned_names = self._resolve(tune, clf_name)
        for p in self.body.parameters():
            p.requires_grad_(tune == "all")
        for name in self.tuned_names:
            for p in self.body.get_submodule(name).parameters():
                p.requires_grad_(True)
        self.head = nn.Linear(self._head_in(), num_classes)
        self.train()

    def _resolve(self, tune: str | list[str] | None, clf_name: str) -> list[str]:
        if tune is None or tune == "all":
            return []
        names = [tune] if isinstance(tune, str) else list(tune)
        modules = dict(self.body.named_modules())
        top = [n for n, _ in self.body.named_children() if n != clf_name]
        for name in names:
            if not isinstance(name, str) or name not in modules or name in ("", clf_name):
                raise ValueError(f"tune={name!r} is not a block of the backbone; choose from {top}, None or 'all'")
        return names

    def _head_in(self) -> int:
        return self.feature_dim

    def train(self, mode: bool = True) -> LayerFineTune:
        """Set train mode on the tuned parts only; frozen blocks stay in eval (BatchNorm frozen)."""
        super().train(mode)
        if self.tune != "all":
            self.body.eval()
            for name in self.tuned_names:
                self.body.get_submodule(name).train(mode)
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input (the penultimate features of this model)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def full_ft_parameters(self) -> int:
        """Parameter count of full fine-tuning: the whole backbone plus a plain K-way head."""
        return _n_params(self.body) + (self.feature_dim + 1) * self.head.out_features

    def trainable_fraction(self) -> float:
        """Parameters with requires_grad (head and projections included) over the full-FT count."""
        return _n_params(self, trainable_only=True) / self.full_ft_parameters()


class SCLFineTune(LayerFineTune):
    """Layer fine-tuning of block `tune` plus a skip from its pooled output to the penultimate features.

    fuse="concat": head input is [h, pool(block output)] (d + d_l); fuse="add": h + P·pool(...), with
    P (d_l -> d) zero-initialised so the model starts as the linear-probe model.
    """

    def __init__(self, backbone: nn.Module, tune: str = "block2", num_classes: int = 5,
                 fuse: str = "concat", pool: str = "avg") -> None:
        if fuse not in FUSIONS:
            raise ValueError(f"fuse must be one of {FUSIONS}, got {fuse!r}")
        if not isinstance(tune, str) or tune == "all":
            raise ValueError(f"SCLFineTune tunes one named block; got tune={tune!r}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        # Plain attributes may be set before nn.Module.__init__; the parent's __init__ needs them.
        self.fuse, self.pool = fuse, pool
        modules = dict(backbone.named_modules()) if isinstance(backbone, nn.Module) else {}
        self._skip_width = _out_width(modules[tune]) if tune and tune in modules else 0
        super().__init__(backbone, tune, num_classes)
        if fuse == "add":
            self.proj = nn.Linear(self._skip_width, self.feature_dim, bias=False)
            nn.init.zeros_(self.proj.weight)
        # The hook stores the output on the block itself (no reference to self: deepcopy-safe).
        self.body.get_submodule(tune).register_forward_hook(_store_output)

    def _head_in(self) -> int:
        return self.feature_dim + self._skip_width if self.fuse == "concat" else self.feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        skip = _pool(self.body.get_submodule(self.tune).__dict__.pop("_scl_output"), self.pool)
        return torch.cat([h, skip], dim=1) if self.fuse == "concat" else h + self.proj(skip)


def _store_output(module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
    module.__dict__["_scl_output"] = output


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


def fine_tune(model: nn.Module, X: Any, y: Any, epochs: int, lr: float, seed: int, batch_size: int = 32,
              l2_alpha: float = 0.0) -> nn.Module:
    """Train the parameters of `model` that require grad with Adam and cross-entropy; returns `model`.

    `l2_alpha` adds scikit-learn's MLP penalty (alpha / 2B)·Σ‖W‖² over weight matrices (B = batch
    size). Mini-batch order is drawn from `seed`, so the same seed gives the same model.
    """
    X = as_tensor(X)
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if len(X) != len(y_np):
        raise ValueError(f"X and y have mismatched lengths: {len(X)} and {len(y_np)}")
    if len(X) == 0:
        raise ValueError("X is empty")
    if not np.issubdtype(y_np.dtype, np.integer) or y_np.min() < 0:
        raise ValueError("y must hold non-negative integer class indices")
    if epochs < 1 or lr <= 0 or batch_size < 1:
        raise ValueError(f"need epochs >= 1, lr > 0, batch_size >= 1; got {epochs}, {lr}, {batch_size}")
    y_t = torch.as_tensor(y_np, dtype=torch.long)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    penalised = [p for name, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss = loss_fn(model(X[idx]), y_t[idx])
            if l2_alpha:
                loss = loss + l2_alpha / (2 * len(idx)) * sum((p**2).sum() for p in penalised)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()
    return model
