"""Writes raw-initializers.onnx, which onnx-raw-initializers.test reads: bool
and int32 initializers stored in raw_data, as exporters write them (one byte
per bool). Run it from this directory with a Python that has the `onnx`
package:

    python make_raw_initializers.py

The output is committed, so the test needs neither Python nor onnx.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

mask = numpy_helper.from_array(np.array([True, False, True, True, False]), "mask")
offsets = numpy_helper.from_array(np.array([3, -1, 7], dtype=np.int32), "offsets")
zero = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")
assert mask.HasField("raw_data") and offsets.HasField("raw_data")

graph = helper.make_graph(
    [
        helper.make_node("Where", ["mask", "x", "zero"], ["y"], name="masked"),
        helper.make_node("Add", ["k", "offsets"], ["n"], name="shifted"),
    ],
    "raw_initializers",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [5]),
        helper.make_tensor_value_info("k", TensorProto.INT32, [3]),
    ],
    [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [5]),
        helper.make_tensor_value_info("n", TensorProto.INT32, [3]),
    ],
    [mask, offsets, zero],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "raw-initializers.onnx")
