"""Acoustic features at 16 kHz, 25 ms windows, 10 ms hop: log-mel (the model's input and target), MFCC
(the unit k-means and the content baseline), Praat F0, RMS energy and the 8 prosody statistics.

Example:
    >>> import numpy as np
    >>> wav = 0.1 * np.sin(2 * np.pi * 150 * np.arange(16000) / 16000).astype(np.float32)
    >>> log_mel(wav).shape
    (101, 80)
"""

from __future__ import annotations

import numpy as np

from .corpus import SAMPLE_RATE, Utterance, Utterances, check_wav

N_FFT, HOP, N_MELS = 400, 160, 80
MEL_FLOOR = 1e-5
F0_FLOOR, F0_CEILING = 60.0, 500.0  # Praat's range: sad male espeak voices go down to ~68 Hz
STAT_NAMES = ("logf0_mean", "logf0_std", "logf0_range", "logE_mean", "logE_std", "logE_max", "voiced_ratio",
              "duration")


def _mel_basis() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)


_BASIS: np.ndarray | None = None


def log_mel(wav: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(frames, 80) natural-log magnitude mel spectrogram (what Griffin-Lim inverts)."""
    import librosa

    global _BASIS
    wav = check_wav(wav, sr)
    if _BASIS is None:
        _BASIS = _mel_basis()
    spectrum = np.abs(librosa.stft(wav, n_fft=N_FFT, hop_length=HOP))
    return np.log(np.maximum(_BASIS @ spectrum, MEL_FLOOR)).T.astype(np.float32)


def mfcc_from_log_mel(mel: np.ndarray, cmvn: bool = True, drop_c0: bool = True) -> np.ndarray:
    """(frames, 19) MFCC c1–c19 from a log-mel, per-utterance mean/variance normalised (`cmvn`): the
    unit features. Without CMVN and with c0 (loudness) the units leak emotion through level and tilt."""
    import librosa

    db = librosa.power_to_db(np.exp(2.0 * mel.T))  # log magnitude -> power in dB
    coefficients = librosa.feature.mfcc(S=db, n_mfcc=20)[int(drop_c0):].T
    if cmvn:
        coefficients = (coefficients - coefficients.mean(0)) / (coefficients.std(0) + 1e-5)
    return coefficients.astype(np.float32)


def f0(wav: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Praat autocorrelation F0 in Hz every 10 ms (0 where unvoiced)."""
    import parselmouth

    wav = check_wav(wav, sr)
    pitch = parselmouth.Sound(wav.astype(np.float64), sampling_frequency=sr).to_pitch(
        time_step=HOP / sr, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEILING)
    return pitch.selected_array["frequency"].astype(np.float32)


def log_energy(wav: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Log RMS energy per 25 ms frame, 10 ms hop."""
    import librosa

    wav = check_wav(wav, sr)
    return np.log(librosa.feature.rms(y=wav, frame_length=N_FFT, hop_length=HOP)[0] + 1e-5).astype(np.float32)


def prosody_stats(wav: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The 8 prosody statistics `STAT_NAMES`: log-F0 mean/std/range (5–95%), log-energy mean/std/max,
    voiced ratio, duration in seconds."""
    pitch = f0(wav, sr)
    voiced = np.log(pitch[pitch > 0]) if (pitch > 0).any() else np.zeros(1)
    energy = log_energy(wav, sr)
    return np.array([voiced.mean(), voiced.std(), np.percentile(voiced, 95) - np.percentile(voiced, 5),
                     energy.mean(), energy.std(), energy.max(), (pitch > 0).mean(), len(wav) / sr],
                    dtype=np.float32)


def utterance_features(utt: Utterance) -> dict[str, np.ndarray]:
    """The cached features of one utterance: log-mel, CMVN MFCC and prosody stats."""
    if "mel" not in utt.cache:
        mel = log_mel(utt.wav, utt.sr)
        utt.cache["mel"] = mel
        utt.cache["mfcc"] = mfcc_from_log_mel(mel)
    if "stats" not in utt.cache:
        utt.cache["stats"] = prosody_stats(utt.wav, utt.sr)
    return utt.cache


def mels(utts: Utterances) -> list[np.ndarray]:
    return [utterance_features(u)["mel"] for u in utts]


def stats_matrix(utts: Utterances) -> np.ndarray:
    """(n, 8) prosody statistics."""
    return np.stack([utterance_features(u)["stats"] for u in utts])


def mfcc_stats(utts: Utterances) -> np.ndarray:
    """(n, 40) mean and std of MFCC c0–c19 without CMVN: the content stand-in for HuBERT features."""
    rows = []
    for u in utts:
        mfcc = mfcc_from_log_mel(utterance_features(u)["mel"], cmvn=False, drop_c0=False)
        rows.append(np.concatenate([mfcc.mean(0), mfcc.std(0)]))
    return np.stack(rows).astype(np.float32)


def speaker_normalised(x: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Each speaker's rows z-scored by that speaker's own mean and std."""
    out = np.empty_like(x, dtype=np.float64)
    for s in np.unique(speakers):
        rows = speakers == s
        out[rows] = (x[rows] - x[rows].mean(0)) / (x[rows].std(0) + 1e-6)
    return out
