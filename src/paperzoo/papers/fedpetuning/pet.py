"""Parameter-efficient tuning (PET) of a BERT classifier: full FT, LoRA, adapters, deep prefix, BitFit.

LoRA comes from `peft`. Adapters, BitFit and deep prefix tuning are written here: peft has no
bottleneck adapter or BitFit, and its `PrefixTuningConfig` fails on `BertForSequenceClassification`
with transformers 5.x ("Model does not support past key values ...").

Example:
    >>> cfg = PETConfig(method="lora", rank=8)
    >>> model = build_model(cfg, num_labels=4)           # all-MiniLM-L6-v2 + a new 4-way classifier
    >>> sum(t.numel() for t in trainable_state_dict(model).values())
    75268
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from paperzoo.data.minilm import load_minilm, minilm_path

METHODS = ("full", "lora", "adapter", "prefix", "bitfit")
HEAD_PREFIXES = ("classifier",)  # BertForSequenceClassification's head; the pooler is frozen by default


@dataclass(frozen=True)
class PETConfig:
    """Which PET method to train and its size.

    method: "full" | "lora" | "adapter" | "prefix" | "bitfit".
    rank: LoRA rank (lora_alpha = rank, on query and value). bottleneck: adapter width.
    prefix_tokens / prefix_projection: number of virtual key/value tokens per layer; with the projection
    the prefixes come from Embedding(n, h) -> Linear(h, 512) -> Tanh -> Linear(512, 2·L·h) (the paper's
    variant), otherwise they are learned directly (n·2·L·h parameters).
    train_pooler: train BERT's pooler with the classifier (mirrors RoBERTa's dense + out_proj head).
    """

    method: str = "full"
    rank: int = 8
    bottleneck: int = 16
    prefix_tokens: int = 16
    prefix_projection: bool = False
    train_pooler: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in ("rank", "bottleneck", "prefix_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------- adapters
class BottleneckAdapter(nn.Module):
    """x + up(gelu(down(x))); the up-projection starts at zero so the adapter starts as the identity.

    >>> a = BottleneckAdapter(32, 4); x = torch.randn(2, 5, 32)
    >>> bool(torch.equal(a(x), x))
    True
    """

    def __init__(self, hidden: int, bottleneck: int) -> None:
        super().__init__()
        if hidden < 1 or bottleneck < 1:
            raise ValueError(f"hidden and bottleneck must be >= 1, got hidden={hidden}, bottleneck={bottleneck}")
        self.down = nn.Linear(hidden, bottleneck)
        self.up = nn.Linear(bottleneck, hidden)
        self.act = nn.GELU(approximate="tanh")  # gelu_new, as in the reference
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(self.act(self.down(x)))


class AdaptedLinear(nn.Module):
    """A frozen linear layer followed by a trainable bottleneck adapter (before dropout/residual/LayerNorm)."""

    def __init__(self, linear: nn.Linear, bottleneck: int) -> None:
        super().__init__()
        self.linear = linear
        self.adapter = BottleneckAdapter(linear.out_features, bottleneck)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.linear(x))


def _bert(model: nn.Module) -> nn.Module:
    bert = getattr(model, "bert", None)
    if bert is None or not hasattr(bert, "encoder"):
        raise TypeError("expected a BertForSequenceClassification-like model with .bert.encoder, "
                        f"got {type(model).__name__}")
    return bert


def add_adapters(model: nn.Module, bottleneck: int) -> nn.Module:
    """Insert 2 adapters per layer, after `attention.output.dense` and `output.dense`; returns `model`.

    Only sets up the modules; `build_model` decides what is trainable.
    """
    if not isinstance(bottleneck, int) or bottleneck < 1:
        raise ValueError(f"bottleneck must be an int >= 1, got {bottleneck!r}")
    for layer in _bert(model).encoder.layer:
        layer.attention.output.dense = AdaptedLinear(layer.attention.output.dense, bottleneck)
        layer.output.dense = AdaptedLinear(layer.output.dense, bottleneck)
    return model


def apply_bitfit(model: nn.Module) -> nn.Module:
    """BitFit: train every encoder/embedding `*.bias` (LayerNorm biases included), freeze the rest.

    The head is unfrozen separately by `build_model`.
    """
    _bert(model)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("bert.") and not name.startswith("bert.pooler.") and name.endswith(".bias")
    return model


# ----------------------------------------------------------------------------------- deep prefix
class PrefixEncoder(nn.Module):
    """Per-layer key/value prefixes, shape (layers, 2, n, hidden).

    Without projection they are free parameters (n·2·L·h); with projection they come from a
    re-parameterisation MLP Embedding(n, h) -> Linear(h, width) -> Tanh -> Linear(width, 2·L·h).
    """

    def __init__(self, n_tokens: int, n_layers: int, hidden: int, projection: bool = False, width: int = 512) -> None:
        super().__init__()
        self.shape = (n_tokens, n_layers, 2, hidden)
        if projection:
            self.embedding = nn.Embedding(n_tokens, hidden)
            self.mlp = nn.Sequential(nn.Linear(hidden, width), nn.Tanh(), nn.Linear(width, 2 * n_layers * hidden))
        else:
            self.prefix = nn.Parameter(torch.randn(n_tokens, n_layers, 2, hidden) * 0.02)

    def forward(self) -> torch.Tensor:
        if hasattr(self, "prefix"):
            out = self.prefix
        else:
            out = self.mlp(self.embedding.weight).view(self.shape)
        return out.permute(1, 2, 0, 3)  # (layers, 2, n, hidden)


class PrefixSelfAttention(nn.Module):
    """BERT self-attention with learned key/value prefixes prepended (deep prefix tuning).

    softmax(q [P_k; K]^T / sqrt(d) + [0; mask]) [P_v; V]: the prefix positions are always attended.
    """

    def __init__(self, attention: nn.Module, layer_index: int, prefixes: Callable[[], torch.Tensor]) -> None:
        super().__init__()
        self.attention = attention
        self.layer_index = layer_index
        # A plain callable, not a submodule: the prefix encoder is registered once, on the model.
        self._prefixes = prefixes

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                cache: Any = None, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
        from transformers.models.bert.modeling_bert import eager_attention_forward

        att = self.attention
        batch, length = hidden_states.shape[:2]
        heads, d = att.num_attention_heads, att.attention_head_size
        shape = (batch, length, heads, d)
        q = att.query(hidden_states).view(shape).transpose(1, 2)
        k = att.key(hidden_states).view(shape).transpose(1, 2)
        v = att.value(hidden_states).view(shape).transpose(1, 2)
        pk, pv = self._prefixes()[self.layer_index]  # (n, hidden) each
        n = pk.shape[0]
        pk = pk.view(1, n, heads, d).transpose(1, 2).expand(batch, -1, -1, -1)
        pv = pv.view(1, n, heads, d).transpose(1, 2).expand(batch, -1, -1, -1)
        k, v = torch.cat([pk.to(k.dtype), k], dim=2), torch.cat([pv.to(v.dtype), v], dim=2)
        if attention_mask is not None:  # 4-D (batch, 1, q, k): bool "attend" or additive float
            pad = attention_mask.new_ones if attention_mask.dtype == torch.bool else attention_mask.new_zeros
            prefix_mask = pad((*attention_mask.shape[:-1], n))
            attention_mask = torch.cat([prefix_mask, attention_mask], dim=-1)
        interface = ALL_ATTENTION_FUNCTIONS.get_interface(att.config._attn_implementation, eager_attention_forward)
        out, weights = interface(att, q, k, v, attention_mask, dropout=att.dropout.p if self.training else 0.0,
                                 scaling=att.scaling, **kwargs)
        return out.reshape(batch, length, -1).contiguous(), weights


def add_prefix(model: nn.Module, n_tokens: int, projection: bool = False) -> nn.Module:
    """Attach a `prefix_encoder` to `model` and route every self-attention through its prefixes."""
    bert = _bert(model)
    cfg = bert.config
    model.prefix_encoder = PrefixEncoder(n_tokens, cfg.num_hidden_layers, cfg.hidden_size, projection)
    encoder = model.prefix_encoder
    for i, layer in enumerate(bert.encoder.layer):
        layer.attention.self = PrefixSelfAttention(layer.attention.self, i, encoder.__call__)
    return model


# ------------------------------------------------------------------------------------ the model
@lru_cache(maxsize=8)
def _pretrained(model_path: str, num_labels: int, num_layers: int | None, seed: int) -> nn.Module:
    """The frozen backbone + a seeded new classifier, loaded once per process (ClientApps are ephemeral)."""
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    return load_minilm(BertForSequenceClassification, model_path, num_layers, num_labels=num_labels,
                       attn_implementation="sdpa")


def build_model(config: PETConfig, num_labels: int, model_path: str | None = None, *,
                num_layers: int | None = None, bert_config: Any = None, seed: int = 0) -> nn.Module:
    """A BertForSequenceClassification with `config`'s PET method applied; only its tensors require grad.

    model_path: a local checkpoint (default all-MiniLM-L6-v2); num_layers keeps the first layers only.
    bert_config: a `transformers.BertConfig` to build a randomly initialised model instead (tests).
    seed: initialises the parts that are new (classifier, LoRA A, adapters, prefixes).
    """
    if not isinstance(config, PETConfig):
        raise TypeError(f"config must be a PETConfig, got {type(config).__name__}")
    if not isinstance(num_labels, int) or num_labels < 2:
        raise ValueError(f"num_labels must be an int >= 2, got {num_labels!r}")
    if num_layers is not None and (not isinstance(num_layers, int) or num_layers < 1):
        raise ValueError(f"num_layers must be None or an int >= 1, got {num_layers!r}")
    if bert_config is not None:
        from transformers import BertForSequenceClassification

        bert_config = copy.deepcopy(bert_config)
        bert_config.num_labels = num_labels
        torch.manual_seed(seed)
        model = BertForSequenceClassification(bert_config)
    else:
        model = copy.deepcopy(_pretrained(model_path or minilm_path(), num_labels, num_layers, seed))
    torch.manual_seed(seed + 1)
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        modules = ["pooler.dense"] if config.train_pooler else None
        model = get_peft_model(model, LoraConfig(r=config.rank, lora_alpha=config.rank, lora_dropout=0.0,
                                                 target_modules=["query", "value"], task_type="SEQ_CLS",
                                                 modules_to_save=modules))
        return model
    if config.method == "full":
        for p in model.parameters():
            p.requires_grad = True
        return model
    for p in model.parameters():
        p.requires_grad = False
    if config.method == "adapter":
        add_adapters(model, config.bottleneck)
        trainable = ("adapter.",)
    elif config.method == "prefix":
        add_prefix(model, config.prefix_tokens, config.prefix_projection)
        trainable = ("prefix_encoder.",)
    else:
        apply_bitfit(model)
        trainable = ()
    head = HEAD_PREFIXES + (("bert.pooler.",) if config.train_pooler else ())
    for name, p in model.named_parameters():
        if name.startswith(head) or any(t in name for t in trainable):
            p.requires_grad = True
    return model


def trainable_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors that require grad, by parameter name (detached; what a client sends)."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable_state_dict(model: nn.Module, state: Mapping[str, Any]) -> nn.Module:
    """Copy `state` (tensors or numpy arrays) into the trainable parameters; the key sets must match."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    missing, unexpected = set(params) - set(state), set(state) - set(params)
    if missing or unexpected:
        raise ValueError(f"state does not match the trainable parameters: missing {sorted(missing)[:3]}, "
                         f"unexpected {sorted(unexpected)[:3]} ({len(missing)} / {len(unexpected)})")
    with torch.no_grad():
        for name, p in params.items():
            value = torch.as_tensor(state[name])
            if value.shape != p.shape:
                raise ValueError(f"state[{name!r}] has shape {tuple(value.shape)}, expected {tuple(p.shape)}")
            p.copy_(value)
    return model


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["METHODS", "AdaptedLinear", "BottleneckAdapter", "PETConfig", "PrefixEncoder", "PrefixSelfAttention",
           "add_adapters", "add_prefix", "apply_bitfit", "build_model", "count_trainable",
           "load_trainable_state_dict", "trainable_state_dict"]
