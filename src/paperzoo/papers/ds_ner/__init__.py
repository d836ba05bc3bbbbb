"""ds-ner: distantly supervised NER — gazetteer labels, BOND and SCDL baselines, and ATSEN (Qu et al.,
AAAI 2023: adaptive teacher learning + fine-grained student ensemble), on all-MiniLM-L6-v2.

Example:
    >>> from paperzoo.papers.ds_ner import synthetic_corpus, Gazetteer, TaggerConfig, ATSEN, evaluate
    >>> corpus = synthetic_corpus(1200, 200, 400, seed=0)
    >>> gaz = Gazetteer.from_pools(corpus.pools, coverage={"PER": .6, "LOC": .85, "ORG": .55, "MISC": .5}, seed=0)
    >>> corpus = corpus.with_distant_labels(gaz)
    >>> model = ATSEN(TaggerConfig(layers=3, frozen_layers=2), seed=0)
    >>> history = model.fit(corpus, stage1_steps=100, stage2_steps=100)  # doctest: +SKIP
    >>> evaluate(model.best_tagger, corpus.test)                         # doctest: +SKIP
"""

from .corpus import NERCorpus, Split, label_quality, load_wnut16_tweets, synthetic_corpus, tokenize
from .distill import adaptive_kd_weights, cosine_momentum, distill_kl, ema_, fine_grained_ema_, soft_frequency
from .gazetteer import Gazetteer
from .self_training import ATSEN, BOND, SCDL, History, StageOne, stage_one, train_distant
from .tagger import Entity, NERTagger, TaggerConfig, evaluate

__all__ = ["ATSEN", "BOND", "SCDL", "Entity", "Gazetteer", "History", "NERCorpus", "NERTagger", "Split", "StageOne",
           "TaggerConfig", "adaptive_kd_weights", "cosine_momentum", "distill_kl", "ema_", "evaluate",
           "fine_grained_ema_", "label_quality", "load_wnut16_tweets", "soft_frequency", "stage_one",
           "synthetic_corpus", "tokenize", "train_distant"]
