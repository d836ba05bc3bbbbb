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
    """AdamW with transformers' linear schedule (warmup over a fraction `warmup` of the steps, then linear
    decay to 0), gradient clipping; biases and LayerNorm weights get no weight decay.

    `seed` fixes the batch order and the dropout stream (torch's global RNG is restored afterwards), so
    each client of each round draws its own dropout masks. Returns (mean training loss, examples seen once).
    """
    from transformers import get_linear_schedule_with_warmup

    if lr <= 0 or epochs < 1 or batch_size < 1:
        raise ValueError(f"need lr > 0, epochs >= 1, batch_size >= 1; got lr={lr}, epochs={epochs}, "
                         f"batch_size={batch_size}")
    if not 0.0 <= warmup < 1.0:
        raise ValueError(f"warmup must be in [0, 1), got {warmup!r}")
    if len(data) == 0:
        raise ValueError("data is empty")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(_param_groups(model, weight_decay), lr=lr)
    steps = epochs * -(-len(data) // batch_size)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=int(warmup * steps), num_training_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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
