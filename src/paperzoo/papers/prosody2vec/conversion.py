"""Emotional voice conversion: keep the units and the speaker, swap the prosody code, decode, Griffin-Lim.

The target code is the emotion's prototype (mean z over the training voices' utterances of that
emotion) or a reference utterance's own z. Durations are re-predicted from [units; speaker; z], which is
what lets the conversion change the speaking rate. Griffin-Lim audio is buzzy and biases F0 and energy,
so a conversion is compared with the Griffin-Lim of the neutral-prototype reconstruction, never with
the original recording.

Example:
    >>> out = convert_emotion(model, corpus.test[0], target="angry")   # doctest: +SKIP
    >>> out.wav.shape[0] / 16000                                        # doctest: +SKIP
    1.21
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .corpus import SAMPLE_RATE, Utterance, Utterances
from .features import HOP, N_FFT
from .model import Prosody2Vec

GRIFFIN_LIM_ITERATIONS = 32
_PINV: np.ndarray | None = None


@dataclass
class Conversion:
    """A decoded utterance: log-mel (frames, 80), 16 kHz waveform, the unit tokens decoded and their durations."""

    mel: np.ndarray
    wav: np.ndarray
    tokens: np.ndarray
    durations: np.ndarray
    target: str


def griffin_lim(mel: np.ndarray, n_iter: int = GRIFFIN_LIM_ITERATIONS, seed: int = 0) -> np.ndarray:
    """Waveform from a natural-log magnitude mel (frames, 80): the mel basis' pseudo-inverse (clipped at 0;
    librosa's NNLS `mel_to_stft` gives the same ears ~50x slower), then `n_iter` of librosa's Griffin-Lim
    from a seeded random phase."""
    import librosa

    global _PINV
    if _PINV is None:
        _PINV = np.linalg.pinv(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=mel.shape[1]))
    magnitude = np.maximum(_PINV @ np.exp(mel.T), 0.0)
    wav = librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=HOP, n_fft=N_FFT, random_state=seed)
    peak = float(np.abs(wav).max())
    return (wav / peak * 0.9 if peak > 0.9 else wav).astype(np.float32)


def convert_emotion(model: Prosody2Vec, utt: Utterance, target: str = "angry", reference: Utterance | None = None,
                    units: Any = None, speaker: Any = None, protos: dict[str, np.ndarray] | None = None,
                    vocode: bool = True) -> Conversion:
    """`utt` spoken with the prosody of `target` (its prototype code), or of `reference` when given.

    `units`, `speaker` and `protos` default to those `train_prosody2vec` attached to the model."""
    if not isinstance(utt, Utterance):
        raise TypeError(f"utt must be an Utterance, got {type(utt).__name__}")
    if model.encoder is None:
        raise ValueError("model: a model without a prosody encoder cannot convert emotion")
    units = units if units is not None else getattr(model, "units", None)
    speaker = speaker if speaker is not None else getattr(model, "speaker_encoder", None)
    protos = protos if protos is not None else getattr(model, "prototypes", None)
    if units is None or speaker is None:
        raise ValueError("model: train it with train_prosody2vec or pass units= and speaker=")
    if reference is not None:
        z = model.embed(Utterances([reference]))[0]
        target = f"reference:{reference.emotion}"
    else:
        if not protos or target not in protos:
            raise ValueError(f"target: unknown emotion {target!r} (known: {sorted(protos or {})})")
        z = protos[target]
    tokens, _ = units.encode(utt)
    mel, durations = model.synthesize(tokens, speaker.transform(Utterances([utt]))[0], z)
    wav = griffin_lim(mel) if vocode else np.zeros(0, dtype=np.float32)
    return Conversion(mel, wav, np.asarray(tokens), durations, target)
