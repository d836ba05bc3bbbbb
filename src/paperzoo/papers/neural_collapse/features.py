"""Features from any layer of a model (forward hooks), layer-wise NC1, and the linear probe.

Example:
    >>> import torch
    >>> from paperzoo.papers.neural_collapse.backbones import MLP
    >>> net = MLP(64, 16, 5)
    >>> collect_features(net, torch.rand(10, 64)).shape      # penultimate = the head's input
    torch.Size([10, 16])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .metrics import nc_metrics

POOLS = ("avg", "max", "flatten")


def as_tensor(X: Any, name: str = "X") -> torch.Tensor:
    """A float32 tensor from an array or tensor."""
    if isinstance(X, torch.Tensor):
        return X.detach().float()
    try:
        return torch.as_tensor(np.asarray(X, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array or tensor, got {type(X).__name__}") from exc


def penultimate_layer(model: nn.Module) -> str:
    """Name of the classifier whose *input* is the penultimate feature: `head` if it is a Linear,
    else the last nn.Linear registered in the model."""
    modules = dict(model.named_modules())
    if isinstance(modules.get("head"), nn.Linear):
        return "head"
    linears = [name for name, m in modules.items() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear classifier; pass layer= to name the feature layer")
    return linears[-1]


def _pool(out: torch.Tensor, pool: str) -> torch.Tensor:
    if out.ndim <= 2:
        return out
    if pool == "avg":
        return out.flatten(2).mean(dim=2)
    if pool == "max":
        return out.flatten(2).amax(dim=2)
    return out.flatten(1)


def _collect(model: nn.Module, X: Any, layers: Sequence[str | None], pool: str,
             batch_size: int) -> dict[str | None, torch.Tensor]:
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
    X = as_tensor(X)
    modules = dict(model.named_modules())
    captured: dict[str | None, list[torch.Tensor]] = {layer: [] for layer in layers}
    handles = []
    for layer in layers:
        if layer is None:  # penultimate: the input of the classifier, like tding1's pre-hook on fc
            clf = modules[penultimate_layer(model)]
            handles.append(clf.register_forward_pre_hook(
                lambda _m, inputs, key=layer: captured[key].append(_pool(inputs[0], pool))))
        elif layer in modules:
            handles.append(modules[layer].register_forward_hook(
                lambda _m, _i, out, key=layer: captured[key].append(_pool(out, pool))))
        else:
            top = [name for name, _ in model.named_children()]
            raise ValueError(f"layer={layer!r} is not a submodule of the model; top-level layers: {top}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                model(X[start:start + batch_size])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {layer: torch.cat(chunks) for layer, chunks in captured.items()}


def collect_features(model: nn.Module, X: Any, layer: str | None = None, pool: str = "avg",
                     batch_size: int = 1024) -> torch.Tensor:
    """Features of `X` at `layer` (a submodule name; None = the penultimate features, i.e. the input of
    the classifier), globally pooled over spatial dims ("avg", "max" or "flatten"), in eval mode.

    The model's training mode is restored afterwards and no gradients are kept.
    """
    return _collect(model, X, [layer], pool, batch_size)[layer]


def layerwise_nc1(model: nn.Module, X: Any, y: Any, layers: Sequence[str | None],
                  pool: str = "avg") -> dict[str, float]:
    """NC1 of the pooled output of each layer in `layers` on (X, y), in one forward pass.

    Example: `layerwise_nc1(cnn, X, y, ["block1", "block2", "block3", "block4"])`.
    """
    feats = _collect(model, X, list(layers), pool, batch_size=1024)
    return {str(layer if layer is not None else "penultimate"): nc_metrics(feats[layer], y)["nc1"]
            for layer in layers}


def linear_probe(H_train: Any, y_train: Any, H_test: Any, y_test: Any, C: float = 1.0,
                 max_iter: int = 2000) -> float:
    """Test accuracy of a multinomial logistic regression (lbfgs) on features standardised with the
    training statistics. A ConvergenceWarning from scikit-learn is passed on, not hidden."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    H_tr, y_tr, H_te, y_te = (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
                              for v in (H_train, y_train, H_test, y_test))
    if H_tr.ndim != 2 or H_te.ndim != 2 or H_tr.shape[1] != H_te.shape[1]:
        raise ValueError(f"H_train and H_test must be 2-D with equal widths, got {H_tr.shape} and {H_te.shape}")
    if len(H_tr) != len(y_tr):
        raise ValueError(f"H_train and y_train have mismatched lengths: {len(H_tr)} and {len(y_tr)}")
    if len(H_te) != len(y_te):
        raise ValueError(f"H_test and y_test have mismatched lengths: {len(H_te)} and {len(y_te)}")
    if np.unique(y_tr).size < 2:
        raise ValueError("y_train needs at least 2 classes")
    if C <= 0:
        raise ValueError(f"C must be positive, got {C}")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # report every non-converged probe, not just the first
        probe.fit(H_tr, y_tr)
    return float(probe.score(H_te, y_te))
