import dataclasses

import pytest
import torch
from transformers import BertConfig

from paperzoo.papers.fedpetuning import (
    BottleneckAdapter,
    PETConfig,
    build_model,
    load_trainable_state_dict,
    trainable_state_dict,
)
from paperzoo.papers.fedpetuning.pet import PrefixSelfAttention, mean_pool
from paperzoo.papers.fedpetuning.training import train_local

H, L, K = 32, 2, 4
HEAD = (H * H + H) + (H * K + K)  # dense + out_proj


def tiny(**kw):
    return BertConfig(vocab_size=100, hidden_size=H, num_hidden_layers=L, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=64, **kw)


def n_trainable(model):
    return sum(t.numel() for t in trainable_state_dict(model).values())


def batch():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 100, (3, 12), generator=g)
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    return ids, mask


@pytest.mark.parametrize(("cfg", "expected"), [
    (PETConfig("lora", rank=4), L * 2 * 2 * H * 4 + HEAD),
    (PETConfig("adapter", bottleneck=8), L * 2 * (2 * H * 8 + 8 + H) + HEAD),
    (PETConfig("prefix", prefix_tokens=5), 5 * 2 * L * H + HEAD),
    (PETConfig("prefix", prefix_tokens=5, prefix_projection=True),
     5 * H + (H * 512 + 512) + (512 * 2 * L * H + 2 * L * H) + HEAD),
    (PETConfig("head"), HEAD),
    (PETConfig("head", head="linear"), H * K + K),
    (PETConfig("lora", rank=4, head="linear"), L * 2 * 2 * H * 4 + H * K + K),
])
def test_trainable_counts_follow_formulas(cfg, expected):
    assert n_trainable(build_model(cfg, K, bert_config=tiny())) == expected


def test_bitfit_trains_every_bias_and_the_head_only():
    model = build_model(PETConfig("bitfit"), K, bert_config=tiny())
    names = set(trainable_state_dict(model))
    biases = {n for n, _ in model.named_parameters() if n.endswith(".bias") and n.startswith("bert.")}
    head = {f"classifier.{m}.{p}" for m in ("dense", "out_proj") for p in ("weight", "bias")}
    assert names == biases | head
    assert any("LayerNorm.bias" in n for n in names)


def test_the_head_is_trained_and_sent_by_every_method():
    for method in ("lora", "adapter", "prefix", "bitfit", "head"):
        names = set(trainable_state_dict(build_model(PETConfig(method), K, bert_config=tiny())))
        assert sum("classifier" in n for n in names) == 4, method
        assert not any("pooler" in n for n in names), method
    full = build_model(PETConfig("full"), K, bert_config=tiny())
    assert n_trainable(full) == sum(p.numel() for p in full.parameters())
    assert not any("pooler" in n for n, _ in full.named_parameters())  # unused by mean pooling: not sent


def test_minilm_counts_match_readme_table():
    expected = {"full": 22_714_756, "lora": 223_108, "bitfit": 175_108, "prefix": 223_108, "adapter": 301_636,
                "head": 149_380}
    for method, count in expected.items():
        assert n_trainable(build_model(PETConfig(method), 4)) == count, method
    assert n_trainable(build_model(PETConfig("lora", head="linear"), 4)) == 75_268


def test_mean_pooling_head_matches_hand_computation():
    ids, mask = batch()
    model = build_model(PETConfig("head"), K, bert_config=tiny(), seed=2).eval()
    hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    pooled = torch.stack([hidden[i, : int(mask[i].sum())].mean(0) for i in range(3)])  # real tokens only
    head = model.classifier
    expected = torch.tanh(pooled @ head.dense.weight.T + head.dense.bias) @ head.out_proj.weight.T + head.out_proj.bias
    torch.testing.assert_close(model(input_ids=ids, attention_mask=mask).logits, expected)
    torch.testing.assert_close(mean_pool(hidden, mask), pooled)
    # padding never reaches the prediction
    ids2 = ids.clone()
    ids2[2, 3:] = 7
    torch.testing.assert_close(model(input_ids=ids2, attention_mask=mask).logits[2], expected[2])
    with pytest.raises(ValueError, match="attention_mask"):
        mean_pool(hidden, mask[:, :5])


def test_build_model_leaves_the_global_rng_alone_and_seeds_its_own_parts():
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = build_model(PETConfig("lora", rank=2), K, bert_config=tiny(), seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = build_model(PETConfig("lora", rank=2), K, bert_config=tiny(), seed=4)
    c = build_model(PETConfig("lora", rank=2), K, bert_config=tiny(), seed=5)
    sa, sb, sc = (trainable_state_dict(m) for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_train_local_draws_dropout_from_its_seed():
    from paperzoo.papers.fedpetuning.textdata import Encoded

    ids, mask = batch()
    data = Encoded(ids, mask, torch.tensor([0, 1, 2]))

    def update(seed, global_seed):
        model = build_model(PETConfig("head"), K, bert_config=tiny(hidden_dropout_prob=0.5), seed=0)
        torch.manual_seed(global_seed)
        train_local(model, data, lr=1e-2, batch_size=3, seed=seed)
        return model.classifier.out_proj.weight.detach().clone()

    torch.testing.assert_close(update(1, global_seed=0), update(1, global_seed=99))  # the global RNG plays no part
    assert not torch.allclose(update(1, 0), update(2, 0))  # another client/round: other dropout masks


def test_state_round_trip_reproduces_outputs():
    ids, mask = batch()
    for method in ("lora", "adapter", "prefix", "bitfit"):
        a = build_model(PETConfig(method), K, bert_config=tiny(), seed=1)
        b = build_model(PETConfig(method), K, bert_config=tiny(), seed=1)
        with torch.no_grad():  # move a's trainable tensors away from b's
            for p in a.parameters():
                if p.requires_grad:
                    p.add_(torch.randn_like(p) * 0.1)
        a.eval(), b.eval()
        assert not torch.allclose(a(input_ids=ids, attention_mask=mask).logits,
                                  b(input_ids=ids, attention_mask=mask).logits)
        state = {k: v.numpy().copy() for k, v in trainable_state_dict(a).items()}
        load_trainable_state_dict(b, state)
        torch.testing.assert_close(a(input_ids=ids, attention_mask=mask).logits,
                                   b(input_ids=ids, attention_mask=mask).logits)


def test_load_rejects_mismatched_state():
    model = build_model(PETConfig("lora"), K, bert_config=tiny())
    state = dict(trainable_state_dict(model))
    state.pop(next(iter(state)))
    with pytest.raises(ValueError, match="missing"):
        load_trainable_state_dict(model, state)


def test_adapters_start_as_identity():
    ids, mask = batch()
    base = build_model(PETConfig("bitfit"), K, bert_config=tiny(), seed=3).eval()
    adapted = build_model(PETConfig("adapter"), K, bert_config=tiny(), seed=3).eval()
    torch.testing.assert_close(base(input_ids=ids, attention_mask=mask).logits,
                               adapted(input_ids=ids, attention_mask=mask).logits)
    assert len([m for m in adapted.modules() if isinstance(m, BottleneckAdapter)]) == 2 * L


@pytest.mark.parametrize("impl", ["eager", "sdpa"])
def test_prefix_attention_matches_manual_computation(impl):
    torch.manual_seed(0)
    model = build_model(PETConfig("prefix", prefix_tokens=3), K, bert_config=tiny(attn_implementation=impl)).eval()
    layer = model.bert.encoder.layer[1]
    wrapped = layer.attention.self
    assert isinstance(wrapped, PrefixSelfAttention)
    att = wrapped.attention
    x = torch.randn(2, 6, H)
    keep = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], dtype=torch.bool)
    captured = {}
    hook = wrapped.register_forward_hook(lambda m, i, o: captured.setdefault("out", o[0]))
    ids, _ = batch()
    model(input_ids=ids[:2, :6], attention_mask=keep.long())
    hook.remove()
    assert captured["out"].shape == (2, 6, H)
    # Manual: per head, softmax(q [Pk; K]^T / sqrt(d) + mask) [Pv; V] with the prefix always visible.
    mask4 = keep[:, None, None, :]
    out = wrapped(x, attention_mask=mask4 if impl == "sdpa" else (~mask4).float() * -1e9)[0]
    pk, pv = model.prefix_encoder()[1]
    heads, d = att.num_attention_heads, att.attention_head_size
    q = att.query(x).view(2, 6, heads, d).transpose(1, 2)
    k = torch.cat([pk.expand(2, -1, -1), att.key(x)], 1).view(2, 9, heads, d).transpose(1, 2)
    v = torch.cat([pv.expand(2, -1, -1), att.value(x)], 1).view(2, 9, heads, d).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / d ** 0.5
    visible = torch.cat([torch.ones(2, 3, dtype=torch.bool), keep], 1)[:, None, None, :]
    probs = scores.masked_fill(~visible, float("-inf")).softmax(-1)
    expected = (probs @ v).transpose(1, 2).reshape(2, 6, H)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)
    # The prefix changes the output, and masked positions never leak in.
    x2 = x.clone()
    x2[1, 4:] += 5.0
    out2 = wrapped(x2, attention_mask=mask4 if impl == "sdpa" else (~mask4).float() * -1e9)[0]
    torch.testing.assert_close(out2[1, :4], out[1, :4])


def test_prefix_gradients_reach_the_prefixes_only():
    ids, mask = batch()
    model = build_model(PETConfig("prefix", prefix_tokens=4), K, bert_config=tiny())
    model(input_ids=ids, attention_mask=mask).logits.sum().backward()
    assert model.prefix_encoder.prefix.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)


def test_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        PETConfig("ia3")
    with pytest.raises(ValueError, match="head"):
        PETConfig("lora", head="pooler")
    with pytest.raises(ValueError, match="rank"):
        PETConfig("lora", rank=0)
    with pytest.raises(ValueError, match="bottleneck"):
        dataclasses.replace(PETConfig("adapter"), bottleneck=-1)
    with pytest.raises(TypeError, match="PETConfig"):
        build_model({"method": "lora"}, K, bert_config=tiny())
    with pytest.raises(ValueError, match="num_labels"):
        build_model(PETConfig("lora"), 1, bert_config=tiny())


def test_train_pooler_is_the_specs_switch_for_the_head():
    assert PETConfig("lora", train_pooler=True).head == "dense"
    assert PETConfig("lora", train_pooler=False) == PETConfig("lora", head="linear")
    assert "train_pooler" not in PETConfig("lora", train_pooler=False).to_dict()
    with pytest.raises(TypeError, match="train_pooler"):
        PETConfig("lora", train_pooler="yes")
