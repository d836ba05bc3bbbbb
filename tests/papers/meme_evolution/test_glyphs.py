import numpy as np
import pytest
import torch

from paperzoo.papers.meme_evolution import FLAGS, HELDOUT_PAIRS, TEMPLATES, Glyph, GlyphMemes, kinds_of, variant_kind
from paperzoo.papers.meme_evolution.glyphs import caption, entity_phrases, vocabulary


def test_generator_is_deterministic_per_seed():
    a, b, c = GlyphMemes(seed=3), GlyphMemes(seed=3), GlyphMemes(seed=4)
    pa, pb, pc = a.sample(40, seed=1), b.sample(40, seed=1), c.sample(40, seed=1)
    assert torch.equal(pa.images, pb.images) and pa.captions == pb.captions
    assert not torch.equal(pa.images, pc.images)
    assert not torch.equal(pa.images, a.sample(40, seed=2).images)
    assert torch.equal(a.draw("circle", flag="azuria", seed=5), b.draw("circle", flag="azuria", seed=5))
    assert pa.images.dtype == torch.float32 and pa.images.min() >= 0 and pa.images.max() <= 1


def test_training_pairs_never_show_a_heldout_pair():
    gen = GlyphMemes(seed=0)
    glyphs = gen.sample(3000, seed=0).glyphs
    shown = {(g.template, g.flag) for g in glyphs}
    assert not shown & HELDOUT_PAIRS
    assert {(t, f) for t in TEMPLATES for f in FLAGS} - HELDOUT_PAIRS <= shown
    assert len(HELDOUT_PAIRS) == 8 and {f for _, f in HELDOUT_PAIRS} <= set(FLAGS)
    # every flag is still seen with some template, so its text can be learned
    assert all(any((t, f) not in HELDOUT_PAIRS for t in TEMPLATES) for f in FLAGS)


def test_the_one_definition_of_a_variant():
    assert variant_kind(Glyph("circle", flag="azuria"), "circle") == "variant"
    assert variant_kind(Glyph("circle", badge="star", colour=(1, 2, 3), dx=4), "circle") == "variant"
    assert variant_kind(Glyph("circle", colour=(0, 0, 0), dx=-4, radius=14), "circle") == "copy"  # jitter only
    assert variant_kind(Glyph("square", hat="crown"), "circle") == "other"
    assert variant_kind(Glyph(None, flag="rubria"), "circle") == "entity"
    with pytest.raises(ValueError, match="template"):
        variant_kind(Glyph("circle"), "hexagon")


def test_collection_composition():
    gen = GlyphMemes(seed=0)
    images, glyphs = gen.collection("square", seed=1)
    kinds = kinds_of(glyphs, "square")
    counts = {k: int((kinds == k).sum()) for k in ("variant", "copy", "other", "entity")}
    assert counts == {"variant": 90, "copy": 30, "other": 180, "entity": 45}
    assert images.shape == (345, 3, 48, 48)
    val_images, val_glyphs = gen.validation_set("square", seed=1)
    assert not torch.equal(images, val_images)  # calibration never sees the scored draw
    gallery, gg = gen.gallery(seed=0)
    assert len(gg) == 162 and gallery.shape[0] == 162


def test_captions_mention_attributes_noisily():
    rng = np.random.default_rng(0)
    g = Glyph("circle", flag="azuria", hat="crown", badge="star")
    captions = [caption(g, rng) for _ in range(400)]
    rate = np.mean(["on the flag of azuria" in c for c in captions])
    assert 0.78 < rate < 0.92
    assert all(c for c in captions)
    assert set(" ".join(captions).split()) <= set(vocabulary())
    assert entity_phrases()["crown"] == "wearing a crown"


@pytest.mark.parametrize("kwargs, name", [({"template": "hexagon"}, "template"), ({"flag": "france"}, "flag"),
                                          ({"hat": "helmet"}, "hat")])
def test_bad_parts_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GlyphMemes().draw(**kwargs)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="noise"):
        GlyphMemes(noise=2.0)
    with pytest.raises(ValueError, match="n must"):
        GlyphMemes().sample(0)
    with pytest.raises(ValueError, match="heldout"):
        GlyphMemes(heldout=frozenset({("circle", "mars")}))
