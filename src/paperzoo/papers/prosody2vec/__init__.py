"""Prosody2Vec (Qu et al., TASLP 2024, arXiv 2212.06972): unsupervised prosody codes from speech
reconstruction with content units, a pretrained speaker embedding and a narrow prosody encoder.

Example:
    >>> from paperzoo.papers.prosody2vec import synth_emotional_corpus, UnitEncoder   # doctest: +SKIP
    >>> corpus = synth_emotional_corpus(n_voices=6, n_sentences=16, intensity=0.6, seed=0)  # doctest: +SKIP
"""

from .conversion import Conversion, convert_emotion, griffin_lim
from .corpus import BASIC_EMOTIONS, EMOTIONS, VOICES, Corpus, Utterance, Utterances, read_wav, synth_emotional_corpus
from .model import Prosody2Vec, TrainResult, length_regulate, mel_l1, prototypes, reconstruct, train_prosody2vec
from .probe import ProbeResult, probe
from .speaker import SpeakerEncoder
from .units import UnitEncoder, dedup, ned

__all__ = ["BASIC_EMOTIONS", "EMOTIONS", "VOICES", "Conversion", "Corpus", "ProbeResult", "Prosody2Vec",
           "SpeakerEncoder", "TrainResult", "UnitEncoder", "Utterance", "Utterances", "convert_emotion", "dedup",
           "griffin_lim", "length_regulate", "mel_l1", "ned", "probe", "prototypes", "read_wav", "reconstruct",
           "synth_emotional_corpus", "train_prosody2vec"]
