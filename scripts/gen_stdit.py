#!/usr/bin/env python3
"""Generate an ST-DiT (Open-Sora-like spatial-temporal DiT) model as ONNX.

The graph is built node by node with ``onnx.helper`` in the forms that
PyTorch's TorchScript-based exporter writes at opset 17, so that the
importer's attention, GELU and layer-norm handling applies to it exactly as
to an exported model:

* Linear layers are ``MatMul`` with a pre-transposed weight, then ``Add`` of
  the bias.
* Attention is ``qkv`` projection, ``Reshape`` to ``[N, L, 3, H, D]``,
  ``Transpose`` to ``[3, N, H, L, D]``, ``Split`` + ``Squeeze`` (``unbind``),
  ``Transpose`` of k, ``MatMul`` q·kᵀ, ``Mul`` by the scale, ``Softmax``
  over the last axis, ``MatMul`` with v, ``Transpose`` + ``Reshape`` to
  merge the heads, and the output projection.
* GELU is decomposed (``Pow``/``Tanh`` for the tanh approximation that
  Open-Sora uses, or ``Div``/``Erf`` for the exact form).

Inputs: ``x`` ``[B, T, S, C]`` (the latent token grid) and ``y``
``[B, Ltext, C]`` (text tokens for cross attention). Output: ``out``
``[B, T, S, C]``. Each block is::

    x = x + spatial_attn(LN(x))     # per frame: [B*T, S, C]
    x = x + temporal_attn(LN(x))    # per patch: [B, S, T, C] -> [B*S, T, C]
    x = x + cross_attn(LN(x), y)    # all tokens [B, T*S, C] attend to y
    x = x + fc2(gelu(fc1(LN(x))))

Open-Sora's time-step modulation (adaLN) and the patch embedding/final layer
are left out: they mix no tokens and do not change how the model shards.

Examples::

    # the committed example, with its reference input and output
    python scripts/gen_stdit.py --layers 2 --batch 1 --frames 8 \\
        --patches 16 --hidden 32 --heads 4 --text-len 8 --seed 0 \\
        --reference -o examples/stdit_tiny.onnx

    # a full-size model for shape-only planning (dsp-opt --no-weights);
    # the zero weights are written sparsely and cost no disk
    python scripts/gen_stdit.py --preset opensora --zero-weights \\
        --external-data -o stdit_xl.onnx

With ``--reference`` the script also writes ``OUT.input.x.npy``,
``OUT.input.y.npy`` (one file per graph input, named after it) and
``OUT.output.npy``, the output ONNX Runtime (CPU) computes for them.

With ``--data-only`` it writes no model, only what a run of a model made
with ``--external-data`` needs besides it, with numpy alone (no ``onnx``):
the external weight file ``OUT.onnx.data``, byte for byte the one
``--external-data`` writes for the same options, its index
``OUT.weights.json`` (each weight's offset, shape and dtype; the values of
weights too small for the file) and the inputs ``OUT.input.<name>.npy``
that ``--reference`` writes. A program compiled with
``dsp-opt --weights=reference`` then runs on a machine the weights never
travelled to::

    python scripts/gen_stdit.py --preset opensora --layers 1 --data-only \
        -o programs/stdit_block.onnx
"""

import argparse
import json
import math
import os
import sys

import numpy as np

# Named size presets; explicit options override them.
PRESETS = {
    # Small enough to commit and to run in tests.
    "tiny": dict(layers=2, batch=1, frames=8, patches=16, hidden=32, heads=4,
                 text_len=8, mlp_ratio=4.0),
    # The larger benchmark model.
    "bench": dict(layers=4, batch=1, frames=16, patches=64, hidden=256,
                  heads=8, text_len=32, mlp_ratio=4.0),
    # Open-Sora STDiT-XL/2 at 16 frames of 256x256 (32x32 latent, patch 2x2
    # -> 1024 patches per frame), text length 120. Use --zero-weights.
    "opensora": dict(layers=28, batch=1, frames=16, patches=1024, hidden=1152,
                     heads=16, text_len=120, mlp_ratio=4.0),
}

# Initializers at least this large go to the external data file.
EXTERNAL_THRESHOLD = 1024
# Alignment of tensors in the external data file.
EXTERNAL_ALIGNMENT = 64
# Epsilon of every layer norm, as Open-Sora sets it.
LAYER_NORM_EPSILON = 1e-6


class GraphBuilder:
    """Collects nodes and initializers and hands out unique names."""

    def __init__(self, rng, zero_weights):
        self.rng = rng
        self.zero_weights = zero_weights
        self.nodes = []
        self.initializers = []  # (name, numpy array or (shape, dtype))
        self.counter = 0

    def fresh(self, prefix):
        """A new unique value name."""
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def node(self, op_type, inputs, name, num_outputs=1, **attrs):
        """Adds a node named `name`; returns its output name(s). Nodes are
        kept as plain tuples, so that the weights can be made without the
        onnx package."""
        outputs = [f"{name}_output_{i}" for i in range(num_outputs)]
        self.nodes.append((op_type, inputs, outputs, name, attrs))
        return outputs[0] if num_outputs == 1 else outputs

    def constant(self, name, value, dtype=np.float32):
        """A scalar or small constant as a Constant node."""
        return self.node("Constant", [], name,
                         value=np.asarray(value, dtype=dtype))

    def shape(self, name, dims):
        """An int64 shape initializer, as exporters write static shapes."""
        self.initializers.append((name, np.asarray(dims, dtype=np.int64)))
        return name

    def weight(self, name, shape, kind):
        """A float32 parameter: 'linear' (uniform +-1/sqrt(fan_in), as
        torch.nn.Linear initializes), 'ones' or 'zeros' (layer norm), each
        perturbed so that no weight is trivial."""
        if self.zero_weights:
            self.initializers.append((name, (tuple(shape), np.float32)))
            return name
        if kind == "linear":
            bound = 1.0 / math.sqrt(shape[0])
            array = self.rng.uniform(-bound, bound, size=shape)
        elif kind == "bias":
            array = self.rng.uniform(-0.05, 0.05, size=shape)
        elif kind == "ones":
            array = 1.0 + 0.1 * self.rng.standard_normal(shape)
        elif kind == "zeros":
            array = 0.1 * self.rng.standard_normal(shape)
        else:
            raise ValueError(kind)
        self.initializers.append((name, array.astype(np.float32)))
        return name


class StdiTGenerator:
    """Builds the ST-DiT graph from the sizes in `args`."""

    def __init__(self, args):
        self.args = args
        self.g = GraphBuilder(np.random.default_rng(args.seed),
                              args.zero_weights)
        self.head_dim = args.hidden // args.heads

    # -- building blocks ---------------------------------------------------

    def linear(self, prefix, x, fan_in, fan_out):
        """torch.nn.Linear on a 3-D input: MatMul(x, Wᵀ) then Add(bias)."""
        g = self.g
        w = g.weight(f"{prefix}.weight_t", (fan_in, fan_out), "linear")
        b = g.weight(f"{prefix}.bias", (fan_out,), "bias")
        mm = g.node("MatMul", [x, w], f"/{prefix}/MatMul")
        return g.node("Add", [b, mm], f"/{prefix}/Add")

    def layer_norm(self, prefix, x):
        """LayerNormalization over C (opset >= 17), else the decomposition
        the exporter writes for older opsets."""
        g, c = self.g, self.args.hidden
        scale = g.weight(f"{prefix}.weight", (c,), "ones")
        bias = g.weight(f"{prefix}.bias", (c,), "zeros")
        eps = LAYER_NORM_EPSILON
        if self.args.opset >= 17:
            return g.node("LayerNormalization", [x, scale, bias],
                          f"/{prefix}/LayerNormalization", axis=-1,
                          epsilon=eps)
        mean = g.node("ReduceMean", [x], f"/{prefix}/ReduceMean", axes=[-1])
        centered = g.node("Sub", [x, mean], f"/{prefix}/Sub")
        two = g.constant(f"/{prefix}/Constant", 2.0)
        square = g.node("Pow", [centered, two], f"/{prefix}/Pow")
        var = g.node("ReduceMean", [square], f"/{prefix}/ReduceMean_1",
                     axes=[-1])
        eps_c = g.constant(f"/{prefix}/Constant_1", eps)
        var_eps = g.node("Add", [var, eps_c], f"/{prefix}/Add")
        std = g.node("Sqrt", [var_eps], f"/{prefix}/Sqrt")
        normed = g.node("Div", [centered, std], f"/{prefix}/Div")
        scaled = g.node("Mul", [normed, scale], f"/{prefix}/Mul")
        return g.node("Add", [scaled, bias], f"/{prefix}/Add_1")

    def unbind(self, prefix, x, axis, count):
        """torch.unbind as the exporter writes it: Split + Squeeze."""
        g = self.g
        sizes = g.shape(f"{prefix}.split_sizes", [1] * count)
        parts = g.node("Split", [x, sizes], f"/{prefix}/Split",
                       num_outputs=count, axis=axis)
        axes = g.shape(f"{prefix}.squeeze_axes", [axis])
        return [g.node("Squeeze", [p, axes], f"/{prefix}/Squeeze_{i}")
                for i, p in enumerate(parts)]

    def sdpa(self, prefix, q, k, v, n, lq):
        """softmax(q·kᵀ * scale)·v with q, k, v [n, H, L, D]; returns the
        merged heads [n, lq, C]."""
        g, a = self.g, self.args
        kt = g.node("Transpose", [k], f"/{prefix}/Transpose_k",
                    perm=[0, 1, 3, 2])
        scores = g.node("MatMul", [q, kt], f"/{prefix}/MatMul")
        scale = g.constant(f"/{prefix}/Constant",
                           1.0 / math.sqrt(self.head_dim))
        scaled = g.node("Mul", [scores, scale], f"/{prefix}/Mul")
        probs = g.node("Softmax", [scaled], f"/{prefix}/Softmax", axis=-1)
        ctx = g.node("MatMul", [probs, v], f"/{prefix}/MatMul_1")
        ctx = g.node("Transpose", [ctx], f"/{prefix}/Transpose_out",
                     perm=[0, 2, 1, 3])
        merged = g.shape(f"{prefix}.merge_shape", [n, lq, a.hidden])
        return g.node("Reshape", [ctx, merged], f"/{prefix}/Reshape_out")

    def self_attention(self, prefix, x, n, length):
        """Open-Sora's Attention on x [n, length, C]."""
        g, a, d = self.g, self.args, self.head_dim
        qkv = self.linear(f"{prefix}.qkv", x, a.hidden, 3 * a.hidden)
        split = g.shape(f"{prefix}.qkv_shape", [n, length, 3, a.heads, d])
        qkv = g.node("Reshape", [qkv, split], f"/{prefix}/Reshape")
        qkv = g.node("Transpose", [qkv], f"/{prefix}/Transpose",
                     perm=[2, 0, 3, 1, 4])
        q, k, v = self.unbind(f"{prefix}.unbind", qkv, 0, 3)
        ctx = self.sdpa(prefix, q, k, v, n, length)
        return self.linear(f"{prefix}.proj", ctx, a.hidden, a.hidden)

    def cross_attention(self, prefix, x, y, n, lq, lk):
        """Open-Sora's MultiHeadCrossAttention (per sample): queries from x
        [n, lq, C], keys and values from y [n, lk, C]."""
        g, a, d = self.g, self.args, self.head_dim
        q = self.linear(f"{prefix}.q_linear", x, a.hidden, a.hidden)
        qs = g.shape(f"{prefix}.q_shape", [n, lq, a.heads, d])
        q = g.node("Reshape", [q, qs], f"/{prefix}/Reshape")
        q = g.node("Transpose", [q], f"/{prefix}/Transpose",
                   perm=[0, 2, 1, 3])
        kv = self.linear(f"{prefix}.kv_linear", y, a.hidden, 2 * a.hidden)
        kvs = g.shape(f"{prefix}.kv_shape", [n, lk, 2, a.heads, d])
        kv = g.node("Reshape", [kv, kvs], f"/{prefix}/Reshape_1")
        k, v = self.unbind(f"{prefix}.unbind", kv, 2, 2)
        k = g.node("Transpose", [k], f"/{prefix}/Transpose_1",
                   perm=[0, 2, 1, 3])
        v = g.node("Transpose", [v], f"/{prefix}/Transpose_2",
                   perm=[0, 2, 1, 3])
        ctx = self.sdpa(prefix, q, k, v, n, lq)
        return self.linear(f"{prefix}.proj", ctx, a.hidden, a.hidden)

    def gelu(self, prefix, x):
        """GELU decomposed as the TorchScript exporter writes it."""
        g = self.g
        if self.args.gelu == "erf":
            root2 = g.constant(f"/{prefix}/Constant", math.sqrt(2.0))
            div = g.node("Div", [x, root2], f"/{prefix}/Div")
            erf = g.node("Erf", [div], f"/{prefix}/Erf")
            one = g.constant(f"/{prefix}/Constant_1", 1.0)
            add = g.node("Add", [erf, one], f"/{prefix}/Add")
            mul = g.node("Mul", [x, add], f"/{prefix}/Mul")
            half = g.constant(f"/{prefix}/Constant_2", 0.5)
            return g.node("Mul", [mul, half], f"/{prefix}/Mul_1")
        # tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        three = g.constant(f"/{prefix}/Constant", 3.0)
        cube = g.node("Pow", [x, three], f"/{prefix}/Pow")
        kappa = g.constant(f"/{prefix}/Constant_1", 0.044715)
        scaled = g.node("Mul", [kappa, cube], f"/{prefix}/Mul")
        inner = g.node("Add", [x, scaled], f"/{prefix}/Add")
        beta = g.constant(f"/{prefix}/Constant_2", math.sqrt(2.0 / math.pi))
        inner = g.node("Mul", [beta, inner], f"/{prefix}/Mul_1")
        tanh = g.node("Tanh", [inner], f"/{prefix}/Tanh")
        one = g.constant(f"/{prefix}/Constant_3", 1.0)
        plus = g.node("Add", [one, tanh], f"/{prefix}/Add_1")
        half = g.constant(f"/{prefix}/Constant_4", 0.5)
        half_x = g.node("Mul", [x, half], f"/{prefix}/Mul_2")
        return g.node("Mul", [half_x, plus], f"/{prefix}/Mul_3")

    def reshape(self, prefix, x, dims):
        g = self.g
        return g.node("Reshape", [x, g.shape(f"{prefix}.shape", dims)],
                      f"/{prefix}/Reshape")

    def block(self, i, x, y):
        """One ST-DiT block on x [B, T, S, C]; returns the new x."""
        g, a = self.g, self.args
        b, t, s, c, lt = a.batch, a.frames, a.patches, a.hidden, a.text_len
        p = f"blocks.{i}"
        hidden = int(round(c * a.mlp_ratio))

        # Spatial attention: every frame attends over its S patches.
        h = self.layer_norm(f"{p}.norm1", x)
        h = self.reshape(f"{p}.to_spatial", h, [b * t, s, c])
        h = self.self_attention(f"{p}.attn", h, b * t, s)
        h = self.reshape(f"{p}.from_spatial", h, [b, t, s, c])
        x = g.node("Add", [x, h], f"/{p}/Add")

        # Temporal attention: every patch attends over its T frames.
        h = self.layer_norm(f"{p}.norm_temp", x)
        h = g.node("Transpose", [h], f"/{p}/Transpose", perm=[0, 2, 1, 3])
        h = self.reshape(f"{p}.to_temporal", h, [b * s, t, c])
        h = self.self_attention(f"{p}.attn_temp", h, b * s, t)
        h = self.reshape(f"{p}.from_temporal", h, [b, s, t, c])
        h = g.node("Transpose", [h], f"/{p}/Transpose_1", perm=[0, 2, 1, 3])
        x = g.node("Add", [x, h], f"/{p}/Add_1")

        # Cross attention: all T*S tokens of a sample attend to its text.
        h = self.layer_norm(f"{p}.norm_cross", x)
        h = self.reshape(f"{p}.to_tokens", h, [b, t * s, c])
        h = self.cross_attention(f"{p}.cross_attn", h, y, b, t * s, lt)
        h = self.reshape(f"{p}.from_tokens", h, [b, t, s, c])
        x = g.node("Add", [x, h], f"/{p}/Add_2")

        # MLP over C.
        h = self.layer_norm(f"{p}.norm2", x)
        h = self.reshape(f"{p}.to_mlp", h, [b, t * s, c])
        h = self.linear(f"{p}.mlp.fc1", h, c, hidden)
        h = self.gelu(f"{p}.mlp.act", h)
        h = self.linear(f"{p}.mlp.fc2", h, hidden, c)
        h = self.reshape(f"{p}.from_mlp", h, [b, t, s, c])
        return g.node("Add", [x, h], f"/{p}/Add_3")

    def build_blocks(self):
        """Builds every block: the nodes and the initializers, which are
        drawn from the seeded generator in this order."""
        x = "x"
        for i in range(self.args.layers):
            x = self.block(i, x, "y")
        self.g.nodes.append(("Identity", [x], ["out"], "/Identity", {}))

    def to_onnx(self):
        """The ONNX model of the built blocks, without initializers."""
        from onnx import TensorProto, helper, numpy_helper

        a = self.args
        x_info = helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, [a.batch, a.frames, a.patches, a.hidden])
        y_info = helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [a.batch, a.text_len, a.hidden])
        out_info = helper.make_tensor_value_info(
            "out", TensorProto.FLOAT, [a.batch, a.frames, a.patches, a.hidden])
        nodes = []
        for op_type, inputs, outputs, name, attrs in self.g.nodes:
            attrs = {key: numpy_helper.from_array(value, name=f"{name}_value")
                     if isinstance(value, np.ndarray) else value
                     for key, value in attrs.items()}
            nodes.append(helper.make_node(op_type, inputs, outputs, name=name,
                                          **attrs))
        graph = helper.make_graph(nodes, "stdit", [x_info, y_info],
                                  [out_info])
        model = helper.make_model(
            graph, producer_name="dsp-gen-stdit",
            opset_imports=[helper.make_opsetid("", a.opset)])
        # The oldest IR version that carries the opset, as exporters write.
        model.ir_version = helper.find_min_ir_version_for(
            list(model.opset_import))
        return model


def data_path_of(out_path):
    """The external data file OUT.onnx.data next to the model OUT.onnx."""
    return out_path + ".data"


def layout_initializers(initializers, external):
    """(name, value, offset) for each initializer: its offset in the
    external data file, or None where it stays inline in the model. Zero
    weights are given as (shape, dtype)."""
    layout = []
    offset = 0
    for name, value in initializers:
        if isinstance(value, tuple):
            nbytes = int(np.prod(value[0])) * np.dtype(value[1]).itemsize
        else:
            nbytes = value.nbytes
        if not external or nbytes < EXTERNAL_THRESHOLD:
            layout.append((name, value, None))
            continue
        offset = -(-offset // EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT
        layout.append((name, value, offset))
        offset += nbytes
    return layout


def shape_and_dtype(value):
    """The shape and dtype of an array or of a zero weight's (shape, dtype)."""
    if isinstance(value, tuple):
        return tuple(value[0]), np.dtype(value[1])
    return value.shape, value.dtype


def value_array(value):
    """The array of an initializer, zero weights made whole."""
    if isinstance(value, tuple):
        return np.zeros(value[0], dtype=value[1])
    return value


def write_external_data(data_path, layout):
    """Writes the external tensors of `layout` to `data_path`. Zero weights
    are not written at all: the file is extended with a seek, so it stays
    sparse."""
    end = 0
    with open(data_path, "wb") as data_file:
        for _, value, offset in layout:
            if offset is None:
                continue
            shape, dtype = shape_and_dtype(value)
            end = offset + int(np.prod(shape)) * dtype.itemsize
            if not isinstance(value, tuple):
                data_file.seek(offset)
                data_file.write(np.ascontiguousarray(value).tobytes())
        data_file.truncate(end)


def place_initializers(model, layout, data_name):
    """Adds the initializers of `layout` to `model`: inline, or as
    references into the external data file `data_name`."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    for name, value, offset in layout:
        if offset is None:
            graph.initializer.append(
                numpy_helper.from_array(value_array(value), name=name))
            continue
        shape, dtype = shape_and_dtype(value)
        tensor = TensorProto()
        tensor.name = name
        tensor.dims.extend(shape)
        tensor.data_type = helper.np_dtype_to_tensor_dtype(dtype)
        tensor.data_location = TensorProto.EXTERNAL
        for key, val in (("location", data_name), ("offset", offset),
                         ("length", int(np.prod(shape)) * dtype.itemsize)):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(val)
        graph.initializer.append(tensor)


def base_of(out_path):
    """OUT of OUT.onnx: the prefix of every file written beside the model."""
    return out_path[:-len(".onnx")] if out_path.endswith(".onnx") else out_path


def write_weight_index(out_path, args, layout):
    """Writes OUT.weights.json: the sizes of the model and, for each float
    weight, its offset in the external data file with its shape and dtype,
    or its values where it is too small for the file."""
    weights = {}
    for name, value, offset in layout:
        shape, dtype = shape_and_dtype(value)
        if dtype != np.float32:
            continue
        entry = {"shape": list(shape), "dtype": "float32"}
        if offset is None:
            entry["values"] = value_array(value).ravel().tolist()
        else:
            entry["offset"] = offset
        weights[name] = entry
    sizes = {key: getattr(args, key) for key in (
        "layers", "batch", "frames", "patches", "hidden", "heads", "text_len",
        "mlp_ratio", "gelu", "seed")}
    index = {"data": os.path.basename(data_path_of(out_path)),
             "layer_norm_epsilon": LAYER_NORM_EPSILON, "sizes": sizes,
             "weights": weights}
    path = base_of(out_path) + ".weights.json"
    with open(path, "w") as index_file:
        json.dump(index, index_file)
    return path


def reference_inputs(args):
    """The seeded random inputs x and y of the reference run."""
    rng = np.random.default_rng(args.seed + 1)
    shapes = (("x", (args.batch, args.frames, args.patches, args.hidden)),
              ("y", (args.batch, args.text_len, args.hidden)))
    return {name: rng.standard_normal(shape).astype(np.float32)
            for name, shape in shapes}


def write_inputs(out_path, inputs):
    """Writes OUT.input.<name>.npy for each input."""
    for name, array in inputs.items():
        np.save(f"{base_of(out_path)}.input.{name}.npy", array)


def write_reference(out_path, args):
    """Runs the model with ONNX Runtime (CPU) on random inputs and writes
    OUT.input.<name>.npy for each input and OUT.output.npy."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(out_path, options,
                                   providers=["CPUExecutionProvider"])
    feeds = reference_inputs(args)
    write_inputs(out_path, feeds)
    (output,) = session.run(None, feeds)
    base = base_of(out_path)
    np.save(f"{base}.output.npy", output)
    return base


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Sizes default to the 'tiny' preset; explicit options "
               "override the preset's values.")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.onnx",
                        help="the model file to write")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny",
                        help="size preset (default: tiny)")
    parser.add_argument("--layers", type=int, help="number of blocks")
    parser.add_argument("--batch", type=int, help="batch size B")
    parser.add_argument("--frames", type=int, help="frames T")
    parser.add_argument("--patches", type=int, help="patches per frame S")
    parser.add_argument("--hidden", type=int, help="hidden size C")
    parser.add_argument("--heads", type=int, help="attention heads")
    parser.add_argument("--text-len", type=int,
                        help="text tokens Ltext for cross attention")
    parser.add_argument("--mlp-ratio", type=float,
                        help="MLP hidden size / C")
    parser.add_argument("--gelu", choices=["tanh", "erf"], default="tanh",
                        help="GELU form: tanh approximation (Open-Sora, "
                             "default) or exact erf")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights and reference inputs")
    parser.add_argument("--opset", type=int, default=17,
                        help="ONNX opset, 13..21 (dsp-opt imports up to "
                             "18); below 17 layer norm is decomposed as "
                             "exporters do (default 17)")
    parser.add_argument("--zero-weights", action="store_true",
                        help="all weights zero (for shape-only planning); "
                             "with --external-data they take no disk")
    parser.add_argument("--external-data", action="store_true",
                        help="write weights of 1 KiB or more to "
                             "OUT.onnx.data next to the model")
    parser.add_argument("--reference", action="store_true",
                        help="also write OUT.input.<name>.npy and "
                             "OUT.output.npy computed with ONNX Runtime")
    parser.add_argument("--data-only", action="store_true",
                        help="write no model, only the external data file "
                             "OUT.onnx.data that --external-data writes, "
                             "its index OUT.weights.json and the inputs "
                             "OUT.input.<name>.npy; needs only numpy")
    args = parser.parse_args(argv)

    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("layers", "batch", "frames", "patches", "hidden", "heads",
                "text_len"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    if args.hidden % args.heads:
        parser.error(f"--hidden {args.hidden} is not divisible by "
                     f"--heads {args.heads}")
    if not 13 <= args.opset <= 21:
        parser.error("--opset must be in 13..21")
    if args.reference and args.zero_weights:
        parser.error("--reference needs real weights (drop --zero-weights)")
    if args.data_only and args.reference:
        parser.error("--reference needs the model (drop --data-only)")
    return args


def main(argv=None):
    args = parse_args(argv)
    generator = StdiTGenerator(args)
    generator.build_blocks()
    out = args.output
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    external = args.external_data or args.data_only
    layout = layout_initializers(generator.g.initializers, external)
    if external:
        write_external_data(data_path_of(out), layout)
    if args.data_only:
        index = write_weight_index(out, args, layout)
        write_inputs(out, reference_inputs(args))
        print(f"{data_path_of(out)}, {index}, {base_of(out)}.input.*.npy: "
              f"weights and inputs, seed {args.seed}")
        return 0

    import onnx

    model = generator.to_onnx()
    place_initializers(model, layout,
                       os.path.basename(data_path_of(out)))
    onnx.save(model, out)
    onnx.checker.check_model(out)
    params = sum(int(np.prod(v[0] if isinstance(v, tuple) else v.shape))
                 for _, v in generator.g.initializers)
    print(f"{out}: {args.layers} layers, x [{args.batch}, {args.frames}, "
          f"{args.patches}, {args.hidden}], y [{args.batch}, "
          f"{args.text_len}, {args.hidden}], {args.heads} heads, "
          f"{len(model.graph.node)} nodes, {params} parameters")
    if args.reference:
        base = write_reference(out, args)
        print(f"{base}.input.*.npy, {base}.output.npy: reference from "
              f"ONNX Runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
