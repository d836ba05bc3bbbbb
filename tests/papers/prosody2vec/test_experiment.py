import json

import numpy as np
import pytest

from paperzoo.core.context import RunContext
from paperzoo.core.records import jsonable
from paperzoo.core.registry import get
from paperzoo.papers.prosody2vec import experiment
from paperzoo.papers.prosody2vec.calibrate import choose


def _verdict(claim_id, metrics):
    claim = next(c for c in get("prosody2vec").claims if c.id == claim_id)
    return claim.evaluate(jsonable(metrics))


def _cell(value):
    return {"mean": value, "std": 0.0, "per_seed": [value]}


def _base(**probe):
    cells = {"units": {"emotion": 0.35, "speaker": 0.8, "sentence": 0.5},
             "z": {"emotion": 0.9, "speaker": 0.3, "sentence": 0.1},
             "speaker": {"emotion": 0.8, "speaker": 0.95, "sentence": 0.3},
             "speaker_enrolled": {"emotion": 0.25, "speaker": 1.0, "sentence": 0.06},
             "mfcc": {"emotion": 0.8}, "mfcc_z": {"emotion": 0.9}}
    for key, value in probe.items():
        stream, task = key.split("__")
        cells[stream][task] = value
    return {"probe": {s: {t: _cell(v) for t, v in tasks.items()} for s, tasks in cells.items()},
            "chance": {"emotion": 0.25, "speaker": 1 / 6, "sentence": 1 / 16},
            "mel_l1": {"z": [0.40, 0.41], "none": [0.45, 0.46]}, "mel_l1_gain": [0.11, 0.1],
            "ser_gain": _cell(0.1), "full_studies": False, "evc": _evc()}


def _evc(moved=(3, 2, 1), accuracy=0.6, ned=0.5, reference=0.45, speaker_id=0.9):
    targets = {t: {"n_moved": n, "delta": {"logf0_mean": 0.1, "logE_mean": 0.1, "duration": -0.1},
                   "real_delta": {"logf0_mean": 0.1, "logE_mean": 0.1, "duration": -0.1}}
               for t, n in zip(("happy", "sad", "angry"), moved, strict=True)}
    return {"targets": targets, "target_accuracy": accuracy, "ned_converted": ned, "ned_reference": reference,
            "speaker_id": speaker_id, "speaker_id_neutral_prototype": 0.9}


@pytest.mark.parametrize("z, units, enrolled, held", [(0.7, 0.45, 0.25, True), (0.69, 0.3, 0.25, False),
                                                      (0.8, 0.56, 0.25, False), (0.8, 0.3, 0.56, False),
                                                      (0.8, 0.55, 0.25, True)])
def test_prosody_carries_emotion_boundaries(z, units, enrolled, held):
    m = _base(z__emotion=z, units__emotion=units, speaker_enrolled__emotion=enrolled)
    assert _verdict("prosody-carries-emotion", m).passed is held


@pytest.mark.parametrize("change, held", [({}, True), ({"units__emotion": 0.46}, False),
                                          ({"units__sentence": 3 / 16 - 0.001, "z__sentence": 0.05}, False),
                                          ({"units__sentence": 3 / 16, "z__sentence": 3 / 32}, True),
                                          ({"z__sentence": 0.26}, False), ({"z__speaker": 0.51}, False),
                                          ({"speaker__speaker": 0.79}, False)])
def test_streams_disentangled_boundaries(change, held):
    result = _verdict("streams-disentangled", _base(**change))
    assert result.passed is held
    assert "utterance speaker embedding emotion UA" in result.detail


def test_streams_disentangled_names_the_failed_check():
    result = _verdict("streams-disentangled", _base(z__speaker=0.7))
    assert result.detail.startswith("fails: z speaker 0.70")


@pytest.mark.parametrize("gains, held", [([0.05, 0.2], True), ([0.049, 0.2], False), ([], False)])
def test_reconstruction_needs_prosody_every_seed(gains, held):
    m = _base()
    m["mel_l1_gain"] = gains
    assert _verdict("reconstruction-needs-prosody", m).passed is held


@pytest.mark.parametrize("gain, base, held, ceiling", [(0.05, 0.8, True, False), (0.049, 0.8, False, False),
                                                       (0.06, 0.93, True, True)])
def test_ser_complementary_gain_and_ceiling_flag(gain, base, held, ceiling):
    m = _base(mfcc__emotion=base)
    m["ser_gain"] = _cell(gain)
    result = _verdict("ser-complementary", m)
    assert result.passed is held and ("ceiling" in result.detail) is ceiling


def test_bottleneck_not_run_at_quick_and_checked_at_full():
    assert _verdict("bottleneck-matters", _base()).status == "not run"
    m = _base()
    m["full_studies"] = True
    m["bottleneck"] = {"16": {"sentence": _cell(0.2)}, "256": {"sentence": _cell(0.3)}}
    assert _verdict("bottleneck-matters", m).passed
    m["bottleneck"]["256"]["sentence"] = _cell(0.299)
    assert not _verdict("bottleneck-matters", m).passed


@pytest.mark.parametrize("moved, accuracy, held", [((2, 2, 0), 0.5, True), ((3, 1, 1), 0.9, False),
                                                   ((3, 3, 3), 0.49, False)])
def test_evc_moves_prosody_boundaries(moved, accuracy, held):
    m = _base()
    m["evc"] = _evc(moved=moved, accuracy=accuracy)
    assert _verdict("evc-moves-prosody", m).passed is held


@pytest.mark.parametrize("ned, speaker_id, held", [(0.55, 0.7, True), (0.56, 0.9, False), (0.3, 0.69, False)])
def test_evc_keeps_content_speaker_boundaries(ned, speaker_id, held):
    m = _base()
    m["evc"] = _evc(ned=ned, reference=0.45, speaker_id=speaker_id)
    assert _verdict("evc-keeps-content-speaker", m).passed is held


def test_missing_metric_fails_as_not_measured():
    assert "not measured" in _verdict("evc-moves-prosody", {"probe": {}}).detail


def test_calibration_rule_and_record():
    assert choose({0.3: 0.45, 0.6: 0.61, 0.8: 0.7, 1.0: 0.9}) == 0.8
    assert choose({0.3: 0.4, 0.6: 0.55}) == 0.6
    cal = experiment.calibration()
    assert cal["intensity"] == choose({float(k): v for k, v in cal["table"].items()})


def test_run_tiny_end_to_end(tmp_path):
    config = dict(experiment.PRESETS["tiny"])
    metrics = jsonable(experiment.run(config, [0], RunContext(tmp_path)))
    json.dumps(metrics)
    assert metrics["epochs_reached"] == {"z": [1], "none": [1]}
    assert set(metrics["probe"]["z"]) == {"emotion", "speaker", "sentence"}
    assert len(metrics["mel_l1_gain"]) == 1 and np.isfinite(metrics["mel_l1_gain"][0])
    assert metrics["evc"]["keeps_tokens"] is True
    assert set(metrics["evc"]["targets"]) == {"happy", "sad", "angry"}
    for name in ("probe_matrix.png", "mel_conversions.png", "contours.png", "prosody_map.png", "evc_0_source.wav",
                 "evc_0_angry.wav", "evc_0_reconstruction.wav"):
        assert (tmp_path / name).stat().st_size > 0
    paper = get("prosody2vec")
    for claim in paper.claims:
        assert claim.evaluate(metrics).detail  # every claim is computed from the tiny run's metrics
    declared = set(paper.captions)
    assert {p.name for p in tmp_path.iterdir()} <= declared
