"""The two benchmark families of the survey as seeded environments.

`ItemDivision` is integrative, multi-issue bargaining after DealOrNoDeal (Lewis et al. 2017): three item
types, private values, alternating proposals of a division. `PriceBargain` is distributive bargaining
after CraigslistBargain (He et al. 2018): a listing, a seller and a buyer with private targets and bottom
lines, coarse dialogue acts over a price.

Both share one protocol: `start(scenario, first)` gives a state, `step(state, act)` the next state (a new
object; states are immutable), `observe(state, seat)` what the agent in that seat may see (its own
private information only), `outcome(state)` the result. Seat 0 is A (items) or the seller (price).

Example:
    >>> env = ItemDivision()
    >>> s = env.sample(seed=0)
    >>> state = env.start(s, first=0)
    >>> state = env.step(state, Act("propose", offer=s.counts))   # seat 0 asks for everything
    >>> env.step(state, Act("accept")).done
    True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

import numpy as np

from .acts import ITEM_INTENTS, PRICE_INTENTS, PRICED_INTENTS, Act

ITEM_NAMES = ("book", "hat", "ball")
MAX_COUNT = 4
ITEM_TOTALS = (5, 6, 7)
TOTAL_VALUE = 10


@dataclass(frozen=True)
class Turn:
    """One message: who said it (seat 0 or 1) and what it meant."""

    speaker: int
    act: Act


@dataclass(frozen=True)
class Observation:
    """What one seat knows at its turn: public facts, its own private information and the history.

    `partner_offer` is the partner's last proposal as the observer's own share (items) or the partner's
    last named price; `can_accept` says whether an accept would close a deal now.
    """

    seat: int
    role: str
    public: Any
    private: Any
    turn: int
    max_turns: int
    history: tuple[Turn, ...]
    partner_offer: Any
    own_offer: Any
    can_accept: bool


@dataclass(frozen=True)
class Outcome:
    """How a dialogue ended: a deal or not, the deal (seat 0's share or the price) and each seat's score."""

    agreed: bool
    deal: Any
    scores: tuple[float, float]
    extra: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- item division


def _check_items(counts: Any, values: Any) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    try:
        counts = tuple(int(c) for c in counts)
        values = tuple(tuple(int(v) for v in row) for row in values)
    except (TypeError, ValueError):
        raise ValueError(f"counts and values must be whole numbers, got counts={counts!r}, values={values!r}") from None
    if len(counts) != len(ITEM_NAMES) or not all(1 <= c <= MAX_COUNT for c in counts) \
            or sum(counts) not in ITEM_TOTALS:
        raise ValueError(f"counts must be {len(ITEM_NAMES)} numbers in 1..{MAX_COUNT} summing to one of "
                         f"{ITEM_TOTALS}, got {counts}")
    if len(values) != 2 or any(len(row) != len(ITEM_NAMES) or min(row) < 0 for row in values):
        raise ValueError(f"values must be two rows of {len(ITEM_NAMES)} numbers >= 0, got {values}")
    for seat, row in enumerate(values):
        total = sum(c * v for c, v in zip(counts, row, strict=True))
        if total != TOTAL_VALUE:
            raise ValueError(f"values of seat {seat} must make the whole pool worth {TOTAL_VALUE}, got {total}")
    if not all(a or b for a, b in zip(*values, strict=True)):
        raise ValueError(f"values: every item type must be valued by someone, got {values}")
    if not any(a and b for a, b in zip(*values, strict=True)):
        raise ValueError(f"values: some item type must be valued by both, got {values}")
    return counts, values


@dataclass(frozen=True)
class ItemScenario:
    """Item counts and both seats' private values (Σ counts·values = 10 for each seat)."""

    counts: tuple[int, ...]
    values: tuple[tuple[int, ...], tuple[int, ...]]

    def __post_init__(self) -> None:
        counts, values = _check_items(self.counts, self.values)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "values", values)

    def private(self, seat: int) -> tuple[int, ...]:
        return self.values[seat]

    @property
    def public(self) -> tuple[int, ...]:
        return self.counts


@cache
def count_vectors() -> tuple[tuple[int, ...], ...]:
    """Every legal item-count vector."""
    return tuple(c for c in itertools.product(range(1, MAX_COUNT + 1), repeat=len(ITEM_NAMES))
                 if sum(c) in ITEM_TOTALS)


@cache
def value_vectors(counts: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Every value vector with Σ counts·values = 10."""
    ranges = [range(TOTAL_VALUE // c + 1) for c in counts]
    return tuple(v for v in itertools.product(*ranges) if sum(c * x for c, x in zip(counts, v, strict=True))
                 == TOTAL_VALUE)


@cache
def divisions(counts: tuple[int, ...]) -> np.ndarray:
    """All divisions of `counts` as seat 0's share, shape (n, 3), in a fixed order (read-only)."""
    grid = np.array(list(itertools.product(*[range(c + 1) for c in counts])), dtype=np.int64)
    grid.setflags(write=False)
    return grid


@lru_cache(maxsize=4096)
def _division_scores(counts: tuple[int, ...], values: tuple[tuple[int, ...], ...]) -> np.ndarray:
    shares = divisions(counts)
    scores = np.stack([shares @ np.array(values[0]), (np.array(counts) - shares) @ np.array(values[1])], axis=1)
    scores = scores.astype(float)
    scores.setflags(write=False)
    return scores


@lru_cache(maxsize=4096)
def _pareto(counts: tuple[int, ...], values: tuple[tuple[int, ...], ...]) -> np.ndarray:
    mask = pareto_mask(_division_scores(counts, values))
    mask.setflags(write=False)
    return mask


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Which rows of `points` (n, 2) no other row weakly dominates with one strict gain."""
    better_eq = (points[None, :, :] >= points[:, None, :]).all(axis=2)
    strictly = (points[None, :, :] > points[:, None, :]).any(axis=2)
    return ~(better_eq & strictly).any(axis=1)


class _Protocol:
    """What both environments share: starting a dialogue and the checks every act must pass."""

    intents: tuple[str, ...] = ()

    def start(self, scenario: Any, first: int = 0) -> Any:
        """The state before the first message; seat `first` speaks first."""
        if first not in (0, 1):
            raise ValueError(f"first must be seat 0 or 1, got {first!r}")
        scenario_type, state_type = self._types()
        if not isinstance(scenario, scenario_type):
            raise TypeError(f"scenario must be a {scenario_type.__name__}, got {type(scenario).__name__}")
        return state_type(scenario, first)

    def _types(self) -> tuple[type, type]:
        raise NotImplementedError

    def _check_open(self, state: Any, act: Act) -> None:
        if state.done:
            raise ValueError("act: the dialogue has already ended")
        if not isinstance(act, Act) or act.intent not in self.intents:
            raise ValueError(f"act must be an Act with intent in {self.intents}, got {act!r}")


class ItemDivision(_Protocol):
    """Multi-issue item division (DealOrNoDeal): books, hats and balls, private values, T messages.

    Acts: `propose(offer)` (the speaker's own share), `accept` (the partner's standing proposal),
    `reject`, `quit` and `inform`. Accepting ends in a deal; quitting or reaching `max_turns` messages
    ends with 0 points for both. With `end_rule="selection"` (Lewis et al.) an accept ends the talk and
    both seats then write down a division: a mismatch scores 0 for both (`settle`).
    """

    name = "items"
    roles = ("A", "B")
    intents = ITEM_INTENTS

    def __init__(self, max_turns: int = 10, end_rule: str = "accept") -> None:
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 2:
            raise ValueError(f"max_turns must be an int >= 2, got {max_turns!r}")
        if end_rule not in ("accept", "selection"):
            raise ValueError(f"end_rule must be 'accept' or 'selection', got {end_rule!r}")
        self.max_turns = max_turns
        self.end_rule = end_rule

    def __repr__(self) -> str:
        return f"ItemDivision(max_turns={self.max_turns}, end_rule={self.end_rule!r})"

    def _types(self) -> tuple[type, type]:
        return ItemScenario, ItemState

    def sample(self, rng: np.random.Generator | None = None, *, seed: int | None = None) -> ItemScenario:
        """A random valid scenario: counts uniform over the legal vectors, then both value vectors
        uniform over those worth 10, redrawn until every type is valued by someone and one by both."""
        rng = rng if rng is not None else np.random.default_rng(seed)
        vectors = count_vectors()
        while True:
            counts = vectors[rng.integers(len(vectors))]
            options = value_vectors(counts)
            a, b = options[rng.integers(len(options))], options[rng.integers(len(options))]
            if all(x or y for x, y in zip(a, b, strict=True)) and any(x and y for x, y in zip(a, b, strict=True)):
                return ItemScenario(counts, (a, b))

    def scenarios(self, n: int, seed: int) -> list[ItemScenario]:
        """`n` scenarios from one seeded stream."""
        rng = np.random.default_rng(seed)
        return [self.sample(rng) for _ in range(n)]

    # ---- outcome space
    def outcomes(self, scenario: ItemScenario) -> np.ndarray:
        """Every division as seat 0's share, (n, 3)."""
        return divisions(scenario.counts)

    def outcome_scores(self, scenario: ItemScenario) -> np.ndarray:
        """(n, 2): both seats' scores of every division, in the order of `outcomes`."""
        return _division_scores(scenario.counts, scenario.values)

    def pareto_set(self, scenario: ItemScenario) -> list[tuple[int, ...]]:
        """The Pareto-optimal divisions (seat 0's share)."""
        mask = _pareto(scenario.counts, scenario.values)
        return [tuple(int(x) for x in row) for row in self.outcomes(scenario)[mask]]

    def is_pareto(self, scenario: ItemScenario, deal: tuple[int, ...]) -> bool:
        """Whether the division `deal` (seat 0's share) is Pareto optimal."""
        index = np.ravel_multi_index(tuple(deal), tuple(c + 1 for c in scenario.counts))
        return bool(_pareto(scenario.counts, scenario.values)[index])

    def pareto_base_rate(self, scenario: ItemScenario) -> float:
        """The fraction of all divisions that are Pareto optimal (what a random division achieves)."""
        return float(_pareto(scenario.counts, scenario.values).mean())

    def best_joint(self, scenario: ItemScenario) -> float:
        return float(self.outcome_scores(scenario).sum(axis=1).max())

    def nash_product(self, scenario: ItemScenario) -> float:
        """The largest product of the two scores over all divisions (the Nash point's product)."""
        return float(self.outcome_scores(scenario).prod(axis=1).max())

    def score(self, scenario: ItemScenario, seat: int, share: tuple[int, ...]) -> int:
        """The value to `seat` of receiving `share`."""
        return int(sum(v * s for v, s in zip(scenario.values[seat], share, strict=True)))

    # ---- protocol
    def check(self, state: ItemState, act: Act) -> None:
        """Raise ValueError naming what is wrong when `act` is not legal in `state`."""
        self._check_open(state, act)
        if act.intent == "propose":
            counts = state.scenario.counts
            if len(act.offer) != len(counts) or any(not 0 <= o <= c for o, c in zip(act.offer, counts, strict=True)):
                pool = ", ".join(f"{c} {n}" + "s" * (c != 1) for c, n in zip(counts, ITEM_NAMES, strict=True))
                raise ValueError(f"act.offer {act.offer} is not a division of {counts} ({pool})")
        if act.intent == "accept" and state.standing != 1 - state.speaker:
            raise ValueError("act: there is no proposal from the partner to accept")

    def step(self, state: ItemState, act: Act) -> ItemState:
        self.check(state, act)
        seat = state.speaker
        changes: dict[str, Any] = {"turns": (*state.turns, Turn(seat, act))}
        if act.intent == "propose":
            offers = list(state.offers)
            offers[seat] = act.offer
            changes.update(offers=tuple(offers), standing=seat)
        elif act.intent == "reject":
            changes["standing"] = None
        elif act.intent == "accept":
            partner_share = state.offers[1 - seat]
            deal = partner_share if seat == 1 else tuple(c - x for c, x in zip(state.scenario.counts, partner_share,
                                                                                strict=True))
            changes.update(done=True, agreed=True, deal=deal)
        elif act.intent == "quit":
            changes["done"] = True
        if not changes.get("done") and len(changes["turns"]) >= self.max_turns:
            changes["done"] = True
        return replace(state, **changes)

    def observe(self, state: ItemState, seat: int) -> Observation:
        counts = state.scenario.counts
        theirs = state.offers[1 - seat]
        return Observation(
            seat=seat, role=self.roles[seat], public=counts, private=state.scenario.values[seat],
            turn=len(state.turns), max_turns=self.max_turns, history=state.turns,
            partner_offer=None if theirs is None else tuple(c - x for c, x in zip(counts, theirs, strict=True)),
            own_offer=state.offers[seat], can_accept=state.standing == 1 - seat and not state.done)

    def settle(self, state: ItemState, selections: tuple[Any, Any]) -> ItemState:
        """`end_rule="selection"`: both seats' written divisions (own shares) must be complementary."""
        if not (state.done and state.agreed):
            return state
        counts = state.scenario.counts
        try:
            match = all(a + b == c for a, b, c in zip(selections[0], selections[1], counts, strict=True))
        except (TypeError, ValueError):
            match = False
        return replace(state, deal=tuple(int(x) for x in selections[0])) if match else \
            replace(state, agreed=False, deal=None)

    def outcome(self, state: ItemState) -> Outcome:
        if not state.agreed:
            return Outcome(False, None, (0.0, 0.0))
        deal = state.deal
        other = tuple(c - x for c, x in zip(state.scenario.counts, deal, strict=True))
        scores = (float(self.score(state.scenario, 0, deal)), float(self.score(state.scenario, 1, other)))
        return Outcome(True, deal, scores, {"pareto": float(self.is_pareto(state.scenario, deal))})


@dataclass(frozen=True)
class ItemState:
    scenario: ItemScenario
    first: int
    turns: tuple[Turn, ...] = ()
    offers: tuple[tuple[int, ...] | None, tuple[int, ...] | None] = (None, None)  # each seat's last own share
    standing: int | None = None  # the seat whose proposal can be accepted now
    done: bool = False
    agreed: bool = False
    deal: tuple[int, ...] | None = None  # seat 0's share

    @property
    def speaker(self) -> int:
        return (self.first + len(self.turns)) % 2


# ---------------------------------------------------------------- price bargaining

CATEGORIES = {  # list-price ranges in dollars (log-uniform within)
    "housing": (700, 4000), "furniture": (30, 900), "car": (1500, 25000),
    "phone": (40, 1000), "bike": (60, 1500), "electronics": (20, 1500),
}
_TITLES = {
    "housing": (("Sunny", "Quiet", "Spacious", "Cozy"), ("studio", "1BR apartment", "2BR flat", "shared-house room")),
    "furniture": (("Solid oak", "Mid-century", "Like-new", "Vintage"), ("dining table", "sofa", "bookshelf", "desk")),
    "car": (("Reliable", "Low-mileage", "Well-kept", "Clean-title"), ("sedan", "hatchback", "pickup", "minivan")),
    "phone": (("Unlocked", "Mint", "Refurbished", "Barely used"), ("smartphone", "phone", "flip phone")),
    "bike": (("Lightweight", "Vintage", "Carbon", "Commuter"), ("road bike", "mountain bike", "city bike")),
    "electronics": (("Barely used", "Boxed", "Working", "Top-rated"), ("monitor", "speaker set", "tablet", "camera")),
}
DISCOUNTS = (0.9, 0.7, 0.5)


@dataclass(frozen=True)
class Listing:
    category: str
    title: str
    list_price: float


@dataclass(frozen=True)
class PriceScenario:
    """A listing; targets and bottom lines per seat (0 = seller, 1 = buyer). The seller's target is
    the list price; the seller's bottom line is the least it accepts, the buyer's the most it pays."""

    listing: Listing
    targets: tuple[float, float]
    bottoms: tuple[float, float]

    def __post_init__(self) -> None:
        numbers = (self.listing.list_price, *self.targets, *self.bottoms)
        if not all(isinstance(x, int | float) and math.isfinite(x) and x > 0 for x in numbers):
            raise ValueError(f"prices must be positive finite numbers, got targets={self.targets}, "
                             f"bottoms={self.bottoms}, list price {self.listing.list_price}")
        if not self.targets[1] < self.targets[0]:
            raise ValueError(f"targets: the buyer's target must be below the seller's, got {self.targets}")
        if not (self.bottoms[0] < self.targets[0] and self.bottoms[1] > self.targets[1]):
            raise ValueError(f"bottoms: each bottom line must lie on the conceding side of its target, got "
                             f"bottoms={self.bottoms}, targets={self.targets}")

    def private(self, seat: int) -> dict[str, float]:
        return {"target": self.targets[seat], "bottom": self.bottoms[seat]}

    @property
    def public(self) -> Listing:
        return self.listing


def margin(scenario: PriceScenario, price: float) -> float:
    """The seller's margin (He et al.): +1 at the seller's target, −1 at the buyer's; the buyer's is its negative."""
    seller, buyer = scenario.targets
    mid = (seller + buyer) / 2
    return (price - mid) / abs(mid - seller)


NO_DEAL_MARGIN = -0.5


class PriceBargain(_Protocol):
    """Distributive price bargaining (CraigslistBargain): a seller and a buyer, one price, T messages.

    A deal is a formal `offer(p)` answered by `accept`; after an offer the partner must accept,
    reject or quit. Each seat's score is its utility u = (m + 1)/2 of its margin m (no deal: m = −0.5).
    """

    name = "price"
    roles = ("seller", "buyer")
    intents = PRICE_INTENTS

    def __init__(self, max_turns: int = 20, discounts: tuple[float, ...] = DISCOUNTS) -> None:
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 2:
            raise ValueError(f"max_turns must be an int >= 2, got {max_turns!r}")
        if not discounts or not all(0 < d < 1 for d in discounts):
            raise ValueError(f"discounts must be fractions of the list price in (0, 1), got {discounts!r}")
        self.max_turns = max_turns
        self.discounts = tuple(discounts)

    def __repr__(self) -> str:
        return f"PriceBargain(max_turns={self.max_turns})"

    def _types(self) -> tuple[type, type]:
        return PriceScenario, PriceState

    def sample(self, rng: np.random.Generator | None = None, *, seed: int | None = None) -> PriceScenario:
        """A seeded listing; buyer target d·list (d from `discounts`); bottom lines: seller
        0.7·list·U(0.9, 1.1), buyer target·U(1.2, 1.5)."""
        rng = rng if rng is not None else np.random.default_rng(seed)
        category = list(CATEGORIES)[rng.integers(len(CATEGORIES))]
        low, high = CATEGORIES[category]
        list_price = float(round(math.exp(rng.uniform(math.log(low), math.log(high)))))
        adjectives, nouns = _TITLES[category]
        title = f"{adjectives[rng.integers(len(adjectives))]} {nouns[rng.integers(len(nouns))]}"
        buyer_target = float(round(self.discounts[rng.integers(len(self.discounts))] * list_price))
        seller_bottom = float(round(0.7 * list_price * rng.uniform(0.9, 1.1)))
        buyer_bottom = float(round(buyer_target * rng.uniform(1.2, 1.5)))
        return PriceScenario(Listing(category, title, list_price), (list_price, buyer_target),
                             (seller_bottom, buyer_bottom))

    def scenarios(self, n: int, seed: int) -> list[PriceScenario]:
        rng = np.random.default_rng(seed)
        return [self.sample(rng) for _ in range(n)]

    def utility(self, scenario: PriceScenario, seat: int, price: float) -> float:
        m = margin(scenario, price)
        return (m + 1) / 2 if seat == 0 else (1 - m) / 2

    def check(self, state: PriceState, act: Act) -> None:
        """Raise ValueError naming what is wrong when `act` is not legal in `state`."""
        self._check_open(state, act)
        pending = state.pending is not None and state.pending[0] == 1 - state.speaker
        if pending and act.intent not in ("accept", "reject", "quit"):
            raise ValueError(f"act: answer the standing offer of ${state.pending[1]:,.0f} with accept, reject or quit")
        if not pending and act.intent in ("accept", "reject"):
            raise ValueError(f"act: there is no offer from the partner to {act.intent}")
        if act.intent == "insist" and state.prices[state.speaker] is None:
            raise ValueError("act: insist needs an earlier price of one's own")

    def step(self, state: PriceState, act: Act) -> PriceState:
        self.check(state, act)
        seat = state.speaker
        changes: dict[str, Any] = {"turns": (*state.turns, Turn(seat, act))}
        if act.intent in PRICED_INTENTS:
            prices = list(state.prices)
            prices[seat] = act.price
            changes["prices"] = tuple(prices)
            if act.intent == "offer":
                changes["pending"] = (seat, act.price)
        elif act.intent == "reject":
            changes["pending"] = None
        elif act.intent == "accept":
            changes.update(done=True, agreed=True, deal=state.pending[1], pending=None)
        elif act.intent == "quit":
            changes["done"] = True
        if not changes.get("done") and len(changes["turns"]) >= self.max_turns:
            changes["done"] = True
        return replace(state, **changes)

    def observe(self, state: PriceState, seat: int) -> Observation:
        pending = state.pending is not None and state.pending[0] == 1 - seat
        return Observation(
            seat=seat, role=self.roles[seat], public=state.scenario.listing, private=state.scenario.private(seat),
            turn=len(state.turns), max_turns=self.max_turns, history=state.turns,
            partner_offer=state.pending[1] if pending else state.prices[1 - seat], own_offer=state.prices[seat],
            can_accept=pending and not state.done)

    def outcome(self, state: PriceState) -> Outcome:
        if not state.agreed:
            u = (NO_DEAL_MARGIN + 1) / 2
            return Outcome(False, None, (u, u), {"margin": NO_DEAL_MARGIN, "fairness": 0.0})
        m = margin(state.scenario, state.deal)
        scores = ((m + 1) / 2, (1 - m) / 2)
        return Outcome(True, state.deal, scores, {"margin": m, "fairness": -abs(scores[0] - scores[1]),
                                                  "pareto": 1.0})


@dataclass(frozen=True)
class PriceState:
    scenario: PriceScenario
    first: int
    turns: tuple[Turn, ...] = ()
    prices: tuple[float | None, float | None] = (None, None)  # each seat's last named price
    pending: tuple[int, float] | None = None  # (seat, price) of a formal offer awaiting an answer
    done: bool = False
    agreed: bool = False
    deal: float | None = None

    @property
    def speaker(self) -> int:
        return (self.first + len(self.turns)) % 2


ENVIRONMENTS = {"items": ItemDivision, "price": PriceBargain}


def make_env(name: str, **kwargs: Any) -> ItemDivision | PriceBargain:
    """The environment called `name` ("items" or "price")."""
    if name not in ENVIRONMENTS:
        raise ValueError(f"env must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    return ENVIRONMENTS[name](**kwargs)
