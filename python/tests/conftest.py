"""Shared fixtures: the committed example ST-DiT compiled once per rank
count, its inputs and its reference output."""

import os
import pathlib

import numpy as np
import pytest

import dsp

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
MODEL = EXAMPLES / "stdit_tiny.onnx"
# Programs compiled elsewhere (bench/gpu_programs.sh names them
# NAME.rRANKS.dspx), for a runtime-only build that cannot compile.
PROGRAMS = os.environ.get("DSP_TEST_PROGRAMS")


@pytest.fixture(scope="session")
def inputs():
    return {
        name: np.load(EXAMPLES / f"stdit_tiny.input.{name}.npy")
        for name in ("x", "y")
    }


@pytest.fixture(scope="session")
def reference():
    return np.load(EXAMPLES / "stdit_tiny.output.npy")


_programs = {}


def example_program(ranks):
    """The example compiled for `ranks`, or a skip saying why there is
    none."""
    if ranks not in _programs:
        if dsp.has_compiler:
            _programs[ranks] = dsp.compile(MODEL, ranks=ranks)
        elif PROGRAMS:
            _programs[ranks] = dsp.Program(
                os.path.join(PROGRAMS, f"stdit_tiny.r{ranks}.dspx"))
        else:
            pytest.skip("this dsp package has no compiler (runtime-only "
                        "build) and DSP_TEST_PROGRAMS names no folder of "
                        "compiled programs")
    return _programs[ranks]


def torch_or_skip():
    try:
        import torch
    except ImportError:
        pytest.skip("PyTorch is not installed")
    return torch
