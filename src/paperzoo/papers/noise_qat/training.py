"""Models and training loops for the reproduction: FP32 pre-training and paired QAT fine-tuning.

The data order comes from its own generator (`data_seed`), the noise from the quantizers' generator,
so two QAT runs from the same FP32 model with the same `data_seed` see identical batches.

Example:
    >>> import torch
    >>> from paperzoo.papers.noise_qat.layers import quantize_model
    >>> X, y = torch.randn(256, 40), torch.randint(0, 10, (256,))
    >>> fp = train_fp32(MLP(40, (32,), 10), X, y, epochs=1, batch_size=64, data_seed=0)
    >>> h = train_qat(quantize_model(fp, 2, 2), X, y, X[:64], y[:64], epochs=2, batch_size=64, data_seed=1)
    >>> len(h.val_accuracy)
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import set_training_step


class MLP(nn.Sequential):
    """in -> hidden... -> out with ReLU, e.g. MLP(40, (256, 256, 256), 10)."""

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int) -> None:
        sizes = [n_in, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        super().__init__(*layers, nn.Linear(sizes[-1], n_out))


class CNN1D(nn.Module):
    """Three Conv1d+ReLU blocks (stride 2) and a linear head, for signals of shape (N, length)."""

    def __init__(self, length: int = 40, channels: int = 32, n_out: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU())
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, length)).numel()
        self.head = nn.Linear(n_flat, n_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x.unsqueeze(1)).flatten(1))


@torch.no_grad()
def accuracy(model: nn.Module, X: Tensor, y: Tensor) -> float:
    """Top-1 accuracy in % (model switched to eval and back)."""
    was_training = model.training
    model.eval()
    acc = float((model(X).argmax(1) == y).float().mean()) * 100
    model.train(was_training)
    return acc


@dataclass
class QATHistory:
    """End-of-epoch validation accuracy (%) and mean training loss."""

    val_accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)


def _fit(model: nn.Module, X: Tensor, y: Tensor, epochs: int, batch_size: int, lr: float, data_seed: int,
         X_val: Tensor | None = None, y_val: Tensor | None = None, set_step: bool = False) -> QATHistory:
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    order = torch.Generator().manual_seed(int(data_seed))
    steps_per_epoch = -(-len(X) // batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    history = QATHistory()
    t = 0
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=order)
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = perm[start:start + batch_size]
            if set_step:
                set_training_step(model, t)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            t += 1
        history.train_loss.append(total / len(X))
        if X_val is not None:
            history.val_accuracy.append(accuracy(model, X_val, y_val))
    model.eval()
    return history


def train_fp32(model: nn.Module, X: Tensor, y: Tensor, epochs: int, batch_size: int = 128, lr: float = 1e-3,
               data_seed: int = 0) -> nn.Module:
    """Train `model` in float with Adam and a cosine schedule; returns it in eval mode."""
    _fit(model, X, y, epochs, batch_size, lr, data_seed)
    return model


def train_qat(qmodel: nn.Module, X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor, epochs: int,
              batch_size: int = 128, lr: float = 1e-3, data_seed: int = 0) -> QATHistory:
    """Fine-tune a quantized model (weights and steps, Adam + cosine); step t is set before every batch."""
    return _fit(qmodel, X, y, epochs, batch_size, lr, data_seed, X_val, y_val, set_step=True)
