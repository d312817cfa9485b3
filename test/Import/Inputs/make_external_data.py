"""Writes the small ONNX models with external data that onnx-errors.test and
onnx-external-data.onnxtxt read. Run it from this directory with a Python
that has the `onnx` package:

    python make_external_data.py

The outputs are committed, so the tests need neither Python nor onnx.
"""

import struct

import onnx
from onnx import TensorProto, helper


def external(name, dims, location, offset=None, length=None):
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = TensorProto.FLOAT
    tensor.dims.extend(dims)
    tensor.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for key, value in entries:
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value
    return tensor


def model(name, initializers):
    """y = x + a + b over [2, 3] floats, a and b from `initializers`."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "a"], ["t"], name="add_a"),
            helper.make_node("Add", ["t", "b"], ["y"], name="add_b"),
        ],
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        initializers,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, name + ".onnx")


# external-data.bin: a = 1..6 at offset 0, b = 10..60 at offset 24.
with open("external-data.bin", "wb") as f:
    f.write(struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    f.write(struct.pack("<6f", 10, 20, 30, 40, 50, 60))

model("external-data", [
    external("a", [2, 3], "external-data.bin", 0, 24),
    external("b", [2, 3], "external-data.bin", 24, 24),
])
model("external-missing", [
    external("a", [2, 3], "no-such-file.bin"),
    external("b", [2, 3], "no-such-file.bin", 24),
])
model("external-absolute", [
    external("a", [2, 3], "/weights/external-data.bin"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-parent", [
    external("a", [2, 3], "../Inputs/external-data.bin"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-short", [
    external("a", [2, 3], "external-data.bin", 32),
    external("b", [2, 3], "external-data.bin", 24),
])
# Hostile locations and numbers: the tests create link.bin, etc/ and
# fifo.bin (symlinks to files outside the model's folder, a FIFO) at test
# time.
model("external-link", [
    external("a", [2, 3], "link.bin"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-dir-link", [
    external("a", [2, 3], "etc/passwd"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-fifo", [
    external("a", [2, 3], "fifo.bin"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-offset-wraps", [
    external("a", [2, 3], "external-data.bin", 2**64 - 8),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-offset-negative", [
    external("a", [2, 3], "external-data.bin", "-1"),
    external("b", [2, 3], "external-data.bin", 24),
])
model("external-offset-text", [
    external("a", [2, 3], "external-data.bin", "twelve"),
    external("b", [2, 3], "external-data.bin", 24),
])
