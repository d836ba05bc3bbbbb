"""The maths of FedMGD's generative adversarial stage (GAS), split the way the messages split it.

Client k (`client_gan_step`): one C_k step on real data, one D_k step
    L_D = λ_D·[BCE(D_k(x_real), 1) + BCE(D_k(x̂), 0)] + λ_reg·E‖∇_x D_k(x_real)‖²   (R1),
then, with the updated nets, the realistic score S^(k)(x̂_i, ŷ_i) = D_k(x̂_i) − CE(C_k(x̂_i), ŷ_i) and the
per-sample input gradient g_i^k = ∂ℓ_i^k/∂x̂_i of ℓ_i^k = BCE(D_k(x̂_i), 1) + CE(C_k(x̂_i), ŷ_i).
Server (`generator_step`): k*_i = argmax_k S^(k) (ties: lowest client index), x̂.backward(rows g_i^{k*_i}/B),
one G step. That is exactly the gradient of L_G = mean_i ℓ_i^{k*_i} (tests check it against autograd).

Example:
    >>> import torch
    >>> from paperzoo.papers.fedmgd.models import Classifier, ConditionalGenerator, Discriminator
    >>> torch.manual_seed(0) and None
    >>> G, D, C = ConditionalGenerator(8, 3, 4), Discriminator(4), Classifier(4, 3)
    >>> opt_D, opt_C = torch.optim.Adam(D.parameters()), torch.optim.Adam(C.parameters())
    >>> z, y, x = G.sample(5)
    >>> s, g = client_gan_step(D, C, opt_D, opt_C, (torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])), x, y)
    >>> tuple(s.shape), tuple(g.shape)
    ((5,), (5, 4))
    >>> out = generator_step(G, torch.optim.Adam(G.parameters()), z, y, [(s, g), (s - 1, g)])
    >>> out["judges"].tolist()
    [0, 0, 0, 0, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

JUDGES = ("argmax", "random")


def _as_tensor(value: Any) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value, dtype=np.float32))


def realistic_score(D: nn.Module, C: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """S(x_i, y_i) = D(x_i) − CE(C(x_i), y_i) per sample (D a probability, so the CE term dominates)."""
    return D(x) - F.cross_entropy(C(x), y.long(), reduction="none")


def judge_losses(D: nn.Module, C: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ℓ_i = BCE(D(x_i), 1) + CE(C(x_i), y_i) per sample: the generator's loss when this client judges x_i."""
    d = D(x)
    return F.binary_cross_entropy(d, torch.ones_like(d), reduction="none") + \
        F.cross_entropy(C(x), y.long(), reduction="none")


def _d_and_r1(D: nn.Module, x_real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D(x_real) and E_i ‖∇_x D(x_i)‖² from one forward pass."""
    x = x_real.detach().requires_grad_(True)
    d = D(x)
    (grad,) = torch.autograd.grad(d.sum(), x, create_graph=True)
    return d, grad.pow(2).sum(dim=1).mean()


def r1_penalty(D: nn.Module, x_real: torch.Tensor) -> torch.Tensor:
    """E_i ‖∇_x D(x_i)‖² on real data, differentiable in D's parameters (create_graph)."""
    return _d_and_r1(D, x_real)[1]


def client_gan_step(D: nn.Module, C: nn.Module, opt_D: torch.optim.Optimizer, opt_C: torch.optim.Optimizer,
                    real: tuple[torch.Tensor, torch.Tensor], fake: torch.Tensor, y_fake: torch.Tensor,
                    lambda_d: float = 0.1, lambda_r1: float = 10.0,
                    info: dict[str, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One GAS step of a client: C step, D step (with R1), then realistic scores and input gradients.

    real: (x_real, y_real) of one local batch; fake, y_fake: the server's x̂ (detached) and ŷ.
    Returns (scores (B,), input_grads (B, dim)), both detached. `info` (if given) receives the losses.
    """
    if lambda_d < 0 or lambda_r1 < 0:
        raise ValueError(f"lambda_d and lambda_r1 must be >= 0, got {lambda_d!r}, {lambda_r1!r}")
    x_real, y_real = real
    if x_real.ndim != 2 or fake.ndim != 2 or x_real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake must be (n, dim) with the same dim, got {tuple(x_real.shape)}, "
                         f"{tuple(fake.shape)}")
    fake = fake.detach()
    opt_C.zero_grad()
    loss_c = F.cross_entropy(C(x_real), y_real.long())
    loss_c.backward()
    opt_C.step()

    opt_D.zero_grad()
    d_real, r1 = _d_and_r1(D, x_real) if lambda_r1 > 0 else (D(x_real), torch.zeros(()))
    d_fake = D(fake)
    adv = F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + \
        F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
    loss_d = lambda_d * adv + lambda_r1 * r1
    loss_d.backward()
    opt_D.step()

    # scores and per-sample gradients from one forward pass of the updated nets
    x = fake.clone().requires_grad_(True)
    d = D(x)
    ce = F.cross_entropy(C(x), y_fake.long(), reduction="none")
    losses = F.binary_cross_entropy(d, torch.ones_like(d), reduction="none") + ce
    (grads,) = torch.autograd.grad(losses.sum(), x)
    scores = (d - ce).detach()  # = realistic_score(D, C, x̂, ŷ)
    if info is not None:
        info.update(loss_c=loss_c.item(), loss_d=loss_d.item(), r1=r1.item(), d_real=d_real.mean().item(),
                    d_fake=d_fake.mean().item())
    return scores.detach(), grads.detach()


def select_judges(scores: torch.Tensor, judge: str = "argmax",
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Index of the judging client per sample from scores of shape (clients, B): argmax (first on ties) or random."""
    if judge not in JUDGES:
        raise ValueError(f"judge must be one of {JUDGES}, got {judge!r}")
    if scores.ndim != 2 or scores.shape[0] < 1:
        raise ValueError(f"scores must be (clients >= 1, B), got {tuple(scores.shape)}")
    if judge == "random":
        return torch.randint(0, scores.shape[0], (scores.shape[1],), generator=generator)
    return torch.argmax(scores, dim=0)  # torch returns the first maximal index: ties go to the lowest client


def generator_step(G: nn.Module, opt_G: torch.optim.Optimizer, z: torch.Tensor, y: torch.Tensor,
                   replies: Sequence[tuple[Any, Any]], judge: str = "argmax",
                   generator: torch.Generator | None = None) -> dict[str, Any]:
    """One G step from the clients' replies [(scores (B,), input_grads (B, dim)), ...] (the clients that answered).

    Backpropagates rows g_i^{k*_i} / B through x̂ = G(z, y), i.e. the gradient of mean_i ℓ_i^{k*_i}.
    Returns {"judges": k*_i as indices into `replies`, "score": the judges' mean score}.
    """
    if not replies:
        raise ValueError("replies is empty: no client scored the batch")
    scores = torch.stack([_as_tensor(s).reshape(-1) for s, _ in replies])
    grads = torch.stack([_as_tensor(g) for _, g in replies])
    batch = z.shape[0]
    if scores.shape[1] != batch or grads.shape[:2] != (len(replies), batch):
        raise ValueError(f"replies must hold {batch} scores and gradient rows each, got {tuple(scores.shape)} "
                         f"and {tuple(grads.shape)}")
    judges = select_judges(scores, judge, generator)
    rows = torch.arange(batch)
    opt_G.zero_grad()
    x = G(z, y)
    x.backward(grads[judges, rows] / batch)
    opt_G.step()
    return {"judges": judges, "score": float(scores[judges, rows].mean())}


@torch.no_grad()
def screen(model: nn.Module, G: nn.Module, n: int, n_classes: int,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of the frozen G with ŷ ~ Uniform(classes), kept only where argmax model(x̂) = ŷ."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    y = torch.randint(0, n_classes, (n,), generator=generator)
    z = torch.randn(n, G.z_dim, generator=generator)
    x = G(z, y)
    keep = model(x).argmax(dim=1) == y
    return x[keep], y[keep]


__all__ = ["JUDGES", "client_gan_step", "generator_step", "judge_losses", "r1_penalty", "realistic_score", "screen",
           "select_judges"]
