"""prosody2vec speed: feature extraction for the whole quick corpus (384 utterances: log-mel, MFCC, Praat F0,
energy, the 8 prosody statistics) must take <= 20 s on an idle 2-core machine; also times Resemblyzer's
batched embeddings against `embed_utterance` one by one on the same utterances (same output).

Medians over 3 repeats; the host load is printed with the result (timings on a shared host are slower).
Run: .venv/bin/python benchmarks/bench_prosody2vec.py
"""

import os
import statistics
import sys
import time

import numpy as np

from paperzoo.data.datasets import cache_dir
from paperzoo.papers.prosody2vec import experiment, synth_emotional_corpus
from paperzoo.papers.prosody2vec.corpus import Utterance, Utterances
from paperzoo.papers.prosody2vec.features import utterance_features
from paperzoo.papers.prosody2vec.speaker import embed, voice_encoder

TARGET_S = 20.0


def main() -> int:
    config = experiment.PRESETS["quick"]
    corpus = synth_emotional_corpus(config["n_voices"], config["n_sentences"], experiment.calibration()["intensity"],
                                    config["data_seed"], cache_dir=cache_dir() / "prosody2vec-wavs")
    times = []
    for _ in range(3):
        fresh = Utterances([Utterance(u.wav, u.speaker, u.emotion, u.sentence) for u in corpus.utterances])
        start = time.perf_counter()
        for u in fresh:
            utterance_features(u)
        times.append(time.perf_counter() - start)
    features_s = statistics.median(times)
    wavs = [u.wav for u in corpus.utterances[:48]]
    from resemblyzer import preprocess_wav

    voice_encoder()
    start = time.perf_counter()
    single = np.stack([voice_encoder().embed_utterance(preprocess_wav(w)) for w in wavs])
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    batched = embed(wavs)
    batched_s = time.perf_counter() - start
    load = os.getloadavg()
    print(f"features for {len(corpus.utterances)} utterances: median {features_s:.1f} s (target <= {TARGET_S:g} s); "
          f"Resemblyzer 48 utterances: one by one {single_s:.2f} s, batched {batched_s:.2f} s, min cosine "
          f"{np.min(np.sum(single * batched, 1)):.6f}; host load {load[0]:.1f}")
    return 0 if features_s <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
