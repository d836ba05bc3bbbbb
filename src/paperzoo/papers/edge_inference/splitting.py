"""Cut a traced model into per-tier parts that run in sequence: device -> edge -> cloud."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import fx, nn

from .planning import Plan
from .profiling import trace


@dataclass
class Part:
    """One tier's share: a GraphModule taking `inputs` (value names) and returning the tuple `outputs`.

    A tier with no nodes of its own still gets a part: it relays what later tiers need.
    """

    tier: int
    module: fx.GraphModule
    inputs: list[str]
    outputs: list[str]

    def __call__(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        missing = [n for n in self.inputs if n not in values]
        if missing:
            raise ValueError(f"part for tier {self.tier} is missing inputs {missing}")
        with torch.no_grad():
            out = self.module(*(values[n] for n in self.inputs))
        return dict(zip(self.outputs, out, strict=True))


def split_module(model: nn.Module, plan: Plan) -> list[Part]:
    """Split `model` by `plan` into parts for tiers 0..(last used tier); run them in order.

    >>> import torch
    >>> from paperzoo.papers.edge_inference import EdgeNet, profile_graph, chain_split, Tier, Link
    >>> m = EdgeNet().eval(); x = torch.randn(1, 3, 64, 64)
    >>> plan = chain_split(profile_graph(m, x, repeats=1), [Tier("d", 10), Tier("c")], [Link(1e9, 0)])
    >>> values = {"input_1": x}
    >>> for part in split_module(m, plan): values = part(values)
    >>> torch.equal(values[plan.profile.names[-1]], m(x))
    True
    """
    if not isinstance(plan, Plan):
        raise TypeError(f"plan must be a Plan, got {type(plan).__name__}")
    gm = trace(model)
    nodes = [n for n in gm.graph.nodes if n.op != "output"]
    names = [n.name for n in nodes]
    if names != plan.profile.names:
        raise ValueError("plan does not fit the model: its profile has different graph nodes "
                         f"({len(plan.profile.names)} vs {len(names)}); profile this model and plan again")
    tier = dict(zip(names, plan.assignment, strict=False))
    last_stage = max(plan.assignment)
    furthest = dict.fromkeys(names, -1)
    for n in nodes:
        for u in n.all_input_nodes:
            furthest[u.name] = max(furthest[u.name], tier[n.name])
    out_name = names[-1]

    def carried(stage: int) -> list[str]:
        if stage == last_stage:
            return [out_name]
        return [v for v in names if tier[v] <= stage < furthest[v]]

    parts, inputs = [], [names[0]]
    for stage in range(last_stage + 1):
        graph, env = fx.Graph(), {}
        for v in inputs:
            env[v] = graph.placeholder(v)
        for n in nodes[1:]:
            if tier[n.name] == stage:
                env[n.name] = graph.node_copy(n, lambda a, env=env: env[a.name])
        outputs = carried(stage)
        graph.output(tuple(env[v] for v in outputs))
        parts.append(Part(stage, fx.GraphModule(gm, graph).eval(), list(inputs), outputs))
        inputs = outputs
    return parts
