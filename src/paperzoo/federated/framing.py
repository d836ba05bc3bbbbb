"""Bytes on Flower messages: measured with the public `count_bytes()` API, and predicted analytically.

Flower serialises every array of an `ArrayRecord` with `numpy.save`, and `ArrayRecord.count_bytes()`
adds the length of each key, so for a float32 tensor of n elements under key k:

    count_bytes = 4·n + npy_header_bytes(shape) + len(k)

The .npy v1.0 header is magic (6) + version (2) + header length (2) + the header dict, padded with
spaces (the dict reserves room for the first axis to grow to 21 digits) and a newline to a multiple of
64 bytes, so it is 128 bytes for every shape of rank <= 4 with moderate sizes. `arrayrecord_bytes`
predicts `count_bytes()` exactly, which lets a claim compare measured with analytic bytes with `==`.

Example:
    >>> import numpy as np
    >>> arrays = {"w": np.zeros((384, 384), np.float32), "b": np.zeros(384, np.float32)}
    >>> array_record(arrays).count_bytes() == arrayrecord_bytes(arrays) == 4 * (384 * 384 + 384) + 2 * 128 + 2
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

NPY_PREAMBLE = 10  # magic string (6) + format version (2) + little-endian uint16 header length (2)
NPY_ALIGN = 64  # numpy pads the header so that the data start on a 64-byte boundary
NPY_GROWTH_DIGITS = 21  # numpy reserves room for the growth axis to reach 21 digits


def npy_header_bytes(shape: Iterable[int], dtype: Any = "float32", fortran_order: bool = False) -> int:
    """Length of the .npy (v1.0) header that `numpy.save` writes for an array of `shape` and `dtype`.

    >>> npy_header_bytes((3, 2)), npy_header_bytes(())
    (128, 128)
    """
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must have non-negative sizes, got {shape}")
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    header = f"{{'descr': {descr!r}, 'fortran_order': {fortran_order!r}, 'shape': {shape!r}, }}"
    if shape:
        header += " " * (NPY_GROWTH_DIGITS - len(repr(shape[-1 if fortran_order else 0])))
    unpadded = NPY_PREAMBLE + len(header) + 1  # + the closing newline
    padded = NPY_ALIGN * math.ceil(unpadded / NPY_ALIGN)
    if padded == unpadded:  # numpy always writes at least one space of padding before the newline
        padded += NPY_ALIGN
    if padded - NPY_PREAMBLE > 0xFFFF:
        raise ValueError(f"header for shape {shape} does not fit the .npy v1.0 format")
    return padded


def array_bytes(shape: Iterable[int], dtype: Any = "float32", key: str = "") -> int:
    """`count_bytes()` of one array under `key`: data + .npy header + key length."""
    shape = tuple(int(s) for s in shape)
    return np.dtype(dtype).itemsize * math.prod(shape) + npy_header_bytes(shape, dtype) + len(key)


def arrayrecord_bytes(arrays: Mapping[str, Any]) -> int:
    """Predicted `ArrayRecord(arrays).count_bytes()` for tensors/arrays, or (shape, dtype) pairs, by key.

    >>> arrayrecord_bytes({"bias": ((384,), "float32")})
    1668
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a mapping of key -> array or (shape, dtype), got {type(arrays).__name__}")
    total = 0
    for key, value in arrays.items():
        if isinstance(value, tuple) and len(value) == 2 and not np.isscalar(value[0]):
            shape, dtype = value
        else:
            shape = tuple(value.shape)
            dtype = str(value.dtype).removeprefix("torch.")
        total += array_bytes(shape, dtype, key)
    return total


def array_record(arrays: Mapping[str, Any]) -> Any:
    """An `ArrayRecord` from named numpy arrays and/or torch tensors (Flower's constructor takes a torch
    state_dict, a list of arrays, or a dict of `Array`s, but not a dict of numpy arrays)."""
    from flwr.app import Array, ArrayRecord

    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a mapping of key -> array, got {type(arrays).__name__}")
    return ArrayRecord({str(k): v if isinstance(v, Array) else Array(np.asarray(v.detach().cpu() if hasattr(v, "detach")
                                                                                else v))
                        for k, v in arrays.items()})


def message_bytes(message: Any, records: str = "arrays") -> int:
    """Bytes of a message's content by Flower's own count: its ArrayRecords (`records="arrays"`) or all
    its records, config and metrics included (`records="all"`). A message carrying an error counts 0.
    """
    if records not in ("arrays", "all"):
        raise ValueError(f"records must be 'arrays' or 'all', got {records!r}")
    if message.has_error():
        return 0
    content = message.content
    total = sum(r.count_bytes() for r in content.array_records.values())
    if records == "all":
        total += sum(config_bytes(r) for r in content.config_records.values())
        total += sum(r.count_bytes() for r in content.metric_records.values())
    return total


def config_bytes(record: Mapping[str, Any]) -> int:
    """`ConfigRecord.count_bytes()` by Flower's rule (bool 1, int/float 8, str/bytes their length, plus the
    key), also for the values it rejects although a ConfigRecord holds them: empty strings, bytes and lists.

    >>> from flwr.app import ConfigRecord
    >>> config_bytes(ConfigRecord({"lr": 0.1, "tag": "", "ids": []}))  # (2 + 8) + (3 + 0) + (3 + 0)
    16
    """
    def scalar(value: Any) -> int:
        if isinstance(value, bool):
            return 1
        if isinstance(value, str | bytes):
            return len(value)
        if isinstance(value, int | float):
            return 8
        raise TypeError(f"config values must be bool, int, float, str or bytes, got {type(value).__name__}")

    return sum(len(k) + (sum(scalar(x) for x in v) if isinstance(v, list) else scalar(v)) for k, v in record.items())


__all__ = ["array_bytes", "array_record", "arrayrecord_bytes", "config_bytes", "message_bytes",
           "npy_header_bytes"]
