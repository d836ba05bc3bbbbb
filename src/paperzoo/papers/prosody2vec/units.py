"""Discrete content units: k-means over per-utterance normalised MFCC frames, runs collapsed.

The paper's units come from HuBERT (Polyak et al. 2021: k-means over SSL features, repeats removed, the
run lengths becoming duration targets). No pip package ships HuBERT weights, so ours cluster MFCC
c1–c19 with per-utterance CMVN; they carry more speaker information than HuBERT units would.

Example:
    >>> dedup(np.array([3, 3, 7, 7, 7, 1]))
    (array([3, 7, 1]), array([2, 3, 1]))
"""

from __future__ import annotations

import uuid

import numpy as np

from .corpus import Utterance, Utterances
from .features import utterance_features


def dedup(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collapse runs of equal labels: (tokens, run lengths); `np.repeat(tokens, lengths)` restores them."""
    frames = np.asarray(frames)
    if frames.ndim != 1 or frames.size == 0:
        raise ValueError(f"frames must be a non-empty 1-D label sequence, got shape {frames.shape}")
    starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
    lengths = np.diff(np.r_[starts, frames.size])
    return frames[starts], lengths


def edit_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Levenshtein distance between two token sequences."""
    previous = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        current = np.empty_like(previous)
        current[0] = i
        substitution = previous[:-1] + (np.asarray(b) != x)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution[j - 1])
        previous = current
    return int(previous[-1])


def ned(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised edit distance: Levenshtein / the longer length (0 = same sequence)."""
    return edit_distance(a, b) / max(len(a), len(b), 1)


class UnitEncoder:
    """MiniBatchKMeans units over CMVN MFCC frames of the training utterances.

    >>> enc = UnitEncoder(k=50).fit(corpus.train)              # doctest: +SKIP
    >>> tokens, durations = enc.encode(corpus.test[0])         # doctest: +SKIP
    """

    def __init__(self, k: int = 50, seed: int = 0, max_frames: int = 60_000) -> None:
        if not isinstance(k, int) or k < 2:
            raise ValueError(f"k must be an int >= 2, got {k!r}")
        self.k, self.seed, self.max_frames = k, seed, max_frames
        self.kmeans = None
        self.key = ("units", uuid.uuid4().hex)  # names this encoder's entries in the utterance caches

    def fit(self, utts: Utterances) -> UnitEncoder:
        from sklearn.cluster import MiniBatchKMeans

        if len(utts) == 0:
            raise ValueError("utts: no utterances to fit the units on")
        frames = np.concatenate([utterance_features(u)["mfcc"] for u in utts])
        rng = np.random.default_rng(self.seed)
        if len(frames) > self.max_frames:
            frames = frames[rng.choice(len(frames), self.max_frames, replace=False)]
        self.kmeans = MiniBatchKMeans(self.k, random_state=self.seed, batch_size=4096, n_init=3).fit(frames)
        self.key = ("units", uuid.uuid4().hex)
        return self

    def frame_labels(self, utt: Utterance) -> np.ndarray:
        if self.kmeans is None:
            raise RuntimeError("UnitEncoder.fit must be called before encode")
        return self.kmeans.predict(utterance_features(utt)["mfcc"])

    def encode(self, utt: Utterance) -> tuple[np.ndarray, np.ndarray]:
        """(tokens, durations in frames) of one utterance; durations sum to its mel frame count."""
        if self.key not in utt.cache:
            utt.cache[self.key] = dedup(self.frame_labels(utt))
        return utt.cache[self.key]

    def bag_of_units(self, utts: Utterances) -> np.ndarray:
        """(n, k) normalised histogram of frame labels: the units' probe features."""
        rows = [np.bincount(self.frame_labels(u), minlength=self.k) for u in utts]
        return np.stack([r / r.sum() for r in rows]).astype(np.float32)
