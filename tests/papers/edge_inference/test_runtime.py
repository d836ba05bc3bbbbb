"""The real runtime: tier processes serving gRPC on loopback (started once for the module)."""

import grpc
import pytest
import torch

from paperzoo.papers.edge_inference import (
    D2DRuntime,
    DagNet,
    EdgeNet,
    Link,
    Runtime,
    SpatialPartition,
    Tier,
    TierProcess,
    chain_split,
    mincut_partition,
    profile_graph,
    start_tiers,
    wire,
)
from paperzoo.papers.edge_inference.serve import call, channel_options

TIERS = [Tier("device", 10), Tier("edge", 3), Tier("cloud", 1)]


@pytest.fixture(scope="module")
def servers():
    procs = list(start_tiers(["edge", "cloud"]).values())
    yield procs
    for p in procs:
        p.stop()


def test_three_tier_dag_runtime_is_exact_and_replans(servers):
    torch.manual_seed(0)
    model, x = DagNet().eval(), torch.randn(1, 3, 64, 64)
    prof = profile_graph(model, x, repeats=2, warmup=1)
    links = [Link(1e9, 0.0), Link(1e9, 0.0)]
    fast = [Tier("device", 100), Tier("edge", 10), Tier("cloud", 1)]  # everything wants the cloud
    plan = mincut_partition(prof, fast, links)
    assert max(plan.assignment) == 2
    with Runtime(model, plan, fast, links, addresses=[p.address for p in servers]) as rt:
        result = rt.infer(x)
        with torch.no_grad():
            assert torch.equal(result.y, model(x)) and not result.fallback
        new = rt.set_links([Link(1e3, 0.5), Link(1e3, 0.5)])  # the network collapsed: stay on the device
        assert set(new.assignment) == {0} and rt.plan is new
        y, seconds = rt.infer(x)
        assert torch.equal(y, result.y) and seconds < 1.0


def test_malformed_and_oversized_messages_get_error_replies(servers):
    channel = grpc.insecure_channel(servers[0].address, options=channel_options())
    with pytest.raises(grpc.RpcError) as err:
        call(channel, "Infer", b"garbage", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    frame = bytearray(wire.encode({"t": torch.zeros(4)}))
    frame[-17 - 8] ^= 0xFF  # corrupt the byte count
    with pytest.raises(grpc.RpcError) as err:
        call(channel, "Setup", bytes(frame), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    small = grpc.insecure_channel(servers[0].address)  # a client with gRPC's default 4 MB limit still gets a reply
    with pytest.raises(grpc.RpcError) as err:
        call(small, "Infer", wire.encode({"t": torch.zeros(300, 1024, 1024, dtype=torch.uint8)}), timeout=10)
    assert err.value.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT)
    header, _ = wire.decode(call(channel, "Ping", wire.encode({}), timeout=10))
    assert header == {"tier": "edge"}  # still serving
    channel.close()
    small.close()


def test_killed_tier_falls_back_locally(servers):
    torch.manual_seed(0)
    model, x = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    prof = profile_graph(model, x, repeats=2, warmup=1)
    tiers, links = [Tier("device", 50), Tier("cloud", 1)], [Link(1e9, 0.0)]
    plan = chain_split(prof, tiers, links)
    assert max(plan.assignment) == 1
    victim = TierProcess("cloud")
    with Runtime(model, plan, tiers, links, addresses=[victim.address], timeout_s=5) as rt:
        assert not rt.infer(x).fallback
        victim.stop()
        result = rt.infer(x)
        assert result.fallback and "UNAVAILABLE" in result.detail
        with torch.no_grad():
            assert torch.equal(result.y, model(x))


def test_d2d_runtime_matches_unsplit(servers):
    torch.manual_seed(0)
    model, x = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    for mode in ("layerwise", "fused"):
        sp = SpatialPartition(model.features, 2, mode)
        with D2DRuntime(sp, model.head, slowdown=1, link=Link(1e9, 0.0), addresses=[p.address for p in servers]) as rt:
            y, seconds = rt.infer(x)
        with torch.no_grad():
            assert (y - model(x)).abs().max() <= 1e-5 and seconds > 0


def test_runtime_rejects_mismatched_setup(servers):
    model, x = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    prof = profile_graph(model, x, repeats=1, warmup=0)
    plan = chain_split(prof, TIERS[:2], [Link(1e6, 0.01)])
    with pytest.raises(ValueError, match="links"):
        Runtime(model, plan, TIERS[:2], [Link(1e6, 0.01)] * 2)
    with pytest.raises(ValueError, match="addresses"):
        Runtime(model, plan, TIERS[:2], [Link(1e6, 0.01)], addresses=["a", "b"])
