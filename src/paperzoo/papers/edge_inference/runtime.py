"""The collaborative inference runtime: the device (this process) runs its part and forwards over gRPC
to tier processes (edge, cloud), each a separate OS process; the result comes back to the device.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

import grpc
import torch
from torch import nn

from . import wire
from .planning import PLANNERS, Link, Plan, Tier, check_setup
from .profiling import GraphProfile
from .serve import call, channel_options, dilated, emulate
from .splitting import Part, split_module


class TierProcess:
    """A tier server in its own OS process on loopback (`python -m ...serve`); stop() ends it.

    With `wait=False` the constructor returns at once and `wait()` blocks until the server is up, so that
    several tiers start in parallel (see `start_tiers`).
    """

    def __init__(self, name: str, threads: int = 1, start_timeout_s: float = 60.0, wait: bool = True) -> None:
        cmd = [sys.executable, "-m", "paperzoo.papers.edge_inference.serve", "--tier", name, "--port", "0",
               "--threads", str(threads)]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.name, self.start_timeout_s, self.address = name, start_timeout_s, None
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        if wait:
            self.wait()

    def wait(self) -> TierProcess:
        """Block until the server prints READY; a server that fails to start raises RuntimeError."""
        if self.address is None:
            deadline = time.monotonic() + self.start_timeout_s
            line = self.proc.stdout.readline()
            if not line.startswith("READY ") or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"tier process {self.name!r} failed to start (got {line!r})")
            self.address = f"127.0.0.1:{int(line.split()[1])}"
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def start_tiers(names: Sequence[str], threads: int = 1) -> dict[str, TierProcess]:
    """Start one tier process per name, in parallel; all are serving when this returns."""
    procs = {name: TierProcess(name, threads, wait=False) for name in names}
    try:
        for p in procs.values():
            p.wait()
    except Exception:
        for p in procs.values():
            p.stop()
        raise
    return procs


class InferResult(tuple):
    """`(y, seconds)`, with `.fallback` (the device finished locally) and `.detail` (why)."""

    def __new__(cls, y: torch.Tensor, seconds: float, fallback: bool = False, detail: str = ""):
        obj = super().__new__(cls, (y, seconds))
        obj.fallback, obj.detail = fallback, detail
        return obj

    @property
    def y(self) -> torch.Tensor:
        return self[0]

    @property
    def seconds(self) -> float:
        return self[1]


def _link_spec(link: Link | None):
    return None if link is None else [link.bandwidth_bps, link.latency_s]


class Runtime:
    """Run `model` split by `plan` across real tier processes, with link and compute emulation.

    Tiers other than the first (the device, this process) are served by processes started here, or by
    servers already running at `addresses` (one "host:port" per remote tier). A failed or timed-out
    tier makes the device finish the request locally; the result says so (`.fallback`).

    `compute_profile` (a measured profile of `model`, same graph as the plan's) makes compute dilation
    load-robust: each part lasts slowdown x its profiled host time (or longer if the host is slower right
    now) instead of slowdown x its measured time, which would multiply transient host load. Without it
    the measured time is dilated.

    >>> with Runtime(model, plan, tiers, links) as rt:      # doctest: +SKIP
    ...     y, seconds = rt.infer(x)
    """

    def __init__(self, model: nn.Module, plan: Plan, tiers: Sequence[Tier], links: Sequence[Link],
                 addresses: Sequence[str] | None = None, timeout_s: float = 30.0, threads: int = 1,
                 compute_profile: GraphProfile | None = None) -> None:
        if not isinstance(plan, Plan):
            raise TypeError(f"plan must be a Plan, got {type(plan).__name__}")
        check_setup(plan.profile, tiers, links)
        if len(plan.tiers) != len(tiers):
            raise ValueError(f"plan is for {len(plan.tiers)} tiers, runtime got {len(tiers)}")
        if addresses is not None and len(addresses) != len(tiers) - 1:
            raise ValueError(f"addresses: need {len(tiers) - 1} (one per remote tier), got {len(addresses)}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.model, self.tiers, self.links = model.eval(), list(tiers), list(links)
        self.timeout_s, self.threads = timeout_s, threads
        if compute_profile is not None and compute_profile.names != plan.profile.names:
            raise ValueError("compute_profile must profile the same graph as the plan")
        self.compute_profile = compute_profile
        self._given = list(addresses) if addresses is not None else None
        self.processes: list[TierProcess] = []
        self.channels: list[grpc.Channel] = []
        self.plan = plan
        self.parts: list[Part] = split_module(self.model, plan)
        self._loaded = False

    # lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self._given is None:
            try:
                self.processes = list(start_tiers([t.name for t in self.tiers[1:]], self.threads).values())
            except Exception:
                self.close()
                raise
            self.addresses = [p.address for p in self.processes]
        else:
            self.addresses = self._given
        self.channels = [grpc.insecure_channel(a, options=channel_options()) for a in self.addresses]
        self._load()

    def close(self) -> None:
        for ch in self.channels:
            ch.close()
        self.channels = []
        for p in self.processes:
            p.stop()
        self.processes = []

    def _target(self, stage: int, tier: int | None = None) -> float | None:
        """Emulated seconds of `stage`'s nodes on `tier` (default: the stage's own tier), from the profile."""
        if self.compute_profile is None:
            return None
        host = sum(n.seconds for n, a in zip(self.compute_profile.nodes, self.plan.assignment, strict=True)
                   if a == stage)
        return host * self.tiers[stage if tier is None else tier].slowdown

    def _load(self) -> None:
        """Send each remote tier its part, next hop and link emulation parameters."""
        last = len(self.parts) - 1
        for stage in range(last, 0, -1):  # downstream first, so forwarding targets are ready
            part = self.parts[stage]
            graph, tensors = wire.encode_graph(part.module)
            header = {"graph": graph, "inputs": part.inputs, "outputs": part.outputs,
                      "slowdown": self.tiers[stage].slowdown, "timeout_s": self.timeout_s,
                      "next": self.addresses[stage] if stage < last else None,
                      "link_next": _link_spec(self.links[stage]) if stage < last else None,
                      "link_prev": _link_spec(self.links[stage - 1]), "compute_s": self._target(stage)}
            call(self.channels[stage - 1], "Setup", wire.encode(tensors, header), timeout=self.timeout_s)
        self._loaded = True

    # planning --------------------------------------------------------------------------------------
    def set_plan(self, plan: Plan) -> None:
        """Use a new plan (same model and tiers); remote tiers get their new parts."""
        check_setup(plan.profile, self.tiers, plan.links)
        self.parts, self.plan = split_module(self.model, plan), plan
        self.links = list(plan.links)
        if self.channels:
            self._load()

    def set_links(self, links: Sequence[Link]) -> Plan:
        """The network changed: re-plan with the plan's method on its profile and reload the tiers."""
        check_setup(self.plan.profile, self.tiers, links)
        planner = PLANNERS.get(self.plan.method)
        if planner is None:
            raise ValueError(f"plan method {self.plan.method!r} cannot re-plan (known: {sorted(PLANNERS)})")
        self.set_plan(planner(self.plan.profile, self.tiers, list(links)))
        return self.plan

    # inference -------------------------------------------------------------------------------------
    @torch.no_grad()
    def infer(self, x: torch.Tensor) -> InferResult:
        """Run one request end to end; returns (y, seconds) with `.fallback` set if a tier failed."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor, got {type(x).__name__}")
        start = time.perf_counter()
        values = dilated(lambda: self.parts[0]({self.parts[0].inputs[0]: x}), self.tiers[0].slowdown, self._target(0))
        out_name = self.parts[-1].outputs[0]
        if len(self.parts) == 1:
            return InferResult(values[out_name], time.perf_counter() - start)
        if not self.channels:
            raise RuntimeError("Runtime is not started: use it as a context manager or call start()")
        emulate(_link_spec(self.links[0]), wire.payload_bytes(values))
        try:
            reply = call(self.channels[0], "Infer", wire.encode(values), timeout=self.timeout_s)
            _, result = wire.decode(reply)
            return InferResult(result[out_name], time.perf_counter() - start)
        except grpc.RpcError as exc:
            detail = f"tier failed ({exc.code().name}): finished on the device"
        for stage, part in enumerate(self.parts[1:], 1):  # local fallback at device speed
            values = dilated(lambda p=part, v=values: p(v), self.tiers[0].slowdown, self._target(stage, 0))
        return InferResult(values[out_name], time.perf_counter() - start, True, detail)


def measure(rt: Runtime, x: torch.Tensor, requests: int, warmup: int = 2) -> dict:
    """Median and all latencies of `requests` requests after `warmup` (fallbacks counted)."""

    for _ in range(warmup):
        rt.infer(x)
    results = [rt.infer(x) for _ in range(requests)]
    secs = [r.seconds for r in results]
    return {"median_s": statistics.median(secs), "all_s": secs, "fallbacks": sum(r.fallback for r in results)}


def hop_overhead(address: str, x: torch.Tensor, requests: int = 20, warmup: int = 3) -> float:
    """Median round trip (s) of sending `x` to the tier at `address` and back, without link emulation:
    what serialisation and gRPC add to every remote hop, measured on this host now.
    """
    channel = grpc.insecure_channel(address, options=channel_options())
    try:
        frame, times = wire.encode({"x": x}), []
        for i in range(warmup + requests):
            start = time.perf_counter()
            wire.decode(call(channel, "Echo", frame, timeout=30.0))
            if i >= warmup:
                times.append(time.perf_counter() - start)
    finally:
        channel.close()
    return statistics.median(times)
