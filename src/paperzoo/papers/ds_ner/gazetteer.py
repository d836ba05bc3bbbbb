"""Distant supervision by dictionary matching, with the incompleteness and noise of a real KB.

`Gazetteer.from_pools` keeps a seeded share of each type's *seen* entities (coverage), files a share
of them under a wrong type, keeps some persons by surname only, and adds false-positive words; `match`
tags a sentence by longest case-sensitive match, left to right (as BOND's KB matching).

Example:
    >>> gaz = Gazetteer({("New", "York"): "LOC", ("York",): "PER"})
    >>> gaz.match(["I", "love", "New", "York"])
    ['O', 'O', 'B-LOC', 'I-LOC']
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from .corpus import tokenize

# Capitalised common words that a person-name dictionary also holds (spec: May, Will, Bill, Mark, Rose),
# and China filed as a person: the kind of wrong-type entry a KB match brings.
FALSE_POSITIVES = {"May": "PER", "Will": "PER", "Bill": "PER", "Mark": "PER", "Rose": "PER", "China": "PER"}


class Gazetteer:
    """A dictionary from entity token tuples to types; `match(tokens)` gives BIO tags."""

    def __init__(self, entries: Mapping[tuple[str, ...], str]) -> None:
        self.entries = {tuple(k): v for k, v in entries.items() if len(k) > 0}
        self.max_len = max((len(k) for k in self.entries), default=0)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.entries.values())))

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def from_pools(cls, pools: Mapping[str, Mapping[str, Sequence[str]]], coverage: Mapping[str, float],
                   seed: int = 0, wrong_type: float = 0.06, surname_only: float = 0.3,
                   false_positives: Mapping[str, str] | None = None, person_type: str = "PER",
                   split: Callable[[str], Sequence[str]] = tokenize) -> Gazetteer:
        """Entries from the seen half of each type's pool (`pools[type]["seen"]`).

        coverage: type -> share of its seen entities in the dictionary (types not named get none).
        wrong_type: share of entries filed under another type; surname_only: share of persons kept by
        their last word only; false_positives: extra word -> type entries (default FALSE_POSITIVES for
        SynNER's types); split: how an entity string becomes words.
        """
        unknown = set(coverage) - set(pools)
        if unknown:
            raise ValueError(f"coverage: unknown entity types {sorted(unknown)} (the pools have {sorted(pools)})")
        for name, share in (*coverage.items(), ("wrong_type", wrong_type), ("surname_only", surname_only)):
            if not isinstance(share, int | float) or not 0.0 <= float(share) <= 1.0:
                label = "wrong_type" if name == "wrong_type" else "surname_only" if name == "surname_only" else \
                    f"coverage[{name!r}]"
                raise ValueError(f"{label} must be in [0, 1], got {share!r}")
        if false_positives is None:
            false_positives = {w: t for w, t in FALSE_POSITIVES.items() if t in pools}
        bad = set(false_positives.values()) - set(pools)
        if bad:
            raise ValueError(f"false_positives: unknown entity types {sorted(bad)}")
        rng = random.Random(seed * 7_368_787 + 3)
        types = sorted(pools)
        entries: dict[tuple[str, ...], str] = {}
        for entity_type in types:
            seen = list(pools[entity_type]["seen"])
            for entity in rng.sample(seen, round(coverage.get(entity_type, 0.0) * len(seen))):
                words = tuple(split(entity))
                if entity_type == person_type and len(words) > 1 and rng.random() < surname_only:
                    words = words[-1:]
                kind = entity_type
                if len(types) > 1 and rng.random() < wrong_type:
                    kind = rng.choice([t for t in types if t != entity_type])
                entries.setdefault(words, kind)
        for word, kind in false_positives.items():
            entries[tuple(split(word))] = kind
        return cls(entries)

    def match(self, tokens: Sequence[str]) -> list[str]:
        """BIO tags of the longest case-sensitive matches, scanning left to right."""
        tags = ["O"] * len(tokens)
        i = 0
        while i < len(tokens):
            for length in range(min(self.max_len, len(tokens) - i), 0, -1):
                kind = self.entries.get(tuple(tokens[i:i + length]))
                if kind is not None:
                    tags[i:i + length] = [f"B-{kind}"] + [f"I-{kind}"] * (length - 1)
                    i += length
                    break
            else:
                i += 1
        return tags


__all__ = ["FALSE_POSITIVES", "Gazetteer"]
