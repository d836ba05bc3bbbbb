"""The teacher–student pieces: BOND's soft labels, temperature distillation, AE-KD's adaptive teacher
weights and ATSEN's fine-grained (per-fragment) moving-average teacher update.

Example:
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> soft_frequency(logits).sum(-1)
    tensor([1., 1.])
    >>> float(distill_kl(logits, logits))
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def soft_frequency(logits: torch.Tensor) -> torch.Tensor:
    """BOND's sharpened soft labels: q_c ∝ p_c² / Σ_tokens p_c, renormalised per token.

    logits: [N, C] for the N real tokens of a batch (the class frequencies sum over them).
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must be [tokens, classes], got shape {tuple(logits.shape)}")
    probs = logits.softmax(-1)
    weight = probs ** 2 / probs.sum(0, keepdim=True).clamp_min(1e-12)
    return weight / weight.sum(-1, keepdim=True)


def distill_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float = 2.0) -> torch.Tensor:
    """T² · KL(softmax(teacher/T) ‖ softmax(student/T)), mean over tokens; both are logits [N, C].

    Log-probabilities on both sides (the reference feeds raw logits to KLDivLoss, unbounded below).
    """
    if student.shape != teacher.shape:
        raise ValueError(f"student and teacher logits differ in shape: {tuple(student.shape)} vs "
                         f"{tuple(teacher.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if student.shape[0] == 0:
        return student.sum() * 0.0
    t = temperature
    return F.kl_div(F.log_softmax(student / t, -1), F.log_softmax(teacher / t, -1), log_target=True,
                    reduction="batchmean") * t * t


def adaptive_kd_weights(grads: torch.Tensor | Sequence[torch.Tensor], nu: float = 0.75) -> torch.Tensor:
    """AE-KD teacher weights: argmin_w ‖Σ_k w_k g_k‖² on the simplex with w_k ≤ 1/(νK).

    grads: [K, D] (or K tensors), each teacher's gradient of its distillation loss w.r.t. the student
    output. This is the dual of a one-class SVM on the Gram matrix (scikit-learn's
    `OneClassSVM(kernel="precomputed", nu=nu)`: w = dual_coef / (νK)). K = 2 has a closed form, the
    clipped minimiser on the segment; K > 2 solves the SVM with scikit-learn.

    >>> adaptive_kd_weights(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    tensor([0.5000, 0.5000])
    """
    g = torch.stack([x.reshape(-1) for x in grads]) if not isinstance(grads, torch.Tensor) else grads
    g = g.reshape(g.shape[0], -1).detach().double()
    k = g.shape[0]
    if k < 2:
        raise ValueError(f"grads: need at least 2 teachers, got {k}")
    if not 1.0 / k <= nu <= 1.0:
        raise ValueError(f"nu must be in [1/K, 1] = [{1 / k:.3g}, 1], got {nu!r}")
    upper = 1.0 / (nu * k)
    if k == 2:
        diff = g[0] - g[1]
        denom = float(diff @ diff)
        w1 = 0.5 if denom < 1e-30 else float(((g[1] - g[0]) @ g[1]) / denom)
        w1 = min(max(w1, 1.0 - upper), upper)
        return torch.tensor([w1, 1.0 - w1], dtype=torch.float32)
    from sklearn.svm import OneClassSVM

    gram = (g @ g.T).numpy()
    svm = OneClassSVM(kernel="precomputed", nu=nu).fit(gram)
    w = torch.zeros(k, dtype=torch.float64)
    w[torch.as_tensor(svm.support_)] = torch.as_tensor(svm.dual_coef_[0])
    return (w / w.sum()).float()


def cosine_momentum(step: int, total: int, base: float) -> float:
    """m = 1 − (1 − a)(cos(π·step/total) + 1)/2: a at step 0, rising to 1 at `total` (Momentum² Teacher)."""
    if total < 1:
        raise ValueError(f"total must be >= 1, got {total!r}")
    return 1.0 - (1.0 - base) * (math.cos(math.pi * min(step, total) / total) + 1.0) / 2.0


@torch.no_grad()
def fine_grained_ema_(teacher: nn.Module, student: nn.Module, step: int, total: int, base: float,
                      update_prob: float = 0.2, generator: torch.Generator | None = None) -> float:
    """ATSEN's fine-grained student ensemble, in place: each parameter tensor ("fragment") of the
    teacher, independently with probability `update_prob`, moves to θ_t ← m·θ_t + (1 − m)·θ_s with
    the cosine momentum m; the others stay. Frozen student tensors are skipped. Returns m.

    With update_prob = 1 it is a plain EMA of the whole student; with 0 nothing changes.
    """
    if not 0.0 <= update_prob <= 1.0:
        raise ValueError(f"update_prob must be in [0, 1], got {update_prob!r}")
    if not 0.0 <= base <= 1.0:
        raise ValueError(f"base must be in [0, 1], got {base!r}")
    m = cosine_momentum(step, total, base)
    pairs = list(zip(teacher.parameters(), student.parameters(), strict=True))
    coins = torch.rand(len(pairs), generator=generator)
    for coin, (t, s) in zip(coins.tolist(), pairs, strict=True):
        if s.requires_grad and coin < update_prob:
            t.mul_(m).add_(s.detach(), alpha=1.0 - m)
    return m


@torch.no_grad()
def ema_(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """Plain EMA of every trainable tensor: θ_t ← α·θ_t + (1 − α)·θ_s (SCDL's teacher update)."""
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        if s.requires_grad:
            t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)


__all__ = ["adaptive_kd_weights", "cosine_momentum", "distill_kl", "ema_", "fine_grained_ema_", "soft_frequency"]
