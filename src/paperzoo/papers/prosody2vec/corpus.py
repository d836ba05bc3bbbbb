"""A seeded emotional speech corpus synthesised offline with Debian's `espeak-ng`.

Emotion on espeak is a few global knobs: pitch (`-p`), speed in words per minute (`-s`) and amplitude
(`-a`), offset from neutral by `intensity` times the emotion's setting, plus seeded per-utterance jitter
(±6 / ±10 / ±10) so that no single knob separates the emotions. The full preset's surprise and fear add
SSML `<prosody range>` (pitch range), which needs espeak's `-m`. Labels: speaker, emotion, sentence,
the sentence text and espeak's phoneme string (`-x`).

Example:
    >>> corpus = synth_emotional_corpus(n_voices=2, n_sentences=2, seed=0)   # doctest: +SKIP
    >>> len(corpus.utterances), corpus.test_voices                            # doctest: +SKIP
    (16, ('en-029+f1',))
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000  # every model here works at 16 kHz (Resemblyzer's rate)
ESPEAK_RATE = 22_050  # what espeak-ng writes

# LANG+VARIANT voices of espeak-ng (no mbrola); the order fixes which voices a corpus uses.
VOICES = ("en-us+m3", "en-gb+f4", "en-gb-scotland+m7", "en-029+f1", "en-us+f2", "en-gb-x-rp+m1",
          "en-us+m5", "en-gb+f3", "en-gb-x-gbclan+m2", "en-029+m4", "en-gb-scotland+f2", "en-us+m1")

# (pitch 0-99, speed wpm, amplitude, SSML pitch range or None) at intensity 1; neutral is the origin.
EMOTIONS: dict[str, tuple[float, float, float, str | None]] = {
    "neutral": (50, 160, 100, None),
    "happy": (78, 200, 115, None),
    "sad": (28, 120, 70, None),
    "angry": (58, 195, 130, None),
    "surprise": (72, 175, 110, "x-high"),
    "fear": (66, 210, 85, "x-low"),
}
BASIC_EMOTIONS = ("neutral", "happy", "sad", "angry")
JITTER = (6.0, 10.0, 10.0)  # uniform ± on pitch, speed, amplitude

_SUBJECTS = ("the old man", "my sister", "the teacher", "a young girl", "the farmer", "our neighbour",
             "the doctor", "his brother", "the captain", "a tall woman", "the baker", "her friend")
_VERBS = ("opened", "painted", "carried", "found", "cleaned", "sold", "watched", "fixed", "borrowed",
          "dropped", "brought", "covered")
_OBJECTS = ("the wooden door", "a heavy basket", "the red bicycle", "an empty bottle", "the garden gate",
            "a small boat", "the kitchen table", "a paper kite", "the silver key", "an old letter",
            "the yellow chair", "a warm blanket")
_TAILS = ("this morning", "before dinner", "last winter", "in the rain", "after school", "on sunday",
          "at the market", "near the river", "during the storm", "by the window")


def sentences(n: int, seed: int) -> list[str]:
    """`n` distinct seeded template sentences ("My sister found the silver key before dinner.")."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n_sentences must be an int >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        words = [part[rng.integers(len(part))] for part in (_SUBJECTS, _VERBS, _OBJECTS, _TAILS)]
        text = " ".join(words)
        if text not in seen:
            seen.add(text)
            out.append(text[0].upper() + text[1:] + ".")
    return out


def check_wav(wav: Any, sr: int, name: str = "wav") -> np.ndarray:
    """`wav` as a float32 mono array at 16 kHz, or a ValueError naming `name` (wrong rate, channels,
    empty or silent)."""
    if sr != SAMPLE_RATE:
        raise ValueError(f"{name}: sample rate {sr} Hz, expected {SAMPLE_RATE} (read files with read_wav)")
    array = np.asarray(wav, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a mono 1-D waveform, got shape {array.shape}")
    if array.size < SAMPLE_RATE // 10:
        raise ValueError(f"{name}: utterance is empty or shorter than 0.1 s ({array.size} samples)")
    if not np.isfinite(array).all() or float(np.abs(array).max()) < 1e-3:
        raise ValueError(f"{name}: utterance is silent or not finite (peak < 1e-3)")
    return array


def read_wav(source: str | Path | bytes, name: str = "wav") -> np.ndarray:
    """A 16-bit PCM mono WAV (file or bytes) at 22,050 or 16,000 Hz as float32 at 16 kHz.

    Other rates or channel counts raise ValueError naming `name`."""
    from scipy.signal import resample_poly

    handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    try:
        with handle, wave.open(handle) as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{name}: not a PCM WAV file ({exc})") from None
    if channels != 1:
        raise ValueError(f"{name}: {channels} channels, expected mono")
    if width != 2:
        raise ValueError(f"{name}: {8 * width}-bit samples, expected 16-bit PCM")
    if rate not in (ESPEAK_RATE, SAMPLE_RATE):
        raise ValueError(f"{name}: sample rate {rate} Hz, expected {ESPEAK_RATE} or {SAMPLE_RATE}")
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if rate == ESPEAK_RATE:  # 16000 / 22050 = 320 / 441; polyphase is ~9x faster than librosa.load's resampler
        audio = resample_poly(audio, 320, 441).astype(np.float32)
    return audio


def trim_silence(wav: np.ndarray, threshold: float = 0.005, margin: float = 0.03) -> np.ndarray:
    """Cut espeak's leading/trailing silence (~0.3 s at the end), keeping `margin` seconds."""
    loud = np.flatnonzero(np.abs(wav) > threshold)
    if loud.size == 0:
        return wav
    pad = int(margin * SAMPLE_RATE)
    return wav[max(loud[0] - pad, 0): loud[-1] + pad]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, voice: str, pitch: float, speed: float, amplitude: float,
               pitch_range: str | None = None) -> tuple[bytes, str]:
    """One espeak-ng utterance: (WAV bytes at 22,050 Hz, phoneme string)."""
    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng; scripts/system-deps.sh)")
    args = ["espeak-ng", "-x", "-v", voice, "-p", str(round(pitch)), "-s", str(round(speed)),
            "-a", str(round(amplitude))]
    if pitch_range is not None:
        args.append("-m")
        text = f'<speak><prosody range="{pitch_range}">{text}</prosody></speak>'
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "u.wav"
        out = subprocess.run([*args, "-w", str(target), text], capture_output=True, text=True, check=True)
        return target.read_bytes(), " ".join(out.stdout.split())


@dataclass
class Utterance:
    """One utterance: 16 kHz float32 waveform and its labels; features are cached on it."""

    wav: np.ndarray
    speaker: str = "?"
    emotion: str = "?"
    sentence: int = -1
    text: str = ""
    phonemes: str = ""
    sr: int = SAMPLE_RATE
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.wav = check_wav(self.wav, self.sr)

    @property
    def seconds(self) -> float:
        return self.wav.size / self.sr


class Utterances(Sequence[Utterance]):
    """A list of utterances with label arrays (`speaker`, `emotion`, `sentence`); index with an int
    for one `Utterance`, or with a slice, a boolean mask or an index array for a sub-list."""

    def __init__(self, items: Sequence[Utterance]) -> None:
        self.items = list(items)
        self.speaker = np.array([u.speaker for u in self.items], dtype=object)
        self.emotion = np.array([u.emotion for u in self.items], dtype=object)
        self.sentence = np.array([u.sentence for u in self.items], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            return self.items[int(index)]
        if isinstance(index, slice):
            return Utterances(self.items[index])
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ValueError(f"mask of shape {index.shape} for {len(self)} utterances")
            index = np.flatnonzero(index)
        return Utterances([self.items[int(i)] for i in index])

    def where(self, **labels: Any) -> Utterances:
        """The utterances whose labels equal the given values, e.g. `utts.where(emotion="neutral")`."""
        mask = np.ones(len(self), dtype=bool)
        for key, value in labels.items():
            mask &= getattr(self, key) == value
        return self[mask]


@dataclass
class Corpus:
    """All utterances, split by voice: `train` voices for the unit k-means and the model, `test`
    voices held out of both (and the only voices in any probe's test fold)."""

    utterances: Utterances
    train_voices: tuple[str, ...]
    test_voices: tuple[str, ...]
    emotions: tuple[str, ...]
    texts: tuple[str, ...]
    intensity: float
    seed: int

    @property
    def train(self) -> Utterances:
        return self.utterances[np.isin(self.utterances.speaker, self.train_voices)]

    @property
    def test(self) -> Utterances:
        return self.utterances[np.isin(self.utterances.speaker, self.test_voices)]

    @property
    def voices(self) -> tuple[str, ...]:
        return self.train_voices + self.test_voices


def emotion_settings(emotion: str, intensity: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """(pitch, speed, amplitude) of one utterance: neutral + intensity × offset + seeded jitter."""
    base = np.array(EMOTIONS["neutral"][:3], dtype=float)
    target = np.array(EMOTIONS[emotion][:3], dtype=float)
    jitter = rng.uniform(-1.0, 1.0, size=3) * np.array(JITTER)
    pitch, speed, amplitude = base + intensity * (target - base) + jitter
    return float(np.clip(pitch, 0, 99)), float(max(speed, 80.0)), float(np.clip(amplitude, 10, 140))


def synth_emotional_corpus(n_voices: int = 6, n_sentences: int = 16, intensity: float = 0.6, seed: int = 0,
                           emotions: Sequence[str] = BASIC_EMOTIONS, n_test_voices: int = 2,
                           cache_dir: str | Path | None = None) -> Corpus:
    """Synthesise n_voices × len(emotions) × n_sentences utterances with espeak-ng, deterministically.

    The last `n_test_voices` of the first `n_voices` in `VOICES` are held out (one male, one female at
    n_voices = 6). WAV bytes are cached under `cache_dir` (keyed by text, voice and settings).
    """
    if not isinstance(n_voices, int) or not 2 <= n_voices <= len(VOICES):
        raise ValueError(f"n_voices must be an int in 2..{len(VOICES)}, got {n_voices!r}")
    if not isinstance(n_test_voices, int) or not 1 <= n_test_voices < n_voices:
        raise ValueError(f"n_test_voices must be an int in 1..n_voices-1, got {n_test_voices!r}")
    if not 0.0 <= float(intensity) <= 1.5:
        raise ValueError(f"intensity must be in [0, 1.5], got {intensity!r}")
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown or "neutral" not in emotions:
        raise ValueError(f"emotions must include 'neutral' and come from {sorted(EMOTIONS)}, got {list(emotions)}")
    texts = sentences(n_sentences, seed)
    voices = VOICES[:n_voices]
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    items = []
    for voice in voices:
        for emotion in emotions:
            for k, text in enumerate(texts):
                pitch, speed, amplitude = emotion_settings(emotion, float(intensity), rng)
                pitch_range = EMOTIONS[emotion][3] or ("medium" if emotions != BASIC_EMOTIONS else None)
                data, phonemes = _cached_synthesis(cache, text, voice, pitch, speed, amplitude, pitch_range)
                wav = trim_silence(read_wav(data))
                items.append(Utterance(wav, voice, emotion, k, text, phonemes))
    split = n_voices - n_test_voices
    return Corpus(Utterances(items), tuple(voices[:split]), tuple(voices[split:]), tuple(emotions), tuple(texts),
                  float(intensity), seed)


def _cached_synthesis(cache: Path | None, text: str, voice: str, pitch: float, speed: float, amplitude: float,
                      pitch_range: str | None) -> tuple[bytes, str]:
    settings = (text, voice, round(pitch), round(speed), round(amplitude), pitch_range)
    if cache is None:
        return synthesize(*settings)
    key = hashlib.sha1(repr(settings).encode()).hexdigest()[:16]
    wav_file, pho_file = cache / f"{key}.wav", cache / f"{key}.pho"
    if wav_file.exists() and pho_file.exists():
        return wav_file.read_bytes(), pho_file.read_text()
    data, phonemes = synthesize(*settings)
    wav_file.write_bytes(data)
    pho_file.write_text(phonemes)
    return data, phonemes
