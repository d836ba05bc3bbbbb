import io
import wave

import numpy as np
import pytest

from paperzoo.papers.prosody2vec import features
from paperzoo.papers.prosody2vec.corpus import (
    Utterance,
    Utterances,
    check_wav,
    read_wav,
    sentences,
    synth_emotional_corpus,
    synthesize,
)


def _wav_bytes(rate=22050, channels=1, seconds=0.5):
    samples = (0.3 * np.sin(2 * np.pi * 200 * np.arange(int(rate * seconds)) / rate) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(samples, channels).tobytes())
    return buffer.getvalue()


def test_read_wav_resamples_espeak_rate_to_16k():
    assert read_wav(_wav_bytes(22050, seconds=0.5)).shape == (8000,)
    assert read_wav(_wav_bytes(16000, seconds=0.5)).shape == (8000,)


@pytest.mark.parametrize("rate, channels, message", [(44100, 1, "sample rate 44100"), (22050, 2, "2 channels")])
def test_read_wav_rejects_wrong_rate_or_channels(rate, channels, message):
    with pytest.raises(ValueError, match=f"clip: {message}"):
        read_wav(_wav_bytes(rate, channels), name="clip")


@pytest.mark.parametrize("wav, sr, message", [(np.zeros(0), 16000, "empty"), (np.zeros(16000), 16000, "silent"),
                                              (np.ones((2, 16000)) * 0.1, 16000, "mono"),
                                              (np.ones(16000) * 0.1, 22050, "sample rate")])
def test_bad_utterances_raise_value_error_naming_the_argument(wav, sr, message):
    with pytest.raises(ValueError, match=f"wav: .*{message}"):
        Utterance(wav, sr=sr)
    with pytest.raises(ValueError, match="wav"):
        check_wav(wav, sr)


def test_sentences_are_distinct_and_seeded():
    assert sentences(12, 0) == sentences(12, 0)
    assert len(set(sentences(40, 1))) == 40
    assert sentences(5, 0) != sentences(5, 1)


def test_corpus_deterministic_per_seed(tmp_path):
    first = synthesize("The old man opened the door.", "en-gb+f4", 60, 170, 100)
    second = synthesize("The old man opened the door.", "en-gb+f4", 60, 170, 100)
    assert first[0] == second[0] and first[1] == second[1]
    a = synth_emotional_corpus(2, 1, 0.8, seed=5, n_test_voices=1)
    b = synth_emotional_corpus(2, 1, 0.8, seed=5, n_test_voices=1, cache_dir=tmp_path)
    c = synth_emotional_corpus(2, 1, 0.8, seed=6, n_test_voices=1)
    assert all(np.array_equal(x.wav, y.wav) for x, y in zip(a.utterances, b.utterances, strict=True))
    assert not all(np.array_equal(x.wav, y.wav) for x, y in zip(a.utterances, c.utterances, strict=True))


def test_loudest_setting_does_not_clip():
    """Amplitude is capped at 140 (espeak saturates from ~150): < 0.1% of samples at |x| >= 0.99."""
    data, _ = synthesize("Stop it right now, I said stop!", "en-gb-scotland+m7", 78, 200, 140)
    samples = np.frombuffer(data[44:], dtype="<i2") / 32768.0
    assert np.mean(np.abs(samples) >= 0.99) < 0.001


def test_ssml_range_orders_f0_range():
    text = "My sister found the silver key before dinner on a cold morning."
    ranges = []
    for level in ("x-low", "medium", "x-high"):
        wav = read_wav(synthesize(text, "en-us+m3", 50, 160, 100, pitch_range=level)[0])
        pitch = features.f0(wav)
        semitones = 12 * np.log2(pitch[pitch > 0])
        ranges.append(np.percentile(semitones, 95) - np.percentile(semitones, 5))
    assert ranges[0] < ranges[1] < ranges[2]


def test_corpus_labels_split_and_emotion_knobs(small_corpus):
    utts = small_corpus.utterances
    assert len(utts) == 3 * 4 * 2
    assert set(small_corpus.test.speaker) == set(small_corpus.test_voices) == {"en-gb-scotland+m7"}
    assert not set(small_corpus.train.speaker) & set(small_corpus.test_voices)
    assert all(u.phonemes for u in utts)
    stats = features.stats_matrix(utts)
    dur = {e: stats[utts.emotion == e, 7].mean() for e in ("happy", "sad")}
    f0 = {e: stats[utts.emotion == e, 0].mean() for e in ("happy", "sad")}
    assert dur["sad"] > dur["happy"] and f0["happy"] > f0["sad"]


def test_utterances_index_and_filter(small_corpus):
    utts = small_corpus.utterances
    assert isinstance(utts[0], Utterance)
    assert isinstance(utts[:3], Utterances) and len(utts[:3]) == 3
    neutral = utts.where(emotion="neutral", sentence=1)
    assert len(neutral) == 3 and set(neutral.emotion) == {"neutral"}
    with pytest.raises(ValueError, match="mask"):
        utts[np.ones(2, dtype=bool)]


def test_features_shapes_and_mfcc_normalisation(small_corpus):
    u = small_corpus.utterances[0]
    cache = features.utterance_features(u)
    frames = 1 + len(u.wav) // features.HOP
    assert cache["mel"].shape == (frames, 80)
    assert cache["mfcc"].shape == (frames, 19)
    assert np.allclose(cache["mfcc"].mean(0), 0, atol=1e-4) and np.allclose(cache["mfcc"].std(0), 1, atol=1e-3)
    assert features.mfcc_stats(small_corpus.utterances[:2]).shape == (2, 40)
