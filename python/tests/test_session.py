"""Compiling the example and running it on local ranks."""

import numpy as np
import pytest

import dsp
from conftest import MODEL, example_program, torch_or_skip


@pytest.mark.parametrize("ranks", [1, 4])
def test_run_matches_reference(ranks, inputs, reference):
    session = dsp.Session(example_program(ranks))
    assert session.ranks == ranks
    outputs = session.run(inputs)
    assert list(outputs) == ["out"]
    np.testing.assert_allclose(outputs["out"], reference, atol=1e-4)


def test_statistics_count_collectives(inputs):
    session = dsp.Session(example_program(4))
    session.run(inputs)
    statistics = session.statistics
    assert statistics["runs"] == 1
    assert statistics["totals"]["bytes_per_rank"] > 0
    assert statistics["ranks"] == 4


def test_describes_inputs_and_outputs():
    session = dsp.Session(example_program(4))
    assert session.inputs == [("x", "f32", [1, 8, 16, 32]),
                              ("y", "f32", [1, 8, 32])]
    assert session.outputs == [("out", "f32", [1, 8, 16, 32])]


def test_torch_tensors_as_inputs(inputs, reference):
    torch = torch_or_skip()
    session = dsp.Session(example_program(1))
    outputs = session.run({name: torch.from_numpy(array)
                           for name, array in inputs.items()})
    np.testing.assert_allclose(outputs["out"], reference, atol=1e-4)


def test_cuda_backend(inputs, reference):
    try:
        session = dsp.Session(example_program(1), backend="cuda")
    except dsp.RunError as error:
        pytest.skip(f"no cuda backend here: {error}")
    outputs = session.run(inputs)
    np.testing.assert_allclose(outputs["out"], reference, atol=1e-3)


def test_unknown_input_is_named(inputs):
    session = dsp.Session(example_program(1))
    with pytest.raises(dsp.RunError,
                       match=r"no input named 'z' \(inputs: 'x', 'y'\)"):
        session.run({"z": inputs["x"]})


def test_wrong_shape_is_named(inputs):
    session = dsp.Session(example_program(1))
    with pytest.raises(dsp.RunError, match="expects shape"):
        session.run({"x": inputs["x"][0], "y": inputs["y"]})


def test_unbound_input_is_named(inputs):
    session = dsp.Session(example_program(1))
    with pytest.raises(dsp.RunError, match="'y'.* is not bound"):
        session.run({"x": inputs["x"]})


def test_non_array_input():
    session = dsp.Session(example_program(1))
    with pytest.raises(dsp.RunError, match="input 'x': expected a numpy "
                       "array or a DLPack tensor in CPU memory, got str"):
        session.run({"x": "frames"})


def test_missing_program_file(tmp_path):
    with pytest.raises(dsp.RunError, match="missing.dspx"):
        dsp.Session(tmp_path / "missing.dspx")


def test_errors_are_runtime_errors():
    assert issubclass(dsp.RunError, dsp.Error)
    assert issubclass(dsp.CompileError, dsp.Error)
    assert issubclass(dsp.Error, RuntimeError)
