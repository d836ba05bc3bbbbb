"""The moderation queue: a collection ranked by similarity to flagged seed memes and their known
variants, for a person to review — as a contact sheet (PNG) and a static HTML page that opens from disk.

Example:
    >>> import torch
    >>> coll = torch.nn.functional.normalize(torch.randn(10, 8), dim=-1)
    >>> queue = moderation_queue(coll, coll[:1], flagged_names=["circle"])
    >>> int(queue.order[0]), queue.nearest_names()[0]
    (0, 'circle')
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model import check_images
from .regularities import _as_matrix, attribute_entities

KIND_COLOURS = {"variant": "#1a9850", "copy": "#4575b4", "other": "#d73027", "entity": "#fdae61"}


@dataclass(frozen=True)
class ModerationQueue:
    """Ranked review queue: `order` indexes the collection, most suspicious first, with its `scores`
    (max cosine to a flagged seed or known variant), the `nearest` flagged seed (index) and, when
    entities were given, the attributed entity of each ranked item (None for a copy of its seed)."""

    order: np.ndarray
    scores: np.ndarray
    nearest: np.ndarray
    flagged_names: list[str]
    entities: list[str | None] | None = None

    def nearest_names(self) -> list[str]:
        return [self.flagged_names[i] for i in self.nearest]

    def rows(self, top: int | None = None) -> list[dict[str, Any]]:
        """One dict per ranked item: rank, index, score, seed, entity."""
        n = len(self.order) if top is None else min(top, len(self.order))
        return [{"rank": r + 1, "index": int(self.order[r]), "score": float(self.scores[r]),
                 "seed": self.flagged_names[self.nearest[r]],
                 "entity": self.entities[r] if self.entities is not None else None} for r in range(n)]


def moderation_queue(coll: Any, flagged: Any, *, flagged_names: Sequence[str] | None = None,
                     known: Any = None, known_seed: Sequence[int] | None = None,
                     entities: Mapping[str, Any] | None = None, encoder: Any = None, alpha: float = 0.5,
                     copy_above: float | None = None, images: Any = None, out_dir: str | Path | None = None,
                     top: int = 40, truth: Sequence[str] | None = None) -> ModerationQueue:
    """Rank `coll` (N, d) by max cosine to the flagged seeds (S, d) and the `known` variants (K, d), the
    seed of known variant k being `known_seed[k]`. With `entities` (name → text embedding, or phrase with
    `encoder`) each item also gets the entity attributed against its nearest seed (`attribute_entities`),
    except items whose cosine to that seed exceeds `copy_above` (e.g. a calibrated band's upper bound):
    copies of the seed get no entity.
    With `images` and `out_dir`, writes `moderation_queue.png` and `moderation_queue.html` for the top
    `top` items (`truth` kinds, when known, colour the frames)."""
    c = _as_matrix(coll, "coll")
    if len(c) == 0:
        raise ValueError("coll is empty: nothing to rank")
    seeds = _as_matrix(flagged, "flagged")
    names = list(flagged_names) if flagged_names is not None else [f"seed {i}" for i in range(len(seeds))]
    if len(names) != len(seeds):
        raise ValueError(f"flagged_names must name every flagged seed: {len(names)} names, {len(seeds)} seeds")
    refs, owner = seeds, list(range(len(seeds)))
    if known is not None:
        k = _as_matrix(known, "known")
        if known_seed is None or len(known_seed) != len(k):
            raise ValueError("known_seed must give the seed index of every known variant")
        if any(not 0 <= s < len(seeds) for s in known_seed):
            raise ValueError(f"known_seed must index flagged (0 … {len(seeds) - 1})")
        refs, owner = torch.cat([seeds, k]), owner + list(known_seed)
    sims = c @ refs.T
    best, which = sims.max(1)
    order = np.argsort(-best.numpy(), kind="stable")
    nearest = np.asarray(owner)[which.numpy()[order]]
    attributed = None
    if entities is not None:
        nearest_t, order_t = torch.from_numpy(nearest), torch.from_numpy(order)
        attributed = attribute_entities(seeds[nearest_t], c[order_t], entities, alpha=alpha, encoder=encoder)
        if copy_above is not None:
            to_seed = (c[order_t] * seeds[nearest_t]).sum(1).numpy()
            attributed = [None if s > copy_above else a for a, s in zip(attributed, to_seed, strict=True)]
    queue = ModerationQueue(order, best.numpy()[order], nearest, names, attributed)
    if out_dir is not None:
        if images is None:
            raise ValueError("images are needed to write the queue's contact sheet and page")
        write_queue(queue, images, Path(out_dir), top=top, truth=truth)
    return queue


def _thumbnail_png(image: torch.Tensor, scale: int = 2) -> bytes:
    from PIL import Image

    pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    thumb = Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG")
    return buffer.getvalue()


def tile_sheet(tiles: Sequence[tuple[torch.Tensor, Sequence[str], str | None]], columns: int = 8,
               title: str = "", scale: int = 2) -> Any:
    """A PIL image: a grid of (image, label lines, frame colour or None) tiles under a title."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=11)
    n_lines = max((len(lines) for _, lines, _ in tiles), default=0)
    side = (tiles[0][0].shape[-1] if tiles else 48) * scale
    cell_w, cell_h = side + 16, side + 16 + 13 * n_lines
    rows = max(1, -(-len(tiles) // columns))
    head = 22 if title else 4
    sheet = Image.new("RGB", (columns * cell_w + 8, rows * cell_h + head + 4), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((6, 4), title, fill="black", font=font)
    for k, (image, lines, frame) in enumerate(tiles):
        x, y = 4 + (k % columns) * cell_w + 6, head + (k // columns) * cell_h + 4
        if frame:
            draw.rectangle((x - 4, y - 4, x + side + 3, y + side + 3), fill=frame)
        sheet.paste(Image.open(io.BytesIO(_thumbnail_png(image, scale))), (x, y))
        for j, line in enumerate(lines):
            draw.text((x - 3, y + side + 5 + 13 * j), line, fill="black", font=font)
    return sheet


def contact_sheet(queue: ModerationQueue, images: Any, top: int = 40, truth: Sequence[str] | None = None,
                  columns: int = 8, title: str = "Moderation queue") -> Any:
    """A PIL image of the top `top` queue items: rank and score, nearest seed, attributed entity; with
    `truth`, frames coloured by the generator's kind (variant green, copy blue, other red, entity orange)."""
    images = check_images(images)
    tiles = []
    for row in queue.rows(top):
        lines = [f"#{row['rank']}  {row['score']:.3f}", row["seed"] + (f" · {row['entity']}" if row["entity"] else "")]
        frame = KIND_COLOURS.get(str(truth[row["index"]]), "black") if truth is not None else None
        tiles.append((images[row["index"]], lines, frame))
    if truth is not None:
        title += "  (frame = generator truth: green variant, blue copy, red other template, orange entity only)"
    return tile_sheet(tiles, columns, title)


def queue_html(queue: ModerationQueue, images: Any, top: int = 40, truth: Sequence[str] | None = None,
               title: str = "Moderation queue") -> str:
    """A self-contained HTML page (thumbnails inline) of the top `top` queue items."""
    images = check_images(images)
    rows = queue.rows(top)
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>{html.escape(title)}</title><style>",
           "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}",
           "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}img{image-rendering:pixelated}",
           "tr.variant td.kind{color:#1a9850}tr.copy td.kind{color:#4575b4}tr.other td.kind{color:#d73027}",
           "</style></head><body>", f"<h1>{html.escape(title)}</h1>",
           "<p>Images ranked by their similarity to flagged seed memes and their known variants, for a "
           "person to review: the score is the highest cosine similarity, <em>seed</em> the flagged meme it is "
           "nearest to, <em>entity</em> what the model thinks was fused into it. Synthetic glyphs only.</p>",
           "<table id='queue'><thead><tr><th>rank</th><th>image</th><th>score</th><th>seed</th><th>entity</th>"
           + ("<th>truth</th>" if truth is not None else "") + "<th>item</th></tr></thead><tbody>"]
    for row in rows:
        data = base64.b64encode(_thumbnail_png(images[row["index"]])).decode()
        kind = str(truth[row["index"]]) if truth is not None else ""
        cells = [f"<td class='rank'>{row['rank']}</td>",
                 f"<td><img alt='item {row['index']}' src='data:image/png;base64,{data}'></td>",
                 f"<td class='score'>{row['score']:.3f}</td>", f"<td class='seed'>{html.escape(row['seed'])}</td>",
                 f"<td class='entity'>{html.escape(row['entity'] or '')}</td>"]
        if truth is not None:
            cells.append(f"<td class='kind'>{html.escape(kind)}</td>")
        cells.append(f"<td class='item'>{row['index']}</td>")
        out.append(f"<tr class='{html.escape(kind)}'>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></body></html>")
    return "\n".join(out)


def write_queue(queue: ModerationQueue, images: Any, out_dir: Path, top: int = 40,
                truth: Sequence[str] | None = None, stem: str = "moderation_queue") -> tuple[Path, Path]:
    """Write `<stem>.png` (contact sheet) and `<stem>.html` into `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, page = out_dir / f"{stem}.png", out_dir / f"{stem}.html"
    contact_sheet(queue, images, top=top, truth=truth).save(png)
    page.write_text(queue_html(queue, images, top=top, truth=truth), encoding="utf-8")
    return png, page
