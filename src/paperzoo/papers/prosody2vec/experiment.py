"""Reproduction of Prosody2Vec's claims on a seeded espeak-ng emotional corpus.

One corpus (6 voices × 4 emotions × 16 sentences at quick; 2 voices held out of the unit k-means, the
model and every probe's test fold). Per seed, in parallel: the model with a prosody code and the same
model without one (same units, speaker embeddings, epochs and wall-clock cap), held-out mel L1, prosody
codes of every utterance and, for the model with z, emotional voice conversion of the held-out neutral
utterances. Then the probes (3 streams × emotion/speaker/sentence, the 8-stat and MFCC baselines, MFCC ⊕
z), the EVC measurements, figures and audio.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from paperzoo.core import Claim, Evidence, Paper, RunContext, register

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

_COMMON: dict[str, Any] = {
    "data_seed": 0, "n_voices": 6, "n_test_voices": 2, "n_sentences": 16,
    "emotions": ["neutral", "happy", "sad", "angry"],
    "k": 50,  # units (spec: MiniBatchKMeans K = 50; Polyak et al. use k = 100 on HuBERT)
    "d_prosody": 16, "epochs": 12, "batch_size": 16,
    "lr": 2e-3,  # spec: Adam 1e-3; 2e-3 reaches the same loss in about half the epochs of our CPU budget
    "speaker_mode": "enrolled", "probe_folds": 4, "evc_targets": ["happy", "sad", "angry"],
    "evc_sources": 32, "audio_examples": 2, "workers": 2, "bottleneck_sizes": [],
}
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {**_COMMON, "seeds": 2, "max_train_seconds": 60.0},
    "full": {**_COMMON, "seeds": 5, "n_voices": 12, "n_sentences": 40, "max_train_seconds": 600.0, "epochs": 30,
             "emotions": ["neutral", "happy", "sad", "angry", "surprise", "fear"], "bottleneck_sizes": [4, 256]},
    "tiny": {**_COMMON, "seeds": 1, "n_voices": 3, "n_test_voices": 1, "n_sentences": 3, "k": 8, "epochs": 1,
             "max_train_seconds": 10.0, "evc_sources": 2, "audio_examples": 1, "workers": 1, "probe_folds": 2},
}

# Pass rules of the spec, fixed before any run.
Z_EMOTION_MIN, Z_OVER_UNITS = 0.7, 0.25          # prosody-carries-emotion
UNITS_EMOTION_MAX, UNITS_SENTENCE_CHANCE_X = 0.45, 3.0  # streams-disentangled ...
Z_SPEAKER_MAX, SPEAKER_EMBEDDING_MIN = 0.5, 0.8
L1_GAIN_MIN = 0.05                                # reconstruction-needs-prosody, every seed
SER_GAIN_MIN, SER_CEILING = 0.05, 0.92            # ser-complementary
BOTTLENECK_DROP = 0.1                             # bottleneck-matters (d_p 16 vs 256)
EVC_TARGET_ACCURACY = 0.5                         # evc-moves-prosody
NED_MARGIN, SPEAKER_ID_MIN = 0.1, 0.7             # evc-keeps-content-speaker
STREAMS = ("units", "speaker", "z")
TASKS = ("emotion", "speaker", "sentence")
EVC_STATS = {"logf0_mean": 0, "logE_mean": 3, "duration": 7}  # indices into features.STAT_NAMES


def calibration() -> dict[str, Any]:
    """The recorded intensity calibration (written once by `calibrate.py`)."""
    return json.loads(CALIBRATION_FILE.read_text())


# ---------------------------------------------------------------- per seed (worker process)


def train_task(seed: int, prosody: str, d_prosody: int, corpus: Any, units: Any, speaker: Any,
               config: dict[str, Any]) -> dict[str, Any]:
    """Train one model; held-out L1; prosody codes; EVC for a model with z. Returns plain data."""
    import torch

    from paperzoo.core.seeding import seed_everything

    from .model import Prosody2Vec, mel_l1, train_prosody2vec

    torch.set_num_threads(1)
    seed_everything(seed)
    model = Prosody2Vec(n_units=config["k"], d_prosody=d_prosody, prosody=prosody)
    result = train_prosody2vec(model, corpus.train, units, speaker, epochs=config["epochs"], seed=seed,
                               batch_size=config["batch_size"], lr=config["lr"],
                               max_seconds=config["max_train_seconds"])
    out: dict[str, Any] = {"seed": seed, "prosody": prosody, "d_prosody": d_prosody, "epochs": result.epochs,
                           "capped": result.capped, "train_seconds": result.seconds, "losses": result.losses,
                           "l1_test": mel_l1(model, corpus.test, units, speaker),
                           "l1_train": mel_l1(model, corpus.train, units, speaker)}
    if prosody != "none":
        out["z"] = model.embed(corpus.utterances)
        if d_prosody == config["d_prosody"]:
            out["evc"] = evc_study(model, corpus, units, speaker, config)
    return out


def evc_study(model: Any, corpus: Any, units: Any, speaker: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Convert the held-out neutral utterances to each target; measure the converted audio."""
    import numpy as np

    from .conversion import convert_emotion
    from .corpus import Utterance
    from .features import prosody_stats
    from .units import ned

    sources = corpus.test.where(emotion="neutral")[: config["evc_sources"]]
    rows: dict[str, Any] = {"source_speaker": [str(s) for s in sources.speaker], "stats": {}, "ned": {},
                            "ned_to_neutral": {}, "speaker_id": {}, "frames": {}, "examples": []}
    decoded: dict[str, list] = {}
    for target in ["neutral", *config["evc_targets"]]:
        conversions = [convert_emotion(model, u, target=target) for u in sources]
        decoded[target] = conversions
        rows["stats"][target] = np.stack([prosody_stats(c.wav) for c in conversions])
        rows["frames"][target] = [len(c.mel) for c in conversions]
        rows["speaker_id"][target] = speaker.identify([c.wav for c in conversions])
        tokens = [units.encode(Utterance(c.wav))[0] for c in conversions]
        rows["ned"][target] = [ned(t, units.encode(u)[0]) for t, u in zip(tokens, sources, strict=True)]
        rows["tokens_" + target] = tokens
    for target in config["evc_targets"]:
        rows["ned_to_neutral"][target] = [ned(a, b) for a, b in
                                          zip(rows["tokens_" + target], rows["tokens_neutral"], strict=True)]
    for target in ["neutral", *config["evc_targets"]]:
        rows.pop("tokens_" + target)
    # unit tokens the decoder consumed are the source's own: conversion keeps the unit sequence
    rows["keeps_tokens"] = bool(all(np.array_equal(c.tokens, units.encode(u)[0])
                                    for conv in decoded.values() for c, u in zip(conv, sources, strict=True)))
    # audio examples: the first source of each held-out voice
    for voice in corpus.test_voices[: config["audio_examples"]]:
        i = int(np.flatnonzero(sources.speaker == voice)[0])
        own = convert_emotion(model, sources[i], reference=sources[i])
        rows["examples"].append({"voice": voice, "text": sources[i].text, "source_wav": sources[i].wav,
                                 "source_mel": sources[i].cache["mel"], "recon_mel": own.mel, "recon_wav": own.wav,
                                 "converted": {t: {"mel": decoded[t][i].mel, "wav": decoded[t][i].wav}
                                               for t in decoded}})
    return rows


# ---------------------------------------------------------------- the run


def run(config: dict[str, Any], seeds: list[int], ctx: RunContext) -> dict[str, Any]:

    from paperzoo.core.parallel import parallel_map
    from paperzoo.data.datasets import cache_dir

    from . import features
    from .corpus import synth_emotional_corpus
    from .speaker import SpeakerEncoder, utterance_embeddings
    from .units import UnitEncoder

    cal = calibration()
    intensity = float(config.get("intensity", cal["intensity"]))
    with ctx.stage(f"synthesising the corpus with espeak-ng (intensity {intensity:g})"):
        corpus = synth_emotional_corpus(config["n_voices"], config["n_sentences"], intensity, config["data_seed"],
                                        emotions=config["emotions"], n_test_voices=config["n_test_voices"],
                                        cache_dir=cache_dir() / "prosody2vec-wavs")
    utts = corpus.utterances
    clock = time.perf_counter()
    for u in ctx.track(utts, description="features (log-mel, MFCC, F0, energy)"):
        features.utterance_features(u)
    feature_seconds = time.perf_counter() - clock
    with ctx.stage("Resemblyzer speaker embeddings"):
        clock = time.perf_counter()
        ge2e = utterance_embeddings(utts)
        speaker_seconds = time.perf_counter() - clock
        speaker = SpeakerEncoder(config["speaker_mode"]).fit(utts)
    unit_encoders = {s: UnitEncoder(config["k"], seed=s).fit(corpus.train) for s in seeds}
    for enc in unit_encoders.values():
        for u in utts:
            enc.encode(u)
    tasks = [(s, mode, config["d_prosody"], corpus, unit_encoders[s], speaker, config)
             for s in seeds for mode in ("utterance", "none")]
    tasks += [(s, "utterance", d, corpus, unit_encoders[s], speaker, config)
              for s in seeds for d in config["bottleneck_sizes"]]
    results = parallel_map(train_task, tasks, config["workers"], ctx, description="training models")
    by = {(r["seed"], r["prosody"], r["d_prosody"]): r for r in results}

    with ctx.stage("probes"):
        metrics = _probes(config, seeds, corpus, ge2e, speaker, unit_encoders, by)
    main = [by[(s, "utterance", config["d_prosody"])] for s in seeds]
    ablation = [by[(s, "none", config["d_prosody"])] for s in seeds]
    gains = [(b["l1_test"] - a["l1_test"]) / b["l1_test"] for a, b in zip(main, ablation, strict=True)]
    metrics.update({
        "intensity": intensity, "calibration": cal, "n_utterances": len(utts),
        "train_voices": list(corpus.train_voices), "test_voices": list(corpus.test_voices),
        "feature_seconds": feature_seconds, "speaker_embedding_seconds": speaker_seconds,
        "epochs_reached": {"z": [r["epochs"] for r in main], "none": [r["epochs"] for r in ablation]},
        "train_seconds": {"z": [r["train_seconds"] for r in main], "none": [r["train_seconds"] for r in ablation]},
        "capped": any(r["capped"] for r in results),
        "mel_l1": {"z": [r["l1_test"] for r in main], "none": [r["l1_test"] for r in ablation],
                   "z_train": [r["l1_train"] for r in main], "none_train": [r["l1_train"] for r in ablation]},
        "mel_l1_gain": gains,
        "full_studies": bool(config["bottleneck_sizes"]),
    })
    with ctx.stage("emotional voice conversion measurements"):
        metrics["evc"] = _evc_metrics(config, corpus, main, units_for=unit_encoders)
    _artifacts(ctx, config, corpus, main, metrics)
    return metrics


def _probes(config: dict, seeds: list[int], corpus: Any, ge2e: Any, speaker: Any, unit_encoders: dict,
            by: dict) -> dict[str, Any]:
    import numpy as np

    from paperzoo.core.stats import summarize

    from . import features
    from .probe import probe

    utts = corpus.utterances
    held = np.isin(utts.speaker, corpus.test_voices)
    folds = config["probe_folds"]
    labels = {"emotion": (utts.emotion, utts.speaker), "speaker": (utts.speaker, utts.sentence),
              "sentence": (utts.sentence, utts.speaker)}

    def run_probe(x: Any, task: str) -> float:
        y, groups = labels[task]
        return probe(x, y, groups, folds=folds, test_mask=held).ua

    stats = features.stats_matrix(utts)
    mfcc = features.mfcc_stats(utts)
    fixed = {"speaker": ge2e, "speaker_enrolled": speaker.transform(utts) if speaker.mode == "enrolled"
             else None, "stats": stats, "stats_speaker_normalised": features.speaker_normalised(stats, utts.speaker),
             "mfcc": mfcc}
    matrix: dict[str, dict[str, Any]] = {}
    for name, x in fixed.items():
        if x is None:
            continue
        tasks = TASKS if name in ("speaker", "speaker_enrolled") else ("emotion",)
        matrix[name] = {t: summarize([run_probe(x, t)]) for t in tasks}
    per_seed: dict[str, dict[str, list[float]]] = {"units": {t: [] for t in TASKS}, "z": {t: [] for t in TASKS},
                                                   "mfcc_z": {"emotion": []}}
    for s in seeds:
        bag = unit_encoders[s].bag_of_units(utts)
        z = by[(s, "utterance", config["d_prosody"])]["z"]
        for t in TASKS:
            per_seed["units"][t].append(run_probe(bag, t))
            per_seed["z"][t].append(run_probe(z, t))
        per_seed["mfcc_z"]["emotion"].append(run_probe(np.concatenate([mfcc, z], 1), "emotion"))
    for name, values in per_seed.items():
        matrix[name] = {t: summarize(v) for t, v in values.items()}
    out: dict[str, Any] = {"probe": matrix, "chance": {"emotion": 1 / len(config["emotions"]),
                                                       "speaker": 1 / config["n_voices"],
                                                       "sentence": 1 / config["n_sentences"]}}
    out["ser_gain"] = summarize(np.array(per_seed["mfcc_z"]["emotion"]) - matrix["mfcc"]["emotion"]["mean"])
    if config["bottleneck_sizes"]:
        sizes = sorted({config["d_prosody"], *config["bottleneck_sizes"]})
        out["bottleneck"] = {str(d): {t: summarize([run_probe(by[(s, "utterance", d)]["z"], t) for s in seeds])
                                      for t in TASKS} for d in sizes}
    return out


def _evc_metrics(config: dict, corpus: Any, main: list[dict], units_for: dict) -> dict[str, Any]:
    """Directions of log-F0 mean, log-energy mean and duration of each target's conversion against the
    neutral-prototype conversion, the target's real direction on the held-out voices, a stats classifier's
    verdict on the converted audio, unit NED and speaker ID."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import features
    from .units import ned

    utts = corpus.utterances
    stats = features.stats_matrix(utts).astype(np.float64)
    # a classifier of emotion from stats relative to the speaker's neutral mean, trained on real training voices
    relative = stats.copy()
    for voice in corpus.voices:
        rows = utts.speaker == voice
        relative[rows] -= stats[rows & (utts.emotion == "neutral")].mean(0)
    train = np.isin(utts.speaker, corpus.train_voices)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(relative[train],
                                                                                       utts.emotion[train])
    test = ~train
    real = {e: stats[test & (utts.emotion == e)].mean(0) for e in config["emotions"]}
    # the content reference: real same-sentence, other-emotion unit NED on the held-out voices
    reference = []
    enc = units_for[main[0]["seed"]]
    for voice in corpus.test_voices:
        for k in range(min(config["n_sentences"], 8)):
            neutral = utts.where(speaker=voice, sentence=k, emotion="neutral")
            for e in config["evc_targets"]:
                other = utts.where(speaker=voice, sentence=k, emotion=e)
                if len(neutral) and len(other):
                    reference.append(ned(enc.encode(neutral[0])[0], enc.encode(other[0])[0]))
    out: dict[str, Any] = {"targets": {}, "ned_reference": float(np.mean(reference)),
                           "keeps_tokens": all(r["evc"]["keeps_tokens"] for r in main)}
    accuracy, neds, neds_neutral, ids = [], [], [], []
    for target in config["evc_targets"]:
        deltas, hits = [], []
        for r in main:
            evc = r["evc"]
            base = evc["stats"]["neutral"]
            conv = evc["stats"][target]
            deltas.append((conv - base).mean(0))
            speakers = np.array(evc["source_speaker"])
            rel = conv.copy()
            for voice in np.unique(speakers):
                rel[speakers == voice] -= base[speakers == voice].mean(0)
            hits.append(float(np.mean(classifier.predict(rel) == target)))
            neds.append(float(np.mean(evc["ned"][target])))
            neds_neutral.append(float(np.mean(evc["ned_to_neutral"][target])))
            ids.append(float(np.mean(np.array(evc["speaker_id"][target]) == speakers)))
        delta = np.mean(deltas, 0)
        want = real[target] - real["neutral"]
        moved = {name: bool(np.sign(delta[i]) == np.sign(want[i]) and delta[i] != 0) for name, i in EVC_STATS.items()}
        out["targets"][target] = {"delta": {n: float(delta[i]) for n, i in EVC_STATS.items()},
                                  "real_delta": {n: float(want[i]) for n, i in EVC_STATS.items()},
                                  "moved": moved, "n_moved": int(sum(moved.values())),
                                  "target_accuracy": float(np.mean(hits)),
                                  "frames": float(np.mean([np.mean(r["evc"]["frames"][target]) for r in main]))}
        accuracy.append(float(np.mean(hits)))
    out["frames_neutral_prototype"] = float(np.mean([np.mean(r["evc"]["frames"]["neutral"]) for r in main]))
    out["target_accuracy"] = float(np.mean(accuracy))
    out["ned_converted"] = float(np.mean(neds))
    out["ned_converted_vs_neutral_prototype"] = float(np.mean(neds_neutral))
    out["speaker_id"] = float(np.mean(ids))
    out["speaker_id_neutral_prototype"] = float(np.mean([np.mean(np.array(r["evc"]["speaker_id"]["neutral"]) ==
                                                                 np.array(r["evc"]["source_speaker"])) for r in main]))
    return out


def _artifacts(ctx: RunContext, config: dict, corpus: Any, main: list[dict], metrics: dict) -> None:
    from . import figures

    examples = main[0]["evc"]["examples"]
    figures.write_audio(ctx, examples)
    figures.probe_matrix(ctx, metrics)
    figures.mel_figure(ctx, examples[0])
    figures.contours(ctx, examples[0])
    figures.prosody_map(ctx, corpus, main[0]["z"])
    figures.training_curves(ctx, main)


# ---------------------------------------------------------------- claims


def _mean(m: dict, stream: str, task: str) -> float:
    return float(m["probe"][stream][task]["mean"])


def _carries_emotion(m: dict) -> Evidence:
    z, units = _mean(m, "z", "emotion"), _mean(m, "units", "emotion")
    enrolled = _mean(m, "speaker_enrolled", "emotion") if "speaker_enrolled" in m["probe"] else float("nan")
    others = max(units, enrolled) if enrolled == enrolled else units
    passed = z >= Z_EMOTION_MIN and z >= others + Z_OVER_UNITS
    return Evidence(round(z, 3), passed, f"emotion UA on held-out voices: z {z:.3f}, bag of units {units:.3f}, "
                                         f"enrolled speaker {enrolled:.3f}; need z >= {Z_EMOTION_MIN} and >= "
                                         f"{others:.3f} + {Z_OVER_UNITS}")


def _disentangled(m: dict) -> Evidence:
    chance = m["chance"]["sentence"]
    units_emotion, units_sentence = _mean(m, "units", "emotion"), _mean(m, "units", "sentence")
    z_sentence, z_speaker = _mean(m, "z", "sentence"), _mean(m, "z", "speaker")
    spk_speaker, spk_emotion = _mean(m, "speaker", "speaker"), _mean(m, "speaker", "emotion")
    checks = {f"units emotion {units_emotion:.2f} <= {UNITS_EMOTION_MAX}": units_emotion <= UNITS_EMOTION_MAX,
              f"units sentence {units_sentence:.2f} >= {UNITS_SENTENCE_CHANCE_X:g}x chance {chance:.3f}":
                  units_sentence >= UNITS_SENTENCE_CHANCE_X * chance,
              f"z sentence {z_sentence:.2f} <= half of units' {units_sentence:.2f}": z_sentence <= units_sentence / 2,
              f"z speaker {z_speaker:.2f} <= {Z_SPEAKER_MAX}": z_speaker <= Z_SPEAKER_MAX,
              f"utterance speaker embedding speaker {spk_speaker:.2f} >= {SPEAKER_EMBEDDING_MIN}":
                  spk_speaker >= SPEAKER_EMBEDDING_MIN}
    failed = [k for k, ok in checks.items() if not ok]
    detail = ("all hold: " if not failed else "fails: " + "; ".join(failed) + " | holds: ") + \
        "; ".join(k for k, ok in checks.items() if ok) + f" | utterance speaker embedding emotion UA {spk_emotion:.2f}"
    return Evidence({"failed_checks": len(failed), "of": len(checks)}, not failed, detail)


def _needs_prosody(m: dict) -> Evidence:
    gains = [float(g) for g in m["mel_l1_gain"]]
    passed = bool(gains) and all(g >= L1_GAIN_MIN for g in gains)
    z, none = m["mel_l1"]["z"], m["mel_l1"]["none"]
    return Evidence([round(g, 4) for g in gains], passed,
                    "held-out mel L1 with z " + ", ".join(f"{a:.3f}" for a in z) + " vs without " +
                    ", ".join(f"{b:.3f}" for b in none) + f"; need >= {L1_GAIN_MIN:.0%} lower in every seed")


def _ser(m: dict) -> Evidence:
    base, gain = _mean(m, "mfcc", "emotion"), float(m["ser_gain"]["mean"])
    fused = _mean(m, "mfcc_z", "emotion")
    flag = " (ceiling: baseline >= 0.92)" if base >= SER_CEILING else ""
    return Evidence(round(gain, 3), gain >= SER_GAIN_MIN,
                    f"emotion UA MFCC stats {base:.3f} -> MFCC stats + z {fused:.3f}, gain {gain:+.3f}; need >= "
                    f"{SER_GAIN_MIN}{flag}")


def _bottleneck(m: dict) -> Evidence:
    if not m["full_studies"]:
        return Evidence.not_run("full preset only (d_p sweep)")
    narrow, wide = m["bottleneck"]["16"]["sentence"]["mean"], m["bottleneck"]["256"]["sentence"]["mean"]
    return Evidence(round(wide - narrow, 3), round(wide - narrow, 9) >= BOTTLENECK_DROP,
                    f"sentence probe on z: d_p 16 {narrow:.3f} vs 256 {wide:.3f}; need lower by >= {BOTTLENECK_DROP}")


def _evc_moves(m: dict) -> Evidence:
    targets = m["evc"]["targets"]
    good = [t for t, v in targets.items() if v["n_moved"] >= 2]
    accuracy = float(m["evc"]["target_accuracy"])
    passed = len(good) >= 2 and accuracy >= EVC_TARGET_ACCURACY
    parts = [f"{t}: {v['n_moved']}/3 (" + ", ".join(f"{n} {d:+.3f} vs real {v['real_delta'][n]:+.3f}"
                                                     for n, d in v["delta"].items()) + ")" for t, v in targets.items()]
    return Evidence({"targets_moved": len(good), "target_accuracy": round(accuracy, 3)}, passed,
                    "; ".join(parts) + f"; stats-classifier target accuracy {accuracy:.2f} (need >= 2 targets with "
                    f">= 2/3 stats right and accuracy >= {EVC_TARGET_ACCURACY})")


def _evc_keeps(m: dict) -> Evidence:
    evc = m["evc"]
    ned_c, ned_r, ident = float(evc["ned_converted"]), float(evc["ned_reference"]), float(evc["speaker_id"])
    passed = ned_c <= ned_r + NED_MARGIN and ident >= SPEAKER_ID_MIN
    return Evidence({"ned": round(ned_c, 3), "speaker_id": round(ident, 3)}, passed,
                    f"unit NED converted vs source {ned_c:.3f} (real same sentence, other emotion {ned_r:.3f}; need <= "
                    f"+{NED_MARGIN}); speaker ID of converted audio {ident:.2f} (need >= {SPEAKER_ID_MIN}; neutral-"
                    f"prototype reconstruction {float(evc['speaker_id_neutral_prototype']):.2f})")


PAPER = register(Paper(
    id="prosody2vec", title="Disentangling Prosody Representations with Unsupervised Speech Reconstruction",
    arxiv="2212.06972", presets=PRESETS,
    claims=[
        Claim("prosody-carries-emotion", "The prosody encoder learns emotional prosody without labels",
              "SER from Prosody2Vec features on IEMOCAP (numbers not available here)", _carries_emotion),
        Claim("streams-disentangled", "Content, speaker and prosody separate into the three streams",
              "qualitative (t-SNE, probes)", _disentangled),
        Claim("reconstruction-needs-prosody", "Reconstruction forces z to hold what units and speaker lack",
              "design premise", _needs_prosody),
        Claim("ser-complementary", "Prosody2Vec features complement content features (Prosody2Vec + HuBERT > HuBERT)",
              "SOTA on IEMOCAP with HuBERT", _ser),
        Claim("bottleneck-matters", "The narrow bottleneck keeps content and speaker out of z",
              "SpeechSplit-style narrow code", _bottleneck),
        Claim("evc-moves-prosody", "Swapping the prosody code transfers emotional prosody",
              "EVC on ESD (objective scores, MOS)", _evc_moves),
        Claim("evc-keeps-content-speaker", "Conversion keeps content and speaker", "EVC on ESD", _evc_keeps),
    ],
    run=run, summary="espeak-ng emotional corpus, MFCC units, Resemblyzer speaker, prosody encoder + decoder, "
                     "probes, EVC with Griffin-Lim",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("intensity", "probe", "mel_l1_gain", "ser_gain", "evc", "epochs_reached"),
    captions={
        "probe_matrix.png": "Probe UA (held-out voices in every test fold) of the three streams for emotion, speaker "
                            "and sentence; chance in brackets. Units should know the sentence, the speaker embedding "
                            "the speaker, z the emotion.",
        "mel_conversions.png": "Log-mel of a held-out neutral source, its reconstruction from its own z and its "
                               "conversions to each emotion's prototype code (same units and speaker).",
        "contours.png": "F0 (Praat) and RMS energy of the conversions against the neutral-prototype decoding of the "
                        "same source (all Griffin-Lim).",
        "prosody_map.png": "Prosody codes of every utterance in 2-D (PCA), coloured by emotion; hollow markers are "
                           "the held-out voices.",
        "training_curves.png": "Training loss per epoch of the model with z per seed.",
        **{f"evc_{i}_{kind}.wav": f"Held-out voice {i + 1}: {label}" for i in range(2) for kind, label in (
            ("source", "the espeak-ng source (neutral)"), ("reconstruction", "reconstruction from its own z"),
            ("neutral", "decoded with the neutral prototype"), ("happy", "converted to happy"),
            ("sad", "converted to sad"), ("angry", "converted to angry"))},
    },
))
