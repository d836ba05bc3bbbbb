"""Partition planners: Neurosurgeon chain split, DADS min-cut (2 and 3 tiers) and brute force.

Times are summed (light load): T = sum of node times on their tiers + every transfer, each output paid
once per link it crosses. Costs are integer nanoseconds so that min-cut and brute force agree exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from .profiling import GraphProfile

NS = 1_000_000_000


@dataclass(frozen=True)
class Tier:
    """A compute tier; `slowdown` dilates host time (device 10, edge 3, cloud 1 in the reproduction)."""

    name: str
    slowdown: float = 1.0

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"Tier name must be a non-empty string, got {self.name!r}")
        if not self.slowdown > 0:
            raise ValueError(f"Tier {self.name!r}: slowdown must be > 0, got {self.slowdown}")


@dataclass(frozen=True)
class Link:
    """A network link: bandwidth in bit/s and one-way latency in s; `transfer(d) = latency + 8 d / bandwidth`."""

    bandwidth_bps: float
    latency_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.bandwidth_bps > 0:
            raise ValueError(f"Link bandwidth_bps must be > 0, got {self.bandwidth_bps}")
        if not self.latency_s >= 0:
            raise ValueError(f"Link latency_s must be >= 0, got {self.latency_s}")

    def transfer(self, nbytes: int) -> float:
        return self.latency_s + 8.0 * nbytes / self.bandwidth_bps


@dataclass(frozen=True)
class Plan:
    """Which tier (index into `tiers`) runs each profile node, and the predicted latency in seconds."""

    assignment: tuple[int, ...]
    predicted_s: float
    method: str
    profile: GraphProfile
    tiers: tuple[Tier, ...]
    links: tuple[Link, ...]

    @property
    def tiers_used(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.assignment) | {0}))

    def describe(self) -> dict:
        names = self.profile.names
        return {"method": self.method, "predicted_s": self.predicted_s,
                "per_tier": {t.name: [n for n, a in zip(names, self.assignment, strict=False) if a == i]
                             for i, t in enumerate(self.tiers)}}


def check_setup(profile: GraphProfile, tiers: Sequence[Tier], links: Sequence[Link]) -> None:
    if not isinstance(profile, GraphProfile):
        raise TypeError(f"profile must be a GraphProfile, got {type(profile).__name__}")
    if not 2 <= len(tiers) <= 3:
        raise ValueError(f"tiers: 2 or 3 tiers are supported, got {len(tiers)}")
    if len(links) != len(tiers) - 1:
        raise ValueError(f"links: {len(tiers)} tiers need {len(tiers) - 1} links, got {len(links)}")
    for t in tiers:
        if not isinstance(t, Tier):
            raise TypeError(f"tiers must hold Tier objects, got {type(t).__name__}")
    for ln in links:
        if not isinstance(ln, Link):
            raise TypeError(f"links must hold Link objects, got {type(ln).__name__}")


def _ns(seconds: float) -> int:
    return int(round(seconds * NS))


def plan_cost_ns(profile: GraphProfile, assignment: Sequence[int], tiers: Sequence[Tier],
                 links: Sequence[Link]) -> int:
    """Predicted latency of an assignment in integer ns; a non-monotone assignment raises ValueError."""
    nodes = profile.nodes
    if len(assignment) != len(nodes):
        raise ValueError(f"assignment has {len(assignment)} entries for {len(nodes)} nodes")
    if assignment[0] != 0:
        raise ValueError("the input node must stay on the device (tier 0)")
    tier_of = dict(zip(profile.names, assignment, strict=True))
    furthest = dict.fromkeys(profile.names, -1)
    for node in nodes:
        for u in node.inputs:
            if tier_of[u] > tier_of[node.name]:
                raise ValueError(f"data would flow back from tier {tier_of[u]} to {tier_of[node.name]} "
                                 f"at {node.name!r}")
            furthest[u] = max(furthest[u], tier_of[node.name])
    total = 0
    for node, tier in zip(nodes, assignment, strict=True):
        total += _ns(node.seconds * tiers[tier].slowdown)
        total += sum(_ns(links[ln].transfer(node.out_bytes)) for ln in range(tier, max(furthest[node.name], tier)))
    last = nodes[-1]
    total += sum(_ns(links[ln].transfer(last.out_bytes)) for ln in range(assignment[-1]))  # result back
    return total


def _plan(profile, assignment, tiers, links, method) -> Plan:
    cost = plan_cost_ns(profile, assignment, tiers, links)
    return Plan(tuple(int(a) for a in assignment), cost / NS, method, profile, tuple(tiers), tuple(links))


def chain_latencies(profile: GraphProfile, tiers: Sequence[Tier], links: Sequence[Link]) -> dict:
    """Predicted latency of every chain split: {(k,): s} for 2 tiers, {(k1, k2): s} for 3 tiers.

    k = number of compute layers on the device (0 = remote only, L = device only).
    """
    check_setup(profile, tiers, links)
    if not profile.is_chain():
        raise ValueError("profile is not a chain; use mincut_partition for DAGs")
    L = len(profile.nodes) - 1
    out = {}
    ranges = [(k,) for k in range(L + 1)] if len(tiers) == 2 else \
        [(k1, k2) for k1 in range(L + 1) for k2 in range(k1, L + 1)]
    for ks in ranges:
        bounds = (*ks, L)
        assignment = [0] + [next(t for t, b in enumerate(bounds) if i <= b) for i in range(1, L + 1)]
        out[ks] = plan_cost_ns(profile, assignment, tiers, links) / NS
    return out


def chain_assignment(profile: GraphProfile, ks: Sequence[int]) -> tuple[int, ...]:
    L = len(profile.nodes) - 1
    bounds = (*ks, L)
    return (0,) + tuple(next(t for t, b in enumerate(bounds) if i <= b) for i in range(1, L + 1))


def chain_split(profile: GraphProfile, tiers: Sequence[Tier], links: Sequence[Link]) -> Plan:
    """Neurosurgeon: the best split of a chain, enumerating k (2 tiers) or k1 <= k2 (3 tiers, O(L^2)).

    >>> from paperzoo.papers.edge_inference.profiling import NodeProfile
    >>> prof = GraphProfile((NodeProfile("x", 0, 4000), NodeProfile("a", 0.001, 40, ("x",))))
    >>> chain_split(prof, [Tier("device", 10), Tier("cloud")], [Link(1e6, 0.01)]).assignment
    (0, 0)
    """
    lat = chain_latencies(profile, tiers, links)
    best = min(lat, key=lambda ks: (round(lat[ks] * NS), ks))
    return _plan(profile, chain_assignment(profile, best), tiers, links, "chain")


def _link_cost(link: Link, nbytes: int) -> int:
    return _ns(link.transfer(nbytes))


def mincut_partition(profile: GraphProfile, tiers: Sequence[Tier], links: Sequence[Link]) -> Plan:
    """DADS: the latency-optimal partition of a DAG as one s-t min cut (networkx), 2 or 3 tiers.

    Each output with consumers gets an auxiliary node so that it is paid once per link however many
    consumers are remote; infinite reverse edges forbid data flowing back to a lower tier.
    """
    check_setup(profile, tiers, links)
    nodes = profile.nodes
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for n in nodes:
        for u in n.inputs:
            consumers[u].append(n.name)
    g = nx.DiGraph()
    g.add_node("s")
    g.add_node("c")
    layers = ["a"] if len(tiers) == 2 else ["a", "b"]  # a_v = [tier >= 1], b_v = [tier == 2]
    last = nodes[-1].name
    for n in nodes:
        t = [_ns(n.seconds * tier.slowdown) for tier in tiers]
        if len(tiers) == 2:
            g.add_edge("s", (n.name, "a"), capacity=t[1] + (_link_cost(links[0], n.out_bytes) if n.name == last else 0))
            g.add_edge((n.name, "a"), "c", capacity=t[0])
        else:
            g.add_edge("s", (n.name, "b"), capacity=t[2] + (_link_cost(links[1], n.out_bytes) if n.name == last else 0))
            g.add_edge((n.name, "b"), (n.name, "a"), capacity=t[1])
            g.add_edge((n.name, "a"), "c", capacity=t[0])
            g.add_edge((n.name, "a"), (n.name, "b"))  # infinite: edge or cloud needs a >= b
            if n.name == last:
                g.add_edge("s", (n.name, "a"), capacity=_link_cost(links[0], n.out_bytes))
        for li, layer in enumerate(layers):
            if consumers[n.name]:
                g.add_edge((n.name, layer), (n.name, layer, "aux"), capacity=_link_cost(links[li], n.out_bytes))
            for w in consumers[n.name]:
                g.add_edge((n.name, layer, "aux"), (w, layer))  # infinite
                g.add_edge((w, layer), (n.name, layer))  # infinite: no flow from a higher tier back down
    g.add_edge("s", (nodes[0].name, "a"))
    g["s"][(nodes[0].name, "a")].pop("capacity", None)  # infinite: the input stays on the device
    _, (source_side, _) = nx.minimum_cut(g, "s", "c")
    assignment = []
    for n in nodes:
        tier = int((n.name, "a") not in source_side)
        if len(tiers) == 3:
            tier += int((n.name, "b") not in source_side)
        assignment.append(tier)
    return _plan(profile, assignment, tiers, links, "mincut")


def brute_force_partition(profile: GraphProfile, tiers: Sequence[Tier], links: Sequence[Link]) -> Plan:
    """The exact optimum by enumerating all monotone assignments (|tiers|^(|V|-1)); small graphs only."""
    check_setup(profile, tiers, links)
    n = len(profile.nodes)
    if len(tiers) ** (n - 1) > 2_000_000:
        raise ValueError(f"profile has {n} nodes: too many for brute force with {len(tiers)} tiers")
    index = {name: i for i, name in enumerate(profile.names)}
    edges = [(index[u], i) for i, node in enumerate(profile.nodes) for u in node.inputs]
    best, best_assignment = None, None
    for rest in itertools.product(range(len(tiers)), repeat=n - 1):
        a = (0, *rest)
        if any(a[u] > a[w] for u, w in edges):
            continue
        cost = plan_cost_ns(profile, a, tiers, links)
        if best is None or cost < best:
            best, best_assignment = cost, a
    return _plan(profile, best_assignment, tiers, links, "brute_force")


PLANNERS = {"chain": chain_split, "mincut": mincut_partition, "brute_force": brute_force_partition}
