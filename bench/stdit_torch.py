#!/usr/bin/env python3
"""The ST-DiT block of scripts/gen_stdit.py in PyTorch, timed.

The block is written op for op as gen_stdit.py builds it in ONNX, on the
weights its ``--data-only`` (or ``--external-data``) run wrote: the external
weight file and its index ``OUT.weights.json``, whose small weights carry
their values. The inputs are ``OUT.input.x.npy`` and ``OUT.input.y.npy``
beside the index. Each block::

    x = x + spatial_attn(LN(x))     # per frame: [B*T, S, C]
    x = x + temporal_attn(LN(x))    # per patch: [B*S, T, C]
    x = x + cross_attn(LN(x), y)    # all tokens [B, T*S, C] attend to y
    x = x + fc2(gelu(fc1(LN(x))))

Linear layers are ``F.linear`` (bias in the GEMM, as ``nn.Linear`` runs);
attention is ``F.scaled_dot_product_attention`` with its default scale
1/sqrt(head dim), which is gen_stdit's softmax(q·kᵀ * scale)·v, or with
``--attention=math`` that formula written out. GELU is ``F.gelu`` in the
model's form (tanh approximation or erf).

For each mode (``eager``, ``compile`` for torch.compile) and dtype (``f32``
with TF32 off for matmul and cuDNN, ``bf16`` for weights and activations),
the script times ``--repeat`` runs after ``--warmup`` runs (CUDA events on a
GPU, the wall clock on the CPU), writes the output of the last run as
``OUT_DIR/torch.MODE.DTYPE.npy`` and rewrites ``OUT_DIR/torch.json`` after
every measurement, so a stopped run keeps what it measured (rows an earlier
run wrote there are kept too). A mode that
fails (torch.compile without a working compiler) is recorded with its error.

``--breakdown`` adds, per dtype, the eager block's time per op kind (from
torch.profiler: GEMMs, attention, layer norm, the rest), the same GEMM
shapes timed alone with torch.matmul (a cuBLAS probe), each attention timed
alone with SDPA and with the written-out formula.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}


def load_weights(index_path):
    """The index and the weights it names, as float32 numpy arrays."""
    with open(index_path) as index_file:
        index = json.load(index_file)
    data_path = os.path.join(os.path.dirname(index_path), index["data"])
    data = np.memmap(data_path, dtype=np.uint8, mode="r")
    weights = {}
    for name, entry in index["weights"].items():
        shape = tuple(entry["shape"])
        if "values" in entry:
            array = np.asarray(entry["values"], dtype=np.float32)
        else:
            count = int(np.prod(shape))
            start = entry["offset"]
            array = data[start:start + 4 * count].view(np.float32)
        weights[name] = array.reshape(shape)
    return index, weights


def attend(q, k, v, attention):
    """softmax(q·kᵀ / sqrt(D))·v on [n, H, L, D]: SDPA ("sdpa") or the
    formula written out ("math"); heads merged to [n, L, H*D]."""
    if attention == "sdpa":
        ctx = F.scaled_dot_product_attention(q, k, v)
    else:
        scores = torch.matmul(q, k.transpose(-2, -1)) * q.shape[-1]**-0.5
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
    n, _, length, _ = ctx.shape
    return ctx.transpose(1, 2).reshape(n, length, -1)


class StdiTBlocks:
    """The blocks on weights already on the device, in one dtype."""

    def __init__(self, index, weights, device, dtype, attention):
        self.sizes = index["sizes"]
        self.eps = index["layer_norm_epsilon"]
        self.attention = attention
        self.w = {}
        for name, array in weights.items():
            tensor = torch.from_numpy(np.array(array))
            # gen_stdit stores a linear weight transposed, [in, out]; F.linear
            # takes nn.Linear's [out, in].
            if name.endswith(".weight_t"):
                name, tensor = name[:-len("_t")], tensor.t().contiguous()
            self.w[name] = tensor.to(device=device, dtype=dtype)

    def linear(self, prefix, x):
        return F.linear(x, self.w[f"{prefix}.weight"],
                        self.w[f"{prefix}.bias"])

    def layer_norm(self, prefix, x):
        return F.layer_norm(x, (x.shape[-1],), self.w[f"{prefix}.weight"],
                            self.w[f"{prefix}.bias"], self.eps)

    def self_attention(self, prefix, x):
        n, length, c = x.shape
        heads = self.sizes["heads"]
        qkv = self.linear(f"{prefix}.qkv", x)
        qkv = qkv.reshape(n, length, 3, heads, c // heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        return self.linear(f"{prefix}.proj", attend(q, k, v, self.attention))

    def cross_attention(self, prefix, x, y):
        n, lq, c = x.shape
        heads = self.sizes["heads"]
        q = self.linear(f"{prefix}.q_linear", x)
        q = q.reshape(n, lq, heads, c // heads).transpose(1, 2)
        kv = self.linear(f"{prefix}.kv_linear", y)
        kv = kv.reshape(n, y.shape[1], 2, heads, c // heads)
        k, v = (part.transpose(1, 2) for part in kv.unbind(2))
        return self.linear(f"{prefix}.proj", attend(q, k, v, self.attention))

    def block(self, i, x, y):
        b, t, s, c = x.shape
        p = f"blocks.{i}"
        h = self.layer_norm(f"{p}.norm1", x).reshape(b * t, s, c)
        x = x + self.self_attention(f"{p}.attn", h).reshape(b, t, s, c)
        h = self.layer_norm(f"{p}.norm_temp", x).transpose(1, 2)
        h = self.self_attention(f"{p}.attn_temp", h.reshape(b * s, t, c))
        x = x + h.reshape(b, s, t, c).transpose(1, 2)
        h = self.layer_norm(f"{p}.norm_cross", x).reshape(b, t * s, c)
        x = x + self.cross_attention(f"{p}.cross_attn", h,
                                     y).reshape(b, t, s, c)
        h = self.layer_norm(f"{p}.norm2", x).reshape(b, t * s, c)
        approximate = "tanh" if self.sizes["gelu"] == "tanh" else "none"
        h = F.gelu(self.linear(f"{p}.mlp.fc1", h), approximate=approximate)
        return x + self.linear(f"{p}.mlp.fc2", h).reshape(b, t, s, c)

    def __call__(self, x, y):
        for i in range(self.sizes["layers"]):
            x = self.block(i, x, y)
        return x

    def gemm_shapes(self):
        """(M, K, N) of every linear layer of a block."""
        a = self.sizes
        b, t, s, c, lt = (a["batch"], a["frames"], a["patches"], a["hidden"],
                          a["text_len"])
        tokens, hidden = b * t * s, int(round(c * a["mlp_ratio"]))
        return [(tokens, c, 3 * c), (tokens, c, c),  # spatial qkv, proj
                (tokens, c, 3 * c), (tokens, c, c),  # temporal qkv, proj
                (tokens, c, c), (b * lt, c, 2 * c), (tokens, c, c),  # cross
                (tokens, c, hidden), (tokens, hidden, c)]  # MLP

    def attention_shapes(self):
        """(n, H, Lq, Lk, D) of the spatial, temporal and cross attention."""
        a = self.sizes
        b, t, s, lt = a["batch"], a["frames"], a["patches"], a["text_len"]
        h, d = a["heads"], a["hidden"] // a["heads"]
        return {"spatial": (b * t, h, s, s, d),
                "temporal": (b * s, h, t, t, d),
                "cross": (b, h, t * s, lt, d)}


class Timer:
    """Median time of a function: CUDA events on a GPU, else wall clock."""

    def __init__(self, device, warmup, repeat):
        self.cuda = device.type == "cuda"
        self.warmup, self.repeat = warmup, repeat

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def median_ms(self, fn):
        for _ in range(self.warmup):
            fn()
        self.sync()
        times = []
        for _ in range(self.repeat):
            if self.cuda:
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
            else:
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times), times


def op_kind(name):
    """The op kind of a profiler event: a CUDA kernel or a CPU aten op."""
    lower = name.lower()
    if any(key in lower for key in ("attention", "flash", "fmha", "softmax")):
        return "attention"
    if "layer_norm" in lower:
        return "layer_norm"
    # cuBLAS's Hopper kernels are named nvjet_*.
    if any(key in lower for key in ("gemm", "mm", "matmul", "cutlass",
                                    "xmma", "linear", "nvjet")):
        return "matmul"
    return "other"


def profile_op_kinds(blocks, x, y, device, runs):
    """ms per run of each op kind in the eager block, from torch.profiler:
    the device time of the kernels on a GPU, the self time of the aten ops
    on the CPU."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with torch.no_grad(), profile(activities=activities) as prof:
        for _ in range(runs):
            blocks(x, y)
        if device.type == "cuda":
            torch.cuda.synchronize()
    kinds = {}
    for event in prof.events():
        if device.type == "cuda":
            if event.device_type != torch.autograd.DeviceType.CUDA:
                continue
            us = event.device_time_total if hasattr(
                event, "device_time_total") else event.cuda_time_total
        else:
            if event.device_type != torch.autograd.DeviceType.CPU or (
                    not event.name.startswith("aten::")):
                continue
            us = event.self_cpu_time_total
        kinds[op_kind(event.name)] = kinds.get(op_kind(event.name), 0.0) + us
    return {kind: us / 1e3 / runs for kind, us in sorted(kinds.items())}


def probes(blocks, timer, device, dtype):
    """The block's GEMM shapes timed alone with torch.matmul, and each
    attention alone with SDPA and with the written-out formula."""
    result = {"gemm_ms": {}, "attention_sdpa_ms": {}, "attention_math_ms": {}}
    with torch.no_grad():
        for m, k, n in blocks.gemm_shapes():
            a = torch.randn(m, k, device=device, dtype=dtype)
            b = torch.randn(k, n, device=device, dtype=dtype)
            key = f"{m}x{k}x{n}"
            ms, _ = timer.median_ms(lambda: torch.matmul(a, b))
            result["gemm_ms"][key] = result["gemm_ms"].get(key, 0.0) + ms
        for name, (n, h, lq, lk, d) in blocks.attention_shapes().items():
            q = torch.randn(n, h, lq, d, device=device, dtype=dtype)
            k = torch.randn(n, h, lk, d, device=device, dtype=dtype)
            v = torch.randn(n, h, lk, d, device=device, dtype=dtype)
            for attention in ("sdpa", "math"):
                ms, _ = timer.median_ms(lambda: attend(q, k, v, attention))
                result[f"attention_{attention}_ms"][name] = ms
    # The shapes are one block's; the totals are the model's.
    layers = blocks.sizes["layers"]
    result["gemm_total_ms"] = layers * sum(result["gemm_ms"].values())
    for attention in ("sdpa", "math"):
        result[f"attention_{attention}_total_ms"] = layers * sum(
            result[f"attention_{attention}_ms"].values())
    return result


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="OUT.weights.json of gen_stdit.py")
    parser.add_argument("--out-dir", required=True,
                        help="where torch.json and the outputs go")
    parser.add_argument("--modes", default="eager,compile",
                        help="comma-separated: eager, compile")
    parser.add_argument("--dtypes", default="f32,bf16",
                        help="comma-separated: f32, bf16")
    parser.add_argument("--device", default="cuda", help="cuda or cpu")
    parser.add_argument("--attention", choices=["sdpa", "math"],
                        default="sdpa", help="attention of the timed block")
    parser.add_argument("--threads", type=int,
                        help="CPU threads of torch (default: its own)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--breakdown", action="store_true",
                        help="also time per op kind and the probes")
    args = parser.parse_args(argv)
    args.modes = args.modes.split(",")
    args.dtypes = args.dtypes.split(",")
    for mode in args.modes:
        if mode not in ("eager", "compile"):
            parser.error(f"unknown mode '{mode}'")
    for dtype in args.dtypes:
        if dtype not in DTYPES:
            parser.error(f"unknown dtype '{dtype}'")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    index, weights = load_weights(args.index)
    base = args.index[:-len(".weights.json")]
    inputs = [np.load(f"{base}.input.{name}.npy") for name in ("x", "y")]
    os.makedirs(args.out_dir, exist_ok=True)
    json_path = os.path.join(args.out_dir, "torch.json")
    # Rows of an earlier invocation into the same folder are kept.
    rows = {}
    if os.path.exists(json_path):
        with open(json_path) as previous:
            rows = json.load(previous)["rows"]
    report = {"torch": torch.__version__, "device": str(device),
              "device_name": torch.cuda.get_device_name(device)
              if device.type == "cuda" else "cpu",
              "threads": torch.get_num_threads(), "attention": args.attention,
              "warmup": args.warmup, "repeat": args.repeat,
              "sizes": index["sizes"], "rows": rows}

    def record(key, value):
        report["rows"][key] = value
        with open(json_path, "w") as out:
            json.dump(report, out, indent=1)
        print(f"{key}: {json.dumps(value)}", flush=True)

    timer = Timer(device, args.warmup, args.repeat)
    for dtype_name in args.dtypes:
        dtype = DTYPES[dtype_name]
        blocks = StdiTBlocks(index, weights, device, dtype, args.attention)
        x, y = (torch.from_numpy(a).to(device=device, dtype=dtype)
                for a in inputs)
        for mode in args.modes:
            key = f"{mode}.{dtype_name}"
            try:
                fn = blocks if mode == "eager" else torch.compile(blocks)
                start = time.perf_counter()
                with torch.no_grad():
                    output = fn(x, y)
                    timer.sync()
                    first_ms = (time.perf_counter() - start) * 1e3
                    ms, times = timer.median_ms(lambda: fn(x, y))
                    output = fn(x, y)
            except Exception as error:  # torch.compile's failures vary
                record(key, {"failure": f"{type(error).__name__}: {error}"})
                continue
            np.save(os.path.join(args.out_dir, f"torch.{key}.npy"),
                    output.float().cpu().numpy())
            record(key, {"median_ms": ms, "first_run_ms": first_ms,
                         "run_ms": times})
        if args.breakdown:
            try:
                breakdown = {
                    "eager_op_kinds_ms": profile_op_kinds(blocks, x, y, device,
                                                          args.repeat),
                    **probes(blocks, timer, device, dtype)}
            except Exception as error:  # the profiler's failures vary
                breakdown = {"failure": f"{type(error).__name__}: {error}"}
            record(f"breakdown.{dtype_name}", breakdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
