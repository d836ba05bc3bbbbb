"""Prosody2Vec (Qu et al., TASLP 2024, arXiv 2212.06972): unsupervised prosody codes from speech
reconstruction with content units, a pretrained speaker embedding and a narrow prosody encoder.

Example:
    >>> from paperzoo.papers.prosody2vec import synth_emotional_corpus, UnitEncoder   # doctest: +SKIP
    >>> corpus = synth_emotional_corpus(n_voices=6, n_sentences=16, intensity=0.6, seed=0)  # doctest: +SKIP
"""

# Lazy: listing papers (`paperzoo list`) must not import torch.
import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "conversion": ["Conversion", "convert_emotion", "griffin_lim"],
    "corpus": ["BASIC_EMOTIONS", "EMOTIONS", "VOICES", "Corpus", "Utterance", "Utterances", "read_wav",
              "synth_emotional_corpus"],
    "model": ["Prosody2Vec", "TrainResult", "length_regulate", "mel_l1", "prototypes", "reconstruct",
             "train_prosody2vec"],
    "probe": ["ProbeResult", "probe"],
    "speaker": ["SpeakerEncoder"],
    "units": ["UnitEncoder", "dedup", "ned"],
})
