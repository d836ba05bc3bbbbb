"""Dialogue rollouts (Lewis et al. 2017): before each act, simulate how the dialogue could continue.

The agent takes the K acts its policy finds most likely, plays each out N times against a partner model
(partner values drawn from those consistent with the counts and the agent's own values), and picks the
act with the highest mean own score. Simulations run as one batch of K x N games.

Example:
    agent = RolloutAgent(rl_policy, partner_model=sl_policy, candidates=10, rollouts=5)
    d = play(agent, sl_policy, ItemDivision().sample(seed=0), seed=0)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .batched import ItemBatch, run_batch
from .environments import ItemDivision, ItemScenario, Observation, value_vectors
from .policies import PolicyAgent


@lru_cache(maxsize=4096)
def partner_values(counts: tuple[int, ...], own: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Every partner value vector that makes a valid scenario with `own` values."""
    def valid(v: tuple[int, ...]) -> bool:
        pairs = list(zip(own, v, strict=True))
        return all(a or b for a, b in pairs) and any(a and b for a, b in pairs)

    return tuple(v for v in value_vectors(counts) if valid(v))


class RolloutAgent(PolicyAgent):
    """Chooses among the `candidates` most likely acts of `policy` by `rollouts` simulated completions
    each against `partner_model` (default: the policy itself)."""

    def __init__(self, policy: PolicyAgent, partner_model: PolicyAgent | None = None, candidates: int = 10,
                 rollouts: int = 5, name: str = "rollouts") -> None:
        if not isinstance(policy.env, ItemDivision):
            raise ValueError("policy: rollouts are implemented for ItemDivision policies")
        if not isinstance(candidates, int) or candidates < 1 or not isinstance(rollouts, int) or rollouts < 1:
            raise ValueError(f"candidates and rollouts must be ints >= 1, got {candidates!r}, {rollouts!r}")
        super().__init__(policy.env, policy.net, policy.temperature, name)
        self.partner_net = (partner_model or policy).net
        self.candidates, self.rollouts = candidates, rollouts

    def act(self, obs: Observation):
        import torch

        features, mask = self.space.features(obs), self.space.mask(obs)
        with torch.no_grad():
            logits = self.net(torch.from_numpy(features)[None])[0].numpy().astype(float)
        logits[~mask] = -np.inf
        order = np.argsort(-logits, kind="stable")
        top = order[:min(self.candidates, int(mask.sum()))]
        if len(top) == 1:
            return self.space.decode(int(top[0]), obs)
        counts, own = tuple(obs.public), tuple(obs.private)
        options = partner_values(counts, own)
        drawn = [options[i] for i in self.rng.integers(len(options), size=self.rollouts)]
        scenarios = [ItemScenario(counts, (own, v) if obs.seat == 0 else (v, own)) for v in drawn]
        first = obs.history[0].speaker if obs.history else obs.seat
        state = self.env.start(scenarios[0], first)
        for turn in obs.history:
            state = self.env.step(state, turn.act)
        batch = ItemBatch.from_state(state, [s for _ in top for s in scenarios], self.env.max_turns)
        forced = np.repeat(top, self.rollouts)
        generator = torch.Generator().manual_seed(int(self.rng.integers(2**31)))
        run_batch(batch, (self.net, self.partner_net), np.full(batch.n, obs.seat), self.temperature, generator,
                  forced=forced)
        expected = batch.scores()[:, obs.seat].reshape(len(top), self.rollouts).mean(axis=1)
        return self.space.decode(int(top[int(np.argmax(expected))]), obs)
