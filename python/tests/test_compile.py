"""dsp.compile, dsp.export and the Program they give."""

import numpy as np
import pytest

import dsp
from conftest import MODEL, example_program, torch_or_skip

needs_compiler = pytest.mark.skipif(
    not dsp.has_compiler,
    reason="this dsp package has no compiler (runtime-only build)")


@needs_compiler
def test_plan_and_summary():
    program = dsp.compile(MODEL, ranks=4, strategy="dsp")
    assert program.plan["ranks"] == 4
    assert program.plan["collectives"]
    assert program.plan["totals"]["bytes_per_rank"] > 0
    assert "all_to_all" in program.summary()
    # What a rank allocates for the program: its arena, its inputs and one
    # workspace for its collectives' staging and its kernels' scratch, at 1
    # thread unless asked.
    memory = program.plan["memory"]
    assert memory["threads"] == 1
    assert memory["workspace_bytes"] == max(
        memory["collective_workspace_bytes"], memory["kernel_scratch_bytes"])
    assert memory["bytes_per_rank"] == (memory["arena_bytes"] +
                                        memory["input_bytes"] +
                                        memory["workspace_bytes"])
    assert memory["collective_workspace_bytes"] > 0
    assert 0 < memory["input_bytes"] < memory["arena_bytes"]
    assert "memory:" in program.summary()


@needs_compiler
def test_memory_for_the_session_threads(inputs):
    # Attention keeps a tile per thread: the plan's memory for 4 threads is
    # what a session of 4 threads allocates.
    one = dsp.compile(MODEL, ranks=1)
    four = dsp.compile(MODEL, ranks=1, report_threads=4)
    assert four.plan["memory"]["threads"] == 4
    assert (four.plan["memory"]["kernel_scratch_bytes"] >
            one.plan["memory"]["kernel_scratch_bytes"])
    session = dsp.Session(four, threads=4)
    session.run(inputs)
    peak = session.statistics["peak_memory_bytes"]
    assert max(peak) == four.plan["memory"]["bytes_per_rank"]
    with pytest.raises(dsp.CompileError, match="out of range: 1 to 1024"):
        dsp.compile(MODEL, ranks=1, report_threads=1025)


@needs_compiler
def test_save_and_bytes(tmp_path, inputs, reference):
    program = example_program(1)
    path = tmp_path / "stdit.dspx"
    program.save(path)
    assert path.read_bytes() == bytes(program)
    outputs = dsp.Session(path).run(inputs)
    np.testing.assert_allclose(outputs["out"], reference, atol=1e-4)


@needs_compiler
def test_model_proto(inputs, reference):
    onnx = pytest.importorskip("onnx")
    program = dsp.compile(onnx.load(MODEL), ranks=2)
    outputs = dsp.Session(program).run(inputs)
    np.testing.assert_allclose(outputs["out"], reference, atol=1e-4)


@needs_compiler
def test_missing_model_names_the_file(tmp_path):
    with pytest.raises(dsp.CompileError, match="missing.onnx"):
        dsp.compile(tmp_path / "missing.onnx")


@needs_compiler
def test_bad_strategy_is_named():
    with pytest.raises(dsp.CompileError, match="sideways"):
        dsp.compile(MODEL, ranks=2, strategy="sideways")


@needs_compiler
def test_unknown_pipeline_option_is_named():
    with pytest.raises(dsp.CompileError, match="unknown option .frobnicate. of --dsp-pipeline"):
        dsp.compile(MODEL, frobnicate=3)


def test_compile_without_compiler_says_so():
    if dsp.has_compiler:
        pytest.skip("this dsp package has the compiler")
    with pytest.raises(dsp.CompileError, match="built without the compiler"):
        dsp.compile(MODEL)


@needs_compiler
def test_export_from_torch(tmp_path):
    torch = torch_or_skip()
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(),
                                 torch.nn.Linear(32, 16)).eval()
    x = torch.randn(2, 8, 16)
    path = dsp.export(module, (x,), tmp_path / "mlp.onnx")
    program = dsp.compile(path, ranks=2)
    (name, _, _), = dsp.Session(program).inputs
    outputs = dsp.Session(program).run({name: x})
    with torch.no_grad():
        expected = module(x).numpy()
    np.testing.assert_allclose(next(iter(outputs.values())), expected,
                               atol=1e-4)
