"""A BIO tagger on all-MiniLM-L6-v2 whose frozen bottom is computed once per corpus.

The embeddings and the first `frozen_layers` transformer layers never train, so their outputs are
cached per sentence set (`FrozenPrefix.encode`); training runs only the top layers and the classifier
on those cached states. Words are labelled at their first sub-token (fast tokenizer `word_ids()`).
Every network of a run shares one prefix: copies (teachers, snapshots) copy only the trainable part.

Example:
    >>> tagger = NERTagger(("O", "B-PER", "I-PER"), TaggerConfig(layers=2, frozen_layers=1), seed=0)
    >>> tagger.predict(["Alice flew to Paris"])[0]   # untrained: any spans, as readable records
    [...]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .corpus import Split, label_quality, tokenize

SHAPES = 4  # word shapes for case_features: Xx, XX, xx, other


def word_shape(word: str) -> int:
    """0 = Capitalised, 1 = UPPER, 2 = lower, 3 = other (digits, punctuation, mixed)."""
    if word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
        return 0
    if word.isupper():
        return 1
    if word.islower():
        return 2
    return 3


@dataclass(frozen=True)
class TaggerConfig:
    """Encoder depth, what is frozen, input length and the optimiser settings of a tagger.

    layers: MiniLM layers kept (of 6); frozen_layers: bottom layers frozen and cached (embeddings are
    always frozen); max_len: sub-tokens per sentence (words past it are tagged O); case_features: a
    zero-initialised word-shape embedding before the classifier (the tokenizer is uncased).
    """

    layers: int = 3
    frozen_layers: int = 2
    max_len: int = 64
    case_features: bool = False
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 1e-4
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.layers <= 6:
            raise ValueError(f"layers must be in 1..6, got {self.layers!r}")
        if not 0 <= self.frozen_layers < self.layers:
            raise ValueError(f"frozen_layers must be in 0..layers-1, got {self.frozen_layers!r}")
        if self.max_len < 8:
            raise ValueError(f"max_len must be >= 8, got {self.max_len!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")


@dataclass
class Encoded:
    """Cached frozen-prefix states of a sentence set: per sentence, sub-token states, first-sub-token
    index of each kept word, and word shapes."""

    hidden: list[torch.Tensor]
    first: list[torch.Tensor]
    shapes: list[torch.Tensor]
    n_words: list[int]

    def __len__(self) -> int:
        return len(self.hidden)

    def batch(self, index: Sequence[int]) -> dict[str, torch.Tensor]:
        """Padded tensors for the sentences `index`: hidden [B, L, H], sub_mask [B, L], first/word_mask/shape [B, W]."""
        from torch.nn.utils.rnn import pad_sequence

        hidden = pad_sequence([self.hidden[i] for i in index], batch_first=True)
        lengths = torch.tensor([len(self.hidden[i]) for i in index])
        sub_mask = torch.arange(hidden.shape[1])[None, :] < lengths[:, None]
        first = pad_sequence([self.first[i] for i in index], batch_first=True)
        kept = torch.tensor([len(self.first[i]) for i in index])
        word_mask = torch.arange(first.shape[1])[None, :] < kept[:, None]
        shape = pad_sequence([self.shapes[i] for i in index], batch_first=True)
        return {"hidden": hidden, "sub_mask": sub_mask, "first": first, "word_mask": word_mask, "shape": shape}


class FrozenPrefix:
    """Tokenizer, embeddings and the frozen bottom layers; `encode` caches their outputs per sentence set."""

    def __init__(self, bert: Any, frozen_layers: int, tokenizer: Any, max_len: int) -> None:
        self.config = bert.config
        self.embeddings = bert.embeddings.eval()
        self.layers = nn.ModuleList(list(bert.encoder.layer[:frozen_layers])).eval()
        for p in [*self.embeddings.parameters(), *self.layers.parameters()]:
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.max_len = max_len
        self._cache: dict[tuple[tuple[str, ...], ...], Encoded] = {}

    @torch.no_grad()
    def encode(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> Encoded:
        key = tuple(tuple(s) for s in sentences)
        if key in self._cache:
            return self._cache[key]
        hidden, first, shapes, n_words = [], [], [], []
        for start in range(0, len(key), batch_size):
            chunk = [list(s) for s in key[start:start + batch_size]]
            enc = self.tokenizer(chunk, is_split_into_words=True, truncation=True, max_length=self.max_len,
                                 padding=True, return_tensors="pt")
            states = run_layers(self.layers, self.embeddings(input_ids=enc["input_ids"],
                                                             token_type_ids=enc.get("token_type_ids")),
                                enc["attention_mask"].bool(), self.config)
            for row, words in enumerate(chunk):
                ids = enc.word_ids(row)
                starts: dict[int, int] = {}
                for position, word in enumerate(ids):
                    if word is not None and word not in starts:
                        starts[word] = position
                kept = [starts[w] for w in range(len(words)) if w in starts]
                # Words are kept in order until truncation cuts the sentence: a prefix of the words.
                length = int(enc["attention_mask"][row].sum())
                hidden.append(states[row, :length].clone())
                first.append(torch.tensor(kept, dtype=torch.long))
                shapes.append(torch.tensor([word_shape(w) for w in words[:len(kept)]], dtype=torch.long))
                n_words.append(len(words))
        self._cache[key] = Encoded(hidden, first, shapes, n_words)
        return self._cache[key]


def run_layers(layers: nn.ModuleList, hidden: torch.Tensor, sub_mask: torch.Tensor, config: Any) -> torch.Tensor:
    """BERT layers on `hidden` with the attention mask transformers builds for the model's attention kind."""
    if len(layers) == 0:
        return hidden
    from transformers.masking_utils import create_bidirectional_mask

    mask = create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=sub_mask.long())
    for layer in layers:
        out = layer(hidden, attention_mask=mask)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def build_prefix(config: TaggerConfig, bert_config: Any = None) -> tuple[FrozenPrefix, Any]:
    """The frozen prefix and the loaded token-classification model it came from."""
    from transformers import BertForTokenClassification

    from paperzoo.data.minilm import load_minilm, minilm_tokenizer

    if bert_config is None:
        model = load_minilm(BertForTokenClassification, num_layers=config.layers, num_labels=2)
    else:
        with torch.random.fork_rng():
            torch.manual_seed(0)  # a random test encoder: the same weights for every network
            model = BertForTokenClassification(bert_config)
    return FrozenPrefix(model.bert, config.frozen_layers, minilm_tokenizer(), config.max_len), model


@dataclass(frozen=True)
class Entity:
    """A predicted entity: its text, type and character offsets in the input sentence."""

    text: str
    type: str
    start: int
    end: int


class NERTagger(nn.Module):
    """Top MiniLM layers + linear classifier over cached frozen-prefix states; BIO tags per word.

    labels: the BIO label set ("O" first); seed: initialises the classifier (and dropout order).
    prefix: share another tagger's `FrozenPrefix` (same checkpoint and frozen_layers); bert_config:
    a `transformers.BertConfig` for a small random encoder (tests) instead of the MiniLM checkpoint.
    """

    def __init__(self, labels: Sequence[str], config: TaggerConfig | None = None, seed: int = 0,
                 prefix: FrozenPrefix | None = None, bert_config: Any = None) -> None:
        super().__init__()
        config = config or TaggerConfig()
        labels = tuple(labels)
        if len(labels) < 2 or labels[0] != "O" or len(set(labels)) != len(labels):
            raise ValueError(f"labels must be distinct BIO labels with 'O' first, got {labels!r}")
        self.labels, self.config = labels, config
        own_prefix, model = build_prefix(config, bert_config)
        if prefix is not None and prefix.layers.__len__() != config.frozen_layers:
            raise ValueError(f"prefix has {len(prefix.layers)} frozen layers, config asks for {config.frozen_layers}")
        object.__setattr__(self, "_prefix", prefix or own_prefix)  # shared, not a submodule: never trained or copied
        self.bert_config = model.config
        self.layers = nn.ModuleList(list(model.bert.encoder.layer[config.frozen_layers:]))
        width = model.config.hidden_size
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.classifier = nn.Linear(width, len(labels))
            nn.init.normal_(self.classifier.weight, std=0.02)
            nn.init.zeros_(self.classifier.bias)
        self.dropout = nn.Dropout(config.dropout)
        self.shape_embedding = nn.Embedding(SHAPES, width) if config.case_features else None
        if self.shape_embedding is not None:
            nn.init.zeros_(self.shape_embedding.weight)
        self.label_index = {label: i for i, label in enumerate(labels)}

    @property
    def prefix(self) -> FrozenPrefix:
        return self._prefix

    def __deepcopy__(self, memo: dict) -> NERTagger:
        memo[id(self._prefix)] = self._prefix
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
        return new

    def encode(self, sentences: Sequence[Sequence[str]]) -> Encoded:
        return self._prefix.encode(sentences)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Word logits [B, W, C] at the first sub-token of each word."""
        hidden = run_layers(self.layers, batch["hidden"], batch["sub_mask"], self.bert_config)
        words = torch.gather(hidden, 1, batch["first"][..., None].expand(-1, -1, hidden.shape[-1]))
        if self.shape_embedding is not None:
            words = words + self.shape_embedding(batch["shape"])
        return self.classifier(self.dropout(words))

    def label_ids(self, tags: Sequence[Sequence[str]], encoded: Encoded) -> list[torch.Tensor]:
        """Tag ids of each sentence's kept words."""
        try:
            return [torch.tensor([self.label_index[t] for t in seq[:len(f)]], dtype=torch.long)
                    for seq, f in zip(tags, encoded.first, strict=True)]
        except KeyError as missing:
            raise ValueError(f"tags: label {missing} is not one of {self.labels}") from None

    @torch.no_grad()
    def logits(self, encoded: Encoded, batch_size: int = 64) -> list[torch.Tensor]:
        """Per sentence, logits [kept words, C] in eval mode."""
        was = self.training
        self.eval()
        out = []
        for start in range(0, len(encoded), batch_size):
            index = list(range(start, min(start + batch_size, len(encoded))))
            batch = encoded.batch(index)
            logits = self(batch)
            out += [logits[row, :len(encoded.first[i])] for row, i in enumerate(index)]
        self.train(was)
        return out

    def predict_tags(self, sentences: Sequence[Sequence[str]], encoded: Encoded | None = None) -> list[list[str]]:
        """BIO tags for word-tokenised sentences (words past max_len get O)."""
        encoded = encoded or self.encode(sentences)
        tags = []
        for row, n in zip(self.logits(encoded), encoded.n_words, strict=True):
            labels = [self.labels[i] for i in row.argmax(-1).tolist()]
            tags.append(labels + ["O"] * (n - len(labels)))
        return tags

    def predict(self, sentences: Sequence[str]) -> list[list[Entity]]:
        """Entities in plain sentences, e.g. `tagger.predict(["Alice flew to Paris"])` ->
        [[Entity(text='Alice', type='PER', start=0, end=5), Entity(text='Paris', type='LOC', ...)]]."""
        from seqeval.metrics.sequence_labeling import get_entities

        if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
            raise TypeError("sentences must be a list of strings")
        words, offsets = [], []
        for sentence in sentences:
            tokens, spans, position = tokenize(sentence), [], 0
            for token in tokens:
                position = sentence.index(token, position)
                spans.append((position, position + len(token)))
                position += len(token)
            words.append(tokens)
            offsets.append(spans)
        out = []
        for sentence, tags, spans in zip(sentences, self.predict_tags(words) if words else [], offsets, strict=True):
            found = []
            for kind, first, last in get_entities(tags):
                start, end = spans[first][0], spans[last][1]
                found.append(Entity(sentence[start:end], kind, start, end))
            out.append(found)
        return out


def evaluate(tagger: NERTagger, split: Split) -> dict[str, float]:
    """Entity precision, recall and F1 of `tagger` on `split` (seqeval, default conlleval mode).

    >>> evaluate(tagger, corpus.test)["f1"]  # doctest: +SKIP
    0.87
    """
    if not isinstance(split, Split):
        raise TypeError(f"split must be a Split, got {type(split).__name__}")
    if len(split) == 0:
        raise ValueError("split: no sentences to evaluate on")
    return label_quality(tagger.predict_tags(split.tokens), split.tags)


__all__ = ["Encoded", "Entity", "FrozenPrefix", "NERTagger", "TaggerConfig", "evaluate", "run_layers", "word_shape"]
