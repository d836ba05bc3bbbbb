"""Item-division games played in batches: many dialogues advance one message at a time together.

Two policy networks (a learner and its partner) act for a whole batch with one forward pass each per
message; legal-division masks are cached per count vector. The rules are `ItemDivision`'s (alternating
propose / accept / quit, T messages); `tests` check that replaying a batch's actions through
`ItemDivision.step` gives the same outcomes. RL training, evaluation and rollouts run on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .environments import MAX_COUNT, TOTAL_VALUE, ItemScenario, ItemState

GRID = MAX_COUNT + 1
N_DIVISIONS = GRID**3
ACCEPT, QUIT = N_DIVISIONS, N_DIVISIONS + 1
N_ITEM_ACTIONS = N_DIVISIONS + 2
N_ITEM_FEATURES = 16
_SHARES = np.array(np.unravel_index(np.arange(N_DIVISIONS), (GRID,) * 3)).T  # action -> own share


@cache
def legal_divisions(counts: tuple[int, ...]) -> np.ndarray:
    """Which of the 125 division actions are legal own shares for `counts` (cached per count vector)."""
    mask = (_SHARES <= np.asarray(counts)).all(axis=1)
    mask.setflags(write=False)
    return mask


def division_action(share: tuple[int, ...]) -> int:
    return int(np.ravel_multi_index(tuple(share), (GRID,) * 3))


def action_share(action: int) -> tuple[int, ...]:
    return tuple(int(x) for x in _SHARES[action])


@dataclass
class Trace:
    """The learner's decisions in a batch: features, masks, actions, which game and the game's order."""

    features: np.ndarray
    masks: np.ndarray
    actions: np.ndarray
    games: np.ndarray


class ItemBatch:
    """The state of B item-division dialogues (all at the same message index)."""

    def __init__(self, scenarios: list[ItemScenario], first: np.ndarray, max_turns: int) -> None:
        self.n = len(scenarios)
        self.max_turns = max_turns
        self.counts = np.array([s.counts for s in scenarios], dtype=np.int64)
        self.values = np.array([s.values for s in scenarios], dtype=np.int64)  # (B, 2, 3)
        self.legal = np.stack([legal_divisions(s.counts) for s in scenarios])
        self.first = np.asarray(first, dtype=np.int64)
        self.t = 0
        self.offers = np.zeros((self.n, 2, 3), dtype=np.int64)  # each seat's last own share
        self.has_offer = np.zeros((self.n, 2), dtype=bool)
        self.standing = np.full(self.n, -1, dtype=np.int64)
        self.done = np.zeros(self.n, dtype=bool)
        self.agreed = np.zeros(self.n, dtype=bool)
        self.deal = np.zeros((self.n, 3), dtype=np.int64)  # seat 0's share
        self.length = np.zeros(self.n, dtype=np.int64)
        self.actions: list[np.ndarray] = []  # per message index: the action of every game (-1 when done)

    @classmethod
    def from_state(cls, state: ItemState, scenarios: list[ItemScenario], max_turns: int) -> ItemBatch:
        """len(scenarios) copies of a running dialogue `state` (scenarios may differ in hidden values)."""
        batch = cls(scenarios, np.full(len(scenarios), state.first), max_turns)
        batch.t = len(state.turns)
        batch.length[:] = batch.t
        for seat in (0, 1):
            if state.offers[seat] is not None:
                batch.offers[:, seat] = state.offers[seat]
                batch.has_offer[:, seat] = True
        batch.standing[:] = -1 if state.standing is None else state.standing
        return batch

    @property
    def speaker(self) -> np.ndarray:
        return (self.first + self.t) % 2

    def features(self, games: np.ndarray) -> np.ndarray:
        """The 16 policy features of the speaker in each of `games` (same layout as `ItemActions`)."""
        seat = self.speaker[games]
        counts = self.counts[games]
        values = self.values[games, seat]
        partner = 1 - seat
        theirs = np.where(self.has_offer[games, partner][:, None], counts - self.offers[games, partner], 0)
        mine = np.where(self.has_offer[games, seat][:, None], self.offers[games, seat], 0)
        out = np.empty((len(games), N_ITEM_FEATURES), dtype=np.float32)
        out[:, 0:3] = counts / MAX_COUNT
        out[:, 3:6] = values / TOTAL_VALUE
        out[:, 6] = self.t / self.max_turns
        out[:, 7:10] = theirs / MAX_COUNT
        out[:, 10] = self.standing[games] == partner
        out[:, 11:14] = mine / MAX_COUNT
        out[:, 14] = (theirs * values).sum(axis=1) / TOTAL_VALUE
        out[:, 15] = self.has_offer[games, seat]
        return out

    def masks(self, games: np.ndarray) -> np.ndarray:
        out = np.zeros((len(games), N_ITEM_ACTIONS), dtype=bool)
        out[:, :N_DIVISIONS] = self.legal[games]
        out[:, ACCEPT] = self.standing[games] == 1 - self.speaker[games]
        out[:, QUIT] = True
        return out

    def apply(self, games: np.ndarray, actions: np.ndarray) -> None:
        """The speaker of each of `games` takes `actions` (all games in `games` must be running)."""
        seat = self.speaker[games]
        record = np.full(self.n, -1, dtype=np.int64)
        record[games] = actions
        self.actions.append(record)
        propose = actions < N_DIVISIONS
        g, s = games[propose], seat[propose]
        self.offers[g, s] = _SHARES[actions[propose]]
        self.has_offer[g, s] = True
        self.standing[g] = s
        accept = actions == ACCEPT
        g, s = games[accept], seat[accept]
        # the deal is the partner's standing proposal; stored as seat 0's share
        self.deal[g] = np.where((s == 1)[:, None], self.offers[g, 0], self.counts[g] - self.offers[g, 1])
        self.agreed[g] = True
        self.done[games[accept | (actions == QUIT)]] = True
        self.length[games] += 1

    def advance(self) -> None:
        self.t += 1
        if self.t >= self.max_turns:
            self.done[:] = True

    def scores(self) -> np.ndarray:
        """(B, 2) final scores (0 for both without a deal)."""
        share0 = self.deal
        out = np.stack([(share0 * self.values[:, 0]).sum(1), ((self.counts - share0) * self.values[:, 1]).sum(1)], 1)
        return np.where(self.agreed[:, None], out, 0).astype(float)


def sample_actions(net: Any, features: np.ndarray, masks: np.ndarray, temperature: float, generator: Any) -> np.ndarray:
    """Sample one legal action per row from `net` at `temperature` (0: the most likely legal action)."""
    import torch

    with torch.no_grad():
        logits = net(torch.from_numpy(features))
        logits = logits.masked_fill(~torch.from_numpy(masks), float("-inf"))
        if temperature == 0:
            return logits.argmax(dim=1).numpy()
        probs = torch.softmax(logits / temperature, dim=1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1).numpy()


def run_batch(batch: ItemBatch, nets: tuple[Any, Any], learner_seat: np.ndarray, temperature: float,
              generator: Any, forced: np.ndarray | None = None) -> Trace:
    """Play `batch` to the end: seat `learner_seat[b]` of game b is `nets[0]`, the other seat `nets[1]`.
    `forced` fixes the next action of every game (rollouts). Returns the learner's decisions."""
    traces: list[tuple[np.ndarray, ...]] = []
    learner_seat = np.asarray(learner_seat)
    while not batch.done.all():
        running = np.flatnonzero(~batch.done)
        actions = np.empty(len(running), dtype=np.int64)
        features = batch.features(running)
        masks = batch.masks(running)
        is_learner = batch.speaker[running] == learner_seat[running]
        for which, net in enumerate(nets):
            rows = np.flatnonzero(is_learner if which == 0 else ~is_learner)
            if rows.size:
                actions[rows] = sample_actions(net, features[rows], masks[rows], temperature, generator)
        if forced is not None:
            actions = forced[running]
            forced = None
        if is_learner.any():
            traces.append((features[is_learner], masks[is_learner], actions[is_learner], running[is_learner]))
        batch.apply(running, actions)
        batch.advance()
    if not traces:
        empty = np.zeros((0, N_ITEM_FEATURES), np.float32)
        return Trace(empty, np.zeros((0, N_ITEM_ACTIONS), bool), np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Trace(*(np.concatenate(parts) for parts in zip(*traces, strict=True)))
