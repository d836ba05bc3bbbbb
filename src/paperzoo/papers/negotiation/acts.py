"""Dialogue acts: the coarse intents (with an offer or a price) that agents exchange.

Agents reason over acts; `language.Generator` turns them into text and `language.Parser` reads text
back into them (the modular act -> text design of He et al. 2018).

Example:
    >>> Act("propose", offer=(2, 0, 1))
    Act(intent='propose', offer=(2, 0, 1), price=None)
    >>> str(Act("counter-price", price=120))
    'counter-price(120)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ITEM_INTENTS = ("propose", "accept", "reject", "quit", "inform")
PRICE_INTENTS = ("intro", "init-price", "counter-price", "vague-price", "inquiry", "inform", "agree", "disagree",
                 "insist", "offer", "accept", "reject", "quit")
PRICED_INTENTS = ("init-price", "counter-price", "insist", "offer")
ALL_INTENTS = tuple(dict.fromkeys(ITEM_INTENTS + PRICE_INTENTS))


@dataclass(frozen=True)
class Act:
    """One message's meaning: `intent`, plus `offer` (the speaker's own share of each item type) for
    `propose`, or `price` for the priced intents of price bargaining."""

    intent: str
    offer: tuple[int, ...] | None = None
    price: float | None = None

    def __post_init__(self) -> None:
        if self.intent not in ALL_INTENTS:
            raise ValueError(f"intent must be one of {', '.join(ALL_INTENTS)}; got {self.intent!r}")
        if (self.intent == "propose") != (self.offer is not None):
            raise ValueError(f"offer is required for 'propose' and only for it (intent {self.intent!r}, "
                             f"offer {self.offer!r})")
        if (self.intent in PRICED_INTENTS) != (self.price is not None):
            raise ValueError(f"price is required for {', '.join(PRICED_INTENTS)} and only for them "
                             f"(intent {self.intent!r}, price {self.price!r})")
        if self.offer is not None:
            try:
                offer = tuple(int(x) for x in self.offer)
                whole = all(x == y for x, y in zip(self.offer, offer, strict=True))
            except (TypeError, ValueError):
                whole = False
            if not whole:
                raise ValueError(f"offer must be a sequence of whole numbers, got {self.offer!r}")
            object.__setattr__(self, "offer", offer)
        if self.price is not None:
            if isinstance(self.price, bool) or not isinstance(self.price, int | float) \
                    or not math.isfinite(self.price) or self.price <= 0:
                raise ValueError(f"price must be a positive finite number, got {self.price!r}")
            object.__setattr__(self, "price", float(self.price))

    def __str__(self) -> str:
        if self.offer is not None:
            return f"{self.intent}({','.join(map(str, self.offer))})"
        if self.price is not None:
            return f"{self.intent}({self.price:.10g})"
        return self.intent
