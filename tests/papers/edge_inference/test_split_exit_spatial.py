import pytest
import torch
from torch import nn

from paperzoo.papers.edge_inference import (
    DagNet,
    EdgeNet,
    Link,
    Plan,
    SpatialPartition,
    Tier,
    brute_force_exit_split,
    chain_latencies,
    exit_cnn_1d,
    joint_exit_split,
    plan_cost_ns,
    profile_graph,
    split_module,
    wire,
)

TIERS = (Tier("device", 10), Tier("edge", 3), Tier("cloud", 1))
LINKS = (Link(1e7, 0.002), Link(1e7, 0.008))


@pytest.mark.parametrize("model_cls", [EdgeNet, DagNet])
def test_split_is_bit_identical_through_the_wire(model_cls):
    torch.manual_seed(0)
    model, x = model_cls().eval(), torch.randn(1, 3, 64, 64)
    prof = profile_graph(model, x, repeats=1, warmup=0)
    n = len(prof.nodes)
    assignment = (0,) + tuple(min(2, 3 * i // n) for i in range(1, n))  # three monotone stages
    plan = Plan(assignment, plan_cost_ns(prof, assignment, TIERS, LINKS) / 1e9, "chain", prof, TIERS, LINKS)
    values = {prof.names[0]: x}
    for part in split_module(model, plan):
        header, tensors = wire.encode_graph(part.module)
        remote = wire.decode_graph(*wire.decode(wire.encode(tensors, header)))
        _, sent = wire.decode(wire.encode(values))
        values = dict(zip(part.outputs, remote(*(sent[k] for k in part.inputs)), strict=False))
    with torch.no_grad():
        assert torch.equal(values[prof.names[-1]], model(x))


def test_wire_rejects_malformed_frames():
    good = wire.encode({"a": torch.arange(6, dtype=torch.float32).reshape(2, 3)})
    _, t = wire.decode(good)
    assert torch.equal(t["a"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    with pytest.raises(wire.WireError, match="truncated"):
        wire.decode(good[:-3])
    with pytest.raises(wire.WireError, match="magic"):
        wire.decode(b"XXXX" + good[4:])
    bad_dtype = bytearray(good)
    bad_dtype[good.index(b"a") + 1] = 99
    with pytest.raises(wire.WireError, match="dtype"):
        wire.decode(bytes(bad_dtype))
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.decode(good, max_bytes=10)
    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.encode_graph(torch.fx.symbolic_trace(nn.Sequential(nn.LSTMCell(2, 2))))


@pytest.mark.parametrize("mode", ["layerwise", "fused"])
@pytest.mark.parametrize("workers", [2, 3, 4, 5])
def test_spatial_partition_equals_unsplit(mode, workers):
    torch.manual_seed(0)
    stack = nn.Sequential(nn.Conv2d(3, 5, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1),
                          nn.Conv2d(5, 4, 5, padding=2), nn.AvgPool2d(2), nn.Conv2d(4, 4, 1))
    x = torch.randn(2, 3, 37, 23)  # odd sizes, stride 2, P not dividing H
    with torch.no_grad():
        diff = (SpatialPartition(stack, workers, mode).forward(x) - stack(x)).abs().max()
    assert diff <= 1e-5


def test_spatial_partition_rejects_bad_arguments():
    with pytest.raises(TypeError, match="convs"):
        SpatialPartition([nn.Linear(2, 2)], 2)
    with pytest.raises(ValueError, match="mode"):
        SpatialPartition([nn.ReLU()], 2, mode="grid")
    with pytest.raises(ValueError, match="n_workers"):
        SpatialPartition([nn.ReLU()], 0)


def test_joint_exit_split_equals_brute_force_and_exit_semantics():
    torch.manual_seed(0)
    net = exit_cnn_1d().eval()
    x = torch.randn(1, 40)
    profiles = [profile_graph(net.truncated(n), x, repeats=2, warmup=1) for n in range(net.n_exits)]
    with torch.no_grad():
        assert torch.equal(net.truncated(3)(x), net(x)[-1]) and torch.equal(net.truncated(1)(x), net(x)[1])
    accs = [0.6, 0.8, 0.85, 0.84]
    tiers = [Tier("device", 10), Tier("edge", 3)]
    for bw in (1e5, 1e6, 1e8):
        links = [Link(bw, 0.002)]
        lat = sorted(v for p in profiles for v in chain_latencies(p, tiers, links).values())
        for budget in [lat[0] * 0.5, *lat[:: max(1, len(lat) // 6)], lat[-1] * 2]:
            got = joint_exit_split(net, profiles, budget, tiers=tiers, links=links, accuracies=accs)
            want = brute_force_exit_split(profiles, budget, tiers=tiers, links=links, accuracies=accs)
            assert (got is None) == (want is None)
            if got is not None:
                assert got.exit == want.exit and got.predicted_s <= budget
    net.thresholds = [0.0, 0.0, 0.0]
    _, where = net.predict(torch.randn(5, 40))
    assert where.tolist() == [3] * 5  # entropy is never below 0: nobody exits early
    with pytest.raises(ValueError, match="budget_s"):
        joint_exit_split(net, profiles, 0.0, tiers=tiers, links=[Link(1e6)], accuracies=accs)
