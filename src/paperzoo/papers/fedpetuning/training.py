"""Local training and evaluation of a (PET) classifier on tokenised examples.

Example (with `model` from `build_model` and `task` from `load_task`)::

    loss, n = train_local(model, task.train, lr=1e-3, epochs=1, batch_size=16, seed=0)
    acc, ce = evaluate(model, task.valid)
"""

from __future__ import annotations

import torch
from torch import nn

from .textdata import Encoded


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name.endswith(".bias") or "LayerNorm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train_local(model: nn.Module, data: Encoded, lr: float, epochs: int = 1, batch_size: int = 16, seed: int = 0,
                warmup: float = 0.1, clip: float = 1.0, weight_decay: float = 0.0) -> tuple[float, int]:
    """AdamW with linear warmup (fraction `warmup` of the steps) then linear decay, gradient clipping.

    Biases and LayerNorm weights get no weight decay. Returns (mean training loss, examples seen once).
    """
    if lr <= 0 or epochs < 1 or batch_size < 1:
        raise ValueError(f"need lr > 0, epochs >= 1, batch_size >= 1; got lr={lr}, epochs={epochs}, "
                         f"batch_size={batch_size}")
    if len(data) == 0:
        raise ValueError("data is empty")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(_param_groups(model, weight_decay), lr=lr)
    steps = epochs * -(-len(data) // batch_size)
    warm = max(1, int(warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=gen)
        for start in range(0, len(data), batch_size):
            i = order[start:start + batch_size]
            out = model(input_ids=data.input_ids[i], attention_mask=data.attention_mask[i])
            loss = nn.functional.cross_entropy(out.logits, data.labels[i])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
    return sum(losses) / len(losses), len(data)


@torch.no_grad()
def evaluate(model: nn.Module, data: Encoded, batch_size: int = 64) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) on `data`."""
    model.eval()
    correct, loss = 0, 0.0
    for start in range(0, len(data), batch_size):
        sl = slice(start, start + batch_size)
        logits = model(input_ids=data.input_ids[sl], attention_mask=data.attention_mask[sl]).logits
        loss += float(nn.functional.cross_entropy(logits, data.labels[sl], reduction="sum"))
        correct += int((logits.argmax(-1) == data.labels[sl]).sum())
    return correct / len(data), loss / len(data)
