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

from .baseline import phash_similarity
from .clustering import Clusters, cluster, cluster_scores, purity
from .glyphs import (
                     BADGES,
                     FLAGS,
                     HATS,
                     HELDOUT_PAIRS,
                     TEMPLATES,
                     Glyph,
                     GlyphMemes,
                     Pairs,
                     entity_phrases,
                     kinds_of,
                     variant_kind,
)
from .model import ClipBackend, TinyCLIP, TorchClipBackend, train_clip
from .moderation import ModerationQueue, contact_sheet, moderation_queue, queue_html, tile_sheet, write_queue
from .regularities import (
                     Band,
                     Influencers,
                     analogy,
                     attribute_entities,
                     band_from_similarities,
                     calibrate_band,
                     cosine,
                     find_influencers,
                     find_variants,
                     fuse,
)

__all__ = ["BADGES", "FLAGS", "HATS", "HELDOUT_PAIRS", "TEMPLATES", "Band", "ClipBackend", "Clusters", "Glyph",
           "GlyphMemes", "Influencers", "ModerationQueue", "Pairs", "TinyCLIP", "TorchClipBackend", "analogy",
           "attribute_entities", "band_from_similarities", "calibrate_band", "cluster", "cluster_scores",
           "contact_sheet", "cosine", "entity_phrases", "find_influencers", "find_variants", "fuse", "kinds_of",
           "moderation_queue", "phash_similarity", "purity", "queue_html", "tile_sheet", "train_clip", "variant_kind",
           "write_queue"]
