import numpy as np
import pytest
import torch

from paperzoo.papers.edge_inference import (
    EdgeNet,
    GraphProfile,
    LatencyModel,
    Link,
    NodeProfile,
    Tier,
    brute_force_partition,
    chain_latencies,
    chain_split,
    mincut_partition,
    plan_cost_ns,
    profile_graph,
    random_dag,
    split_module,
)

DEV, EDGE, CLOUD = Tier("device", 10), Tier("edge", 3), Tier("cloud", 1)




@pytest.fixture(scope="module")
def edgenet_profile():
    torch.manual_seed(0)
    model = EdgeNet().eval()
    return model, profile_graph(model, torch.randn(1, 3, 64, 64), repeats=2, warmup=1)


def test_mincut_equals_brute_force_two_and_three_tiers():
    rng = np.random.default_rng(1)
    fan_out_seen = 0
    for _ in range(40):
        g = random_dag(rng, int(rng.integers(3, 8)))
        consumers = [sum(n.name in m.inputs for m in g.nodes) for n in g.nodes]
        fan_out_seen += max(consumers) > 1
        for tiers, links in (([DEV, CLOUD], [Link(float(rng.choice([1e5, 1e6, 1e7, 1e8])), 0.01)]),
                             ([DEV, EDGE, CLOUD], [Link(float(rng.choice([1e6, 1e7, 1e8])), 0.002),
                                                   Link(float(rng.choice([1e6, 1e7])), 0.008)])):
            cut, brute = mincut_partition(g, tiers, links), brute_force_partition(g, tiers, links)
            assert cut.predicted_s == brute.predicted_s
            assert plan_cost_ns(g, cut.assignment, tiers, links) == round(cut.predicted_s * 1e9)
    assert fan_out_seen > 10


def test_fan_out_output_paid_once():
    # input fans out to two cheap-on-cloud consumers: the min cut pays the transfer of the input once
    g = GraphProfile((NodeProfile("x", 0, 125_000), NodeProfile("a", 0.01, 10, ("x",)),
                      NodeProfile("b", 0.01, 10, ("x",)), NodeProfile("c", 0.0, 10, ("a", "b"))))
    links = [Link(1e8, 0.0)]
    plan = mincut_partition(g, [DEV, CLOUD], links)
    assert plan.assignment == (0, 1, 1, 1)
    assert plan.predicted_s == pytest.approx(0.01 + 0.02 + 1e-6 * 0.8, abs=1e-9)


def test_chain_split_beats_extremes_and_matches_mincut(edgenet_profile):
    _, prof = edgenet_profile
    for bw in (1e5, 1e6, 1e7, 1e8, 1e9):
        links = [Link(bw, 0.01)]
        lat = chain_latencies(prof, [DEV, CLOUD], links)
        plan = chain_split(prof, [DEV, CLOUD], links)
        L = len(prof.nodes) - 1
        assert plan.predicted_s <= min(lat[(0,)], lat[(L,)]) + 1e-12
        assert mincut_partition(prof, [DEV, CLOUD], links).predicted_s == plan.predicted_s
    links = [Link(1e8, 0.002), Link(1e7, 0.008)]
    three = chain_split(prof, [DEV, EDGE, CLOUD], links)
    assert three.predicted_s == mincut_partition(prof, [DEV, EDGE, CLOUD], links).predicted_s


def test_bad_input_is_named(edgenet_profile):
    model, prof = edgenet_profile
    with pytest.raises(ValueError, match="bandwidth"):
        Link(0, 0.01)
    with pytest.raises(ValueError, match="links"):
        chain_split(prof, [DEV, CLOUD], [])
    with pytest.raises(ValueError, match="slowdown"):
        Tier("x", 0)
    plan = chain_split(prof, [DEV, CLOUD], [Link(1e6, 0.01)])
    with pytest.raises(ValueError, match="does not fit"):
        split_module(torch.nn.Sequential(torch.nn.ReLU()), plan)
    with pytest.raises(ValueError, match="unknown layer type"):
        LatencyModel().fit([("lstm", (1.0,), 0.1)])
    dag = GraphProfile((NodeProfile("x", 0, 1), NodeProfile("a", 1, 1, ("x",)), NodeProfile("b", 1, 1, ("x",))))
    with pytest.raises(ValueError, match="not a chain"):
        chain_split(dag, [DEV, CLOUD], [Link(1e6)])


def test_latency_model_predicts_layer_times():
    from paperzoo.papers.edge_inference import random_layer_records

    records = random_layer_records(40, seed=0, types=("linear", "relu"), repeats=2)
    lm = LatencyModel(seed=0).fit(records)
    assert lm.report_["linear"]["n_test"] == 4 and lm.report_["linear"]["mape"] >= 0
    prof = GraphProfile((NodeProfile("x", 0, 4, (), "input"),
                         NodeProfile("fc", 1.0, 4, ("x",), "linear", (4096.0, 1024.0, 4096.0 * 1024)),
                         NodeProfile("c", 1.0, 4, ("fc",), "conv", (1.0, 1.0, 1.0, 1.0))))
    with pytest.raises(ValueError, match="no fitted latency model"):
        lm.predict(prof)
    small = NodeProfile("s", 0, 4, ("x",), "linear", (64.0, 10.0, 640.0))
    assert lm.predict_node(prof.nodes[1]) > lm.predict_node(small)
