"""The analytic byte count equals Flower's `ArrayRecord.count_bytes()` byte for byte."""

import io

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord, ConfigRecord, Error, Message, MessageType, MetricRecord, RecordDict

from paperzoo.federated import (
    array_bytes,
    array_record,
    arrayrecord_bytes,
    config_bytes,
    message_bytes,
    npy_header_bytes,
)


def saved_header(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return len(buffer.getvalue()) - array.nbytes


SHAPES = [(), (0,), (1,), (7,), (384,), (3, 2), (384, 384), (30522, 384), (2, 3, 4, 5), (1,) * 9,
          (9, 9, 9, 9, 9, 9, 9, 9)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16"])
def test_header_matches_numpy_save(shape, dtype):
    assert npy_header_bytes(shape, dtype) == saved_header(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("shape", [(10**12,), (10**20, 3), (3, 10**20), (5,) * 30])
def test_header_matches_numpy_for_shapes_too_large_to_allocate(shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    assert npy_header_bytes(shape) == len(buffer.getvalue())


def test_header_crosses_the_64_byte_boundary_like_numpy():
    # Ranks large enough to push the header dict past 128 bytes, and a Fortran-ordered array.
    sizes = {npy_header_bytes((1,) * rank) for rank in range(1, 64)}
    assert {128, 192} <= sizes
    for rank in range(1, 64):
        assert npy_header_bytes((1,) * rank) == saved_header(np.zeros((1,) * rank, np.float32)), rank
    f = np.asfortranarray(np.zeros((3, 5), np.float32))
    assert npy_header_bytes((3, 5), fortran_order=True) == saved_header(f)


def test_arrayrecord_bytes_equals_count_bytes_for_tensors_and_arrays():
    state = {"bert.encoder.layer.0.attention.self.query.lora_A.default.weight": torch.randn(8, 384),
             "classifier.bias": torch.zeros(5), "scalar": torch.tensor(1.5), "ids": torch.arange(7)}
    assert arrayrecord_bytes(state) == ArrayRecord(state).count_bytes()
    arrays = {k: v.numpy() for k, v in state.items()}
    assert arrayrecord_bytes(arrays) == array_record(arrays).count_bytes() == ArrayRecord(state).count_bytes()
    shapes = {k: (tuple(v.shape), str(v.dtype)) for k, v in arrays.items()}
    assert arrayrecord_bytes(shapes) == ArrayRecord(state).count_bytes()
    # the framing the claims rely on: 4·n + 128 + len(key) per float32 array of rank <= 4
    assert array_bytes((8, 384), key="w") == 4 * 8 * 384 + 128 + 1


def test_message_bytes_counts_arrays_or_all_records_and_errors_as_zero(task_identity):
    arrays = array_record({"w": np.zeros(10, np.float32)})
    content = RecordDict({"arrays": arrays, "config": ConfigRecord({"lr": 0.1, "name": "abc"}),
                          "metrics": MetricRecord({"n": 3})})
    msg = Message(content, dst_node_id=5, message_type=MessageType.TRAIN)
    assert message_bytes(msg) == arrays.count_bytes() == 40 + 128 + 1
    assert message_bytes(msg, "all") == arrays.count_bytes() + (2 + 8) + (4 + 3) + (1 + 8)  # keys + values
    assert message_bytes(Message(Error(code=0, reason="x"), reply_to=msg)) == 0
    with pytest.raises(ValueError, match="records"):
        message_bytes(msg, "arrayz")


def test_message_bytes_counts_empty_config_values_that_flower_rejects(task_identity):
    config = ConfigRecord({"lr": 0.1, "tag": "", "names": ["ab", "c"], "flag": False, "blob": b""})
    with pytest.raises(ValueError):  # Flower's own count refuses the empty string
        config.count_bytes()
    msg = Message(RecordDict({"config": config}), dst_node_id=5, message_type=MessageType.TRAIN)
    assert message_bytes(msg) == 0
    assert message_bytes(msg, "all") == config_bytes(config) == (2 + 8) + (3 + 0) + (5 + 3) + (4 + 1) + (4 + 0)
    filled = ConfigRecord({"lr": 0.1, "tag": "x", "names": ["ab", "c"]})
    assert config_bytes(filled) == filled.count_bytes()


def test_bad_arguments():
    with pytest.raises(ValueError, match="non-negative"):
        npy_header_bytes((-1,))
    with pytest.raises(TypeError, match="mapping"):
        arrayrecord_bytes([np.zeros(3)])
