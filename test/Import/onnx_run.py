"""Compiling and running one ONNX model through dsp-opt and dsp-run, for
the check scripts of this folder (check-onnx-numerics.py,
check-newer-onnx.py). The tools are the scripts' first two arguments."""
import os
import subprocess
import sys

import numpy as np
import onnx


def compile_model(model, work, name, ranks=1):
    """The program's path and dsp-opt's completed process."""
    path = os.path.join(work, name + ".onnx")
    onnx.save(model, path)
    program = os.path.join(work, name + ".dspx")
    compiled = subprocess.run([sys.argv[1], path,
                               f"--dsp-pipeline=ranks={ranks}",
                               "--emit=program", "-o", program],
                              capture_output=True, text=True)
    return program, compiled


def run(model, inputs, expected, work, name, ranks=1):
    """dsp-run's line comparing the output with `expected`, or what failed."""
    program, compiled = compile_model(model, work, name, ranks)
    if compiled.returncode != 0:
        return f"dsp-opt failed: {compiled.stderr.strip()}"
    flags = []
    for key, value in inputs.items():
        np.save(os.path.join(work, f"{name}.{key}.npy"), value)
        flags.append(f"--input={key}=@{os.path.join(work, name)}.{key}.npy")
    np.save(os.path.join(work, name + ".expected.npy"), expected)
    result = subprocess.run([sys.argv[2], program, *flags,
                             f"--expected-output=@{work}/{name}.expected.npy",
                             "--atol=1e-5", "--rtol=1e-5"],
                            capture_output=True, text=True)
    return (result.stdout.strip() if result.returncode == 0 else
            f"dsp-run failed: {(result.stderr or result.stdout).strip()}")
