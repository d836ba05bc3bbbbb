import numpy as np
import pytest
import torch
from torch import nn

from paperzoo.papers.meme_evolution import ClipBackend, GlyphMemes, TinyCLIP, TorchClipBackend, train_clip
from paperzoo.papers.meme_evolution.evaluation import evaluate
from paperzoo.papers.meme_evolution.glyphs import Pairs


def test_tinyclip_embeds_normalised_and_is_a_backend():
    gen = GlyphMemes(seed=0)
    model = TinyCLIP()
    assert isinstance(model, ClipBackend)
    img = model.encode_image(gen.sample(5).images)
    txt = model.encode_text(["a circle face", "on the flag of azuria wearing a crown"])
    assert img.shape == (5, 64) and txt.shape == (2, 64)
    assert torch.allclose(img.norm(dim=1), torch.ones(5), atol=1e-5)
    assert torch.allclose(txt.norm(dim=1), torch.ones(2), atol=1e-5)
    assert model.encode_image(gen.draw("circle")).shape == (1, 64)  # one image


@pytest.mark.parametrize("images, message", [
    (torch.zeros(2, 1, 48, 48), "shape"), (torch.zeros(2, 3, 32, 32), "48×48"),
    (torch.zeros(2, 3, 48, 48, dtype=torch.uint8), "dtype"), (torch.full((1, 3, 48, 48), 2.0), r"\[0, 1\]"),
    (np.zeros((2, 48, 48, 3), dtype=np.float32), "shape")])
def test_bad_images_raise_naming_images(images, message):
    with pytest.raises(ValueError, match="images") as err:
        TinyCLIP().encode_image(images)
    assert err.match(message)


def test_bad_constructor_and_training_arguments():
    with pytest.raises(ValueError, match="text"):
        TinyCLIP(text="gpt")
    pairs = GlyphMemes().sample(4)
    with pytest.raises(ValueError, match="epochs"):
        train_clip(TinyCLIP(), pairs, epochs=0)
    with pytest.raises(ValueError, match="max_seconds"):
        train_clip(TinyCLIP(), pairs, max_seconds=0)
    with pytest.raises(TypeError, match="texts"):
        TinyCLIP().encode_text("a circle face")


@pytest.fixture
def one_thread():
    """Small models train fastest on one thread, above all on a shared host."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_training_lowers_the_contrastive_loss_and_aligns_pairs(one_thread):
    gen = GlyphMemes(seed=0)
    pairs = gen.sample(256, seed=0)
    model = TinyCLIP()
    history = train_clip(model, pairs, epochs=3, seed=0, batch_size=32)
    assert history["epochs_reached"] == 3 and not history["stopped_by_clock"]
    assert history["losses"][-1] < 0.8 * history["losses"][0]
    # matching pairs score above mismatched ones after training
    img = model.encode_image(pairs.images[:64])
    txt = model.encode_text(pairs.captions[:64])
    sims = img @ txt.T
    assert sims.diag().mean() > sims.mean() + 0.1


def test_wall_clock_cap_stops_training_and_is_recorded():
    pairs = GlyphMemes(seed=0).sample(256)
    history = train_clip(TinyCLIP(), pairs, epochs=50, seed=0, batch_size=32, max_seconds=0.05)
    assert history["stopped_by_clock"] and history["epochs_reached"] < 50
    assert history["epochs_completed"] == history["epochs_reached"] - 1


class PixelBackend:
    """A fake CLIP: fixed random projections of pixels and of word counts (no training, no weights)."""

    def __init__(self, dim=32):
        g = torch.Generator().manual_seed(0)
        self.image_proj = torch.randn(3 * 12 * 12, dim, generator=g)
        self.word_proj = {}
        self.dim = dim

    def encode_image(self, images):
        x = torch.nn.functional.avg_pool2d(torch.as_tensor(images).reshape(-1, 3, 48, 48), 4).flatten(1)
        return torch.nn.functional.normalize(x @ self.image_proj, dim=-1)

    def encode_text(self, texts):
        rows = []
        for t in texts:
            v = torch.zeros(self.dim)
            for w in t.split():
                if w not in self.word_proj:
                    g = torch.Generator().manual_seed(len(self.word_proj))
                    self.word_proj[w] = torch.randn(self.dim, generator=g)
                v += self.word_proj[w]
            rows.append(v)
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)


def test_a_fake_backend_drives_the_whole_pipeline():
    backend = PixelBackend()
    assert isinstance(backend, ClipBackend)
    keep = {}
    result = evaluate(backend, GlyphMemes(seed=0), seed=0, cluster_n=120, alphas=(0.5,), query_draws=1, keep=keep)
    assert set(result) == {"seed", "regularity", "discovery", "clusters"}
    assert set(result["discovery"]) == {"circle", "square", "triangle", "diamond"}
    circle = result["discovery"]["circle"]
    assert 0 <= circle["clip"]["f1"] <= 1 and circle["band"][0] <= circle["band"][1]
    assert 0 <= circle["moderation_ap"] <= 1 and 0 <= circle["influencer"]["top1"] <= 1
    assert result["regularity"]["gallery"] == 162
    assert keep["discovery"]["circle"]["images"].shape == (345, 3, 48, 48)


class _TinyTorchClip(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Linear(3 * 16 * 16, 8)
        self.text = nn.Embedding(10, 8)

    def encode_image(self, pixels):
        assert pixels.shape[-2:] == (16, 16)
        return self.image(pixels.flatten(1))

    def encode_text(self, ids):
        return self.text(ids).mean(1)


def test_torch_clip_backend_resizes_normalises_and_tokenises():
    backend = TorchClipBackend(_TinyTorchClip(), lambda texts: torch.tensor([[len(t) % 10, 1] for t in texts]),
                               input_size=16, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    emb = backend.encode_image(GlyphMemes().sample(3).images)
    assert emb.shape == (3, 8) and torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    assert backend.encode_text(["a", "bb"]).shape == (2, 8)
    with pytest.raises(TypeError, match="module"):
        TorchClipBackend(object(), lambda t: t, input_size=16)


def test_pairs_length():
    assert len(Pairs(torch.zeros(2, 3, 48, 48), ["a", "b"])) == 2
