"""Saddle-point-escaping stages: increments of the effective rank, and the loss plateaus between them.

Effective rank r_τ(t) = #{i : σ_i(W_t) > τ}; a stage is an increment of r_τ. A loss plateau is a run of
logged steps whose 200-step window changes the loss by < 1 % (relative) with ‖∇‖ < 10⁻²·max‖∇‖. A run is
*clean* when every increment is exactly 1, it reaches the target rank R, and exactly one plateau
separates consecutive onsets (so the loss-plateau count agrees with the rank count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .training import History


@dataclass(frozen=True)
class Plateau:
    """A flat stretch of the loss: first and last logged step, its median loss and r_τ there."""

    start: int
    end: int
    loss: float
    rank: int

    @property
    def midpoint(self) -> int:
        return (self.start + self.end) // 2


@dataclass(frozen=True)
class Stage:
    """One saddle escape: the step where r_τ first reaches `rank`, the increment `jump`, and the loss of
    the plateau that follows (the final loss for the last stage); `plateau` is None when none follows."""

    step: int
    rank: int
    loss: float
    jump: int = 1
    plateau: Plateau | None = None


def effective_rank(history: History, tau: float = 0.1) -> np.ndarray:
    """r_τ at every logged step."""
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    return (history.singular_values > tau).sum(axis=1)


def find_plateaus(history: History, tau: float = 0.1, window: int = 200, rel_change: float = 0.01,
                  grad_frac: float = 1e-2) -> list[Plateau]:
    """Maximal flat stretches of the logged loss (adjacent stretches at the same level are merged)."""
    if window <= 0:
        raise ValueError(f"window must be > 0 steps, got {window!r}")
    steps, loss, grad = history.steps, history.loss, history.grad_norm
    ranks = effective_rank(history, tau)
    ends = np.searchsorted(steps, steps + window)  # index of the window's last logged step
    grad_cap = grad_frac * grad.max()
    flat = np.zeros(len(steps), dtype=bool)
    for i, j in enumerate(ends):
        if j >= len(steps):
            break
        flat[i] = abs(loss[j] - loss[i]) <= rel_change * abs(loss[i]) and grad[i:j + 1].max() <= grad_cap
    segments: list[list[int]] = []  # [first index, last index of the window]
    for i in np.flatnonzero(flat):
        if segments and i <= segments[-1][1]:
            segments[-1][1] = max(segments[-1][1], int(ends[i]))
        else:
            segments.append([int(i), int(ends[i])])
    plateaus: list[Plateau] = []
    for a, b in segments:
        level = float(np.median(loss[a:b + 1]))
        prev = plateaus[-1] if plateaus else None
        if prev is not None and abs(prev.loss - level) <= rel_change * max(abs(level), abs(prev.loss)) \
                and prev.rank == ranks[a]:
            plateaus[-1] = Plateau(prev.start, int(steps[b]), prev.loss, prev.rank)
        else:
            plateaus.append(Plateau(int(steps[a]), int(steps[b]), level, int(ranks[(a + b) // 2])))
    return plateaus


def detect_stages(history: History, tau: float = 0.1, window: int = 200) -> list[Stage]:
    """The stages of a run: one per increment of r_τ, with the plateau that follows it.

    Example:
        >>> stages = detect_stages(hist)                 # doctest: +SKIP
        >>> [(s.step, s.rank) for s in stages]           # doctest: +SKIP
        [(2650, 1), (4400, 2), (9100, 3)]
    """
    ranks = effective_rank(history, tau)
    plateaus = find_plateaus(history, tau, window)
    onsets = [i for i in range(1, len(ranks)) if ranks[i] > ranks[i - 1]]
    stages = []
    for k, i in enumerate(onsets):
        step = int(history.steps[i])
        next_step = int(history.steps[onsets[k + 1]]) if k + 1 < len(onsets) else None
        after = [p for p in plateaus if p.start >= step and (next_step is None or p.end <= next_step)]
        plateau = after[0] if after and next_step is not None else None
        loss = plateau.loss if plateau is not None else float(history.loss[-1] if next_step is None
                                                               else history.loss[onsets[k + 1] - 1])
        stages.append(Stage(step, int(ranks[i]), loss, int(ranks[i] - ranks[i - 1]), plateau))
    return stages


def check_clean(history: History, stages: list[Stage], rank: int, tau: float = 0.1,
                window: int = 200) -> tuple[bool, str]:
    """Whether a run is clean for target rank `rank`, and why not."""
    ranks = effective_rank(history, tau)
    if np.any(np.diff(ranks) < 0):
        return False, "r_tau decreased during training"
    if any(s.jump != 1 for s in stages):
        return False, f"stages merged (increments {[s.jump for s in stages]})"
    if int(ranks[-1]) != rank or len(stages) != rank:
        return False, f"ended at r_tau={int(ranks[-1])} after {len(stages)} stages (target {rank})"
    plateaus = find_plateaus(history, tau, window)
    for a, b in zip(stages[:-1], stages[1:], strict=True):
        between = [p for p in plateaus if p.start >= a.step and p.end <= b.step]
        if len(between) != 1:
            return False, f"{len(between)} loss plateaus between onsets at steps {a.step} and {b.step}"
    return True, "clean"
