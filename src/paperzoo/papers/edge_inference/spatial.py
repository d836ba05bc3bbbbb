"""Device-device intra-layer partition (MoDNN, DeepThings): output rows of a conv/pool stack in stripes.

Output rows [a, b] of a layer (kernel k, stride s, padding p) need input rows [a s - p, b s - p + k - 1],
clipped to the input; zero padding (or -inf for max-pool) is added only at the true borders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import grpc
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import wire
from .planning import Link
from .serve import call, channel_options, dilated, emulate

D2D_LINK = Link(100e6, 0.001)  # default device-device link: 100 Mbit/s, 1 ms

SUPPORTED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _geometry(layer: nn.Module) -> tuple[int, int, int]:
    """(kernel, stride, padding) along rows."""
    if isinstance(layer, nn.ReLU):
        return 1, 1, 0
    k, s, p = _pair(layer.kernel_size), _pair(layer.stride or layer.kernel_size), _pair(layer.padding)
    return k[0], s[0], p[0]


def run_layers(layers: Sequence[nn.Module], x: torch.Tensor, pads: Sequence[Sequence[int]]) -> torch.Tensor:
    """Apply `layers` to a row tile `x`, padding rows only by the given (top, bottom) per layer."""
    for layer, (top, bottom) in zip(layers, pads, strict=False):
        if isinstance(layer, nn.ReLU):
            x = torch.relu(x)
            continue
        pw = _pair(layer.padding)[1]
        if isinstance(layer, nn.Conv2d):
            x = F.conv2d(F.pad(x, (pw, pw, top, bottom)), layer.weight, layer.bias, layer.stride, 0,
                         layer.dilation, layer.groups)
        elif isinstance(layer, nn.MaxPool2d):
            x = F.max_pool2d(F.pad(x, (pw, pw, top, bottom), value=float("-inf")), layer.kernel_size,
                             layer.stride, 0)
        else:
            x = F.avg_pool2d(F.pad(x, (pw, pw, top, bottom)), layer.kernel_size, layer.stride, 0)
    return x


def decode_stack(specs, tensors: dict[str, torch.Tensor]) -> list[nn.Module]:
    if not isinstance(specs, list):
        raise wire.WireError("stack must be a list of layer specs")
    layers = []
    for i, spec in enumerate(specs):
        layer = wire.decode_module(spec)
        if not isinstance(layer, SUPPORTED):
            raise wire.WireError(f"layer {i}: {type(layer).__name__} cannot be row-partitioned")
        try:
            layer.load_state_dict({k.split(".", 1)[1]: v for k, v in tensors.items() if k.split(".")[0] == str(i)})
        except RuntimeError as exc:
            raise wire.WireError(f"layer {i}: weights do not fit: {exc}") from exc
        layers.append(layer)
    return layers


class SpatialPartition:
    """Split the output rows of a conv/pool/ReLU stack across `n_workers` (modes "layerwise", "fused").

    `layerwise` (MoDNN-like) partitions every layer and regathers after it; `fused` (DeepThings FTP)
    back-propagates row ranges through the whole stack and ships overlapping input tiles once.

    >>> from paperzoo.papers.edge_inference.models import EdgeNet
    >>> sp = SpatialPartition(EdgeNet().features, n_workers=3, mode="fused"); x = torch.randn(1, 3, 64, 64)
    >>> bool((sp.forward(x) - EdgeNet().features(x)).abs().max() < 1e5)
    True
    """

    def __init__(self, convs: Sequence[nn.Module], n_workers: int, mode: str = "fused") -> None:
        self.layers = list(convs)
        if not self.layers:
            raise ValueError("convs is empty")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, SUPPORTED):
                raise TypeError(f"convs[{i}]: {type(layer).__name__} is not Conv2d/MaxPool2d/AvgPool2d/ReLU")
            if isinstance(layer, nn.Conv2d) and _pair(layer.dilation) != (1, 1):
                raise ValueError(f"convs[{i}]: dilated convolutions are not supported")
            if isinstance(layer, nn.MaxPool2d) and (layer.ceil_mode or _pair(layer.dilation) != (1, 1)):
                raise ValueError(f"convs[{i}]: ceil_mode/dilated pooling is not supported")
            if isinstance(layer, nn.AvgPool2d) and (layer.ceil_mode or not layer.count_include_pad):
                raise ValueError(f"convs[{i}]: avg-pool needs ceil_mode=False, count_include_pad=True")
        if not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be an int >= 1, got {n_workers!r}")
        if mode not in ("layerwise", "fused"):
            raise ValueError(f"mode must be 'layerwise' or 'fused', got {mode!r}")
        self.n_workers, self.mode = n_workers, mode

    def heights(self, h: int) -> list[int]:
        """Row count before the first layer and after each layer."""
        out = [h]
        for layer in self.layers:
            k, s, p = _geometry(layer)
            out.append((out[-1] + 2 * p - k) // s + 1)
        if out[-1] < 1:
            raise ValueError(f"input height {h} is too small for the stack")
        return out

    def stripes(self, rows: int) -> list[tuple[int, int]]:
        """Contiguous, non-empty output row ranges [a, b] (inclusive), one per worker at most."""
        return [(int(c[0]), int(c[-1])) for c in np.array_split(np.arange(rows), self.n_workers) if len(c)]

    @staticmethod
    def need(layer: nn.Module, a: int, b: int, h_in: int) -> tuple[int, int, int, int]:
        """Input rows (lo, hi) and (pad_top, pad_bottom) that output rows [a, b] of `layer` need."""
        k, s, p = _geometry(layer)
        lo, hi = a * s - p, b * s - p + k - 1
        return max(lo, 0), min(hi, h_in - 1), max(0, -lo), max(0, hi - (h_in - 1))

    def tiles(self, start: int, end: int, h: int) -> list[tuple[int, int, list[list[int]]]]:
        """Per worker, for layers [start, end) (stack input height h): the input rows (lo, hi) of layer
        `start` and the (top, bottom) pads of every layer in the range, back-propagated from its output."""
        hs = self.heights(h)
        out = []
        for a, b in self.stripes(hs[end]):
            pads = []
            for i in range(end - 1, start - 1, -1):
                a, b, top, bottom = self.need(self.layers[i], a, b, hs[i])
                pads.append([top, bottom])
            out.append((a, b, pads[::-1]))
        return out

    def rounds(self) -> list[tuple[int, int]]:
        """Layer ranges computed between two exchanges: the whole stack (fused) or each conv/pool with
        the ReLUs after it (layerwise; an element-wise layer needs no exchange)."""
        if self.mode == "fused":
            return [(0, len(self.layers))]
        starts = [i for i, layer in enumerate(self.layers) if i == 0 or not isinstance(layer, nn.ReLU)]
        return list(zip(starts, [*starts[1:], len(self.layers)], strict=True))

    def jobs(self, x: torch.Tensor):
        """The rounds of work: (start, end, tiles) with one (lo, hi, pads) tile per parallel worker."""
        if x.dim() != 4:
            raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
        for start, end in self.rounds():
            yield start, end, self.tiles(start, end, x.shape[2])

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The partitioned computation in this process (what the workers do, in sequence)."""
        for start, end, tiles in self.jobs(x):
            x = torch.cat([run_layers(self.layers[start:end], x[:, :, lo:hi + 1], pads) for lo, hi, pads in tiles], 2)
        return x

    def encode(self) -> tuple[list[dict], dict[str, torch.Tensor]]:
        specs = [wire.encode_module(layer) for layer in self.layers]
        tensors = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state_dict().items()}
        return specs, tensors


class D2DRuntime:
    """Device-device inference: `n_workers` worker processes compute row stripes of `partition`; this
    process (the gathering device) splits, gathers and runs `head` (the later layers).

    Stripes go out in parallel, one emulated link per worker. Compute is dilated from a profile taken
    here (median host time of every tile and of the head, `profile_repeats` runs): each worker's stripe
    lasts `slowdown` x its profiled time, so host load during a request is not multiplied by the
    slowdown. After `infer`, `last_breakdown` says where the time went on the critical path (compute,
    serialisation, gRPC, emulated link, gathering device).
    """

    def __init__(self, partition: SpatialPartition, head: nn.Module | None = None, slowdown: float = 10.0,
                 link: Link = D2D_LINK, addresses: Sequence[str] | None = None, timeout_s: float = 30.0,
                 profile_repeats: int = 5):
        if not isinstance(partition, SpatialPartition):
            raise TypeError(f"partition must be a SpatialPartition, got {type(partition).__name__}")
        if addresses is not None and len(addresses) < partition.n_workers:
            raise ValueError(f"addresses: need {partition.n_workers}, got {len(addresses)}")
        if profile_repeats < 1:
            raise ValueError(f"profile_repeats must be >= 1, got {profile_repeats}")
        self.partition, self.head, self.slowdown, self.link = partition, head, slowdown, link
        self._given, self.timeout_s, self.profile_repeats = addresses, timeout_s, profile_repeats
        self.processes, self.channels = [], []
        self._profiles: dict[tuple, tuple] = {}
        self.last_breakdown: dict[str, float] = {}

    def __enter__(self) -> D2DRuntime:
        from .runtime import start_tiers

        if self._given is None:
            self.processes = list(start_tiers([f"worker{i}" for i in range(self.partition.n_workers)]).values())
            addresses = [p.address for p in self.processes]
        else:
            addresses = list(self._given)[:self.partition.n_workers]
        self.channels = [grpc.insecure_channel(a, options=channel_options()) for a in addresses]
        specs, tensors = self.partition.encode()
        header = {"stack": specs, "slowdown": self.slowdown,
                  "link_prev": [self.link.bandwidth_bps, self.link.latency_s]}
        for ch in self.channels:
            call(ch, "Setup", wire.encode(tensors, header), timeout=self.timeout_s)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for ch in self.channels:
            ch.close()
        for p in self.processes:
            p.stop()
        self.channels, self.processes = [], []

    @torch.no_grad()
    def profile(self, x: torch.Tensor) -> tuple[list, list[list[float]], float]:
        """(rounds, host seconds per round and tile, head host seconds) for inputs shaped like `x`."""
        key = tuple(x.shape)
        if key not in self._profiles:
            def median_time(fn) -> float:
                fn()  # warm-up
                times = []
                for _ in range(self.profile_repeats):
                    start = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - start)
                return float(np.median(times))

            rounds, seconds, h = list(self.partition.jobs(x)), [], x
            for start, end, tiles in rounds:
                layers = self.partition.layers[start:end]
                seconds.append([median_time(lambda t=h[:, :, lo:hi + 1], p=pads, ls=layers: run_layers(ls, t, p))
                                for lo, hi, pads in tiles])
                h = torch.cat([run_layers(layers, h[:, :, lo:hi + 1], p) for lo, hi, p in tiles], 2)
            head_s = median_time(lambda: self.head(h)) if self.head is not None else 0.0
            self._profiles[key] = (rounds, seconds, head_s)
        return self._profiles[key]

    @torch.no_grad()
    def infer(self, x: torch.Tensor) -> tuple[torch.Tensor, float]:
        rounds, seconds, head_s = self.profile(x)
        start = time.perf_counter()
        link = [self.link.bandwidth_bps, self.link.latency_s]
        parts = dict.fromkeys(("compute", "serialisation", "grpc", "link", "device", "other"), 0.0)
        for (lo_layer, hi_layer, tiles), host_s in zip(rounds, seconds, strict=True):
            results: list = [None] * len(tiles)
            spent: list = [None] * len(tiles)

            def send(j, lo, hi, pads, src=x, s=lo_layer, e=hi_layer, out=results, log=spent, host=host_s):
                t0 = time.perf_counter()
                tile = src[:, :, lo:hi + 1].contiguous()
                frame = wire.encode({"x": tile}, {"start": s, "end": e, "pads": pads,
                                                   "compute_s": self.slowdown * host[j]})
                t1 = time.perf_counter()
                emulate(link, wire.payload_bytes({"x": tile}))
                t2 = time.perf_counter()
                reply = call(self.channels[j], "Stripe", frame, timeout=self.timeout_s)
                t3 = time.perf_counter()
                header, tensors = wire.decode(reply)
                out[j] = tensors["y"]
                t4 = time.perf_counter()
                server = header["decode_s"] + header["compute_s"] + header["link_s"]
                log[j] = {"compute": header["compute_s"], "link": (t2 - t1) + header["link_s"],
                          "serialisation": (t1 - t0) + (t4 - t3) + header["decode_s"],
                          "grpc": max(0.0, (t3 - t2) - server), "total": t4 - t0}

            round_start = time.perf_counter()
            threads = [threading.Thread(target=send, args=(j, *t)) for j, t in enumerate(tiles)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if any(r is None for r in results):
                raise RuntimeError("a device-device worker failed")
            gather_start = time.perf_counter()
            x = torch.cat(results, 2)
            critical = max(spent, key=lambda d: d["total"])
            for k in ("compute", "serialisation", "grpc", "link"):
                parts[k] += critical[k]
            parts["other"] += max(0.0, (gather_start - round_start) - critical["total"])
            parts["device"] += time.perf_counter() - gather_start
        if self.head is not None:
            head_start = time.perf_counter()
            x = dilated(lambda: self.head(x), self.slowdown, self.slowdown * head_s)
            parts["device"] += time.perf_counter() - head_start
        seconds_total = time.perf_counter() - start
        self.last_breakdown = parts
        return x, seconds_total
