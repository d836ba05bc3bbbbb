"""Qu et al., "On the Evolution of (Hateful) Memes by Means of Multimodal Contrastive Learning" (arXiv
2212.06573): semantic regularities in a CLIP space, variant discovery, entity attribution, clustering
and a moderation queue — on harmless synthetic glyph memes (`GlyphMemes`) with a small CLIP (`TinyCLIP`).

Example:
    >>> from paperzoo.papers.meme_evolution import GlyphMemes, TinyCLIP, train_clip, calibrate_band, find_variants
    >>> gen = GlyphMemes(seed=0)
    >>> model = TinyCLIP()
    >>> _ = train_clip(model, gen.sample(512), epochs=1, seed=0)
    >>> seed = model.encode_image(gen.draw("circle"))
    >>> coll, truth = gen.collection(seed_template="circle", seed=1)
    >>> band = calibrate_band(seed, *gen.validation("circle", model))
    >>> hits = find_variants(seed, model.encode_image(coll), band)
"""

# Lazy: listing papers (`paperzoo list`) must not import torch.
import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs={
    "baseline": ["phash_similarity"],
    "clustering": ["Clusters", "cluster", "cluster_scores", "purity"],
    "glyphs": ["BADGES", "FLAGS", "HATS", "HELDOUT_PAIRS", "TEMPLATES", "Glyph", "GlyphMemes", "Pairs",
              "entity_phrases", "kinds_of", "variant_kind"],
    "model": ["ClipBackend", "TinyCLIP", "TorchClipBackend", "train_clip"],
    "moderation": ["ModerationQueue", "contact_sheet", "moderation_queue", "queue_html", "tile_sheet",
                  "write_queue"],
    "regularities": ["Band", "Influencers", "analogy", "attribute_entities", "band_from_similarities",
                    "calibrate_band", "cosine", "find_influencers", "find_variants", "fuse"],
})
