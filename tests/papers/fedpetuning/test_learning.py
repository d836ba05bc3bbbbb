"""Every method learns a separable toy task in a few steps on the real (2-layer) MiniLM encoder.

This is what a near-constant sentence vector fails: BertForSequenceClassification's classifier on the
pooled [CLS] of the same 2 layers, trained alone with the same 8 steps, stays at 0.5 (measured).
"""

import numpy as np
import pytest
import torch

from paperzoo.data.minilm import minilm_tokenizer
from paperzoo.papers.fedpetuning import QUICK_LR, PETConfig, build_model
from paperzoo.papers.fedpetuning.textdata import Encoded
from paperzoo.papers.fedpetuning.training import evaluate, train_local

TOPICS = {0: ["the striker scored a late goal", "the team won the cup final", "fans cheered the match winner",
              "the coach praised his players"],
          1: ["shares fell on the stock market", "the bank raised interest rates", "profits rose for the firm",
              "investors sold their bonds"]}


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for label, phrases in TOPICS.items():
        for _ in range(16):
            a, b = rng.choice(len(phrases), 2, replace=False)
            texts.append(f"{phrases[a]} and {phrases[b]}")
            labels.append(label)
    enc = minilm_tokenizer()(texts, truncation=True, max_length=16, padding="max_length", return_tensors="pt")
    return Encoded(enc["input_ids"], enc["attention_mask"], torch.tensor(labels))


@pytest.mark.parametrize("method", ["full", "lora", "adapter", "prefix", "bitfit", "head"])
def test_each_method_learns_a_separable_toy_task_in_a_few_steps(toy, method):
    torch.set_num_threads(1)
    model = build_model(PETConfig(method), 2, num_layers=2, seed=0)
    before, _ = evaluate(model, toy)
    train_local(model, toy, lr=QUICK_LR[method], epochs=2, batch_size=8, seed=0)  # 8 steps
    after, _ = evaluate(model, toy)
    assert before <= 0.75 and after >= 0.9, (method, before, after)
