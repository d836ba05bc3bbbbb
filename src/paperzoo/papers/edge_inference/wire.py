"""The wire format: named tensors as dtype, ndim, shape and raw bytes (never pickle), and graph parts as
JSON (an allow-list of layer types and functions) plus their weights as tensors.

Frame: b"EDT1" | u32 header length | JSON header | u32 count | per tensor: u16 name length, name,
u8 dtype code, u8 ndim, ndim x u64 shape, u64 byte count, raw little-endian bytes.
"""

from __future__ import annotations

import json
import operator
import struct

import torch
from torch import fx, nn

MAGIC = b"EDT1"
MAX_NDIM = 8
DTYPES = {0: torch.float32, 1: torch.float64, 2: torch.float16, 3: torch.bfloat16, 4: torch.int64,
          5: torch.int32, 6: torch.int16, 7: torch.int8, 8: torch.uint8, 9: torch.bool}
CODES = {v: k for k, v in DTYPES.items()}


class WireError(ValueError):
    """A malformed or unsupported message."""


def encode(tensors: dict[str, torch.Tensor], header: dict | None = None) -> bytes:
    """Serialize named tensors (and a JSON header) to one frame."""
    head = json.dumps(header or {}).encode()
    parts = [MAGIC, struct.pack("<I", len(head)), head, struct.pack("<I", len(tensors))]
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensor {name!r} is a {type(t).__name__}, not a torch.Tensor")
        if t.dtype not in CODES:
            raise WireError(f"tensor {name!r}: dtype {t.dtype} is not supported on the wire")
        if t.dim() > MAX_NDIM:
            raise WireError(f"tensor {name!r}: ndim {t.dim()} > {MAX_NDIM}")
        raw = t.detach().contiguous().cpu().view(torch.uint8).numpy().tobytes() if t.numel() else b""
        key = name.encode()
        parts += [struct.pack("<H", len(key)), key, struct.pack("<BB", CODES[t.dtype], t.dim()),
                  struct.pack(f"<{t.dim()}Q", *t.shape), struct.pack("<Q", len(raw)), raw]
    return b"".join(parts)


def decode(data: bytes, max_bytes: int = 1 << 30) -> tuple[dict, dict[str, torch.Tensor]]:
    """Parse a frame into (header, tensors); anything malformed raises WireError."""
    view = memoryview(data)
    pos = 0

    def take(n: int) -> memoryview:
        nonlocal pos
        if n < 0 or pos + n > len(view):
            raise WireError(f"message truncated: wanted {n} bytes at offset {pos} of {len(view)}")
        chunk = view[pos:pos + n]
        pos += n
        return chunk

    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    if bytes(take(4)) != MAGIC:
        raise WireError("bad magic: not an edge-inference frame")
    (hlen,) = struct.unpack("<I", take(4))
    try:
        header = json.loads(bytes(take(hlen)).decode()) if hlen else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"header is not JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise WireError("header must be a JSON object")
    (count,) = struct.unpack("<I", take(4))
    tensors = {}
    for _ in range(count):
        (nlen,) = struct.unpack("<H", take(2))
        try:
            name = bytes(take(nlen)).decode()
        except UnicodeDecodeError as exc:
            raise WireError("tensor name is not UTF-8") from exc
        code, ndim = struct.unpack("<BB", take(2))
        if code not in DTYPES:
            raise WireError(f"tensor {name!r}: unknown dtype code {code}")
        if ndim > MAX_NDIM:
            raise WireError(f"tensor {name!r}: ndim {ndim} > {MAX_NDIM}")
        shape = struct.unpack(f"<{ndim}Q", take(8 * ndim))
        (nbytes,) = struct.unpack("<Q", take(8))
        itemsize = torch.empty((), dtype=DTYPES[code]).element_size()
        numel = 1
        for s in shape:
            numel *= s
        if numel * itemsize != nbytes:
            raise WireError(f"tensor {name!r}: {nbytes} bytes do not match shape {list(shape)} of {DTYPES[code]}")
        raw = bytearray(take(nbytes))
        flat = torch.frombuffer(raw, dtype=DTYPES[code]) if nbytes else torch.empty(0, dtype=DTYPES[code])
        tensors[name] = flat.reshape(shape)
    if pos != len(view):
        raise WireError(f"{len(view) - pos} trailing bytes after the last tensor")
    return header, tensors


def payload_bytes(tensors: dict[str, torch.Tensor]) -> int:
    """Bytes of tensor data (what a link emulation charges for)."""
    return sum(t.numel() * t.element_size() for t in tensors.values())


# --------------------------------------------------------------------------------------------------
# Graph parts: an fx GraphModule described by an allow-list, so a server never executes sent code.

def _ints(v):
    return list(v) if isinstance(v, tuple) else v


MODULES = {
    "Conv1d": lambda m: dict(in_channels=m.in_channels, out_channels=m.out_channels, kernel_size=_ints(m.kernel_size),
                             stride=_ints(m.stride), padding=_ints(m.padding), dilation=_ints(m.dilation),
                             groups=m.groups, bias=m.bias is not None),
    "Linear": lambda m: dict(in_features=m.in_features, out_features=m.out_features, bias=m.bias is not None),
    "MaxPool1d": lambda m: dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding, ceil_mode=m.ceil_mode),
    "AvgPool1d": lambda m: dict(kernel_size=_ints(m.kernel_size), stride=_ints(m.stride), padding=_ints(m.padding)),
    "AvgPool2d": lambda m: dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding),
    "AdaptiveAvgPool1d": lambda m: dict(output_size=m.output_size),
    "AdaptiveAvgPool2d": lambda m: dict(output_size=m.output_size),
    "BatchNorm1d": lambda m: dict(num_features=m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                                  track_running_stats=m.track_running_stats),
    "ReLU": lambda m: {},
    "Identity": lambda m: {},
    "Dropout": lambda m: dict(p=m.p),
    "Flatten": lambda m: dict(start_dim=m.start_dim, end_dim=m.end_dim),
    "Unflatten": lambda m: dict(dim=m.dim, unflattened_size=list(m.unflattened_size)),
}
MODULES["Conv2d"] = MODULES["Conv1d"]
MODULES["MaxPool2d"] = MODULES["MaxPool1d"]
MODULES["BatchNorm2d"] = MODULES["BatchNorm1d"]
FUNCTIONS = {"torch.cat": torch.cat, "torch.flatten": torch.flatten, "torch.relu": torch.relu,
             "torch.add": torch.add, "operator.add": operator.add, "operator.getitem": operator.getitem,
             "torch.nn.functional.relu": torch.nn.functional.relu}
FUNCTION_NAMES = {id(f): k for k, f in FUNCTIONS.items()}
METHODS = {"flatten", "view", "reshape", "relu", "size", "mean", "contiguous"}


def encode_module(m: nn.Module) -> dict:
    kind = type(m).__name__
    if kind not in MODULES or type(m).__module__.split(".")[0] != "torch":
        raise WireError(f"layer type {kind} cannot be sent to a tier (supported: {sorted(MODULES)})")
    return {"type": kind, "args": MODULES[kind](m)}


def decode_module(spec: dict) -> nn.Module:
    if not isinstance(spec, dict) or spec.get("type") not in MODULES:
        raise WireError(f"unknown layer spec {spec!r:.80}")
    args = spec.get("args", {})
    if not isinstance(args, dict):
        raise WireError("layer args must be an object")
    try:
        return getattr(nn, spec["type"])(**args).eval()
    except (TypeError, ValueError) as exc:
        raise WireError(f"bad args for {spec['type']}: {exc}") from exc


def _enc_arg(a):
    if isinstance(a, fx.Node):
        return {"node": a.name}
    if isinstance(a, (tuple, list)):
        return {"list": [_enc_arg(x) for x in a]}
    if a is None or isinstance(a, (bool, int, float, str)):
        return {"value": a}
    raise WireError(f"argument {a!r:.60} cannot be sent")


def _dec_arg(a, env: dict):
    if not isinstance(a, dict) or len(a) != 1:
        raise WireError(f"bad argument {a!r:.60}")
    (k, v), = a.items()
    if k == "node":
        if v not in env:
            raise WireError(f"argument refers to unknown node {v!r}")
        return env[v]
    if k == "list":
        return tuple(_dec_arg(x, env) for x in v)
    if k == "value" and (v is None or isinstance(v, (bool, int, float, str))):
        return v
    raise WireError(f"bad argument {a!r:.60}")


def encode_graph(gm: fx.GraphModule) -> tuple[dict, dict[str, torch.Tensor]]:
    """Describe a GraphModule as JSON (allow-listed ops) plus its parameters and buffers."""
    modules = dict(gm.named_modules())
    nodes, used = [], {}
    for n in gm.graph.nodes:
        entry = {"op": n.op, "name": n.name, "args": _enc_arg(list(n.args)),
                 "kwargs": {k: _enc_arg(v) for k, v in n.kwargs.items()}}
        if n.op == "call_module":
            used[n.target] = encode_module(modules[n.target])
            entry["target"] = n.target
        elif n.op == "call_function":
            if id(n.target) not in FUNCTION_NAMES:
                raise WireError(f"function {n.target} cannot be sent to a tier")
            entry["target"] = FUNCTION_NAMES[id(n.target)]
        elif n.op == "call_method":
            if n.target not in METHODS:
                raise WireError(f"method {n.target!r} cannot be sent to a tier")
            entry["target"] = n.target
        elif n.op not in ("placeholder", "output"):
            raise WireError(f"graph op {n.op!r} cannot be sent to a tier")
        nodes.append(entry)
    tensors = {f"{t}.{k}": v for t in used for k, v in modules[t].state_dict().items()}
    return {"nodes": nodes, "modules": used}, tensors


def decode_graph(spec: dict, tensors: dict[str, torch.Tensor]) -> fx.GraphModule:
    """Rebuild a GraphModule from `encode_graph`'s output; unknown ops raise WireError."""
    if not isinstance(spec, dict) or not isinstance(spec.get("nodes"), list):
        raise WireError("graph spec needs a list of nodes")
    root = nn.Module()
    for target, mspec in (spec.get("modules") or {}).items():
        module = decode_module(mspec)
        prefix = f"{target}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise WireError(f"weights of {target!r} do not fit: {exc}") from exc
        parent = root
        *path, leaf = target.split(".")
        for p in path:
            if not hasattr(parent, p):
                parent.add_module(p, nn.Module())
            parent = getattr(parent, p)
        parent.add_module(leaf, module)
    graph, env = fx.Graph(), {}
    for entry in spec["nodes"]:
        op, name = entry.get("op"), entry.get("name")
        args = _dec_arg(entry.get("args", {"list": []}), env)
        kwargs = {k: _dec_arg(v, env) for k, v in (entry.get("kwargs") or {}).items()}
        if op == "placeholder":
            node = graph.placeholder(name)
        elif op == "output":
            node = graph.output(args[0])
        elif op == "call_module":
            if entry.get("target") not in (spec.get("modules") or {}):
                raise WireError(f"node {name!r} calls an unknown module")
            node = graph.call_module(entry["target"], args, kwargs)
        elif op == "call_function":
            if entry.get("target") not in FUNCTIONS:
                raise WireError(f"node {name!r}: function {entry.get('target')!r} is not allowed")
            node = graph.call_function(FUNCTIONS[entry["target"]], args, kwargs)
        elif op == "call_method":
            if entry.get("target") not in METHODS:
                raise WireError(f"node {name!r}: method {entry.get('target')!r} is not allowed")
            node = graph.call_method(entry["target"], args, kwargs)
        else:
            raise WireError(f"node {name!r}: op {op!r} is not allowed")
        env[name] = node
    return fx.GraphModule(root, graph).eval()
