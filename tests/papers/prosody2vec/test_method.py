import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from paperzoo.papers.prosody2vec import (
    Prosody2Vec,
    SpeakerEncoder,
    UnitEncoder,
    convert_emotion,
    dedup,
    length_regulate,
    ned,
    probe,
    train_prosody2vec,
)
from paperzoo.papers.prosody2vec.model import mel_l1
from paperzoo.papers.prosody2vec.probe import fold_indices
from paperzoo.papers.prosody2vec.speaker import embed, voice_encoder


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60))
def test_dedup_round_trip(frames):
    tokens, lengths = dedup(np.array(frames))
    assert np.array_equal(np.repeat(tokens, lengths), frames)
    assert (lengths >= 1).all() and (tokens[1:] != tokens[:-1]).all()


def test_length_regulator_output_is_sum_of_durations():
    hidden = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    durations = torch.tensor([2, 0, 3, 1])
    out = length_regulate(hidden, durations)
    assert out.shape == (6, 3)
    assert torch.equal(out[:2], hidden[[0, 0]]) and torch.equal(out[2:5], hidden[[2, 2, 2]])
    with pytest.raises(ValueError, match="durations"):
        length_regulate(hidden, torch.tensor([1, 2]))


def test_ned():
    assert ned(np.array([1, 2, 3]), np.array([1, 2, 3])) == 0
    assert ned(np.array([1, 2, 3]), np.array([1, 3])) == pytest.approx(1 / 3)
    assert ned(np.array([1, 2]), np.array([3, 4])) == 1


@pytest.mark.parametrize("bad", [0, -3, 1.5, True])
def test_d_prosody_below_one_raises(bad):
    with pytest.raises(ValueError, match="d_prosody"):
        Prosody2Vec(n_units=10, d_prosody=bad)


def test_probe_folds_are_group_disjoint_and_test_only_masked_rows():
    groups = np.repeat(np.arange(6), 5)
    mask = groups >= 4
    pairs = fold_indices(groups, 4, test_mask=mask)
    assert len(pairs) == 2
    for train, test in pairs:
        assert not set(groups[train]) & set(groups[test])
        assert mask[test].all()
    assert sorted(np.concatenate([t for _, t in pairs])) == list(np.flatnonzero(mask))


def test_probe_separates_and_chance():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    groups = np.tile(np.arange(6), 15)
    informative = probe(y[:, None] + 0.2 * rng.normal(size=(90, 3)), y, groups)
    noise = probe(rng.normal(size=(90, 3)), y, groups)
    assert informative.ua > 0.9 and informative.chance == pytest.approx(1 / 3)
    assert noise.ua < 0.6


def test_batched_speaker_embeddings_equal_per_utterance(small_corpus):
    wavs = [u.wav for u in small_corpus.utterances[:4]]
    from resemblyzer import preprocess_wav

    single = np.stack([voice_encoder().embed_utterance(preprocess_wav(w)) for w in wavs])
    batched = embed(wavs)
    assert np.min(np.sum(single * batched, axis=1)) > 0.9999


def test_enrolled_embedding_is_identical_within_a_speaker(small_corpus):
    utts = small_corpus.utterances
    spk = SpeakerEncoder("enrolled").fit(utts)
    s = spk.transform(utts)
    for voice in small_corpus.voices:
        rows = s[utts.speaker == voice]
        assert np.array_equal(rows, np.repeat(rows[:1], len(rows), axis=0))
    assert not np.allclose(s[0], s[-1])
    utterance = SpeakerEncoder("utterance").fit(utts).transform(utts)
    assert not np.array_equal(utterance[0], utterance[1])
    with pytest.raises(ValueError, match="mode"):
        SpeakerEncoder("per-speaker")


@pytest.fixture(scope="module")
def trained(small_corpus):
    units = UnitEncoder(k=8, seed=0).fit(small_corpus.train)
    spk = SpeakerEncoder().fit(small_corpus.utterances)
    torch.manual_seed(0)
    model = Prosody2Vec(n_units=8, d_prosody=4)
    result = train_prosody2vec(model, small_corpus.train, units, spk, epochs=2, seed=0)
    return model, units, spk, result


def test_units_durations_sum_to_frames(trained, small_corpus):
    _, units, _, _ = trained
    for u in small_corpus.utterances[:5]:
        tokens, durations = units.encode(u)
        assert durations.sum() == len(u.cache["mel"]) and tokens.max() < 8
    bag = units.bag_of_units(small_corpus.utterances[:3])
    assert bag.shape == (3, 8) and np.allclose(bag.sum(1), 1)


def test_training_runs_lowers_loss_and_embeds(trained, small_corpus):
    model, units, spk, result = trained
    assert result.epochs == 2 and result.losses[1] < result.losses[0]
    z = model.embed(small_corpus.test)
    assert z.shape == (len(small_corpus.test), 4) and np.isfinite(z).all()
    assert set(model.prototypes) == {"neutral", "happy", "sad", "angry"}
    assert np.isfinite(mel_l1(model, small_corpus.test, units, spk))


def test_wall_clock_cap_stops_training(small_corpus, trained):
    _, units, spk, _ = trained
    result = train_prosody2vec(Prosody2Vec(8, 4), small_corpus.train, units, spk, epochs=50, max_seconds=0.0)
    assert result.epochs == 1 and result.capped


def test_evc_keeps_the_unit_sequence_and_rejects_unknown_target(trained, small_corpus):
    model, units, _, _ = trained
    source = small_corpus.test.where(emotion="neutral")[0]
    out = convert_emotion(model, source, target="angry")
    assert np.array_equal(out.tokens, units.encode(source)[0])
    assert len(out.mel) == out.durations.sum() and out.wav.dtype == np.float32 and len(out.wav) > 0
    with pytest.raises(ValueError, match="target"):
        convert_emotion(model, source, target="bored")
    with pytest.raises(TypeError, match="utt"):
        convert_emotion(model, source.wav, target="angry")


def test_no_prosody_ablation_has_no_code(small_corpus, trained):
    _, units, spk, _ = trained
    model = Prosody2Vec(8, 4, prosody="none")
    train_prosody2vec(model, small_corpus.train, units, spk, epochs=1)
    assert model.encoder is None and model.prototypes == {}
    with pytest.raises(ValueError, match="prosody encoder"):
        model.embed(small_corpus.test)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_speaker_encoder_loads_with_the_network_off():
    code = ("import numpy as np; from paperzoo.papers.prosody2vec.speaker import embed; "
            "w = (0.2 * np.sin(np.arange(32000) / 9)).astype('float32'); print(embed([w]).shape)")
    probe_run = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe_run.returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    out = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "NO_PROXY": "*"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "(1, 256)" in out.stdout


def test_encoder_input_is_speaker_normalised(trained, small_corpus):
    model, _, spk, _ = trained
    u = small_corpus.test[0]
    expected = (u.cache["mel"] - spk.mean_mel(u.speaker)) / model.mel_std.numpy()
    assert np.allclose(model.encoder_input(u).numpy(), expected, atol=1e-5)
    plain = Prosody2Vec(8, 4, speaker_norm=False)
    assert np.allclose(plain.encoder_input(u).numpy(), u.cache["mel"])  # untrained: mean 0, std 1
    with pytest.raises(ValueError, match="speaker"):
        Prosody2Vec(8, 4).encoder_input(u)
