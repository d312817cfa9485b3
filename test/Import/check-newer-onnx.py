#!/usr/bin/env python3
"""Builds models with what ONNX releases after the importer's ONNX library
added (IR versions 11-14, opsets 19-28) and checks that dsp-opt imports
what it supports, matching numpy, and refuses the rest by name. Prints one
line per case.

Usage: check-newer-onnx.py DSP_OPT DSP_RUN WORK_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnx_run import compile_model, run

IR_VERSION = 14
OPSET = 28


def model_of(nodes, inputs, outputs, initializers=(), opset=OPSET):
    graph = helper.make_graph(nodes, "newer", inputs, outputs,
                              list(initializers))
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    helper.set_model_props(model, {"exported_by": "check-newer-onnx"})
    return model


def with_metadata(node):
    """Node metadata, as torch's exporter writes it (IR version 10)."""
    entry = node.metadata_props.add()
    entry.key, entry.value = "pkg.torch.onnx.stack_trace", "model.py:12"
    return node


def refusal(model, work, name):
    _, result = compile_model(model, work, name)
    if result.returncode == 0:
        return "imported, expected an error"
    return result.stderr.strip().splitlines()[0]


def gelu(x, approximate):
    x = x.astype(np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) *
                                      (x + 0.044715 * x ** 3)))
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def main():
    work = sys.argv[3]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    failures = 0
    value = lambda name, shape, t=TensorProto.FLOAT: (
        helper.make_tensor_value_info(name, t, shape))

    # Opset 20's Gelu, both forms.
    for approximate in ("none", "tanh"):
        x = rng.standard_normal((3, 8)).astype(np.float32) * 2
        node = with_metadata(helper.make_node(
            "Gelu", ["x"], ["y"], approximate=approximate))
        line = run(model_of([node], [value("x", [3, 8])], [value("y", [3, 8])]),
                   {"x": x}, gelu(x, approximate).astype(np.float32), work,
                   f"gelu_{approximate}")
        failures += "max abs error" not in line
        print(f"Gelu approximate={approximate} (opset {OPSET}): {line}")

    # Opset 21's GroupNormalization scales and shifts per channel.
    shape, groups = (2, 6, 4, 5), 3
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    scale = rng.standard_normal(shape[1]).astype(np.float32)
    bias = rng.standard_normal(shape[1]).astype(np.float32)
    grouped = x.reshape(shape[0], groups, -1).astype(np.float64)
    normalized = ((grouped - grouped.mean(axis=2, keepdims=True)) /
                  np.sqrt(grouped.var(axis=2, keepdims=True) + 1e-3))
    channel = (shape[1], 1, 1)
    expected = (normalized.reshape(shape) * scale.reshape(channel) +
                bias.reshape(channel)).astype(np.float32)
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"],
                            epsilon=1e-3, num_groups=groups)
    line = run(model_of([node], [value("x", shape)], [value("y", shape)],
                        [numpy_helper.from_array(scale, "scale"),
                         numpy_helper.from_array(bias, "bias")], opset=21),
               {"x": x}, expected, work, "group_norm_21")
    failures += "max abs error" not in line
    print(f"GroupNormalization per channel (opset 21): {line}")

    # What the importer refuses, by name.
    refused = []
    node = helper.make_node("Pad", ["x", "pads"], ["y"], mode="wrap")
    refused.append(("Pad wrap", model_of(
        [node], [value("x", [2, 3])], [value("y", [2, 5])],
        [numpy_helper.from_array(np.array([0, 1, 0, 1]), "pads")])))
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"],
                            num_groups=1, stash_type=0)
    refused.append(("GroupNormalization stash_type 0", model_of(
        [node], [value("x", [1, 2, 3])], [value("y", [1, 2, 3])],
        [numpy_helper.from_array(np.ones(2, np.float32), "scale"),
         numpy_helper.from_array(np.zeros(2, np.float32), "bias")])))
    node = helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)
    refused.append(("ReduceMax of bool", model_of(
        [node], [value("x", [2, 3], TensorProto.BOOL)],
        [value("y", [], TensorProto.BOOL)])))
    node = helper.make_node("Relu", ["x"], ["y"])
    refused.append(("float8 input", model_of(
        [node], [value("x", [2], TensorProto.FLOAT8E4M3FN)],
        [value("y", [2], TensorProto.FLOAT8E4M3FN)])))
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    configuration = node.device_configurations.add()
    configuration.configuration_id = "mesh"
    refused.append(("node device configuration", model_of(
        [node], [value("x", [2])], [value("y", [2])])))
    model = model_of([helper.make_node("Relu", ["x"], ["y"])],
                     [value("x", [2])], [value("y", [2])])
    model.configuration.add().name = "mesh"
    refused.append(("model device configuration", model))
    for name, model in refused:
        line = refusal(model, work, name.replace(" ", "_"))
        failures += "error:" not in line
        print(f"refused {name}: {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
