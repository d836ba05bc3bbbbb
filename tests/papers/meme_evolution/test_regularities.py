import numpy as np
import pytest
import torch
from torch.nn import functional as F

from paperzoo.papers.meme_evolution import (
    Band,
    attribute_entities,
    calibrate_band,
    find_influencers,
    find_variants,
    fuse,
)


def _unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_fuse_normalises_and_weights():
    m, t = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 5.0])
    q = fuse(m, t, alpha=0.5)
    assert q.shape == (2,) and torch.allclose(q, torch.tensor([0.7071, 0.7071]), atol=1e-4)
    assert torch.allclose(fuse(m, t, alpha=1.0), torch.tensor([1.0, 0.0]))
    assert torch.allclose(fuse(m, t, alpha=0.2), F.normalize(torch.tensor([0.2, 0.8]), dim=0))
    many = fuse(m, torch.randn(7, 2), 0.3)
    assert many.shape == (7, 2) and torch.allclose(many.norm(dim=1), torch.ones(7))


@pytest.mark.parametrize("alpha", [-0.1, 1.01, float("nan"), "0.5", True])
def test_fuse_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha"):
        fuse(torch.ones(2), torch.ones(2), alpha=alpha)


def test_calibrate_band_on_hand_built_cosines():
    seed = torch.tensor([1.0, 0.0])
    angles = {"variant": np.linspace(0.5, 0.8, 21), "copy": np.linspace(0.9, 0.99, 10), "other": [0.1, 0.2]}
    rows, kinds = [], []
    for kind, cosines in angles.items():
        for c in cosines:
            rows.append([c, np.sqrt(1 - c * c)])
            kinds.append(kind)
    band = calibrate_band(seed, torch.tensor(rows, dtype=torch.float32), kinds)
    variants = angles["variant"]
    assert band.lower == pytest.approx(np.percentile(variants, 5), abs=1e-5)
    expected_upper = (np.percentile(variants, 95) + np.percentile(angles["copy"], 5)) / 2
    assert band.upper == pytest.approx(expected_upper, abs=1e-5)
    hits = find_variants(seed, torch.tensor(rows, dtype=torch.float32), band)
    found = {kinds[i] for i in hits}
    assert found == {"variant"} and len(hits) >= 19
    sims = torch.tensor(rows)[hits] @ seed.double()
    assert (np.diff(sims.numpy()) <= 0).all()  # most similar first


def test_band_needs_variants_and_copies_and_order():
    with pytest.raises(ValueError, match="variant"):
        calibrate_band(torch.ones(2), torch.ones(3, 2), ["copy", "other", "copy"])
    with pytest.raises(ValueError, match="kinds"):
        calibrate_band(torch.ones(2), torch.ones(3, 2), ["copy"])
    with pytest.raises(ValueError, match="band: lower"):
        Band(0.9, 0.5)
    with pytest.raises(ValueError, match="band: lower"):
        find_variants(torch.ones(2), torch.ones(3, 2), (0.9, 0.5))
    with pytest.raises(ValueError, match="embeddings is empty"):
        find_variants(torch.ones(2), torch.zeros((0, 2)), (0.1, 0.5))


def test_find_influencers_excludes_near_copies_of_the_variant():
    m = _unit([1.0, 0.0, 0.0])
    v = _unit([1.0, 1.0, 0.9])                       # seed fused (imperfectly) with entity e1 = [0, 1, 0]
    coll = _unit([1.0, 1.0, 0.92],                   # 0: a copy of the variant itself
                 [0.0, 1.0, 0.0],                    # 1: the entity alone: the right influencer
                 [0.0, 0.0, 1.0],                    # 2: another entity
                 [1.0, 0.0, 0.0])                    # 3: the seed
    res = find_influencers(m, v, coll, exclude_above=0.99, k=2)
    assert res.indices[0, 0] == 1 and 0 not in res.indices[0]
    # without the exclusion, the variant's own copy wins
    assert find_influencers(m, v, coll, exclude_above=1.01, k=1).indices[0, 0] == 0
    # the pitfall: a threshold below cos(v, entity) = 0.60 removes the right entity image too
    assert find_influencers(m, v, coll, exclude_above=0.55, k=1).indices[0, 0] == 2
    score = res.scores[0, 0]
    assert find_influencers(m, v, coll, exclude_above=0.99, keep_above=score - 1e-4, k=1).kept[0]
    assert not find_influencers(m, v, coll, exclude_above=0.99, keep_above=score + 1e-4, k=1).kept[0]


def test_find_influencers_marks_missing_candidates():
    res = find_influencers(_unit([1.0, 0.0]), _unit([1.0, 0.1]), _unit([1.0, 0.1], [1.0, 0.12]),
                           exclude_above=0.9, k=2)
    assert (res.indices == -1).all() and not res.kept.any()
    with pytest.raises(ValueError, match="coll is empty"):
        find_influencers(_unit([1.0, 0.0]), _unit([1.0, 0.1]), torch.zeros((0, 2)), exclude_above=0.9)


def test_attribution_where_the_answer_is_known():
    m = _unit([1.0, 0.0, 0.0, 0.0])
    entities = {"azuria": _unit([0.0, 1.0, 0.0, 0.0])[0], "crown": _unit([0.0, 0.0, 1.0, 0.0])[0],
                "star": _unit([0.0, 0.0, 0.0, 1.0])[0]}
    variants = torch.stack([fuse(m[0], entities[e], 0.5) for e in ("crown", "star", "azuria")])
    variants = variants + 0.05 * torch.randn(variants.shape, generator=torch.Generator().manual_seed(0))
    assert attribute_entities(m, variants, entities) == ["crown", "star", "azuria"]
    assert attribute_entities(m, variants, entities, alpha=0.2) == ["crown", "star", "azuria"]
    with pytest.raises(ValueError, match="encoder"):
        attribute_entities(m, variants, {"crown": "wearing a crown"})
    with pytest.raises(ValueError, match="alpha"):
        attribute_entities(m, variants, entities, alpha=1.5)
