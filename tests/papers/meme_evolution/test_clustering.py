import numpy as np
import pytest

from paperzoo.papers.meme_evolution import Glyph, cluster, cluster_scores, purity


def _blobs():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 3
    x = np.concatenate([rng.normal(c, 0.02, (30, 8)) for c in centres])
    return x, np.repeat([0, 1, 2], 30)


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_separated_blobs_are_found(method):
    x, truth = _blobs()
    result = cluster(x, method=method)
    assert result.n_clusters == 3 and result.noise < 0.1
    assert purity(result.labels, list(truth)) == 1.0
    assert (result.eps is None) == (method == "hdbscan")


def test_eps_comes_from_the_k_distance_curve_and_can_be_set():
    x, _ = _blobs()
    auto = cluster(x)
    assert 0 < auto.eps < 0.2
    assert cluster(x, eps=10.0).n_clusters == 1


def test_purity_and_scores():
    labels = np.array([0, 0, 0, 1, 1, -1])
    assert purity(labels, ["a", "a", "b", "c", "c", "z"]) == pytest.approx(4 / 5)
    assert np.isnan(purity(np.array([-1, -1]), ["a", "b"]))
    glyphs = [Glyph("circle", flag="azuria")] * 3 + [Glyph("square")] * 3
    from paperzoo.papers.meme_evolution.clustering import Clusters

    scores = cluster_scores(Clusters(np.array([0, 0, 0, 1, 1, 1]), 0.1, "dbscan"), glyphs)
    assert scores["purity"] == 1.0 and scores["noise"] == 0.0 and scores["ari_template"] == 1.0


def test_bad_cluster_arguments():
    with pytest.raises(ValueError, match="method"):
        cluster(np.zeros((10, 2)), method="kmeans")
    with pytest.raises(ValueError, match="embs"):
        cluster(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="eps"):
        cluster(np.zeros((10, 2)), eps=-1.0)
