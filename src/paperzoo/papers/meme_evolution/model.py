"""`TinyCLIP`: a small image–text contrastive model trained with CLIP's symmetric InfoNCE, and the
`ClipBackend` protocol through which any CLIP-like encoder (e.g. local `open_clip` weights) drives the
pipeline instead.

No package ships CLIP weights without fetching them at run time, so the reproduction trains TinyCLIP
on GlyphMemes; a user with a local checkpoint wraps it in `TorchClipBackend`.

Example:
    >>> from paperzoo.papers.meme_evolution import GlyphMemes, TinyCLIP, train_clip
    >>> gen = GlyphMemes(seed=0)
    >>> model = TinyCLIP()
    >>> history = train_clip(model, gen.sample(256), epochs=1, seed=0)
    >>> model.encode_image(gen.draw("circle")).shape
    torch.Size([1, 64])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .glyphs import SIZE, Pairs, vocabulary

LOGIT_SCALE_INIT = math.log(1 / 0.07)   # CLIP (Radford et al. 2021)
LOGIT_SCALE_MAX = math.log(100.0)       # CLIP caps the temperature at 100


@runtime_checkable
class ClipBackend(Protocol):
    """What the pipeline needs from a CLIP-like model: L2-normalised embeddings in one shared space.

    `encode_image(images)` takes a float tensor (N, 3, H, W) in [0, 1] (or one image (3, H, W)) and
    returns (N, d); `encode_text(texts)` takes a list of strings and returns (len(texts), d).
    """

    def encode_image(self, images: Any) -> torch.Tensor: ...

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor: ...


def check_images(images: Any, size: int | None = None) -> torch.Tensor:
    """`images` as a float32 tensor (N, 3, H, W) in [0, 1], or a ValueError/TypeError naming `images`."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor or array (N, 3, H, W), got {type(images).__name__}")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W) or (3, H, W), got {tuple(images.shape)}")
    if size is not None and tuple(images.shape[2:]) != (size, size):
        raise ValueError(f"images must be {size}×{size} pixels, got {tuple(images.shape[2:])}")
    if not images.is_floating_point():
        raise ValueError(f"images must be floats in [0, 1], got dtype {images.dtype}")
    if images.numel() and (images.min() < 0 or images.max() > 1 or not torch.isfinite(images).all()):
        raise ValueError("images must hold finite values in [0, 1]")
    return images.float()


def check_texts(texts: Any) -> list[str]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of strings")
    return list(texts)


class BagOfWords:
    """Word ids for captions over a fixed vocabulary; id 0 pads, id 1 is any unknown word."""

    def __init__(self, words: Sequence[str]) -> None:
        self.index = {w: i + 2 for i, w in enumerate(sorted(set(words)))}

    def __len__(self) -> int:
        return len(self.index) + 2

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        ids = [[self.index.get(w, 1) for w in t.lower().split()] or [1] for t in texts]
        out = torch.zeros((len(ids), max(map(len, ids))), dtype=torch.long)
        for row, seq in enumerate(ids):
            out[row, :len(seq)] = torch.tensor(seq)
        return out


class BowText(nn.Module):
    """Token embedding, mean over tokens (padding masked), MLP."""

    def __init__(self, vocab_size: int, embed_dim: int, width: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width, padding_idx=0)
        self.mlp = nn.Sequential(nn.Linear(width, 128), nn.ReLU(), nn.Linear(128, embed_dim))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != 0).float().unsqueeze(-1)
        pooled = (self.embed(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.mlp(pooled)


class MiniLMText(nn.Module):
    """Frozen all-MiniLM-L6-v2 sentence embeddings (mean pooled, cached per text) + a trainable linear head."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.head = nn.Linear(384, embed_dim)
        self._cache: dict[str, torch.Tensor] = {}
        self._encoder: Any = None

    def sentence(self, texts: Sequence[str]) -> torch.Tensor:
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            from transformers import AutoModel

            from paperzoo.data.minilm import load_minilm, minilm_tokenizer

            if self._encoder is None:
                self._encoder = load_minilm(AutoModel).eval()
            tok = minilm_tokenizer()
            with torch.no_grad():
                for start in range(0, len(missing), 64):
                    chunk = missing[start:start + 64]
                    batch = tok(chunk, padding=True, return_tensors="pt")
                    hidden = self._encoder(**batch).last_hidden_state
                    mask = batch["attention_mask"].unsqueeze(-1).float()
                    pooled = F.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
                    self._cache.update(zip(chunk, pooled, strict=True))
        return torch.stack([self._cache[t] for t in texts])

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        return self.head(self.sentence(texts))


class TinyCLIP(nn.Module):
    """A small CLIP: conv image tower and a bag-of-words (or frozen MiniLM) text tower, both L2-normalised.

    Image tower: Conv(3→16, s2) → Conv(16→32, s2) → Conv(32→64, s2), ReLU, flatten → Linear 128 → Linear
    `embed_dim`. Text tower ("bow"): token embedding 64, masked mean, MLP 128 → `embed_dim`; ("minilm"):
    frozen all-MiniLM-L6-v2 + linear head. Learnable logit scale from ln(1/0.07), capped at ln 100.
    """

    def __init__(self, embed_dim: int = 64, text: str = "bow", size: int = SIZE,
                 words: Sequence[str] | None = None) -> None:
        super().__init__()
        if not isinstance(embed_dim, int) or embed_dim < 2:
            raise ValueError(f"embed_dim must be an int >= 2, got {embed_dim!r}")
        if text not in ("bow", "minilm"):
            raise ValueError(f"text must be 'bow' or 'minilm', got {text!r}")
        if size % 8:
            raise ValueError(f"size must be a multiple of 8, got {size!r}")
        self.size, self.text_kind, self.embed_dim = size, text, embed_dim
        self.image_tower = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * (size // 8) ** 2, 128), nn.ReLU(), nn.Linear(128, embed_dim))
        if text == "bow":
            self.tokenizer: BagOfWords | None = BagOfWords(words if words is not None else vocabulary())
            self.text_tower: nn.Module = BowText(len(self.tokenizer), embed_dim)
        else:
            self.tokenizer = None
            self.text_tower = MiniLMText(embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(LOGIT_SCALE_INIT))

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_tower(images), dim=-1)

    def text_features(self, texts: Sequence[str]) -> torch.Tensor:
        inputs = self.tokenizer(texts) if self.tokenizer is not None else texts
        return F.normalize(self.text_tower(inputs), dim=-1)

    @torch.no_grad()
    def encode_image(self, images: Any, batch_size: int = 512) -> torch.Tensor:
        """L2-normalised embeddings (N, embed_dim) of images (N, 3, size, size) in [0, 1]."""
        images = check_images(images, self.size)
        was = self.training
        self.eval()
        out = [self.image_features(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        self.train(was)
        return torch.cat(out) if out else torch.zeros((0, self.embed_dim))

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised embeddings (len(texts), embed_dim)."""
        texts = check_texts(texts)
        if not texts:
            return torch.zeros((0, self.embed_dim))
        was = self.training
        self.eval()
        out = self.text_features(texts)
        self.train(was)
        return out


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching pairs (CLIP, Radford et al. 2021)."""
    logits = logit_scale.exp() * image_emb @ text_emb.T
    target = torch.arange(len(logits))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def train_clip(model: TinyCLIP, pairs: Pairs, epochs: int = 10, seed: int = 0, batch_size: int = 128,
               lr: float = 2e-3, max_seconds: float | None = None,
               on_epoch: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Train `model` on `pairs` with Adam; stops after `epochs` or once `max_seconds` of wall clock
    have passed (checked after every step). Returns the history: losses per epoch, epochs and steps
    reached, seconds, whether the clock stopped it."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}")
    if max_seconds is not None and max_seconds <= 0:
        raise ValueError(f"max_seconds must be None or > 0, got {max_seconds!r}")
    if len(pairs) < 2:
        raise ValueError("pairs must hold at least 2 image–caption pairs")
    images = check_images(pairs.images, model.size)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=lr)
    token_ids = model.tokenizer(pairs.captions) if model.tokenizer is not None else None
    start, steps, losses, stopped = time.perf_counter(), 0, [], False
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(pairs), generator=generator)
        total, batches = 0.0, 0
        for lo in range(0, len(order) - 1, batch_size):
            idx = order[lo:lo + batch_size]
            if len(idx) < 2:
                continue
            img = model.image_features(images[idx])
            if token_ids is not None:
                txt = F.normalize(model.text_tower(token_ids[idx]), dim=-1)
            else:
                txt = model.text_features([pairs.captions[i] for i in idx.tolist()])
            loss = clip_loss(img, txt, model.logit_scale)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                model.logit_scale.clamp_(max=LOGIT_SCALE_MAX)
            total, batches, steps = total + loss.item(), batches + 1, steps + 1
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                stopped = True
                break
        losses.append(total / max(1, batches))
        if on_epoch is not None:
            on_epoch(epoch, losses[-1])
        if stopped:
            break
    model.eval()
    return {"losses": losses, "epochs_reached": len(losses), "epochs_completed": len(losses) - int(stopped),
            "steps": steps, "seconds": time.perf_counter() - start, "stopped_by_clock": stopped,
            "logit_scale": model.logit_scale.exp().item()}


class TorchClipBackend:
    """Any torch CLIP-like module as a `ClipBackend`: images resized to its input size and normalised
    with its mean/std; text through its tokenizer.

    For local `open_clip` weights (nothing is downloaded: `pretrained` is a file path):

        import open_clip
        model, _, _ = open_clip.create_model_and_transforms("ViT-B-32", pretrained="/path/to/ckpt.pt")
        backend = TorchClipBackend(model, open_clip.get_tokenizer("ViT-B-32"), input_size=224,
                                   mean=open_clip.OPENAI_DATASET_MEAN, std=open_clip.OPENAI_DATASET_STD)

    `module` needs `encode_image(pixels)` and `encode_text(token_ids)`; `tokenizer(texts)` returns ids.
    """

    def __init__(self, module: Any, tokenizer: Callable[[list[str]], Any], input_size: int,
                 mean: Sequence[float] = (0.0, 0.0, 0.0), std: Sequence[float] = (1.0, 1.0, 1.0),
                 batch_size: int = 64) -> None:
        if not (hasattr(module, "encode_image") and hasattr(module, "encode_text")):
            raise TypeError("module must have encode_image and encode_text")
        if not isinstance(input_size, int) or input_size < 8:
            raise ValueError(f"input_size must be an int >= 8, got {input_size!r}")
        self.module, self.tokenizer, self.input_size, self.batch_size = module, tokenizer, input_size, batch_size
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    @torch.no_grad()
    def encode_image(self, images: Any) -> torch.Tensor:
        images = check_images(images)
        out = []
        for lo in range(0, len(images), self.batch_size):
            # bicubic resize as CLIP's preprocessing; glyphs are square, so no centre crop is needed
            x = F.interpolate(images[lo:lo + self.batch_size], size=(self.input_size, self.input_size),
                              mode="bicubic", align_corners=False).clamp(0, 1)
            out.append(F.normalize(self.module.encode_image((x - self.mean) / self.std).float(), dim=-1))
        return torch.cat(out) if out else torch.zeros((0, 0))

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        texts = check_texts(texts)
        return F.normalize(self.module.encode_text(self.tokenizer(texts)).float(), dim=-1)
