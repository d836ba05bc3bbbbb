"""A tier (or device-device worker) as a gRPC server: `python -m paperzoo.papers.edge_inference.serve
--tier edge --port 50051 [--host 0.0.0.0]`. Prints `READY <port>` once it serves.

Methods (unary, raw-bytes frames from `wire`): Setup (a graph part or a layer stack, with slowdown,
next hop and link emulation), Infer (run the part, forward to the next tier, reply with the result),
Stripe (run layers on a row tile), Ping, Echo (tensors back, to measure the hop overhead). Malformed input
gets INVALID_ARGUMENT and the server keeps serving.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent import futures

import grpc
import torch

from . import wire

SERVICE = "edgeinference.Tier"
DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024


def channel_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE) -> list[tuple[str, int]]:
    # gRPC caps messages at 4 MB by default; activations can be larger
    return [("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes)]


def call(channel: grpc.Channel, method: str, payload: bytes, timeout: float | None = None) -> bytes:
    """One unary call with raw bytes in and out."""
    return channel.unary_unary(f"/{SERVICE}/{method}")(payload, timeout=timeout)


def dilated(fn, slowdown: float, target_s: float | None = None):
    """Run `fn()` as a tier `slowdown` times slower than this host.

    With `target_s` (slowdown x the part's profiled host time) the call lasts max(target_s, actual time):
    load on the host during the request is not multiplied by the slowdown. Without it, sleep
    (slowdown - 1) x the measured duration.
    """
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    if target_s is not None:
        if target_s > elapsed:
            time.sleep(target_s - elapsed)
    elif slowdown > 1:
        time.sleep((slowdown - 1) * elapsed)
    return out


def _target(value) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or value < 0:
        raise wire.WireError(f"compute_s must be a number >= 0, got {value!r:.60}")
    return float(value)


def _link(spec) -> tuple[float, float] | None:
    if spec is None:
        return None
    if not (isinstance(spec, list) and len(spec) == 2 and all(isinstance(v, (int, float)) for v in spec)
            and spec[0] > 0 and spec[1] >= 0):
        raise wire.WireError(f"link must be [bandwidth_bps > 0, latency_s >= 0], got {spec!r:.60}")
    return float(spec[0]), float(spec[1])


def emulate(link: tuple[float, float] | None, nbytes: int) -> None:
    """Sender-side link emulation: sleep latency + 8 bytes / bandwidth."""
    if link is not None:
        time.sleep(link[1] + 8.0 * nbytes / link[0])


class TierService:
    def __init__(self, name: str, max_message_bytes: int = DEFAULT_MAX_MESSAGE) -> None:
        self.name, self.max_message_bytes = name, max_message_bytes
        self.lock = threading.Lock()
        self.part = self.stack = None
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.slowdown, self.link_next, self.link_prev = 1.0, None, None
        self.compute_s: float | None = None
        self.next_channel: grpc.Channel | None = None

    def _abort_bad(self, context, exc: Exception):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{self.name}: {exc}")

    def setup(self, request: bytes, context) -> bytes:
        try:
            header, tensors = wire.decode(request, self.max_message_bytes)
            slowdown = header.get("slowdown", 1.0)
            if not isinstance(slowdown, (int, float)) or slowdown <= 0:
                raise wire.WireError(f"slowdown must be > 0, got {slowdown!r}")
            link_next, link_prev = _link(header.get("link_next")), _link(header.get("link_prev"))
            compute_s = _target(header.get("compute_s"))
            if "graph" in header:
                part = wire.decode_graph(header["graph"], tensors)
                stack = None
                inputs, outputs = header.get("inputs"), header.get("outputs")
                if not (isinstance(inputs, list) and isinstance(outputs, list)):
                    raise wire.WireError("a graph setup needs 'inputs' and 'outputs' lists")
            elif "stack" in header:
                from .spatial import decode_stack

                part, stack, inputs, outputs = None, decode_stack(header["stack"], tensors), [], []
            else:
                raise wire.WireError("setup needs a 'graph' or a 'stack'")
        except wire.WireError as exc:
            self._abort_bad(context, exc)
        with self.lock:
            if self.next_channel is not None:
                self.next_channel.close()
            nxt = header.get("next")
            options = channel_options(self.max_message_bytes)
            self.next_channel = grpc.insecure_channel(nxt, options=options) if nxt else None
            self.part, self.stack, self.inputs, self.outputs = part, stack, inputs, outputs
            self.slowdown, self.link_next, self.link_prev = float(slowdown), link_next, link_prev
            self.compute_s = compute_s
            self.timeout = float(header.get("timeout_s", 60.0))
        return wire.encode({}, {"tier": self.name})

    def infer(self, request: bytes, context) -> bytes:
        try:
            _, values = wire.decode(request, self.max_message_bytes)
            if self.part is None:
                raise wire.WireError("no graph part loaded: call Setup first")
            missing = [n for n in self.inputs if n not in values]
            if missing:
                raise wire.WireError(f"missing input tensors {missing}")
        except wire.WireError as exc:
            self._abort_bad(context, exc)
        with self.lock:
            try:
                with torch.no_grad():
                    out = dilated(lambda: self.part(*(values[n] for n in self.inputs)), self.slowdown, self.compute_s)
            except (RuntimeError, ValueError, TypeError) as exc:  # e.g. a tensor of the wrong shape
                self._abort_bad(context, exc)
            result = dict(zip(self.outputs, out, strict=False))
            if self.next_channel is not None:
                emulate(self.link_next, wire.payload_bytes(result))
                try:
                    reply = call(self.next_channel, "Infer", wire.encode(result), timeout=self.timeout)
                except grpc.RpcError as exc:
                    context.abort(grpc.StatusCode.UNAVAILABLE, f"{self.name}: next tier failed: {exc.code().name}")
                _, result = wire.decode(reply, self.max_message_bytes)
        emulate(self.link_prev, wire.payload_bytes(result))
        return wire.encode(result)

    def stripe(self, request: bytes, context) -> bytes:
        """Run layers [start, end) on a row tile; the reply header says where the worker's time went."""
        from .spatial import run_layers

        t0 = time.perf_counter()
        try:
            header, tensors = wire.decode(request, self.max_message_bytes)
            if self.stack is None:
                raise wire.WireError("no layer stack loaded: call Setup first")
            if "x" not in tensors:
                raise wire.WireError("stripe request needs a tensor 'x'")
            start, end, pads = header.get("start"), header.get("end"), header.get("pads")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(self.stack)
                    and isinstance(pads, list) and len(pads) == end - start):
                raise wire.WireError(f"bad layer range or pads: {start}, {end}, {pads!r:.60}")
            target = _target(header.get("compute_s"))
            t1 = time.perf_counter()
            with self.lock, torch.no_grad():
                y = dilated(lambda: run_layers(self.stack[start:end], tensors["x"], pads), self.slowdown, target)
        except (wire.WireError, RuntimeError, ValueError, TypeError) as exc:
            self._abort_bad(context, exc)
        t2 = time.perf_counter()
        emulate(self.link_prev, wire.payload_bytes({"y": y}))
        t3 = time.perf_counter()
        # the reply's own encoding is not in its header: the caller counts it with the gRPC time
        return wire.encode({"y": y}, {"decode_s": t1 - t0, "compute_s": t2 - t1, "link_s": t3 - t2})

    def ping(self, request: bytes, context) -> bytes:
        return wire.encode({}, {"tier": self.name})

    def echo(self, request: bytes, context) -> bytes:
        """Decode the tensors and send them back (for measuring the per-hop overhead)."""
        try:
            _, tensors = wire.decode(request, self.max_message_bytes)
        except wire.WireError as exc:
            self._abort_bad(context, exc)
        return wire.encode(tensors)


def make_server(name: str, host: str = "127.0.0.1", port: int = 0, max_message_bytes: int = DEFAULT_MAX_MESSAGE,
                workers: int = 4) -> tuple[grpc.Server, int]:
    """A started gRPC server for tier `name`; returns (server, bound port)."""
    service = TierService(name, max_message_bytes)
    handlers = {m: grpc.unary_unary_rpc_method_handler(getattr(service, m.lower()))
                for m in ("Setup", "Infer", "Stripe", "Ping", "Echo")}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=channel_options(max_message_bytes))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind {host}:{port}")
    server.start()
    return server, bound


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve one inference tier over gRPC.")
    parser.add_argument("--tier", required=True, help="tier name, e.g. edge, cloud, worker0")
    parser.add_argument("--port", type=int, default=0, help="port (0 = any free port, printed on stdout)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 for other machines)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (profile at the same count)")
    parser.add_argument("--max-message-mb", type=int, default=DEFAULT_MAX_MESSAGE >> 20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    server, port = make_server(args.tier, args.host, args.port, args.max_message_mb << 20)
    print(f"READY {port}", flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(0)


if __name__ == "__main__":
    sys.exit(main())
