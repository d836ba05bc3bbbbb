"""The pretrained speaker-verification stream: Resemblyzer's GE2E `VoiceEncoder` (3-layer LSTM, 256-d).

Its weights ship inside the resemblyzer wheel, so it loads offline. `embed` batches the 1.6 s partial
windows of many utterances through one forward pass (identical to `embed_utterance`, ~20x faster).

Modes: `enrolled` (default) gives every utterance its speaker's renormalised mean embedding over that
speaker's neutral utterances, emotion-free by construction; `utterance` embeds each utterance itself,
closer to the paper, but on espeak speech GE2E also encodes the emotion and starves the prosody code.

Example:
    >>> spk = SpeakerEncoder(mode="enrolled").fit(corpus.utterances)   # doctest: +SKIP
    >>> spk.transform(corpus.test).shape                                # doctest: +SKIP
    (128, 256)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .corpus import Utterances

_ENCODER: Any = None
MODES = ("enrolled", "utterance")


def voice_encoder() -> Any:
    """The process-wide Resemblyzer VoiceEncoder on CPU (loaded once)."""
    global _ENCODER
    if _ENCODER is None:
        from resemblyzer import VoiceEncoder

        _ENCODER = VoiceEncoder("cpu", verbose=False)
    return _ENCODER


def _partials(wav: np.ndarray, rate: float = 1.3, min_coverage: float = 0.75) -> np.ndarray:
    from resemblyzer import audio, preprocess_wav

    encoder = voice_encoder()
    wav = preprocess_wav(wav)  # volume normalisation and VAD trimming, as embed_utterance expects
    wav_slices, mel_slices = encoder.compute_partial_slices(len(wav), rate, min_coverage)
    if wav_slices[-1].stop >= len(wav):
        wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
    mel = audio.wav_to_mel_spectrogram(wav)
    return np.array([mel[s] for s in mel_slices])


def embed(wavs: list[np.ndarray], batch: int = 256) -> np.ndarray:
    """(n, 256) L2-normalised utterance embeddings of 16 kHz waveforms, partials batched."""
    import torch

    encoder = voice_encoder()
    partials = [_partials(w) for w in wavs]
    stacked = np.concatenate(partials)
    with torch.no_grad():
        out = np.concatenate([encoder(torch.from_numpy(stacked[i:i + batch])).numpy()
                              for i in range(0, len(stacked), batch)])
    bounds = np.cumsum([0] + [len(p) for p in partials])
    means = np.stack([out[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)


def utterance_embeddings(utts: Utterances) -> np.ndarray:
    """Cached per-utterance embeddings (n, 256)."""
    missing = [u for u in utts if "ge2e" not in u.cache]
    if missing:
        for u, e in zip(missing, embed([u.wav for u in missing]), strict=True):
            u.cache["ge2e"] = e
    return np.stack([u.cache["ge2e"] for u in utts])


class SpeakerEncoder:
    """Speaker embeddings for the decoder, `enrolled` or per `utterance` (see the module docstring)."""

    def __init__(self, mode: str = "enrolled") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.enrolled: dict[str, np.ndarray] = {}
        self.mel_means: dict[str, np.ndarray] = {}

    def fit(self, utts: Utterances) -> SpeakerEncoder:
        """Enrol every speaker in `utts` from its neutral utterances (all of them if it has none); keep each
        speaker's mean log-mel over all its utterances (no emotion label) for the prosody encoder's input."""
        from .features import mels

        if len(utts) == 0:
            raise ValueError("utts: no utterances to enrol speakers from")
        for speaker in np.unique(utts.speaker):
            own = utts.where(speaker=speaker)
            self.mel_means[str(speaker)] = np.concatenate(mels(own)).mean(0)
            neutral = own.where(emotion="neutral")
            mean = utterance_embeddings(neutral if len(neutral) else own).mean(0)
            self.enrolled[str(speaker)] = (mean / np.linalg.norm(mean)).astype(np.float32)
        return self

    def transform(self, utts: Utterances) -> np.ndarray:
        """(n, 256) embeddings of `utts` in this encoder's mode."""
        if self.mode == "utterance":
            return utterance_embeddings(utts)
        unknown = sorted({str(s) for s in utts.speaker} - set(self.enrolled))
        if unknown:
            raise ValueError(f"utts: speakers {unknown} are not enrolled (call fit on their utterances)")
        return np.stack([self.enrolled[str(s)] for s in utts.speaker])

    def mean_mel(self, speaker: str) -> np.ndarray:
        """The speaker's mean log-mel frame (80,) over all its enrolment utterances."""
        if str(speaker) not in self.mel_means:
            raise ValueError(f"speaker: {speaker!r} is not enrolled (call fit on their utterances)")
        return self.mel_means[str(speaker)]

    def identify(self, wavs: list[np.ndarray]) -> list[str]:
        """The enrolled speaker nearest (cosine) to each waveform's own embedding."""
        names = sorted(self.enrolled)
        table = np.stack([self.enrolled[n] for n in names])
        return [names[i] for i in np.argmax(embed(wavs) @ table.T, axis=1)]
