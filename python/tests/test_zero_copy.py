"""Arrays cross between Python and the runtime without copies in Python:
outputs live in the memory the runtime's read wrote into, inputs are read
where they lie."""

import tracemalloc

import numpy as np
import pytest

import dsp
from conftest import example_program, torch_or_skip


def test_output_owns_the_runtime_memory(inputs):
    out = dsp.Session(example_program(1)).run(inputs)["out"]
    # The array does not own a numpy allocation: its memory is the buffer
    # the runtime wrote, kept alive by the array's base.
    assert not out.flags.owndata
    assert not isinstance(out.base, np.ndarray)
    assert out.flags.c_contiguous and out.flags.writeable
    assert np.shares_memory(np.from_dlpack(out), out)


def test_output_to_torch_shares_memory(inputs):
    torch = torch_or_skip()
    out = dsp.Session(example_program(1)).run(inputs)["out"]
    tensor = torch.from_dlpack(out)
    assert tensor.data_ptr() == out.ctypes.data


def numpy_bytes_allocated_while(function):
    """The peak of numpy's traced allocations while `function` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_inputs_are_not_copied_in_python(inputs):
    session = dsp.Session(example_program(1))
    session.run(inputs)
    x = inputs["x"]
    size = x.nbytes
    contiguous = numpy_bytes_allocated_while(lambda: session.run({"x": x}))
    assert contiguous < size / 2
    # The measure sees a copy: an array in Fortran order is copied to C
    # order before it is read.
    strided = np.asfortranarray(x)
    copied = numpy_bytes_allocated_while(lambda: session.run({"x": strided}))
    assert copied >= size
