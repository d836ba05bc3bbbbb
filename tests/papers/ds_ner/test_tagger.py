import copy

import pytest
import torch
from transformers import BertConfig

from paperzoo.papers.ds_ner import (
    ATSEN,
    BOND,
    SCDL,
    NERTagger,
    TaggerConfig,
    evaluate,
    stage_one,
    synthetic_corpus,
    train_distant,
)
from paperzoo.papers.ds_ner.experiment import build_corpus

CFG = TaggerConfig(layers=2, frozen_layers=1, max_len=32, batch_size=8)


def _bert(labels=9):
    return BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, num_labels=labels)


@pytest.fixture(scope="module")
def corpus():
    return build_corpus({"name": "synner", "sizes": [40, 12, 12]}, 0)[0]


def test_minilm_first_subtoken_alignment_round_trip():
    tagger = NERTagger(("O", "B-PER", "I-PER"), TaggerConfig(layers=1, frozen_layers=0, max_len=32), seed=0)
    sentences = [["Wahab", "Bhattacharyya", "flew", "to", "Port", "Gabriellafort", "."], ["Hi"]]
    encoded = tagger.encode(sentences)
    tok = tagger.prefix.tokenizer
    for words, first in zip(sentences, encoded.first, strict=True):
        ids = tok(words, is_split_into_words=True)["input_ids"]
        pieces = tok.convert_ids_to_tokens(ids)
        assert len(first) == len(words)
        # Each word's first sub-token starts that word (uncased), the rest are ## continuations.
        for word, position in zip(words, first.tolist(), strict=True):
            assert word.lower().startswith(pieces[position].lstrip("#"))
    assert encoded.n_words == [7, 1]
    # Truncation keeps a prefix of the words; the rest is tagged O.
    long = [["word"] * 40]
    assert len(tagger.encode(long).first[0]) < 40 and len(tagger.predict_tags(long)[0]) == 40
    assert tagger.encode(sentences) is encoded  # cached per sentence set


def test_predict_returns_readable_spans():
    tagger = NERTagger(("O", "B-PER", "I-PER", "B-LOC", "I-LOC"), CFG, seed=0, bert_config=_bert(5))
    with torch.no_grad():
        tagger.classifier.weight.zero_()
        tagger.classifier.bias.copy_(torch.tensor([0.0, 0.0, 5.0, 0.0, 0.0]))  # every word I-PER
    (spans,) = tagger.predict(["Alice flew to Paris"])
    assert len(spans) == 1 and spans[0].type == "PER" and spans[0].text == "Alice flew to Paris"
    assert (spans[0].start, spans[0].end) == (0, 19)
    with pytest.raises(TypeError, match="sentences"):
        tagger.predict("Alice flew to Paris")


def test_tagger_copies_share_the_prefix_and_bad_input(corpus):
    tagger = NERTagger(corpus.labels, CFG, seed=0, bert_config=_bert())
    twin = copy.deepcopy(tagger)
    assert twin.prefix is tagger.prefix and twin.classifier.weight is not tagger.classifier.weight
    assert all(not p.requires_grad for p in tagger.prefix.embeddings.parameters())
    with pytest.raises(ValueError, match="tags"):
        tagger.label_ids([["B-FOO"]], tagger.encode([["x"]]))
    with pytest.raises(ValueError, match="split"):
        evaluate(tagger, corpus.test.__class__.of([], []))
    with pytest.raises(ValueError, match="labels"):
        NERTagger(("B-PER", "O"), CFG, bert_config=_bert())
    with pytest.raises(ValueError, match="frozen_layers"):
        TaggerConfig(layers=2, frozen_layers=2)


def test_train_distant_keeps_best_dev_and_validates(corpus):
    tagger = NERTagger(corpus.labels, CFG, seed=0, bert_config=_bert())
    history = train_distant(tagger, corpus, steps=4, eval_every=2)
    assert [e["step"] for e in history.evals] == [2, 4]
    assert history.best["selected_on"] == "dev"
    assert history.best["dev_f1"] == max(e["dev_f1"]["student"] for e in history.evals)
    with pytest.raises(ValueError, match="steps"):
        train_distant(tagger, corpus, steps=0)
    with pytest.raises(ValueError, match="o_drop"):
        train_distant(tagger, corpus, steps=1, o_drop=1.0)


def _fit(corpus, method, seed=0):
    stage1 = stage_one(corpus, CFG, seed, steps=3, networks=2, eval_every=3, bert_config=_bert())
    model = method(CFG, seed, period=2, eval_every=5)
    history = model.fit(corpus, stage2_steps=5, stage1=stage1)
    return model, history


def test_five_step_atsen_on_a_tiny_bert(corpus):
    model, history = _fit(corpus, ATSEN)
    assert model.best_tagger is not None and history.best["selected_on"] == "dev"
    assert history.best["model"] in {"student1", "student2", "teacher1", "teacher2"}
    assert len(history.losses) == 10  # 5 steps x 2 networks
    assert history.label_quality[0].get("distant") and history.label_quality[-1]["step"] == 5
    assert all(1 / 3 - 1e-6 <= w["w_own"] <= 2 / 3 + 1e-6 for w in history.weights)
    assert all(torch.isfinite(torch.tensor(history.losses)))
    assert min(history.losses) >= 0  # log-probabilities on both sides: no negative losses
    assert 0.0 <= evaluate(model.best_tagger, corpus.test)["f1"] <= 1.0


def test_same_seed_same_f1(corpus):
    a, _ = _fit(corpus, ATSEN, seed=1)
    b, _ = _fit(corpus, ATSEN, seed=1)
    assert evaluate(a.best_tagger, corpus.dev) == evaluate(b.best_tagger, corpus.dev)
    assert a.history.losses == b.history.losses


@pytest.mark.parametrize("method", [BOND, SCDL])
def test_baselines_run(corpus, method):
    model, history = _fit(corpus, method)
    assert history.evals and model.best_tagger is not None
    assert history.weights == []  # no distillation in the baselines


def test_method_bad_input(corpus):
    with pytest.raises(ValueError, match="period"):
        ATSEN(CFG, period=0)
    with pytest.raises(ValueError, match="kd_tokens"):
        ATSEN(CFG, kd_tokens="all")
    with pytest.raises(TypeError, match="corpus"):
        ATSEN(CFG).fit([])
    with pytest.raises(ValueError, match="stage2_steps"):
        ATSEN(CFG).fit(corpus, stage2_steps=0)
    with pytest.raises(ValueError, match="n_train"):
        synthetic_corpus(0, 0, 0)
