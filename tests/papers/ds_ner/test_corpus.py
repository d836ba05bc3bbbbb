import pytest

from paperzoo.papers.ds_ner import Gazetteer, NERCorpus, Split, load_wnut16_tweets, synthetic_corpus, tokenize
from paperzoo.papers.ds_ner.corpus import _EMPTY_TEMPLATES, _TEMPLATES, WNUT16_TYPES
from paperzoo.papers.ds_ner.experiment import SYNNER_COVERAGE, TWEET_GAZETTEER, build_corpus


@pytest.fixture(scope="module")
def synner():
    return synthetic_corpus(300, 100, 100, seed=0)


def _entities(split, kind):
    from seqeval.metrics.sequence_labeling import get_entities

    return {" ".join(w[s:e + 1]) for w, t in zip(split.tokens, split.tags, strict=True)
            for k, s, e in get_entities(list(t)) if k == kind}


def test_synner_is_seeded_and_pinned(synner):
    assert synthetic_corpus(300, 100, 100, seed=0).fingerprint() == synner.fingerprint()
    assert synthetic_corpus(300, 100, 100, seed=1).fingerprint() != synner.fingerprint()
    # faker pinned at 40.*: the seed-0 corpus is this one.
    assert synthetic_corpus(20, 5, 5, seed=0).fingerprint() == "666e05bb42b92754"


def test_synner_templates_and_entity_free_share(synner):
    assert len(_TEMPLATES) >= 40 - len(_EMPTY_TEMPLATES) and len(_TEMPLATES) + len(_EMPTY_TEMPLATES) >= 40
    empty = sum(all(t == "O" for t in tags) for tags in synner.train.tags) / len(synner.train)
    assert 0.12 < empty < 0.3


def test_train_uses_seen_entities_and_test_half_unseen(synner):
    for kind in synner.types:
        seen = {" ".join(tokenize(e)) for e in synner.pools[kind]["seen"]}
        unseen = {" ".join(tokenize(e)) for e in synner.pools[kind]["unseen"]}
        assert _entities(synner.train, kind) <= seen
        test = _entities(synner.test, kind)
        assert test & unseen and test & seen


def test_distant_quality_seed0_in_band():
    corpus, _ = build_corpus({"name": "synner", "sizes": [1200, 200, 400]}, 0)
    q = corpus.distant_quality()
    # Spec pilot: P 0.754, R 0.547 (seed 0); ours is measured 0.716 / 0.576.
    assert 0.66 < q["precision"] < 0.8 and 0.5 < q["recall"] < 0.65
    assert corpus.train_gold is not None and corpus.train.tokens == corpus.train_gold.tokens
    assert corpus.train.tags != corpus.train_gold.tags


def test_gazetteer_longest_case_sensitive_match():
    gaz = Gazetteer({("New",): "ORG", ("New", "York"): "LOC", ("New", "York", "Times"): "ORG", ("Will",): "PER"})
    assert gaz.match(["The", "New", "York", "Times", "said"]) == ["O", "B-ORG", "I-ORG", "I-ORG", "O"]
    assert gaz.match(["in", "New", "York", "."]) == ["O", "B-LOC", "I-LOC", "O"]
    assert gaz.match(["will", "Will", "new"]) == ["O", "B-PER", "O"]


def test_gazetteer_from_pools_noise():
    pools = {"PER": {"seen": [f"Ann Smith{i}" for i in range(1000)], "unseen": []},
             "LOC": {"seen": [f"Town{i}" for i in range(1000)], "unseen": []}}
    gaz = Gazetteer.from_pools(pools, {"PER": 0.5, "LOC": 1.0}, seed=0, wrong_type=0.1, surname_only=0.3,
                               false_positives={"May": "PER"})
    people = [k for k, v in gaz.entries.items() if k[0].startswith("Ann") or k[0].startswith("Smith")]
    assert 450 < len(people) + sum(1 for k, v in gaz.entries.items() if k[0].startswith("Town") and v == "PER") < 1650
    surnames = sum(len(k) == 1 and k[0].startswith("Smith") for k in gaz.entries)
    assert 100 < surnames < 200  # 30% of 500 persons
    wrong = sum(k[0].startswith("Town") and v == "PER" for k, v in gaz.entries.items())
    assert 60 < wrong < 140  # 10% of 1000 places
    assert gaz.entries[("May",)] == "PER"


@pytest.mark.parametrize("coverage, match", [({"FOO": 0.5}, "coverage"), ({"PER": 1.5}, "coverage"),
                                             ({"PER": -0.1}, "coverage")])
def test_gazetteer_bad_coverage(synner, coverage, match):
    with pytest.raises(ValueError, match=match):
        Gazetteer.from_pools(synner.pools, coverage)


def test_bad_corpus_input():
    with pytest.raises(ValueError, match="n_train"):
        synthetic_corpus(0, 1, 1)
    with pytest.raises(ValueError, match="tags"):
        Split.of([["a", "b"]], [["O"]])
    with pytest.raises(ValueError, match="tags"):
        Split.of([["a"], ["b"]], [["O"]])
    split = Split.of([["a"]], [["O"]])
    with pytest.raises(ValueError, match="train"):
        NERCorpus(Split.of([], []), split, split, ("PER",))
    with pytest.raises(ValueError, match="dev"):
        NERCorpus(split, Split.of([["a"]], [["B-FOO"]]), split, ("PER",))


def test_wnut16_tweets():
    corpus = load_wnut16_tweets(0)
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (1800, 200, 394)
    assert sum(len(s) for s in corpus.train.tokens + corpus.dev.tokens + corpus.test.tokens) == 46469
    assert corpus.types == WNUT16_TYPES
    assert load_wnut16_tweets(1).train.tokens != corpus.train.tokens
    assert load_wnut16_tweets(0).fingerprint() == corpus.fingerprint()


def test_tweet_gazetteer_calibrated_to_bond_twitter():
    corpus, _ = build_corpus({"name": "tweets", "sizes": [1800, 200, 394]}, 0)
    q = corpus.distant_quality()
    assert abs(q["precision"] - 0.469) < 0.06 and abs(q["recall"] - 0.316) < 0.04  # BOND Twitter distant labels
    assert TWEET_GAZETTEER["coverage"] == 0.5 and SYNNER_COVERAGE["LOC"] == 0.85
