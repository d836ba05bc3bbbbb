"""Calibrate the corpus' emotion `intensity` once, by the spec's rule, and record it in calibration.json.

Rule (fixed before any claim was computed): on the quick corpus (6 voices × 4 emotions × 16 sentences,
data seed 0), the 8-stat prosody baseline's emotion UA with the 2 held-out voices as the test folds
must lie in [0.6, 0.85] (emotion clearly present, below the ceiling that speaker-normalised stats reach
at full intensity); of the grid values inside that band we take the one whose UA is nearest its centre.

Run: `python -m paperzoo.papers.prosody2vec.calibrate` (a minute or two; WAVs are cached).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

GRID = (0.3, 0.45, 0.6, 0.8, 1.0)
BAND = (0.6, 0.85)


def choose(table: dict[float, float], band: tuple[float, float] = BAND) -> float:
    """The intensity whose UA lies in `band` nearest its centre (nearest the band when none lies in it)."""
    if not table:
        raise ValueError("table: no calibration points")
    centre = sum(band) / 2

    def distance(item: tuple[float, float]) -> tuple[float, float]:
        ua = item[1]
        outside = max(band[0] - ua, ua - band[1], 0.0)
        return (outside, abs(ua - centre))

    return min(table.items(), key=distance)[0]


def calibrate_intensity(grid: Sequence[float] = GRID, n_voices: int = 6, n_sentences: int = 16, seed: int = 0,
                        n_test_voices: int = 2) -> dict[str, Any]:
    from paperzoo.data.datasets import cache_dir

    from .corpus import synth_emotional_corpus
    from .features import stats_matrix
    from .probe import probe

    table = {}
    for intensity in grid:
        corpus = synth_emotional_corpus(n_voices, n_sentences, intensity, seed, n_test_voices=n_test_voices,
                                        cache_dir=cache_dir() / "prosody2vec-wavs")
        utts = corpus.utterances
        held = np.isin(utts.speaker, corpus.test_voices)
        table[float(intensity)] = probe(stats_matrix(utts), utts.emotion, utts.speaker, test_mask=held).ua
    return {"intensity": choose(table), "band": list(BAND), "rule": "8-stat emotion UA on held-out voices in the "
            "band, nearest its centre", "table": {f"{k:g}": round(v, 4) for k, v in table.items()},
            "corpus": {"n_voices": n_voices, "n_sentences": n_sentences, "seed": seed, "n_test_voices": n_test_voices}}


def main() -> None:
    from .experiment import CALIBRATION_FILE

    result = calibrate_intensity()
    CALIBRATION_FILE.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
