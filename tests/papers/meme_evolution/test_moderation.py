import shutil

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from paperzoo.papers.meme_evolution import GlyphMemes, moderation_queue

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _setup():
    g = torch.Generator().manual_seed(0)
    seeds = F.normalize(torch.randn(2, 16, generator=g), dim=-1)
    coll = torch.cat([seeds[0] + 0.3 * torch.randn(4, 16, generator=g),     # near seed 0
                      seeds[1] + 0.3 * torch.randn(3, 16, generator=g),     # near seed 1
                      torch.randn(5, 16, generator=g)])                      # unrelated
    return seeds, F.normalize(coll, dim=-1)


def test_queue_ranks_by_max_similarity_and_names_the_nearest_seed():
    seeds, coll = _setup()
    queue = moderation_queue(coll, seeds, flagged_names=["circle", "square"])
    assert set(queue.order[:7].tolist()) == set(range(7))
    assert (np.diff(queue.scores) <= 0).all()
    nearest = dict(zip(queue.order.tolist(), queue.nearest_names(), strict=True))
    assert all(nearest[i] == "circle" for i in range(4)) and all(nearest[i] == "square" for i in range(4, 7))
    expected = (coll @ seeds.T).max(1).values.numpy()
    assert np.allclose(queue.scores, np.sort(expected)[::-1], atol=1e-6)


def test_known_variants_raise_their_neighbours_and_keep_their_seed():
    seeds, coll = _setup()
    unrelated = coll[9]
    queue = moderation_queue(coll, seeds, flagged_names=["circle", "square"], known=unrelated[None], known_seed=[1])
    assert queue.order[0] == 9 and queue.nearest_names()[0] == "square"
    with pytest.raises(ValueError, match="known_seed"):
        moderation_queue(coll, seeds, known=unrelated[None])


def test_queue_attributes_entities_against_the_nearest_seed():
    seeds, _ = _setup()
    entity = F.normalize(torch.randn(16, generator=torch.Generator().manual_seed(5)), dim=0)
    other = F.normalize(torch.randn(16, generator=torch.Generator().manual_seed(6)), dim=0)
    variant = F.normalize(seeds[0] + entity, dim=0)
    queue = moderation_queue(variant[None], seeds, flagged_names=["a", "b"], entities={"azuria": entity,
                                                                                        "crown": other})
    assert queue.entities == ["azuria"] and queue.rows()[0]["entity"] == "azuria"
    # a copy of the seed (cosine above the band's upper bound) gets no entity
    both = torch.stack([variant, seeds[0]])
    queue = moderation_queue(both, seeds, flagged_names=["a", "b"], entities={"azuria": entity, "crown": other},
                             copy_above=0.95)
    assert dict(zip(queue.order.tolist(), queue.entities, strict=True)) == {0: "azuria", 1: None}


def test_bad_queue_input():
    seeds, coll = _setup()
    with pytest.raises(ValueError, match="coll is empty"):
        moderation_queue(torch.zeros((0, 16)), seeds)
    with pytest.raises(ValueError, match="flagged_names"):
        moderation_queue(coll, seeds, flagged_names=["one"])
    with pytest.raises(ValueError, match="images"):
        moderation_queue(coll, seeds, out_dir="/tmp/nowhere")


def _written_queue(tmp_path):
    seeds, coll = _setup()
    images = GlyphMemes(seed=0).sample(len(coll)).images
    kinds = ["variant"] * 4 + ["copy"] * 3 + ["other"] * 5
    moderation_queue(coll, seeds, flagged_names=["circle", "square"], images=images, out_dir=tmp_path, top=10,
                     truth=kinds)
    return tmp_path / "moderation_queue.html", tmp_path / "moderation_queue.png"


def test_queue_writes_contact_sheet_and_page(tmp_path):
    page, sheet = _written_queue(tmp_path)
    text = page.read_text()
    assert text.count("<tr class=") == 10 and text.count("data:image/png;base64,") == 10
    assert "Synthetic glyphs only" in text and sheet.stat().st_size > 5000


@pytest.mark.browser
def test_queue_page_renders_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path, _ = _written_queue(tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())
            rows = page.locator("#queue tbody tr")
            assert rows.count() == 10
            images = page.eval_on_selector_all("#queue img", "els => els.map(e => [e.complete, e.naturalWidth])")
            assert all(done and width == 96 for done, width in images), images
            assert rows.first.locator("td.rank").inner_text() == "1"
            scores = [float(s) for s in page.locator("#queue td.score").all_inner_texts()]
            assert scores == sorted(scores, reverse=True)
            assert set(page.locator("#queue td.seed").all_inner_texts()) <= {"circle", "square"}
            assert page.locator("tr.variant").count() + page.locator("tr.copy").count() >= 5
        finally:
            browser.close()
