#!/usr/bin/env python3
"""Measure this machine's device profile for the planner's cost model.

Runs small programs with dsp-run on the cpu backend and writes a profile
file that `dsp-opt --dsp-pipeline="... profile=FILE"` reads:

- f32 and bf16 peak rates: a 1024 x 1024 x 1024 matmul;
- memory bandwidth: an add of two 8 Mi-element f32 vectors (96 MiB moved);
- the fixed cost of a kernel: a chain of 64 softmaxes of 16 elements
  (element-wise ops fuse, but a kernel holds one softmax);
- the link between local ranks (threads of one process): the all_to_all
  that switches a [T, T] f32 value between its two dims on 2 ranks, at two
  sizes, fitted to latency + bytes per rank / bus bandwidth.

Each figure is the median of three dsp-run invocations of the mean time
its statistics give the op over the runs. Run it on an otherwise idle
machine: other work's load shows as slow kernels and slow links::

    .venv/bin/python scripts/calibrate.py --threads 1 -o cpu.json
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATMUL = 1024
VECTOR = 8 << 20
CHAIN = 64
SWITCH_SIZES = (256, 2048)


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(path, nodes, inputs, output_shape, initializers=()):
    graph = helper.make_graph(nodes, "calibration", inputs,
                              [tensor("y", output_shape)],
                              initializer=list(initializers))
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def matmul_model(path):
    rng = np.random.default_rng(1)
    weight = rng.uniform(-1, 1, (MATMUL, MATMUL)).astype(np.float32)
    return save(path, [helper.make_node("MatMul", ["x", "w"], ["y"])],
                [tensor("x", [MATMUL, MATMUL])], [MATMUL, MATMUL],
                [numpy_helper.from_array(weight, "w")])


def add_model(path):
    return save(path, [helper.make_node("Add", ["x", "z"], ["y"])],
                [tensor("x", [VECTOR]), tensor("z", [VECTOR])], [VECTOR])


def chain_model(path):
    names = ["x"] + [f"t{i}" for i in range(CHAIN - 1)] + ["y"]
    nodes = [helper.make_node("Softmax", [a], [b], axis=-1)
             for a, b in zip(names, names[1:])]
    return save(path, nodes, [tensor("x", [16])], [16])


def switch_model(path, size):
    # Each softmax mixes one dim, so on 2 ranks the value switches between
    # being split along the other.
    nodes = [helper.make_node("Softmax", ["x"], ["rows"], axis=1),
             helper.make_node("Softmax", ["rows"], ["y"], axis=0)]
    return save(path, nodes, [tensor("x", [size, size])], [size, size])


class Runner:
    def __init__(self, build_dir, threads, runs, work):
        self.dsp_opt = os.path.join(build_dir, "bin", "dsp-opt")
        self.dsp_run = os.path.join(build_dir, "bin", "dsp-run")
        self.threads = threads
        self.runs = runs
        self.work = work

    def run(self, command):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"command failed ({result.returncode}): "
                     f"{' '.join(command)}\n{result.stdout}{result.stderr}")

    def op_seconds(self, model, op, ranks=1, dtype="f32"):
        """Mean seconds of one `op` instruction of `model` on rank 0 over
        `runs` runs."""
        program = model + f".{ranks}.{dtype}.dspx"
        if not os.path.exists(program):
            self.run([self.dsp_opt, model, "--dsp-pipeline="
                      f"ranks={ranks} dtype={dtype} profile=h100",
                      "--emit=program", "-o", program])
        stats = os.path.join(self.work, "stats.json")
        command = [self.dsp_run, program, f"--threads={self.threads}",
                   f"--repeat={self.runs}", f"--stats-json={stats}",
                   "--output=@" + os.path.join(self.work, "y.npy")]
        if ranks > 1:
            command.append("--comm=local")
        for name, shape in inputs_of(model):
            array = os.path.join(self.work, f"{name}.npy")
            np.save(array, np.random.default_rng(2).uniform(
                -1, 1, shape).astype(np.float32))
            command.append(f"--input={name}=@{array}")
        self.run(command)
        with open(stats) as f:
            entry = json.load(f)["ops"][op]
        return entry["total_ms"] / entry["count"] / 1e3

    def median(self, *args, **options):
        return statistics.median(self.op_seconds(*args, **options)
                                 for _ in range(3))


def inputs_of(path):
    model = onnx.load(path, load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    return [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim])
            for i in model.graph.input if i.name not in initializers]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", required=True,
                        help="the profile file to write")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                        help="build directory with bin/dsp-opt and "
                             "bin/dsp-run (default: build)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of each rank (default 1)")
    parser.add_argument("--runs", type=int, default=10,
                        help="timed runs per measurement (default 10)")
    args = parser.parse_args(argv)
    if not 1 <= args.threads <= 1024:
        parser.error("--threads must be between 1 and 1024")
    if not 1 <= args.runs <= 10000:
        parser.error("--runs must be between 1 and 10000")

    with tempfile.TemporaryDirectory() as work:
        runner = Runner(args.build_dir, args.threads, args.runs, work)
        matmul = matmul_model(os.path.join(work, "matmul.onnx"))
        flops = 2.0 * MATMUL ** 3
        f32 = flops / runner.median(matmul, "matmul")
        half = flops / runner.median(matmul, "matmul", dtype="bf16")
        add = add_model(os.path.join(work, "add.onnx"))
        bandwidth = 3.0 * VECTOR * 4 / runner.median(add, "fused")
        chain = chain_model(os.path.join(work, "chain.onnx"))
        kernel = runner.median(chain, "fused")
        # all_to_all on 2 ranks: each rank sends a quarter of the value.
        points = []
        for size in SWITCH_SIZES:
            switch = switch_model(os.path.join(work, f"switch{size}.onnx"),
                                  size)
            points.append((size * size * 4 / 4.0,
                           runner.median(switch, "all_to_all", ranks=2)))
    (small_bytes, small), (large_bytes, large) = points
    if large <= small:
        sys.exit(f"the all_to_all of {large_bytes:.0f} bytes per rank took "
                 f"{large * 1e6:.1f} us, no longer than that of "
                 f"{small_bytes:.0f} bytes ({small * 1e6:.1f} us): the "
                 "machine is too busy to measure; run again when it is idle")
    bus_bandwidth = (large_bytes - small_bytes) / (large - small)
    # A latency below the measurement's resolution is kept positive.
    latency = max(small - small_bytes / bus_bandwidth, 1e-7)
    profile = {
        "name": f"cpu: {cpu_name()}, {args.threads} thread"
                f"{'s' if args.threads > 1 else ''} per rank",
        "f32_flops_per_second": f32,
        "half_flops_per_second": half,
        "memory_bytes_per_second": bandwidth,
        "kernel_seconds": kernel,
        "link": {"latency_s": latency,
                 "bus_bandwidth_bytes_per_s": bus_bandwidth},
    }
    text = json.dumps(profile, indent=1) + "\n"
    temporary = args.output + ".tmp"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, args.output)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
