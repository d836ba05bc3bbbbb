"""Parameter-efficient tuning (PET) of a BERT classifier: full FT, LoRA, adapters, deep prefix, BitFit, head only.

The classifier reads the masked mean of the last hidden states, the pooling all-MiniLM-L6-v2 was
trained with (sentence-transformers), through a head shaped like RoBERTa's classification head
(dense + tanh + out_proj); the head is trained and sent by every method, as in the FedPETuning
reference, whose configs unfreeze `classifier` for every PET method.

LoRA comes from `peft`. Adapters, BitFit and deep prefix tuning are written here: peft has no
bottleneck adapter or BitFit, and its `PrefixTuningConfig` fails on BERT with transformers 5.x
("Model does not support past key values ...").

Example:
    >>> cfg = PETConfig(method="lora", rank=8)
    >>> model = build_model(cfg, num_labels=4)           # all-MiniLM-L6-v2 + a new 4-way mean-pooling head
    >>> sum(t.numel() for t in trainable_state_dict(model).values())
    223108
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

METHODS = ("full", "lora", "adapter", "prefix", "bitfit", "head")
HEADS = ("dense", "linear")


@dataclass(frozen=True)
class PETConfig:
    """Which PET method to train and its size.

    method: "full" | "lora" | "adapter" | "prefix" | "bitfit" | "head" (head only: the frozen encoder's
    mean-pooled representation, a control for how much accuracy the frozen encoder gives by itself).
    rank: LoRA rank (lora_alpha = rank, on query and value). bottleneck: adapter width.
    prefix_tokens / prefix_projection: number of virtual key/value tokens per layer; with the projection
    the prefixes come from Embedding(n, h) -> Linear(h, 512) -> Tanh -> Linear(512, 2·L·h) (the paper's
    variant), otherwise they are learned directly (n·2·L·h parameters).
    head: "dense" = dense(h, h) + tanh + out_proj(h, K), RoBERTa's head on the mean-pooled tokens;
    "linear" = out_proj only. train_pooler: the spec's older switch for the same choice (True = "dense",
    False = "linear"); when given it sets `head`.

    >>> PETConfig("lora", train_pooler=False).head
    'linear'
    """

    method: str = "full"
    rank: int = 8
    bottleneck: int = 16
    prefix_tokens: int = 16
    prefix_projection: bool = False
    head: str = "dense"
    train_pooler: bool | None = None

    def __post_init__(self) -> None:
        if self.train_pooler is not None:
            if not isinstance(self.train_pooler, bool):
                raise TypeError(f"train_pooler must be a bool or None, got {self.train_pooler!r}")
            object.__setattr__(self, "head", "dense" if self.train_pooler else "linear")
            object.__setattr__(self, "train_pooler", None)  # one source of truth: `head`
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        for name in ("rank", "bottleneck", "prefix_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "train_pooler"}


# ------------------------------------------------------------------------------------- the head
def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors where `attention_mask` is 1 (sentence-transformers' mean pooling).

    >>> h = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]]); m = torch.tensor([[1, 1, 0]])
    >>> mean_pool(h, m).tolist()
    [[2.0, 3.0]]
    """
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"need hidden (batch, length, width) and attention_mask (batch, length), got "
                         f"{tuple(hidden.shape)} and {tuple(attention_mask.shape)}")
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class MeanPoolingHead(nn.Module):
    """dropout -> [dense -> tanh -> dropout] -> out_proj on a pooled vector (RoBERTa's classification head)."""

    def __init__(self, hidden: int, num_labels: int, dense: bool = True, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden) if dense else None
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden, num_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        x = self.dropout(pooled)
        if self.dense is not None:
            x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class MeanPoolingClassifier(nn.Module):
    """A BERT encoder (`.bert`, no pooler) whose masked mean-pooled output feeds `.classifier`.

    `model(input_ids=..., attention_mask=...).logits` as for a transformers classifier.
    """

    def __init__(self, bert: nn.Module, num_labels: int, dense: bool = True) -> None:
        super().__init__()
        self.bert = bert
        self.config = bert.config
        self.classifier = MeanPoolingHead(bert.config.hidden_size, num_labels, dense, bert.config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, **_: Any) -> Any:
        from transformers.modeling_outputs import SequenceClassifierOutput

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        return SequenceClassifierOutput(logits=self.classifier(mean_pool(hidden, attention_mask)))


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
        raise TypeError("expected a MeanPoolingClassifier-like model with .bert.encoder, "
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
        p.requires_grad = name.startswith("bert.") and name.endswith(".bias")
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
@lru_cache(maxsize=4)
def _pretrained_encoder(model_path: str, num_layers: int | None) -> nn.Module:
    """The pre-trained encoder without its pooler, loaded once per process (ClientApps are ephemeral)."""
    from transformers import BertModel

    return load_minilm(BertModel, model_path, num_layers, add_pooling_layer=False, attn_implementation="sdpa")


def build_model(config: PETConfig, num_labels: int, model_path: str | None = None, *,
                num_layers: int | None = None, bert_config: Any = None, seed: int = 0) -> nn.Module:
    """A `MeanPoolingClassifier` with `config`'s PET method applied; only its tensors require grad.

    model_path: a local checkpoint (default all-MiniLM-L6-v2); num_layers keeps the first layers only.
    bert_config: a `transformers.BertConfig` to build a randomly initialised encoder instead (tests).
    seed: initialises the parts that are new (head, LoRA A, adapters, prefixes) from its own generator
    state; torch's global RNG is left as it was (so dropout streams stay the caller's).
    """
    if not isinstance(config, PETConfig):
        raise TypeError(f"config must be a PETConfig, got {type(config).__name__}")
    if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 2:
        raise ValueError(f"num_labels must be an int >= 2, got {num_labels!r}")
    if num_layers is not None and (not isinstance(num_layers, int) or num_layers < 1):
        raise ValueError(f"num_layers must be None or an int >= 1, got {num_layers!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if bert_config is not None:
            from transformers import BertModel

            encoder = BertModel(copy.deepcopy(bert_config), add_pooling_layer=False)
        else:
            encoder = copy.deepcopy(_pretrained_encoder(model_path or minilm_path(), num_layers))
        model = MeanPoolingClassifier(encoder, num_labels, dense=config.head == "dense")
        std = encoder.config.initializer_range  # transformers' init of a new classification head
        for module in (model.classifier.dense, model.classifier.out_proj):
            if module is not None:
                nn.init.normal_(module.weight, std=std)
                nn.init.zeros_(module.bias)
        return _apply_method(model, config)


def _apply_method(model: MeanPoolingClassifier, config: PETConfig) -> nn.Module:
    if config.method == "full":
        for p in model.parameters():
            p.requires_grad = True
        return model
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        # no task_type: a plain PeftModel passes inputs through; the head is saved and trained explicitly
        return get_peft_model(model, LoraConfig(r=config.rank, lora_alpha=config.rank, lora_dropout=0.0,
                                                target_modules=["query", "value"], modules_to_save=["classifier"]))
    for p in model.parameters():
        p.requires_grad = False
    trainable: tuple[str, ...] = ()
    if config.method == "adapter":
        add_adapters(model, config.bottleneck)
        trainable = ("adapter.",)
    elif config.method == "prefix":
        add_prefix(model, config.prefix_tokens, config.prefix_projection)
        trainable = ("prefix_encoder.",)
    elif config.method == "bitfit":
        apply_bitfit(model)
    for name, p in model.named_parameters():
        if name.startswith("classifier.") or any(t in name for t in trainable):
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


__all__ = ["HEADS", "METHODS", "AdaptedLinear", "BottleneckAdapter", "MeanPoolingClassifier", "MeanPoolingHead",
           "PETConfig", "PrefixEncoder", "PrefixSelfAttention", "add_adapters", "add_prefix", "apply_bitfit",
           "build_model", "count_trainable", "load_trainable_state_dict", "mean_pool", "trainable_state_dict"]
