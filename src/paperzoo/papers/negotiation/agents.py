"""Rule agents: time-dependent concession (Faratin et al. 1998), relative tit-for-tat, random.

Every agent has `reset(role, private, seed)` (role = its seat, 0 or 1) and `act(obs) -> Act`; the same
agent plays both environments. Utilities are normalised to [0, 1]: for items the share of the maximum
own score (10 points), for prices the position between the bottom line (0) and the target (1).

Example:
    >>> from paperzoo.papers.negotiation import ItemDivision, boulware
    >>> agent = boulware()
    >>> round(agent.target(0, 10), 3), round(agent.target(10, 10), 3)
    (1.0, 0.0)
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import numpy as np

from .acts import Act
from .environments import TOTAL_VALUE, Listing, Observation, divisions


class Agent:
    """Base class: `reset` at the start of every dialogue, then `act` at each of its turns."""

    name = "agent"

    def reset(self, role: int, private: Any, seed: int | None = None) -> None:
        self.seat, self.private, self._seed, self._rng = role, private, seed, None

    @property
    def rng(self) -> np.random.Generator:
        """This dialogue's random stream, from the seed given to `reset` (made on first use)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    def act(self, obs: Observation) -> Act:
        raise NotImplementedError

    def select(self, obs: Observation) -> tuple[int, ...] | None:
        """The division this agent writes down under `end_rule="selection"`: the deal it believes in."""
        last = obs.history[-1] if obs.history else None
        if last is not None and last.act.intent == "accept" and last.speaker == obs.seat:
            return obs.partner_offer
        return obs.own_offer

    def clone(self) -> Agent:
        """An independent player with the same settings (shares read-only models)."""
        return copy.copy(self)

    def __repr__(self) -> str:
        return self.name


@lru_cache(maxsize=4096)
def _item_tables(counts: tuple[int, ...], values: tuple[int, ...], seat: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Own share of every division, the partner's fraction of each type, divisions grouped by own score."""
    shares = divisions(counts) if seat == 0 else np.asarray(counts) - divisions(counts)
    scores = shares @ np.asarray(values)
    order = np.argsort(scores, kind="stable")
    bounds = np.searchsorted(scores[order], np.arange(TOTAL_VALUE + 2))
    levels = [order[bounds[v]:bounds[v + 1]] for v in range(TOTAL_VALUE + 1)]
    return shares, (np.asarray(counts) - shares) / np.asarray(counts), levels


class _ConcessionAgent(Agent):
    """Shared machinery: utilities of the candidate outcomes, bids at a target, acceptance rule."""

    u_min = 0.0

    def reset(self, role: int, private: Any, seed: int | None = None) -> None:
        super().reset(role, private, seed)
        self._counts: tuple[int, ...] | None = None
        self._partner_asks: np.ndarray | None = None

    # ---- items
    def _item_tables(self, counts: tuple[int, ...]) -> None:
        if self._counts != counts:
            self._counts = counts
            self._shares, self._given, self._levels = _item_tables(counts, tuple(self.private), self.seat)
            self._partner_asks = np.ones(len(counts))

    def _observe_partner(self, obs: Observation) -> None:
        """Frequency model: how much of each item type the partner asked for in its proposals."""
        last = obs.history[-1] if obs.history else None
        if last is not None and last.speaker != obs.seat and last.act.intent == "propose":
            self._partner_asks = self._partner_asks + np.asarray(last.act.offer) / np.asarray(obs.public)

    def item_bid(self, obs: Observation, target: float) -> Act:
        """The division closest above `target` in own utility; ties go to the one the frequency model
        says the partner likes most."""
        self._item_tables(obs.public)
        level = int(np.ceil(max(target, self.u_min) * TOTAL_VALUE - 1e-9))
        tied = next(group for group in self._levels[level:] if group.size)
        best = tied[int(np.argmax(self._given[tied] @ self._partner_asks))]
        return Act("propose", offer=tuple(int(x) for x in self._shares[best]))

    def item_utility(self, share: tuple[int, ...]) -> float:
        return float(np.dot(share, self.private)) / TOTAL_VALUE

    # ---- prices
    def price_utility(self, price: float) -> float:
        target, bottom = self.private["target"], self.private["bottom"]
        return (price - bottom) / (target - bottom)

    def price_at(self, utility: float) -> float:
        target, bottom = self.private["target"], self.private["bottom"]
        return float(max(1.0, round(bottom + utility * (target - bottom))))

    def price_bid(self, obs: Observation, target: float) -> Act:
        price = self.price_at(max(target, self.u_min))
        if obs.own_offer is None:
            return Act("init-price", price=price)
        return Act("insist" if price == obs.own_offer else "counter-price", price=price)

    # ---- one decision
    def decide(self, obs: Observation, target: float) -> Act:
        last_turn = obs.turn >= obs.max_turns - 1
        acceptable = max(target, self.u_min) - 1e-9
        if isinstance(obs.public, Listing):
            if obs.can_accept:
                if self.price_utility(obs.partner_offer) >= acceptable:
                    return Act("accept")
                return Act("quit") if last_turn and self.u_min > 0 else Act("reject")
            if obs.partner_offer is not None and self.price_utility(obs.partner_offer) >= acceptable:
                return Act("offer", price=float(obs.partner_offer))
            return Act("quit") if last_turn and self.u_min > 0 else self.price_bid(obs, target)
        self._item_tables(obs.public)
        self._observe_partner(obs)
        if obs.can_accept and self.item_utility(obs.partner_offer) >= acceptable:
            return Act("accept")
        return Act("quit") if last_turn and self.u_min > 0 else self.item_bid(obs, target)


class TimeDependent(_ConcessionAgent):
    """Time-dependent concession: target u(t) = 1 − (1 − u_min)·(t/T)^(1/e) of the best own outcome,
    t = 1..T the position of the message it is about to send (so the last message's target is u_min).

    e < 1 concedes late (Boulware), e = 1 linearly, e > 1 early (Conceder). It bids the outcome closest
    above its target, accepts an offer worth at least its current target and `u_min`, and quits at the
    last message when it has a reservation (`u_min > 0`).
    """

    def __init__(self, e: float, u_min: float = 0.0, name: str | None = None) -> None:
        if not isinstance(e, int | float) or not e > 0:
            raise ValueError(f"e must be a positive number, got {e!r}")
        if not isinstance(u_min, int | float) or not 0 <= u_min < 1:
            raise ValueError(f"u_min must be in [0, 1), got {u_min!r}")
        self.e, self.u_min = float(e), float(u_min)
        self.name = name or f"td(e={self.e:g},u_min={self.u_min:g})"

    def target(self, t: int, max_turns: int) -> float:
        return 1.0 - (1.0 - self.u_min) * (min(t, max_turns) / max_turns) ** (1.0 / self.e)

    def act(self, obs: Observation) -> Act:
        return self.decide(obs, self.target(obs.turn + 1, obs.max_turns))


def boulware(u_min: float = 0.0) -> TimeDependent:
    """TimeDependent(e=0.2): holds out and concedes at the end."""
    return TimeDependent(0.2, u_min, name="boulware" + (f"@{u_min:g}" if u_min else ""))


def linear(u_min: float = 0.0) -> TimeDependent:
    """TimeDependent(e=1): concedes at a constant rate."""
    return TimeDependent(1.0, u_min, name="linear" + (f"@{u_min:g}" if u_min else ""))


def conceder(u_min: float = 0.0) -> TimeDependent:
    """TimeDependent(e=5): concedes early."""
    return TimeDependent(5.0, u_min, name="conceder" + (f"@{u_min:g}" if u_min else ""))


class TitForTat(_ConcessionAgent):
    """Relative tit-for-tat (Faratin et al.): concedes the same fraction of its remaining room that the
    partner's last move conceded of its own (both seen in this agent's utility); it opens with one
    concession of `opening` so that two tit-for-tat agents can meet."""

    def __init__(self, u_min: float = 0.0, opening: float = 0.1, name: str | None = None) -> None:
        if not isinstance(u_min, int | float) or not 0 <= u_min < 1:
            raise ValueError(f"u_min must be in [0, 1), got {u_min!r}")
        if not 0 <= opening <= 1:
            raise ValueError(f"opening must be in [0, 1], got {opening!r}")
        self.u_min, self.opening = float(u_min), float(opening)
        self.name = name or "titfortat" + (f"@{u_min:g}" if u_min else "")

    def reset(self, role: int, private: Any, seed: int | None = None) -> None:
        super().reset(role, private, seed)
        self._target = 1.0
        self._seen: list[float] = []
        self._moves = 0

    def act(self, obs: Observation) -> Act:
        last = obs.history[-1] if obs.history else None
        if last is not None and last.speaker != obs.seat and (last.act.offer is not None or last.act.price is not None):
            items = not isinstance(obs.public, Listing)
            self._seen.append(self.item_utility(obs.partner_offer) if items else self.price_utility(obs.partner_offer))
            if len(self._seen) >= 2:
                previous, latest = self._seen[-2:]
                fraction = max(0.0, latest - previous) / max(1e-9, 1.0 - previous)
                self._target -= min(1.0, fraction) * (self._target - self.u_min)
        if self._moves == 1:
            self._target -= self.opening * (self._target - self.u_min)
        self._moves += 1
        return self.decide(obs, self._target)


class RandomAgent(Agent):
    """Accepts whatever it can with probability `p_accept`, otherwise makes a uniformly random proposal
    (items) or a random price between 0.3 and 1.2 times the list price. The chance-level baseline."""

    def __init__(self, p_accept: float = 0.5, name: str | None = None) -> None:
        if not isinstance(p_accept, int | float) or not 0 <= p_accept <= 1:
            raise ValueError(f"p_accept must be in [0, 1], got {p_accept!r}")
        self.p_accept = float(p_accept)
        self.name = name or "random"

    def act(self, obs: Observation) -> Act:
        take = self.rng.random() < self.p_accept
        if isinstance(obs.public, Listing):
            if obs.can_accept:
                return Act("accept" if take else "reject")
            if take and obs.partner_offer is not None:
                return Act("offer", price=float(obs.partner_offer))
            price = float(max(1.0, round(obs.public.list_price * self.rng.uniform(0.3, 1.2))))
            return Act("counter-price" if obs.own_offer is not None else "init-price", price=price)
        if obs.can_accept and take:
            return Act("accept")
        shares = divisions(obs.public)
        return Act("propose", offer=tuple(int(x) for x in shares[self.rng.integers(len(shares))]))


RULE_AGENTS = {"boulware": boulware, "linear": linear, "conceder": conceder,
               "titfortat": lambda u_min=0.0: TitForTat(u_min), "random": lambda u_min=0.0: RandomAgent()}


def make_agent(name: str, u_min: float = 0.0) -> Agent:
    """A rule agent by name: boulware, linear, conceder, titfortat or random."""
    if name not in RULE_AGENTS:
        raise ValueError(f"agent must be one of {', '.join(RULE_AGENTS)}, got {name!r}")
    return RULE_AGENTS[name](u_min)
