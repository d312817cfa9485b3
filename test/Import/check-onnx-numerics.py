#!/usr/bin/env python3
"""Builds one-node Einsum, ScatterND, InstanceNormalization and
GroupNormalization models, runs them through dsp-opt and dsp-run and
compares with numpy; Mod, Pad, GatherND and ScatterElements models are
compared with ONNX Runtime. Prints one line per case.

Usage: check-onnx-numerics.py DSP_OPT DSP_RUN WORK_DIR
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from onnx_run import run

EINSUM = [
    ("nhwpqc->nchpwq", [(1, 2, 3, 2, 2, 4)]),  # Latte's unpatchify
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("bij->bj", [(2, 3, 4)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bqhd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("i,i->", [(7,), (7,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("b...d,bd->b...", [(2, 3, 4, 5), (2, 5)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
    ("xyz,zw->wyx", [(2, 3, 4), (4, 6)]),
    ("abc,c->", [(2, 3, 4), (4,)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
]

# (data shape, indices, updates shape, reduction)
SCATTER = [
    ((4, 6, 3), [[[0, 2], [0, 3], [0, 4]], [[1, 2], [1, 3], [1, 4]]],
     (2, 3, 3), "none"),                                     # a box
    ((5, 4), [[1], [2], [3]], (3, 4), "none"),               # rows 1:4
    ((5, 4), [[4], [0]], (2, 4), "none"),                    # not a box
    ((5, 4), [[1], [1]], (2, 4), "none"),                    # duplicate
    ((5, 4), [[-1], [0], [-1]], (3, 4), "add"),              # adds up
    ((2, 3, 4), [[0, 1, 2], [1, 2, 3]], (2,), "none"),       # elements
]


def einsum_model(equation, shapes, output_shape):
    """A one-node Einsum model over float inputs x0, x1, ..."""
    names = [f"x{i}" for i in range(len(shapes))]
    node = helper.make_node("Einsum", names, ["y"], equation=equation)
    graph = helper.make_graph(
        [node], "einsum",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, s)
         for k, s in zip(names, shapes)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)])
    return helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17)], ir_version=8)


def scatter_model(shape, indices, update_shape, reduction):
    """A one-node ScatterND model with constant indices."""
    node = helper.make_node("ScatterND", ["data", "indices", "updates"],
                            ["y"], reduction=reduction)
    graph = helper.make_graph(
        [node], "scatter",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("updates", TensorProto.FLOAT,
                                       update_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(np.array(indices, np.int64), "indices")])
    return helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 18)], ir_version=8)


def main():
    work = sys.argv[3]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    failures = 0
    for n, (equation, shapes) in enumerate(EINSUM):
        operands = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        names = [f"x{i}" for i in range(len(shapes))]
        expected = np.array(np.einsum(equation, *operands), np.float32,
                            order="C")
        model = einsum_model(equation, shapes, expected.shape)
        line = run(model, dict(zip(names, operands)), expected, work,
                   f"einsum{n}")
        failures += "max abs error" not in line
        print(f"einsum '{equation}': {line}")
    for n, (shape, indices, update_shape, reduction) in enumerate(SCATTER):
        data = rng.standard_normal(shape).astype(np.float32)
        updates = rng.standard_normal(update_shape).astype(np.float32)
        index = np.array(indices, np.int64)
        expected = data.copy()
        for position in np.ndindex(index.shape[:-1]):
            target = tuple(index[position])
            if reduction == "add":
                expected[target] += updates[position]
            else:
                expected[target] = updates[position]
        model = scatter_model(shape, indices, update_shape, reduction)
        line = run(model, {"data": data, "updates": updates}, expected, work,
                   f"scatter{n}")
        failures += "max abs error" not in line
        print(f"scatternd {reduction} {index.shape}: {line}")
    # Indices computed from a large int64 initializer (an exporter's arange,
    # stored as raw bytes) still fold to constants.
    data = rng.standard_normal((6, 4)).astype(np.float32)
    updates = rng.standard_normal((3, 4)).astype(np.float32)
    expected = data.copy()
    expected[1:4] = updates
    nodes = [
        helper.make_node("Slice", ["arange", "starts", "ends"], ["picked"]),
        helper.make_node("Unsqueeze", ["picked", "axes"], ["indices"]),
        helper.make_node("ScatterND", ["data", "indices", "updates"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "scatter",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, (6, 4)),
         helper.make_tensor_value_info("updates", TensorProto.FLOAT, (3, 4))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, (6, 4))],
        [numpy_helper.from_array(np.arange(1000, dtype=np.int64), "arange"),
         numpy_helper.from_array(np.array([1], np.int64), "starts"),
         numpy_helper.from_array(np.array([4], np.int64), "ends"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 18)], ir_version=8)
    line = run(model, {"data": data, "updates": updates}, expected, work,
               "scatter-arange")
    failures += "max abs error" not in line
    print(f"scatternd with indices from an arange initializer: {line}")
    failures += check_norms(rng, work)
    failures += check_against_onnxruntime(rng, work)
    return 1 if failures else 0


def check_norms(rng, work):
    """InstanceNormalization (scale and bias per channel) and opset 18's
    GroupNormalization (per group), against numpy."""
    failures = 0
    for op, shape, groups in (("InstanceNormalization", (2, 3, 4, 5), 3),
                              ("InstanceNormalization", (1, 4, 7), 4),
                              ("GroupNormalization", (2, 6, 4, 5), 3),
                              ("GroupNormalization", (1, 8, 3, 2, 2), 2)):
        x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
        params = shape[1] if op == "InstanceNormalization" else groups
        scale = rng.standard_normal(params).astype(np.float32)
        bias = rng.standard_normal(params).astype(np.float32)
        grouped = x.reshape(shape[0], groups, -1).astype(np.float64)
        mean = grouped.mean(axis=2, keepdims=True)
        var = grouped.var(axis=2, keepdims=True)
        normalized = (grouped - mean) / np.sqrt(var + 1e-3)
        if op == "GroupNormalization":
            normalized = normalized * scale[:, None] + bias[:, None]
            expected = normalized.reshape(shape)
        else:
            channel = (shape[1],) + (1,) * (len(shape) - 2)
            expected = (normalized.reshape(shape) * scale.reshape(channel) +
                        bias.reshape(channel))
        attributes = {"epsilon": 1e-3}
        if op == "GroupNormalization":
            attributes["num_groups"] = groups
        node = helper.make_node(op, ["x", "scale", "bias"], ["y"],
                                **attributes)
        graph = helper.make_graph(
            [node], "norm",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
            [numpy_helper.from_array(scale, "scale"),
             numpy_helper.from_array(bias, "bias")])
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 18)], ir_version=8)
        line = run(model, {"x": x}, expected.astype(np.float32), work,
                   f"{op}{len(shape)}")
        failures += "max abs error" not in line
        print(f"{op} {shape} groups {groups}: {line}")
    return failures


# (op type, attributes, operands, ranks): operands are (name, array,
# whether it is a constant), in the node's order; an empty name skips an
# optional input.
def data_op_cases(rng):
    x = rng.standard_normal((2, 6, 5)).astype(np.float32)
    a = rng.integers(-20, 20, (4, 6), dtype=np.int64)
    b = rng.integers(1, 7, (6,), dtype=np.int64) * rng.choice([-1, 1], 6)
    ones = np.ones_like(x)
    pad = lambda *pads: ("pads", np.array(pads), True)
    return [
        ("Mod", {}, [("a", a, False), ("b", b, False)], 1),
        ("Mod", {"fmod": 1}, [("a", a, False), ("b", b, False)], 1),
        ("Mod", {"fmod": 1}, [("x", x * 4, False), ("d", ones * 1.5, False)],
         1),
        ("Pad", {}, [("x", x, False), pad(0, 1, 2, 0, 0, 1),
                     ("value", np.array(0.5, np.float32), True)], 1),
        ("Pad", {"mode": "reflect"}, [("x", x, False), pad(0, 2, 1, 0, 3, 4)],
         1),
        ("Pad", {"mode": "edge"}, [("x", x, False), pad(1, 1, 0, 2, 0, 1)], 1),
        ("Pad", {"mode": "edge"}, [("x", x, False), pad(0, -1, 2, 0, -2, 1)],
         1),
        # The unpadded dim 1 may be split across ranks.
        ("Pad", {"mode": "reflect"}, [("x", x, False), pad(1, 0, 2, 1, 0, 1)],
         2),
        ("Pad", {}, [("x", x, False), pad(2, 3), ("", None, True),
                     ("axes", np.array([-1]), True)], 1),
        # Rows, as Mochi gathers its valid text tokens.
        ("GatherND", {}, [("x", x, False),
                          ("indices", np.array([[1], [0], [-1]]), True)], 2),
        ("GatherND", {}, [("x", x, False),
                          ("indices", np.array([[0, 3], [1, -1]]), True)], 1),
        ("GatherND", {}, [("x", x, False),
                          ("indices", np.array([[[1, 5, 4], [0, 0, -5]]]),
                           True)], 1),
        ("ScatterElements", {"axis": 1},
         [("x", x, False),
          ("indices", np.array([[[0, 1, -1, 2], [3, 3, 0, -6]]] * 2), True),
          ("u", x[:, :2, :4] * 10, False)], 1),
        ("ScatterElements", {"axis": 0, "reduction": "add"},
         [("x", x, False),
          ("indices", np.array([[[1] * 5] * 3, [[1, 0, 1, 0, 1]] * 3]), True),
          ("u", x[:, :3, :] * 10, False)], 2),
    ]


def check_against_onnxruntime(rng, work):
    """Mod, Pad, GatherND and ScatterElements, as ONNX Runtime computes
    them."""
    import onnxruntime
    failures = 0
    for n, (op, attributes, operands, ranks) in enumerate(
            data_op_cases(rng)):
        node = helper.make_node(op, [name for name, _, _ in operands], ["y"],
                                **attributes)
        inputs = {name: value for name, value, constant in operands
                  if not constant}
        # The result has the first operand's type; its shape is ONNX
        # Runtime's.
        dtype = helper.np_dtype_to_tensor_dtype(operands[0][1].dtype)
        graph = helper.make_graph(
            [node], op,
            [helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype),
                value.shape) for name, value in inputs.items()],
            [helper.make_tensor_value_info("y", dtype, None)],
            [numpy_helper.from_array(value, name)
             for name, value, constant in operands if constant and name])
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 18)], ir_version=8)
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"])
        expected = session.run(None, inputs)[0]
        graph.output[0].CopyFrom(
            helper.make_tensor_value_info("y", dtype, expected.shape))
        line = run(model, inputs, expected, work, f"{op}{n}", ranks)
        failures += "max abs error" not in line
        print(f"{op} {attributes} on {ranks} ranks: {line}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
