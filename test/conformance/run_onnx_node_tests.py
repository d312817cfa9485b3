#!/usr/bin/env python3
"""Runs ONNX's own backend node tests through dsp-opt and dsp-run.

Each node test is a directory holding model.onnx and test_data_set_0 with
input_N.pb and output_N.pb (TensorProto files, in graph input and output
order). A test is in scope when every node is an operator the importer maps,
the model's opset and IR version are ones the importer reads, and its tensors
are float32 data, int64 indices or shapes, and bool conditions or masks.
Everything else is skipped with a reason.

Inputs that only carry shapes, axes or settings (Reshape's shape, Slice's
starts, Unsqueeze's axes, Dropout's ratio, ...) are frozen into initializers
with the test's values, as a user freezes them before compiling; data inputs
stay inputs. The frozen model is compiled with dsp-opt, run with dsp-run on
the test's inputs, and each output is compared with the reference of the same
position.

With --expected, the tests listed there must pass (a listed test that fails
or is skipped is a regression) and every test that passes must be listed, so
the list stays exact; --update rewrites the list from this run instead.

Exit status: 0 on success, 1 on a regression or an unlisted pass, 77 when the
test data or the Python packages are missing (ctest reports a skip).
"""

import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

SKIP_EXIT_CODE = 77

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as error:
    print(f"onnx-conformance: skipped: {error.name} is not installed "
          "(install scripts/requirements.txt)")
    sys.exit(SKIP_EXIT_CODE)

# Keep in step with the converters the register*Converters functions of
# lib/Import/Convert*.cpp add.
SUPPORTED_OPS = frozenset("""
    Identity Dropout Split
    Neg Exp Log Sqrt Reciprocal Abs Erf Tanh Sigmoid Relu Sin Cos IsNaN Not
    Add Sub Mul Div Pow Mod Equal Less LessOrEqual Greater GreaterOrEqual
    And Or Xor Where Max Min Sum
    Gemm MatMul Softmax LayerNormalization Conv
    ReduceMean ReduceSum ReduceMax
    Reshape Slice Squeeze Unsqueeze Flatten Expand Transpose Concat Gather Tile
    Constant ConstantOfShape Shape Cast Einsum ScatterND ScatterElements Pad
    InstanceNormalization GroupNormalization
""".split())
MIN_OPSET, MAX_OPSET = 11, 18
MAX_IR_VERSION = 10

# Node inputs, by position, that carry shapes, axes or settings rather than
# data. When a graph input feeds one of them, the runner freezes it.
FROZEN_OPERANDS = {
    "Reshape": {1},
    "Slice": {1, 2, 3, 4},
    "Squeeze": {1},
    "Unsqueeze": {1},
    "Expand": {1},
    "Tile": {1},
    "ConstantOfShape": {0},
    "ReduceMean": {1},
    "ReduceSum": {1},
    "ReduceMax": {1},
    "Split": {1},
    "ScatterND": {1},
    "ScatterElements": {1},
    "Pad": {1, 2, 3},  # pads, constant_value, axes
    "Dropout": {1, 2},  # ratio, training_mode
}

# Node inputs, by position, that may be int64 indices.
INDEX_OPERANDS = {"Gather": {1}}
# Ops whose int64 results are shapes.
SHAPE_RESULTS = {"Shape"}

DEFAULT_DATA_DIR = "/usr/share/libonnx-testdata/data/node"
ATOL = 1e-4
RTOL = 1e-4
STEP_TIMEOUT_S = 120

Result = collections.namedtuple("Result", "name status detail")


class Skip(Exception):
    """The test is out of scope; args are (category, detail)."""


def dtype_name(elem_type):
    return onnx.TensorProto.DataType.Name(elem_type)


def default_opset(model):
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return None


def check_scope(model):
    """Raises Skip unless the model is in scope; returns the names of the
    graph inputs to freeze."""
    graph = model.graph
    if model.ir_version > MAX_IR_VERSION:
        raise Skip("IR version", f"IR version {model.ir_version} is newer "
                   f"than {MAX_IR_VERSION}")
    opset = default_opset(model)
    if opset is None or not MIN_OPSET <= opset <= MAX_OPSET:
        raise Skip("opset", f"opset {opset} is outside {MIN_OPSET} to "
                   f"{MAX_OPSET}")
    domains = sorted({n.domain for n in graph.node} - {"", "ai.onnx"})
    if domains:
        raise Skip("domain", "nodes in domain " + ", ".join(domains))
    unsupported = sorted({n.op_type for n in graph.node} - SUPPORTED_OPS)
    if unsupported:
        raise Skip("operator", "unsupported operator " +
                   ", ".join(unsupported))

    for node in graph.node:
        for attr in node.attribute:
            if attr.name == "reduction" and node.op_type in (
                    "ScatterND", "ScatterElements") and \
                    attr.s not in (b"none", b"add"):
                raise Skip("attribute", f"{node.op_type} reduction "
                           f"{attr.s.decode()} is not supported")

    graph_inputs = {i.name for i in graph.input}
    frozen, indices = set(), set()
    for node in graph.node:
        for position, name in enumerate(node.input):
            if name in graph_inputs:
                if position in FROZEN_OPERANDS.get(node.op_type, ()):
                    frozen.add(name)
                elif position in INDEX_OPERANDS.get(node.op_type, ()):
                    indices.add(name)
    # An input that is also data somewhere stays an input.
    for node in graph.node:
        for position, name in enumerate(node.input):
            if (name in frozen and
                    position not in FROZEN_OPERANDS.get(node.op_type, ())):
                frozen.discard(name)
    shapes = {o for n in graph.node if n.op_type in SHAPE_RESULTS
              for o in n.output}

    for kind, values in (("input", graph.input), ("output", graph.output)):
        for value in values:
            if not value.type.HasField("tensor_type"):
                raise Skip("non-tensor", f"{kind} '{value.name}' is not a "
                           "tensor")
            if value.name in frozen:
                continue
            elem = value.type.tensor_type.elem_type
            if elem in (onnx.TensorProto.FLOAT, onnx.TensorProto.BOOL):
                continue
            if elem == onnx.TensorProto.INT64 and (value.name in indices or
                                                   value.name in shapes):
                continue
            raise Skip("element type", f"{kind} '{value.name}' is "
                       f"{dtype_name(elem)} data")
    return frozen


def check_dropout(model, frozen_values):
    """Training-mode Dropout with a nonzero ratio draws a random mask, which
    no reference output can match."""
    for node in model.graph.node:
        if node.op_type != "Dropout" or len(node.input) < 3:
            continue
        training = frozen_values.get(node.input[2])
        ratio = frozen_values.get(node.input[1])  # None: the default, 0.5
        if training is not None and bool(training) and (
                ratio is None or float(ratio) != 0.0):
            raise Skip("random", "training-mode Dropout draws a random mask")


def load_tensor(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def first_error_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[0] if lines else "(no message)"


def run_step(command):
    """Runs a command; returns None on success or the first error line."""
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"{os.path.basename(command[0])} timed out after " \
               f"{STEP_TIMEOUT_S} s"
    except OSError as error:
        return f"cannot run {command[0]}: {error.strerror}"
    if done.returncode == 0:
        return None
    message = first_error_line(done.stderr + "\n" + done.stdout)
    if done.returncode < 0:
        message = f"{os.path.basename(command[0])} died of signal " \
                  f"{-done.returncode}: {message}"
    return message


def run_test(test_dir, args):
    try:
        return run_test_unchecked(test_dir, args)
    except Exception as error:  # Unreadable test data: report, go on.
        return Result(os.path.basename(test_dir), "fail",
                      f"runner: {type(error).__name__}: {error}")


def run_test_unchecked(test_dir, args):
    name = os.path.basename(test_dir)
    try:
        model = onnx.load(os.path.join(test_dir, "model.onnx"))
        frozen = check_scope(model)
        data_dir = os.path.join(test_dir, "test_data_set_0")
        graph = model.graph
        initializers = {t.name for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in initializers]
        values = {}
        for position, value in enumerate(inputs):
            values[value.name] = load_tensor(
                os.path.join(data_dir, f"input_{position}.pb"))
        check_dropout(model, {n: values[n] for n in frozen})
    except Skip as skip:
        return Result(name, "skip", skip.args)

    with tempfile.TemporaryDirectory(prefix=name + ".",
                                     dir=args.work_dir) as work:
        # Freeze: the input becomes an initializer with the test's value.
        for value in inputs:
            if value.name in frozen:
                graph.initializer.append(
                    numpy_helper.from_array(values[value.name], value.name))
        if model.ir_version >= 4:
            kept = [i for i in graph.input if i.name not in frozen]
            del graph.input[:]
            graph.input.extend(kept)
        model_path = os.path.join(work, "model.onnx")
        onnx.save(model, model_path)

        command = [args.dsp_run, os.path.join(work, "model.dspx"),
                   "--threads=1", f"--atol={args.atol}", f"--rtol={args.rtol}"]
        for position, value in enumerate(inputs):
            if value.name in frozen:
                continue
            path = os.path.join(work, f"input_{position}.npy")
            np.save(path, np.array(values[value.name], order="C"))
            command.append(f"--input=@{path}")
        for position in range(len(graph.output)):
            path = os.path.join(work, f"output_{position}.npy")
            np.save(path, np.array(load_tensor(
                os.path.join(data_dir, f"output_{position}.pb")), order="C"))
            command.append(f"--expected-output=@{path}")

        error = run_step([args.dsp_opt, model_path,
                          "--dsp-pipeline=ranks=1", "--emit=program", "-o",
                          os.path.join(work, "model.dspx")])
        if error:
            return Result(name, "fail", "dsp-opt: " + error.replace(
                model_path, "model.onnx"))
        error = run_step(command)
        if error:
            return Result(name, "fail", error.replace(work + os.sep, ""))
    return Result(name, "pass", "")


def read_list(path):
    with open(path) as f:
        return {line.split("#")[0].strip() for line in f} - {""}


def write_list(path, names):
    with open(path, "w") as f:
        f.write("# ONNX backend node tests that pass end to end; "
                "test/conformance/run_onnx_node_tests.py\n"
                "# checks this list in ctest and rewrites it with --update.\n")
        for name in sorted(names):
            f.write(name + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsp-opt", default="dsp-opt")
    parser.add_argument("--dsp-run", default="dsp-run")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help="the node tests (default: %(default)s)")
    parser.add_argument("--expected", metavar="FILE",
                        help="the tests that must pass")
    parser.add_argument("--update", action="store_true",
                        help="rewrite --expected from this run")
    parser.add_argument("--filter", metavar="REGEX",
                        help="run only the tests whose name matches")
    parser.add_argument("--atol", type=float, default=ATOL,
                        help="absolute tolerance (default: %(default)s)")
    parser.add_argument("--rtol", type=float, default=RTOL,
                        help="relative tolerance (default: %(default)s)")
    parser.add_argument("-j", "--jobs", type=int, default=2,
                        help="tests run in parallel (default: %(default)s)")
    parser.add_argument("--work-dir", help="where to keep temporary files")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only failures, not passes and skips")
    args = parser.parse_args()

    if not os.path.isdir(args.data_dir):
        print(f"onnx-conformance: skipped: no ONNX node tests in "
              f"{args.data_dir} (install libonnx-testdata)")
        return SKIP_EXIT_CODE
    if args.update and not args.expected:
        parser.error("--update needs --expected")
    if args.update and args.filter:
        parser.error("--update runs every test; drop --filter")

    tests = sorted(
        entry for entry in os.listdir(args.data_dir)
        if os.path.isfile(os.path.join(args.data_dir, entry, "model.onnx")))
    if args.filter:
        tests = [t for t in tests if re.search(args.filter, t)]
    with concurrent.futures.ThreadPoolExecutor(max(args.jobs, 1)) as pool:
        results = list(pool.map(
            lambda t: run_test(os.path.join(args.data_dir, t), args), tests))

    by_status = collections.defaultdict(list)
    for result in results:
        by_status[result.status].append(result)
        if result.status == "pass" and not args.quiet:
            print(f"PASS {result.name}")
        elif result.status == "fail":
            print(f"FAIL {result.name}: {result.detail}")
        elif result.status == "skip" and not args.quiet:
            print(f"SKIP {result.name}: {result.detail[1]}")
    reasons = collections.Counter(r.detail[0] for r in by_status["skip"])
    print()
    print(f"{len(by_status['pass'])} passed, {len(by_status['fail'])} failed, "
          f"{len(by_status['skip'])} skipped")
    if reasons:
        print("skipped by reason: " + ", ".join(
            f"{reason} {count}" for reason, count in reasons.most_common()))

    if not args.expected:
        return 0
    passed = {r.name for r in by_status["pass"]}
    if args.update:
        write_list(args.expected, passed)
        print(f"wrote {len(passed)} tests to {args.expected}")
        return 0
    expected = read_list(args.expected) & set(tests)
    regressions = sorted(expected - passed)
    unlisted = sorted(passed - expected)
    status = {r.name: r for r in results}
    for name in regressions:
        result = status[name]
        detail = result.detail[1] if result.status == "skip" else result.detail
        print(f"REGRESSION {name} ({result.status}): {detail}")
    for name in unlisted:
        print(f"UNLISTED {name}: passes but is not in {args.expected} "
              "(add it, or run with --update)")
    if regressions or unlisted:
        print(f"{len(regressions)} regressions, {len(unlisted)} unlisted "
              "passes")
        return 1
    print(f"all {len(expected)} expected tests pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
