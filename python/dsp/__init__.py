"""DSP: compile ONNX video transformers for sequence-parallel ranks, and run
them from Python.

    program = dsp.compile("model.onnx", ranks=4, strategy="auto")
    print(program.summary())
    session = dsp.Session(program)
    outputs = session.run({"x": x})

See docs/python.md.
"""

import ctypes
import glob
import importlib.util
import json
import os
import shutil
import tempfile
import warnings

# The CUDA libraries the cuda backend links (lib/Runtime/CMakeLists.txt).
_CUDA_LIBRARIES = ("libcudart.so.13", "libcublasLt.so.13", "libnvrtc.so.13",
                   "libcudnn.so.9", "libnccl.so.2")


def _load_cuda_libraries_of_pytorch():
    """Loads the copies of the CUDA libraries that PyTorch's wheels install
    (the nvidia-* packages), if any, before the extension loads the
    system's: a process loads a library once by name, those copies are the
    newer, and PyTorch imported after dsp needs their symbols."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None:
        return
    for folder in spec.submodule_search_locations:
        for name in _CUDA_LIBRARIES:
            for path in glob.glob(os.path.join(folder, "*", "lib", name)):
                try:
                    ctypes.CDLL(path)
                except OSError:
                    pass


_load_cuda_libraries_of_pytorch()

from ._dsp import CompileError, Error, RunError, has_compiler
from ._dsp import RankGroup as _RankGroup

if has_compiler:
    from ._dsp import compile_program as _compile_program

__all__ = [
    "CompileError",
    "Error",
    "Program",
    "RunError",
    "Session",
    "compile",
    "export",
    "has_compiler",
]


class Program:
    """A compiled program (a .dspx file) and the plan it was compiled to.

    `plan` is the JSON report of dsp-opt --dsp-report as a dict (None for a
    program loaded from a file), `summary()` the table of --dsp-summary,
    `bytes(program)` the file's contents.
    """

    def __init__(self, path, plan=None, summary="", workdir=None):
        self.path = os.fspath(path)
        self.plan = plan
        self._summary = summary
        # A compiled program lives in a temporary folder as long as it does.
        self._workdir = workdir

    def summary(self):
        return self._summary

    def save(self, path):
        """Writes the program to `path`."""
        shutil.copyfile(self.path, path)

    def __bytes__(self):
        with open(self.path, "rb") as file:
            return file.read()

    def __repr__(self):
        ranks = self.plan.get("ranks") if self.plan else None
        return f"<dsp.Program {self.path!r} ranks={ranks}>"


def _option_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compile(
    model,
    *,
    ranks=1,
    strategy="auto",
    target="cpu",
    dtype="f32",
    input_shapes=None,
    freeze_inputs=None,
    load_weights=True,
    report_threads=1,
    **pipeline_options,
):
    """Compiles an ONNX model (a path or an onnx.ModelProto) into a Program.

    ranks, strategy, target, dtype and the other `pipeline_options` (mesh,
    preset, overlap_chunks, allow_replication, ...) are the options of
    dsp-opt's --dsp-pipeline, with '_' for '-'. `input_shapes` gives shapes
    to inputs with symbolic dims ({name: shape}); `freeze_inputs` imports
    inputs as constants ({name: array or .npy path}); `load_weights=False`
    plans the model without reading its weights (--no-weights);
    `report_threads` is the threads per rank that the plan's memory is for
    (--dsp-report-threads). Raises CompileError with dsp-opt's messages.
    """
    if not has_compiler:
        raise CompileError(
            "dsp.compile: this dsp package was built without the compiler "
            "(a runtime-only build, DSP_RUNTIME_ONLY=ON): compile the model "
            "with dsp-opt or a full build of the package, and run the "
            "program file with dsp.Session(path)"
        )
    workdir = tempfile.TemporaryDirectory(prefix="dsp-")
    if isinstance(model, (str, os.PathLike)):
        model_path = os.fspath(model)
    elif hasattr(model, "SerializeToString"):
        model_path = os.path.join(workdir.name, "model.onnx")
        with open(model_path, "wb") as file:
            file.write(model.SerializeToString())
    else:
        raise TypeError(
            "dsp.compile: model must be a path or an onnx.ModelProto, got "
            + type(model).__name__
        )
    options = {"ranks": ranks, "strategy": strategy, "target": target,
               "dtype": dtype}
    options.update(
        (name.replace("_", "-"), value)
        for name, value in pipeline_options.items()
    )
    pipeline = " ".join(
        f"{name}={_option_text(value)}" for name, value in options.items()
    )
    shapes = [
        name + ":" + "x".join(str(dim) for dim in shape)
        for name, shape in (input_shapes or {}).items()
    ]
    frozen = []
    for name, value in (freeze_inputs or {}).items():
        if not isinstance(value, (str, os.PathLike)):
            import numpy

            path = os.path.join(workdir.name, f"frozen{len(frozen)}.npy")
            numpy.save(path, numpy.asarray(value))
            value = path
        frozen.append(f"{name}=@{os.fspath(value)}")
    output = os.path.join(workdir.name, "program.dspx")
    report, summary, diagnostics = _compile_program(
        model_path, output, pipeline, shapes, frozen, load_weights,
        report_threads
    )
    for line in diagnostics.splitlines():
        warnings.warn(line, stacklevel=2)
    return Program(output, json.loads(report), summary, workdir)


def export(module, example_inputs, path, **options):
    """Exports a torch.nn.Module to ONNX at `path` through torch.onnx's
    dynamo exporter, ready for dsp.compile; `options` go to
    torch.onnx.export. Returns `path`."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "dsp.export needs PyTorch (pip install torch onnxscript); "
            "without it, export the model to ONNX elsewhere and pass the "
            "file to dsp.compile"
        ) from error
    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,)
    torch.onnx.export(module, example_inputs, os.fspath(path), dynamo=True,
                      **options)
    return path


class Session:
    """Runs a Program (or a .dspx file) on every rank of its group.

    backend: "cpu" or "cuda"; comm: "local" (ranks are threads of this
    process); threads: per rank, 0 shares the hardware threads among the
    ranks. run() takes {name: array} (numpy arrays or CPU DLPack tensors
    such as torch's, read where they lie) and returns {name: numpy array}.
    Raises RunError with the runtime's messages.
    """

    def __init__(self, program, backend="cpu", comm="local", threads=0):
        # A Program keeps its temporary folder while a session holds it.
        self.program = program if isinstance(program, Program) \
            else Program(program)
        self._group = _RankGroup(self.program.path, backend, comm, threads)

    @property
    def ranks(self):
        return self._group.ranks

    @property
    def inputs(self):
        """[(name, dtype, global shape)] of the program's inputs."""
        return self._group.inputs()

    @property
    def outputs(self):
        return self._group.outputs()

    def run(self, inputs, gather=True):
        """Binds `inputs` ({name: array}; an input bound before keeps its
        value when left out), runs every rank, returns {name: array}.
        With gather=False, the outputs compiled with keep-sharded stay on
        the ranks, left out of the result: read_blocks reads them, carry
        makes them the next run's inputs."""
        return self._group.run(dict(inputs), gather)

    def read_blocks(self, output):
        """Each rank's block of `output` of the last run, [numpy array] in
        rank order (a replicated output: one whole copy per rank)."""
        return self._group.read_blocks(output)

    def split_blocks(self, input, array):
        """The block of `input` each rank takes of its whole value `array`
        (what run binds), [numpy array] in rank order: the start of a
        value that then stays in blocks."""
        return self._group.split_blocks(input, array)

    def join_blocks(self, input, blocks):
        """The whole value of `input` whose per-rank blocks are `blocks`,
        the inverse of split_blocks."""
        return self._group.join_blocks(input, list(blocks))

    def bind_blocks(self, input, blocks):
        """Binds blocks[r] as rank r's block of `input`: the blocks of
        read_blocks, of the same shapes, for an input whose layout the
        output kept."""
        self._group.bind_blocks(input, list(blocks))

    def carry(self, output, input):
        """Makes each rank's block of `output` of the last run its block of
        `input` for the next: nothing crosses ranks or comes to Python."""
        self._group.carry(output, input)

    @property
    def statistics(self):
        """The statistics of dsp-run --stats-json as a dict, and under
        "split" the bytes this session moved between whole values and the
        ranks' blocks: "scattered_bytes" (split inputs bound whole or
        split_blocks) and "gathered_bytes" (kept-sharded outputs returned
        whole, join_blocks)."""
        statistics = json.loads(self._group.statistics_json())
        scattered, gathered = self._group.split_bytes()
        statistics["split"] = {"scattered_bytes": scattered,
                               "gathered_bytes": gathered}
        return statistics
