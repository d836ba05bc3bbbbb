"""Early exit (BranchyNet) and Edgent's joint exit/split search under a latency budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .planning import Link, Plan, Tier, chain_split


class EarlyExitNet(nn.Module):
    """Blocks with side classifiers after blocks 1..N-1; `exits[n]` reads the output of `backbone[n]`.

    `forward(x)` returns the logits of every exit and the final head (for training with sum of CE);
    `predict(x)` exits sample by sample at the first exit whose softmax entropy < `thresholds[n]`.

    >>> from paperzoo.papers.edge_inference.models import exit_cnn_1d
    >>> logits, where = exit_cnn_1d(thresholds=[9.0, 9.0, 9.0]).predict(torch.zeros(3, 40))
    >>> where.tolist()
    [0, 0, 0]
    """

    def __init__(self, backbone: Sequence[nn.Module], exits: Sequence[nn.Module], thresholds: Sequence[float]) -> None:
        super().__init__()
        if len(backbone) < 2:
            raise ValueError(f"backbone needs at least 2 blocks, got {len(backbone)}")
        if len(exits) != len(backbone) - 1:
            raise ValueError(f"exits: need {len(backbone) - 1} (after blocks 1..N-1), got {len(exits)}")
        if len(thresholds) != len(exits):
            raise ValueError(f"thresholds: need {len(exits)}, got {len(thresholds)}")
        self.backbone, self.exits = nn.ModuleList(backbone), nn.ModuleList(exits)
        self.thresholds = [float(t) for t in thresholds]

    @property
    def n_exits(self) -> int:
        """Exits including the final head."""
        return len(self.backbone)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for n, block in enumerate(self.backbone):
            x = block(x)
            outs.append(self.exits[n](x) if n < len(self.exits) else x)
        return outs

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, exit index) per sample; later blocks run only for samples still undecided."""
        logits = torch.empty(0)
        where = torch.full((x.shape[0],), len(self.exits), dtype=torch.long)
        active = torch.arange(x.shape[0])
        h = x
        for n, block in enumerate(self.backbone):
            h = block(h)
            out = self.exits[n](h) if n < len(self.exits) else h
            if logits.numel() == 0:
                logits = torch.empty(x.shape[0], out.shape[1])
            if n == len(self.exits):
                logits[active] = out
                break
            done = entropy(out) < self.thresholds[n]
            logits[active[done]], where[active[done]] = out[done], n
            active, h = active[~done], h[~done]
            if active.numel() == 0:
                break
        return logits, where

    @torch.no_grad()
    def run_path(self, x: torch.Tensor, force_exit: int | None = None) -> tuple[torch.Tensor, int]:
        """One request as a device runs it (BranchyNet/Edgent): block n, then exit head n and its entropy
        test; heads after the exit taken never run. `force_exit` leaves at that exit whatever the entropy
        (for timing each path). Returns (logits, exit index).
        """
        if x.shape[0] != 1:
            raise ValueError(f"run_path takes one request (batch 1), got batch {x.shape[0]}")
        if force_exit is not None and not 0 <= force_exit < self.n_exits:
            raise ValueError(f"force_exit must be in [0, {self.n_exits - 1}], got {force_exit}")
        h = x
        for n, block in enumerate(self.backbone):
            h = block(h)
            if n == len(self.exits):
                return h, n
            out = self.exits[n](h)
            leave = bool(entropy(out)[0] < self.thresholds[n])
            if (force_exit is None and leave) or force_exit == n:
                return out, n
        raise AssertionError("unreachable: the last block always returns")

    @torch.no_grad()
    def backbone_only(self, x: torch.Tensor) -> torch.Tensor:
        """The no-exit baseline: the blocks alone, no exit heads."""
        for block in self.backbone:
            x = block(x)
        return x

    def truncated(self, n: int) -> nn.Sequential:
        """The chain that ends at exit n (n = N-1: the full network), for profiling and splitting."""
        if not 0 <= n < self.n_exits:
            raise ValueError(f"exit index must be in [0, {self.n_exits - 1}], got {n}")
        layers = [layer for block in self.backbone[:n + 1] for layer in _flat(block)]
        if n < len(self.exits):
            layers += _flat(self.exits[n])
        return nn.Sequential(*layers)


def path_latencies(net: EarlyExitNet, x: torch.Tensor, repeats: int = 30, warmup: int = 5) -> dict:
    """Host seconds (median of `repeats` after `warmup`) of every exit path and of the no-exit baseline.

    `paths[n]` is one request leaving at exit n (blocks 0..n, heads 0..n with their entropy tests);
    `no_exit` runs the blocks only. Expected latency with exits = sum_n p_n paths[n].

    >>> from paperzoo.papers.edge_inference.models import exit_cnn_1d
    >>> lat = path_latencies(exit_cnn_1d().eval(), torch.zeros(1, 40), repeats=2, warmup=1)
    >>> len(lat["paths"])
    4
    """
    import statistics
    import time

    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    fns = [lambda n=n: net.run_path(x, force_exit=n) for n in range(net.n_exits)] + [lambda: net.backbone_only(x)]
    samples: list[list[float]] = [[] for _ in fns]
    net.eval()
    for i in range(warmup + repeats):
        for j, fn in enumerate(fns):  # interleaved, so that host load hits every path alike
            start = time.perf_counter()
            fn()
            if i >= warmup:
                samples[j].append(time.perf_counter() - start)
    med = [statistics.median(s) for s in samples]
    return {"paths": med[:-1], "no_exit": med[-1]}


def _flat(m: nn.Module) -> list[nn.Module]:
    return list(m) if isinstance(m, nn.Sequential) else [m]


def entropy(logits: torch.Tensor) -> torch.Tensor:
    p = F.log_softmax(logits, dim=1)
    return -(p.exp() * p).sum(1)


def train_early_exit(net: EarlyExitNet, x: torch.Tensor, y: torch.Tensor, epochs: int = 10, lr: float = 1e-3,
                     batch_size: int = 100, weights: Sequence[float] | None = None, seed: int = 0) -> EarlyExitNet:
    """Joint training with loss sum_n w_n CE_n (w_n = 1 by default), Adam."""
    w = list(weights) if weights is not None else [1.0] * net.n_exits
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            loss = sum(wn * F.cross_entropy(out, y[idx]) for wn, out in zip(w, net(x[idx]), strict=False))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def exit_accuracies(net: EarlyExitNet, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Accuracy of every exit when all samples leave there."""
    return [float((out.argmax(1) == y).float().mean()) for out in net.eval()(x)]


@torch.no_grad()
def calibrate_thresholds(net: EarlyExitNet, x_val: torch.Tensor, y_val: torch.Tensor, max_drop: float = 0.005,
                         grid: int = 40) -> list[float]:
    """One shared entropy threshold: the largest on a quantile grid whose validation accuracy is within
    `max_drop` of the final exit's (BranchyNet picks thresholds on validation data)."""
    outs = net.eval()(x_val)
    final_acc = float((outs[-1].argmax(1) == y_val).float().mean())
    ents = torch.cat([entropy(o) for o in outs[:-1]])
    best = 0.0
    for t in torch.quantile(ents, torch.linspace(0, 1, grid)).tolist():
        net.thresholds = [t] * len(net.exits)
        logits, _ = net.predict(x_val)
        if float((logits.argmax(1) == y_val).float().mean()) >= final_acc - max_drop:
            best = max(best, t)
    net.thresholds = [best] * len(net.exits)
    return net.thresholds


@dataclass(frozen=True)
class ExitSplit:
    """Edgent's choice: exit index, the split plan of the truncated net, its predicted latency, accuracy."""

    exit: int
    plan: Plan
    predicted_s: float
    accuracy: float


def _candidates(profile, tiers, links, accuracies):
    if len(profile) != len(accuracies):
        raise ValueError(f"profile has {len(profile)} exits but accuracies has {len(accuracies)}")
    for n, prof in enumerate(profile):
        plan = chain_split(prof, tiers, links)
        yield ExitSplit(n, plan, plan.predicted_s, float(accuracies[n]))


def joint_exit_split(net: EarlyExitNet, profile: Sequence, budget_s: float, *, tiers: Sequence[Tier],
                     links: Sequence[Link], accuracies: Sequence[float]) -> ExitSplit | None:
    """Edgent: over exits from most to least accurate, the best split of the truncated net; return the
    first whose predicted latency meets `budget_s` (None if none does).

    `profile[n]` is the profile of `net.truncated(n)`; `accuracies[n]` its validation accuracy.
    """
    if not budget_s > 0:
        raise ValueError(f"budget_s must be > 0, got {budget_s}")
    if len(profile) != net.n_exits:
        raise ValueError(f"profile: need one profile per exit ({net.n_exits}), got {len(profile)}")
    for cand in sorted(_candidates(profile, tiers, links, accuracies), key=lambda c: (-c.accuracy, c.exit)):
        if cand.predicted_s <= budget_s:
            return cand
    return None


def brute_force_exit_split(profile: Sequence, budget_s: float, *, tiers: Sequence[Tier], links: Sequence[Link],
                           accuracies: Sequence[float]) -> ExitSplit | None:
    """Every (exit, split) pair: the most accurate one whose predicted latency meets the budget."""
    from .planning import chain_assignment, chain_latencies

    best = None
    for n, prof in enumerate(profile):
        for ks, seconds in chain_latencies(prof, tiers, links).items():
            if seconds <= budget_s and (best is None or accuracies[n] > best.accuracy
                                        or (accuracies[n] == best.accuracy and n < best.exit)):
                a = chain_assignment(prof, ks)
                best = ExitSplit(n, Plan(a, seconds, "chain", prof, tuple(tiers), tuple(links)), seconds,
                                 float(accuracies[n]))
    return best
