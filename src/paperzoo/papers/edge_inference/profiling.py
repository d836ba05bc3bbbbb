"""Per-node profiles of a torch.fx graph and Neurosurgeon's per-layer-type latency regressions."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import fx, nn


@dataclass(frozen=True)
class NodeProfile:
    """One graph node: host seconds, output bytes, predecessor names, layer type and regression features."""

    name: str
    seconds: float
    out_bytes: int
    inputs: tuple[str, ...] = ()
    layer_type: str = "other"
    features: tuple[float, ...] = ()


@dataclass(frozen=True)
class GraphProfile:
    """Nodes in topological order; node 0 is the input (pinned to the device), the last node the output."""

    nodes: tuple[NodeProfile, ...]
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.nodes) < 2:
            raise ValueError("profile needs an input node and at least one compute node")
        seen: set[str] = set()
        for node in self.nodes:
            unknown = [i for i in node.inputs if i not in seen]
            if unknown:
                raise ValueError(f"profile node {node.name!r} reads {unknown} before they are defined")
            if node.seconds < 0 or node.out_bytes < 0:
                raise ValueError(f"profile node {node.name!r} has negative time or bytes")
            seen.add(node.name)

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes]

    def is_chain(self) -> bool:
        return all(n.inputs == (self.nodes[i].name,) for i, n in enumerate(self.nodes[1:]))

    def with_seconds(self, seconds: Sequence[float]) -> GraphProfile:
        """The same graph with node times replaced (e.g. by a LatencyModel's predictions)."""
        if len(seconds) != len(self.nodes):
            raise ValueError(f"seconds has {len(seconds)} entries for {len(self.nodes)} nodes")
        nodes = tuple(replace(n, seconds=float(s)) for n, s in zip(self.nodes, seconds, strict=True))
        return GraphProfile(nodes, self.meta)


def _nbytes(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


def _layer_type(module: nn.Module | None, target) -> str:
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return "depthwise" if module.groups > 1 and module.groups == module.in_channels else "conv"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        return "pool"
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return "batchnorm"
    if isinstance(module, nn.ReLU) or target in (torch.relu, torch.nn.functional.relu):
        return "relu"
    if isinstance(module, (nn.Flatten, nn.Unflatten)) or target is torch.flatten:
        return "flatten"
    if target is torch.cat:
        return "cat"
    if getattr(target, "__name__", "") in ("add", "iadd"):
        return "add"
    return "other"


def layer_features(layer_type: str, module: nn.Module | None, x: torch.Tensor | None, y: torch.Tensor) -> tuple:
    """Regression features of one layer (Neurosurgeon style; ReLU/flatten/add/cat are constants)."""
    spatial_out = int(np.prod(y.shape[2:])) if y.dim() > 2 else 1
    if layer_type == "conv":
        macs = y.numel() * module.in_channels // module.groups * int(np.prod(module.kernel_size))
        stride = int(np.prod(module.stride))
        return (float(spatial_out), float(module.out_channels), float(macs), float(x[0].numel() // stride))
    if layer_type == "depthwise":
        return (float(spatial_out), float(np.prod(module.kernel_size)), float(np.prod(module.stride)),
                float(module.out_channels), float(y.numel() * np.prod(module.kernel_size)))
    if layer_type == "linear":
        return (float(module.in_features), float(module.out_features), float(module.in_features * module.out_features))
    if layer_type == "pool":
        k = module.kernel_size if isinstance(module.kernel_size, int) else int(np.prod(module.kernel_size))
        return (float(int(np.prod(x.shape[2:]))), float(k), float(x.shape[1]), float(x.numel()))
    if layer_type == "batchnorm":
        return (float(int(np.prod(x.shape[2:]))), float(x.shape[1]), float(x.numel()))
    return ()


class _Timer(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.times: dict[str, float] = {}
        self.values: dict[str, object] = {}

    def run_node(self, n: fx.Node):
        start = time.perf_counter()
        out = super().run_node(n)
        self.times[n.name] = time.perf_counter() - start
        self.values[n.name] = out
        return out


def trace(model: nn.Module) -> fx.GraphModule:
    """`torch.fx.symbolic_trace`, with a clear error for models fx cannot trace."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    try:
        return fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds of errors on dynamic control flow
        raise ValueError(f"model cannot be traced by torch.fx: {exc}") from exc


@torch.no_grad()
def profile_graph(model: nn.Module, x: torch.Tensor, repeats: int = 20, warmup: int = 3) -> GraphProfile:
    """Profile every fx node of `model` on input `x`: median of `repeats` timed runs after `warmup`.

    Profile at the thread count you will run at (`torch.set_num_threads`).

    >>> from paperzoo.papers.edge_inference.models import EdgeNet
    >>> prof = profile_graph(EdgeNet().eval(), torch.zeros(1, 3, 64, 64), repeats=2, warmup=1)
    >>> prof.nodes[0].out_bytes
    49152
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor, got {type(x).__name__}")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    gm = trace(model)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ValueError(f"model must take exactly one tensor input, its graph has {len(placeholders)}")
    samples: dict[str, list[float]] = {}
    timer = _Timer(gm)
    for i in range(warmup + repeats):
        timer.run(x)
        if i >= warmup:
            for name, t in timer.times.items():
                samples.setdefault(name, []).append(t)
    modules = dict(gm.named_modules())
    nodes = []
    for n in gm.graph.nodes:
        if n.op == "output":
            continue
        module = modules.get(n.target) if n.op == "call_module" else None
        kind = "input" if n.op == "placeholder" else _layer_type(module, n.target)
        preds = tuple(a.name for a in n.all_input_nodes)
        x_in = timer.values[preds[0]] if preds else None
        feats = layer_features(kind, module, x_in, timer.values[n.name]) if kind != "input" else ()
        seconds = 0.0 if n.op == "placeholder" else statistics.median(samples[n.name])
        nodes.append(NodeProfile(n.name, seconds, _nbytes(timer.values[n.name]), preds, kind, feats))
    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    if out_node.args[0].name != nodes[-1].name:
        raise ValueError("the model's output must be its last graph node")
    return GraphProfile(tuple(nodes), {"threads": torch.get_num_threads(), "repeats": repeats})


# --------------------------------------------------------------------------------------------------
# Latency regressions (Neurosurgeon): one linear model per layer type, constants for cheap layers.

REGRESSED = ("conv", "depthwise", "linear", "pool", "batchnorm")
CONSTANT = ("relu", "flatten", "add", "cat", "input")


def _random_layer(kind: str, rng: np.random.Generator) -> tuple[nn.Module, torch.Tensor]:
    h = int(rng.choice([8, 16, 32, 64]))
    c_in = int(rng.choice([3, 8, 16, 32, 64, 128]))
    if kind == "conv":
        c_out, k, s = int(rng.choice([8, 16, 32, 64, 128])), int(rng.choice([1, 3, 5])), int(rng.choice([1, 2]))
        if h == 64 and c_in * c_out > 2048:
            h = 32  # keep one timing below ~20 ms
        return nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2), torch.randn(1, c_in, h, h)
    if kind == "depthwise":
        k, s = int(rng.choice([3, 5])), int(rng.choice([1, 2]))
        return nn.Conv2d(c_in, c_in, k, stride=s, padding=k // 2, groups=c_in), torch.randn(1, c_in, h, h)
    if kind == "linear":
        f_in, f_out = int(rng.choice([64, 256, 512, 1024, 2048, 4096])), int(rng.choice([10, 64, 256, 512, 1024]))
        return nn.Linear(f_in, f_out), torch.randn(1, f_in)
    if kind == "pool":
        k = int(rng.choice([2, 3, 4]))
        return nn.MaxPool2d(k), torch.randn(1, c_in, h, h)
    if kind == "batchnorm":
        return nn.BatchNorm2d(c_in).eval(), torch.randn(1, c_in, h, h)
    if kind == "relu":
        return nn.ReLU(), torch.randn(1, c_in, h, h)
    if kind == "flatten":
        return nn.Flatten(), torch.randn(1, c_in, h, h)
    raise ValueError(f"unknown layer type {kind!r}")


def random_dag(rng: np.random.Generator, n_nodes: int, max_preds: int = 3, window: int | None = None) -> GraphProfile:
    """A random DAG profile for checking planners: node i reads 1..`max_preds` of the `window` nodes
    before it (all earlier nodes when None); times 0.1-5 ms, outputs 100 B-200 kB.

    Example: `mincut_partition(random_dag(np.random.default_rng(0), 12), tiers, links)`.
    """
    if n_nodes < 1 or max_preds < 1:
        raise ValueError(f"need n_nodes >= 1 and max_preds >= 1, got {n_nodes} and {max_preds}")
    nodes = [NodeProfile("n0", 0.0, int(rng.integers(100, 200_000)))]
    for i in range(1, n_nodes):
        low = 0 if window is None else max(0, i - window)
        k = int(rng.integers(1, min(i - low, max_preds) + 1))
        preds = tuple(f"n{j}" for j in sorted(rng.choice(np.arange(low, i), k, replace=False)))
        nodes.append(NodeProfile(f"n{i}", float(rng.uniform(1e-4, 5e-3)), int(rng.integers(100, 200_000)), preds))
    return GraphProfile(tuple(nodes))


@torch.no_grad()
def random_layer_records(n_per_type: int = 200, seed: int = 0, repeats: int = 5,
                         types: Sequence[str] = REGRESSED + ("relu", "flatten")) -> list[tuple[str, tuple, float]]:
    """Time `n_per_type` random single-layer configs per layer type: (layer_type, features, seconds)."""
    rng = np.random.default_rng(seed)
    records = []
    for kind in types:
        for _ in range(n_per_type):
            layer, x = _random_layer(kind, rng)
            prof = profile_graph(nn.Sequential(layer), x, repeats=repeats, warmup=1)
            node = prof.nodes[1]
            records.append((node.layer_type, node.features, node.seconds))
    return records


class LatencyModel:
    """Per-layer-type linear regressions of layer time on layer features (Neurosurgeon).

    >>> lm = LatencyModel(seed=0).fit(random_layer_records(20, types=("linear",), repeats=1))
    >>> sorted(lm.report_)
    ['linear']
    """

    def __init__(self, holdout: float = 0.1, seed: int = 0) -> None:
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must be in (0, 1), got {holdout}")
        self.holdout, self.seed = holdout, seed

    def fit(self, records: Sequence[tuple[str, tuple, float]]) -> LatencyModel:
        """Fit one regression per layer type; `report_[type]` gets hold-out MAPE and share within +-20%."""
        from sklearn.linear_model import LinearRegression

        by_type: dict[str, list[tuple[tuple, float]]] = {}
        for kind, feats, seconds in records:
            if kind not in REGRESSED and kind not in CONSTANT:
                raise ValueError(f"records: unknown layer type {kind!r} (known: {REGRESSED + CONSTANT})")
            by_type.setdefault(kind, []).append((feats, seconds))
        if not by_type:
            raise ValueError("records is empty")
        rng = np.random.default_rng(self.seed)
        self.models_, self.constants_, self.report_ = {}, {}, {}
        for kind, rows in by_type.items():
            y = np.array([s for _, s in rows])
            if kind in CONSTANT:
                self.constants_[kind] = float(np.median(y))
                continue
            X = np.array([f for f, _ in rows], dtype=float)
            order = rng.permutation(len(rows))
            n_test = max(1, int(round(self.holdout * len(rows))))
            test, train = order[:n_test], order[n_test:]
            model = LinearRegression().fit(X[train], y[train])
            pred = np.maximum(model.predict(X[test]), 0.0)
            err = np.abs(pred - y[test]) / y[test]
            self.report_[kind] = {"mape": float(err.mean()), "within_20pct": float((err <= 0.2).mean()),
                                  "n_train": int(len(train)), "n_test": int(n_test)}
            self.models_[kind] = LinearRegression().fit(X, y)
        return self

    def predict_node(self, node: NodeProfile) -> float:
        if not hasattr(self, "models_"):
            raise ValueError("LatencyModel is not fitted; call fit(records) first")
        if node.layer_type == "input":
            return 0.0
        if node.layer_type in self.models_:
            return max(float(self.models_[node.layer_type].predict(np.array([node.features]))[0]), 0.0)
        if node.layer_type in self.constants_:
            return self.constants_[node.layer_type]
        raise ValueError(f"node {node.name!r}: layer type {node.layer_type!r} has no fitted latency model")

    def predict(self, profile: GraphProfile) -> GraphProfile:
        """`profile` with every node's time replaced by the regression's prediction."""
        return profile.with_seconds([self.predict_node(n) for n in profile.nodes])
