"""The non-learned baseline of the IMC 2018 meme pipeline (Zannettou et al.): perceptual hashes (pHash,
`imagehash`) and their Hamming distance, turned into a similarity so the same band calibration applies.

Example:
    >>> from paperzoo.papers.meme_evolution import GlyphMemes
    >>> gen = GlyphMemes(seed=0)
    >>> a = gen.draw("circle")
    >>> float(phash_similarity(a, a.unsqueeze(0))[0])
    1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import check_images

HASH_SIZE = 8   # imagehash's default: 64-bit pHash, as in the IMC 2018 pipeline


def phash_bits(images: Any, hash_size: int = HASH_SIZE) -> np.ndarray:
    """pHash of every image as a bool array (N, hash_size²)."""
    import imagehash
    from PIL import Image

    images = check_images(images)
    pixels = (images.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    return np.stack([imagehash.phash(Image.fromarray(p), hash_size=hash_size).hash.ravel() for p in pixels])


def phash_similarity(seed_image: Any, images: Any, hash_size: int = HASH_SIZE) -> np.ndarray:
    """1 − Hamming distance / bits between the pHash of `seed_image` and of every image."""
    seed = phash_bits(seed_image, hash_size)[0]
    bits = phash_bits(images, hash_size)
    return 1.0 - (bits != seed).mean(axis=1)
