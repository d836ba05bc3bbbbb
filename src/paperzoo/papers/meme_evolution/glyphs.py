"""`GlyphMemes`: harmless synthetic "memes" — glyph faces with fused entities — and their captions.

Four face **templates** (circle, square, triangle, diamond) play the seed memes. Three kinds of
invented **entities** are fused into them: striped fictional flags as the background (the paper's
countries, GPE), hats (persons), corner badges (organisations). Captions are written from templates
and mention each attribute with probability 0.85, like noisy comments. Nothing here depicts a real
meme, person, flag or symbol.

The one definition of a variant (`variant_kind`) is used for calibration, scoring and the README:
relative to a seed template, an image is
- a **variant** when it shows that template with at least one fused entity (flag, hat or badge);
- a **copy** (near-copy) when it shows that template with no entity: colour, position, size and
  pixel noise are jitter of the seed itself, never a variant;
- **other** when it shows another template (with or without entities);
- **entity** when it shows an entity alone, no face (the influencer images).

Example:
    >>> gen = GlyphMemes(seed=0)
    >>> gen.draw("circle", flag="azuria").shape
    torch.Size([3, 48, 48])
    >>> variant_kind(Glyph("circle", hat="crown"), "circle"), variant_kind(Glyph("circle"), "circle")
    ('variant', 'copy')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

TEMPLATES = ("circle", "square", "triangle", "diamond")
FLAGS = ("azuria", "verdania", "rubria", "aurelia", "nordova", "umbria")
HATS = ("crown", "tophat", "cap", "halo", "bow")
BADGES = ("star", "ring", "cross", "bar")
ENTITY_TYPES = {"flag": FLAGS, "hat": HATS, "badge": BADGES}
KINDS = ("variant", "copy", "other", "entity")

SIZE = 48
NOISE = 0.03
MENTION_P = 0.85
# Base face colours (RGB) of the templates; each draw moves every channel by up to ±20.
_FACE_COLOUR = {"circle": (225, 185, 60), "square": (90, 150, 225), "triangle": (110, 200, 105),
                "diamond": (205, 105, 190)}
# Fictional flags: stripe orientation and three stripe colours.
_FLAG_STYLE = {
    "azuria": ("h", [(40, 80, 200), (235, 235, 235), (40, 80, 200)]),
    "verdania": ("v", [(30, 140, 60), (240, 220, 60), (30, 140, 60)]),
    "rubria": ("h", [(200, 40, 40), (240, 240, 240), (200, 40, 40)]),
    "aurelia": ("v", [(230, 170, 30), (20, 20, 20), (230, 170, 30)]),
    "nordova": ("h", [(20, 20, 20), (120, 200, 230), (240, 240, 240)]),
    "umbria": ("v", [(120, 50, 150), (150, 150, 150), (240, 120, 40)]),
}
_BACKGROUND = (245, 245, 240)
# The pairs (template, flag) held out of training: two flags per template, every flag seen with
# at least two templates (8 of 24 pairs, as in the spec's pilot).
HELDOUT_PAIRS = frozenset({("circle", "azuria"), ("circle", "verdania"), ("square", "rubria"),
                           ("square", "aurelia"), ("triangle", "nordova"), ("triangle", "umbria"),
                           ("diamond", "azuria"), ("diamond", "rubria")})


@dataclass(frozen=True)
class Glyph:
    """What one image shows: a template (or None for an entity alone), its entities and its jitter."""

    template: str | None = None
    flag: str | None = None
    hat: str | None = None
    badge: str | None = None
    colour: tuple[int, int, int] | None = None
    dx: int = 0
    dy: int = 0
    radius: int = 12

    @property
    def entities(self) -> tuple[str, ...]:
        """The fused entities, flag first."""
        return tuple(e for e in (self.flag, self.hat, self.badge) if e is not None)


def variant_kind(glyph: Glyph, template: str) -> str:
    """"variant", "copy", "other" or "entity": what `glyph` is relative to the seed `template`
    (the project's one definition of a variant, see the module docstring)."""
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}, got {template!r}")
    if glyph.template is None:
        return "entity"
    if glyph.template != template:
        return "other"
    return "variant" if glyph.entities else "copy"


def kinds_of(glyphs: list[Glyph], template: str) -> np.ndarray:
    """`variant_kind` of every glyph, as an array of strings."""
    return np.array([variant_kind(g, template) for g in glyphs])


def entity_phrases() -> dict[str, str]:
    """The text phrase of every entity, as captions say it (the attribution vocabulary)."""
    phrases = {f: f"on the flag of {f}" for f in FLAGS}
    phrases.update({h: f"wearing a {h}" for h in HATS})
    phrases.update({b: f"with a {b} badge" for b in BADGES})
    return phrases


def paraphrases() -> dict[str, str]:
    """Flag phrases worded as no caption words them (for testing text towers on unseen wording)."""
    return {f: f"under the banner of {f}" for f in FLAGS}


def vocabulary() -> list[str]:
    """Every word the captions, phrases and paraphrases use (the bag-of-words tower's vocabulary)."""
    words = {"a", "face", *TEMPLATES}
    for phrase in [*entity_phrases().values(), *paraphrases().values()]:
        words.update(phrase.split())
    return sorted(words)


def caption(glyph: Glyph, rng: np.random.Generator, mention_p: float = MENTION_P) -> str:
    """A noisy comment on `glyph`: each attribute mentioned with probability `mention_p`, at least one."""
    phrases = entity_phrases()
    parts = []
    if glyph.template is not None:
        parts.append(f"a {glyph.template} face")
    parts += [phrases[e] for e in glyph.entities]
    kept = [p for p in parts if rng.random() < mention_p]
    return " ".join(kept or [parts[int(rng.integers(len(parts)))]])


# ---------------------------------------------------------------- drawing


def _draw_flag(draw: Any, flag: str, size: int) -> None:
    orientation, colours = _FLAG_STYLE[flag]
    step = size / 3
    for i, colour in enumerate(colours):
        lo, hi = round(i * step), round((i + 1) * step) - 1
        box = (0, lo, size - 1, hi) if orientation == "h" else (lo, 0, hi, size - 1)
        draw.rectangle(box, fill=colour)


def _draw_face(draw: Any, g: Glyph, cx: int, cy: int) -> None:
    r = g.radius
    colour = g.colour or _FACE_COLOUR[g.template]
    outline = (30, 30, 30)
    if g.template == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=outline)
    elif g.template == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=outline)
    elif g.template == "triangle":
        draw.polygon([(cx, cy - r - 2), (cx + r + 2, cy + r), (cx - r - 2, cy + r)], fill=colour, outline=outline)
    else:
        draw.polygon([(cx, cy - r - 2), (cx + r + 2, cy), (cx, cy + r + 2), (cx - r - 2, cy)], fill=colour,
                     outline=outline)
    eye = max(1, r // 6)
    for ex in (cx - r // 3, cx + r // 3):
        draw.ellipse((ex - eye, cy - r // 4 - eye, ex + eye, cy - r // 4 + eye), fill=(20, 20, 20))
    draw.line((cx - r // 3, cy + r // 3, cx + r // 3, cy + r // 3), fill=(20, 20, 20), width=1)


def _draw_hat(draw: Any, hat: str, cx: int, top: int) -> None:
    """A hat whose lower edge sits at y = `top` (the top of the face), centred on `cx`."""
    if hat == "crown":
        draw.polygon([(cx - 8, top), (cx - 8, top - 8), (cx - 4, top - 4), (cx, top - 9), (cx + 4, top - 4),
                      (cx + 8, top - 8), (cx + 8, top)], fill=(240, 200, 20), outline=(120, 90, 0))
    elif hat == "tophat":
        draw.rectangle((cx - 10, top - 2, cx + 10, top), fill=(15, 15, 15))
        draw.rectangle((cx - 6, top - 11, cx + 6, top - 2), fill=(15, 15, 15))
    elif hat == "cap":
        draw.pieslice((cx - 8, top - 8, cx + 8, top + 8), 180, 360, fill=(220, 60, 30))
        draw.rectangle((cx, top - 2, cx + 13, top), fill=(150, 30, 10))
    elif hat == "halo":
        draw.ellipse((cx - 9, top - 9, cx + 9, top - 3), outline=(250, 220, 60), width=2)
    else:  # bow
        draw.polygon([(cx, top - 4), (cx - 8, top - 9), (cx - 8, top + 1)], fill=(240, 110, 170))
        draw.polygon([(cx, top - 4), (cx + 8, top - 9), (cx + 8, top + 1)], fill=(240, 110, 170))
        draw.ellipse((cx - 2, top - 6, cx + 2, top - 2), fill=(200, 40, 120))


def _draw_badge(draw: Any, badge: str, size: int) -> None:
    """A badge in the lower right corner."""
    x0, y0 = size - 13, size - 13
    cx, cy = x0 + 6, y0 + 6
    draw.rectangle((x0, y0, x0 + 12, y0 + 12), fill=(250, 250, 250), outline=(40, 40, 40))
    if badge == "star":
        pts = []
        for k in range(10):
            rad = 5 if k % 2 == 0 else 2
            a = np.pi / 2 + k * np.pi / 5
            pts.append((cx + rad * np.cos(a), cy - rad * np.sin(a)))
        draw.polygon(pts, fill=(230, 40, 40))
    elif badge == "ring":
        draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), outline=(30, 90, 220), width=2)
    elif badge == "cross":
        draw.rectangle((cx - 1, cy - 5, cx + 1, cy + 5), fill=(20, 150, 60))
        draw.rectangle((cx - 5, cy - 1, cx + 5, cy + 1), fill=(20, 150, 60))
    else:  # bar
        draw.rectangle((cx - 5, cy - 2, cx + 5, cy + 2), fill=(120, 40, 160))


def render(glyph: Glyph, rng: np.random.Generator, size: int = SIZE, noise: float = NOISE) -> np.ndarray:
    """The image of `glyph`: float32 array (3, size, size) in [0, 1], with Gaussian pixel noise `noise`."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    if glyph.flag is not None:
        _draw_flag(draw, glyph.flag, size)
    cx, cy = size // 2 + glyph.dx, size // 2 + 3 + glyph.dy
    if glyph.template is not None:
        _draw_face(draw, glyph, cx, cy)
    if glyph.hat is not None:
        _draw_hat(draw, glyph.hat, cx, cy - glyph.radius - (2 if glyph.template in ("triangle", "diamond") else 0))
    if glyph.badge is not None:
        _draw_badge(draw, glyph.badge, size)
    pixels = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
    pixels = pixels + rng.normal(0.0, noise, pixels.shape).astype(np.float32)
    return np.clip(pixels, 0.0, 1.0)


# ---------------------------------------------------------------- the generator


@dataclass
class Pairs:
    """Image–caption pairs: `images` (N, 3, 48, 48) float tensor in [0, 1], `captions`, `glyphs`."""

    images: Any
    captions: list[str]
    glyphs: list[Glyph] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.captions)


def _check_choice(name: str, value: str | None, options: tuple[str, ...]) -> None:
    if value is not None and value not in options:
        raise ValueError(f"{name} must be None or one of {options}, got {value!r}")


class GlyphMemes:
    """Seeded generator of glyph memes, captions, galleries and labelled collections.

    Every method that draws takes a `seed` and derives its random stream from (generator seed, purpose,
    seed), so the same call returns the same images. Training pairs never contain a held-out
    (template, flag) pair (`heldout`).

    >>> gen = GlyphMemes(seed=0)
    >>> pairs = gen.sample(8, seed=1)
    >>> pairs.images.shape, len(pairs.captions)
    (torch.Size([8, 3, 48, 48]), 8)
    """

    templates = TEMPLATES
    flags = FLAGS
    hats = HATS
    badges = BADGES

    def __init__(self, seed: int = 0, size: int = SIZE, noise: float = NOISE, mention_p: float = MENTION_P,
                 heldout: frozenset[tuple[str, str]] = HELDOUT_PAIRS) -> None:
        if not isinstance(size, int) or size < 32:
            raise ValueError(f"size must be an int >= 32, got {size!r}")
        if not 0.0 <= noise <= 0.5:
            raise ValueError(f"noise must be in [0, 0.5], got {noise!r}")
        if not 0.0 < mention_p <= 1.0:
            raise ValueError(f"mention_p must be in (0, 1], got {mention_p!r}")
        for pair in heldout:
            if pair[0] not in TEMPLATES or pair[1] not in FLAGS:
                raise ValueError(f"heldout must hold (template, flag) pairs, got {pair!r}")
        self.seed, self.size, self.noise, self.mention_p = seed, size, noise, mention_p
        self.heldout = frozenset(heldout)

    # streams: 1 training pairs, 2 scored collections, 3 validation collections, 4 query draws,
    # 5 galleries, 6 clustering samples
    def _rng(self, stream: int, seed: int, *extra: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, seed, *extra])

    def jitter(self, rng: np.random.Generator, template: str | None = None, **entities: str | None) -> Glyph:
        """A glyph of `template` with these entities and random colour (±20), position (±4 px), radius 11–14."""
        _check_choice("template", template, TEMPLATES)
        for kind, options in ENTITY_TYPES.items():
            _check_choice(kind, entities.get(kind), options)
        colour = None
        if template is not None:
            colour = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in _FACE_COLOUR[template])
        return Glyph(template, entities.get("flag"), entities.get("hat"), entities.get("badge"), colour,
                     int(rng.integers(-4, 5)), int(rng.integers(-4, 5)), int(rng.integers(11, 15)))

    def render_all(self, glyphs: list[Glyph], rng: np.random.Generator) -> Any:
        """Images of `glyphs` as one float tensor (N, 3, size, size)."""
        import torch

        if not glyphs:
            return torch.zeros((0, 3, self.size, self.size))
        return torch.from_numpy(np.stack([render(g, rng, self.size, self.noise) for g in glyphs]))

    def draw(self, template: str | None = None, flag: str | None = None, hat: str | None = None,
             badge: str | None = None, seed: int = 0) -> Any:
        """One image (3, size, size) of a jittered glyph with these parts."""
        rng = self._rng(4, seed, *(hash_name(x) for x in (template, flag, hat, badge)))
        return self.render_all([self.jitter(rng, template, flag=flag, hat=hat, badge=badge)], rng)[0]

    def random_glyph(self, rng: np.random.Generator, p_template: float = 0.9, p_flag: float = 0.5,
                     p_hat: float = 0.35, p_badge: float = 0.3, allow_heldout: bool = False) -> Glyph:
        """A glyph as the training distribution draws it (held-out pairs replaced by no flag)."""
        template = TEMPLATES[int(rng.integers(4))] if rng.random() < p_template else None
        flag = FLAGS[int(rng.integers(6))] if rng.random() < p_flag else None
        hat = HATS[int(rng.integers(5))] if rng.random() < p_hat else None
        badge = BADGES[int(rng.integers(4))] if rng.random() < p_badge else None
        if template is None and flag is None and hat is None and badge is None:
            flag = FLAGS[int(rng.integers(6))]
        if not allow_heldout and (template, flag) in self.heldout:
            flag = None
        return self.jitter(rng, template, flag=flag, hat=hat, badge=badge)

    def sample(self, n: int, seed: int = 0) -> Pairs:
        """`n` training image–caption pairs (no held-out (template, flag) pair among them)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        rng = self._rng(1, seed)
        glyphs = [self.random_glyph(rng) for _ in range(n)]
        return Pairs(self.render_all(glyphs, rng), [caption(g, rng, self.mention_p) for g in glyphs], glyphs)

    def gallery(self, seed: int = 0, draws: int = 3) -> tuple[Any, list[Glyph]]:
        """The retrieval gallery: every template × (each flag or none) × `draws`, flag-only images and
        template × hat images (162 images at 3 draws)."""
        rng = self._rng(5, seed)
        glyphs = [self.jitter(rng, t, flag=f) for t, f, _ in product(TEMPLATES, (*FLAGS, None), range(draws))]
        glyphs += [self.jitter(rng, None, flag=f) for f, _ in product(FLAGS, range(draws))]
        glyphs += [self.jitter(rng, t, hat=h) for t, h, _ in product(TEMPLATES, HATS, range(draws))]
        return self.render_all(glyphs, rng), glyphs

    def _collection_glyphs(self, template: str, rng: np.random.Generator) -> list[Glyph]:
        glyphs = [self.jitter(rng, template) for _ in range(30)]                      # copies
        glyphs += [self.jitter(rng, template, flag=f) for f, _ in product(FLAGS, range(5))]
        glyphs += [self.jitter(rng, template, hat=h) for h, _ in product(HATS, range(4))]
        glyphs += [self.jitter(rng, template, badge=b) for b, _ in product(BADGES, range(5))]
        glyphs += [self.jitter(rng, template, flag=FLAGS[int(rng.integers(6))], hat=HATS[int(rng.integers(5))])
                   for _ in range(20)]                                                 # 90 variants
        for other in TEMPLATES:
            if other != template:
                glyphs += [self.jitter(rng, other) for _ in range(20)]
                glyphs += [self._other_variant(rng, other) for _ in range(40)]
        glyphs += [self.jitter(rng, None, flag=f) for f, _ in product(FLAGS, range(3))]
        glyphs += [self.jitter(rng, None, hat=h) for h, _ in product(HATS, range(3))]
        glyphs += [self.jitter(rng, None, badge=b) for b, _ in product(BADGES, range(3))]
        return glyphs

    def _other_variant(self, rng: np.random.Generator, template: str) -> Glyph:
        """`template` with one to three random entities."""
        while True:
            entities = {k: (v[int(rng.integers(len(v)))] if rng.random() < 0.5 else None)
                        for k, v in ENTITY_TYPES.items()}
            if any(entities.values()):
                return self.jitter(rng, template, **entities)

    def collection(self, seed_template: str, seed: int = 0) -> tuple[Any, list[Glyph]]:
        """A labelled collection around `seed_template` (345 images): 30 copies, 90 variants (flag, hat,
        badge, flag + hat), 60 plain and 120 fused images of the other templates, 45 entity-only images.
        Returns (images, glyphs); `kinds_of(glyphs, seed_template)` labels them."""
        _check_choice("seed_template", seed_template, TEMPLATES)
        rng = self._rng(2, seed, TEMPLATES.index(seed_template))
        glyphs = self._collection_glyphs(seed_template, rng)
        return self.render_all(glyphs, rng), glyphs

    def validation(self, seed_template: str, model: Any, seed: int = 0) -> tuple[Any, np.ndarray]:
        """Embeddings (by `model.encode_image`) and kinds of a validation collection: same design as
        `collection`, an independent draw, for calibrating thresholds without touching the scored one."""
        images, glyphs = self.validation_set(seed_template, seed)
        return model.encode_image(images), kinds_of(glyphs, seed_template)

    def validation_set(self, seed_template: str, seed: int = 0) -> tuple[Any, list[Glyph]]:
        """The images and glyphs behind `validation`."""
        _check_choice("seed_template", seed_template, TEMPLATES)
        rng = self._rng(3, seed, TEMPLATES.index(seed_template))
        glyphs = self._collection_glyphs(seed_template, rng)
        return self.render_all(glyphs, rng), glyphs

    def mixture(self, n: int, seed: int = 0) -> tuple[Any, list[Glyph]]:
        """`n` images from the training distribution with held-out pairs allowed (for clustering)."""
        rng = self._rng(6, seed)
        glyphs = [self.random_glyph(rng, p_template=1.0, allow_heldout=True) for _ in range(n)]
        return self.render_all(glyphs, rng), glyphs

    @staticmethod
    def entity_phrases() -> dict[str, str]:
        return entity_phrases()


def hash_name(name: str | None) -> int:
    """A stable small int for a name (Python's hash() is salted per process)."""
    return 0 if name is None else int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") % (2**31)
