"""GAS maths: the message-based G gradient is the centralised one; judging; R1; screening."""

import pytest
import torch
from torch.nn import functional as F

from paperzoo.papers.fedmgd import (
    Classifier,
    ConditionalGenerator,
    Discriminator,
    client_gan_step,
    generator_step,
    judge_losses,
    r1_penalty,
    realistic_score,
    screen,
    select_judges,
)


def _clients(k, dim=6, classes=4, seed=0):
    torch.manual_seed(seed)
    nets = []
    for _ in range(k):
        D, C = Discriminator(dim), Classifier(dim, classes)
        nets.append((D, C, torch.optim.Adam(D.parameters(), 1e-3), torch.optim.Adam(C.parameters(), 1e-3)))
    return nets


def test_message_based_generator_gradient_equals_the_centralised_loss_gradient():
    torch.manual_seed(1)
    G = ConditionalGenerator(5, 4, 6)
    clients = _clients(3)
    z, y = torch.randn(16, 5), torch.randint(0, 4, (16,))
    with torch.no_grad():
        x = G(z, y)
    replies = [client_gan_step(D, C, oD, oC, (torch.randn(8, 6), torch.randint(0, 4, (8,))), x, y)
               for D, C, oD, oC in clients]
    noop = torch.optim.SGD(G.parameters(), lr=0.0)
    out = generator_step(G, noop, z, y, replies)
    message_grads = [p.grad.clone() for p in G.parameters()]

    # centralised: L_G = mean_i [BCE(D_k*(x_i), 1) + CE(C_k*(x_i), y_i)], k* = argmax_k S^(k), same (updated) nets
    G.zero_grad()
    x = G(z, y)
    scores = torch.stack([realistic_score(D, C, x, y) for D, C, _, _ in clients]).detach()
    best = scores.argmax(0)
    assert torch.equal(best, out["judges"])
    losses = torch.stack([judge_losses(D, C, x, y) for D, C, _, _ in clients])
    losses[best, torch.arange(16)].mean().backward()
    for got, want in zip(message_grads, (p.grad for p in G.parameters()), strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in message_grads)


def test_a_client_that_never_saw_a_class_is_never_chosen_to_judge_it():
    torch.manual_seed(0)
    dim, classes = 6, 4
    centers = torch.randn(classes, dim) * 3
    holdings = {0: [0, 1], 1: [1, 2], 2: [2, 3]}  # client 0 never sees class 2 or 3
    clients = _clients(3, dim, classes)
    fake, y_fake = torch.randn(64, dim), torch.full((64,), 2)
    for _ in range(100):
        for k, (D, C, oD, oC) in enumerate(clients):
            y = torch.tensor(holdings[k] * 16)
            client_gan_step(D, C, oD, oC, (centers[y] + 0.3 * torch.randn(len(y), dim), y), fake, y_fake)
    x = centers[2] + torch.randn(256, dim)  # samples that look like class 2, as G's samples for ŷ = 2 should
    y = torch.full((256,), 2)
    replies = [client_gan_step(D, C, oD, oC, (centers[torch.tensor(holdings[k])], torch.tensor(holdings[k])), x, y)
               for k, (D, C, oD, oC) in enumerate(clients)]
    judges = select_judges(torch.stack([s for s, _ in replies]))
    assert not (judges == 0).any()
    assert (judges == 1).any() or (judges == 2).any()


def test_r1_penalty_matches_finite_differences():
    torch.manual_seed(0)
    D = Discriminator(5).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    eps = 1e-6
    grads = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                up, down = x.clone(), x.clone()
                up[i, j] += eps
                down[i, j] -= eps
                grads[i, j] = (D(up)[i] - D(down)[i]) / (2 * eps)
    want = grads.pow(2).sum(1).mean()
    got = r1_penalty(D, x)
    assert torch.allclose(got, want, rtol=1e-6)
    got.backward()  # create_graph: the penalty is differentiable in D's parameters
    assert all(p.grad is not None for p in D.parameters())


def test_ties_go_to_the_lowest_client_and_random_judging_is_seeded():
    scores = torch.tensor([[1.0, 0.0, 2.0], [1.0, 3.0, 2.0]])
    assert select_judges(scores).tolist() == [0, 1, 0]
    a = select_judges(torch.zeros(4, 50), "random", torch.Generator().manual_seed(3))
    b = select_judges(torch.zeros(4, 50), "random", torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and len(set(a.tolist())) > 1


def test_screen_keeps_exactly_the_samples_the_model_labels_as_their_class():
    torch.manual_seed(0)
    G, model = ConditionalGenerator(4, 3, 5), Classifier(5, 3)
    x, y = screen(model, G, 300, 3, torch.Generator().manual_seed(0))
    assert 0 < len(y) < 300
    assert torch.equal(model(x).argmax(1), y)


def test_client_step_updates_d_and_c_and_bad_arguments_raise():
    (D, C, oD, oC), = _clients(1)
    before = [p.clone() for p in [*D.parameters(), *C.parameters()]]
    info = {}
    s, g = client_gan_step(D, C, oD, oC, (torch.randn(8, 6), torch.randint(0, 4, (8,))), torch.randn(5, 6),
                           torch.randint(0, 4, (5,)), info=info)
    assert s.shape == (5,) and g.shape == (5, 6) and {"loss_c", "loss_d", "r1"} <= set(info)
    assert all(not torch.equal(a, b) for a, b in zip(before, [*D.parameters(), *C.parameters()], strict=True))
    assert torch.allclose(F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.0])), torch.log(torch.tensor(2.)))
    with pytest.raises(ValueError, match="lambda"):
        client_gan_step(D, C, oD, oC, (torch.randn(2, 6), torch.zeros(2)), torch.randn(2, 6), torch.zeros(2),
                        lambda_d=-1)
    with pytest.raises(ValueError, match="same dim"):
        client_gan_step(D, C, oD, oC, (torch.randn(2, 6), torch.zeros(2)), torch.randn(2, 5), torch.zeros(2))
    with pytest.raises(ValueError, match="judge"):
        select_judges(torch.zeros(2, 3), "best")
    with pytest.raises(ValueError, match="empty"):
        generator_step(ConditionalGenerator(4, 4, 6), oD, torch.randn(2, 4), torch.zeros(2), [])
    with pytest.raises(ValueError, match="n_classes"):
        ConditionalGenerator(4, 0, 6)
