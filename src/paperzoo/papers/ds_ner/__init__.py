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

import lazy_loader as lazy

# Lazy: `paperzoo list` imports the experiment module, which must not pull in torch.
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "corpus": ["NERCorpus", "Split", "label_quality", "load_wnut16_tweets", "synthetic_corpus", "tokenize"],
    "distill": ["adaptive_kd_weights", "cosine_momentum", "distill_kl", "ema_", "fine_grained_ema_", "soft_frequency"],
    "gazetteer": ["Gazetteer"],
    "self_training": ["ATSEN", "BOND", "SCDL", "History", "StageOne", "stage_one", "train_distant"],
    "tagger": ["Entity", "NERTagger", "TaggerConfig", "evaluate"],
})
