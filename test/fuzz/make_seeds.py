#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into test/fuzz/corpus/.

Needs a Python with numpy and onnx, and a built dsp-opt:

    .venv/bin/python test/fuzz/make_seeds.py --dsp-opt build/bin/dsp-opt

Seeds are small on purpose: the models of test/Import (comments dropped),
their binary form, the external-data inputs, one example model per target
that compiles, programs compiled from these, and small .npy files. Existing
files in the corpus (regression inputs) are kept; seeds are overwritten.
"""

import argparse
import importlib.util
import io
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.parser
import onnx.printer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "test" / "fuzz" / "corpus"
STRATEGIES = ["auto", "dsp", "ulysses", "megatron-sp", "none"]
# (ranks, strategy, no weights) for the compile seeds, in turn.
COMPILE_OPTIONS = [(2, "auto", False), (4, "dsp", False), (2, "ulysses", False),
                   (3, "megatron-sp", False), (1, "none", False),
                   (2, "auto", True)]


def compile_prefix(ranks, strategy, no_weights):
    """The two option bytes of the compile target (see compile.cpp)."""
    return bytes([(ranks - 1) | (STRATEGIES.index(strategy) << 2),
                  1 if no_weights else 0])


def numerics_models():
    """The Einsum and ScatterND models of test/Import/onnx-numerics.test,
    whose converters no textual import test reaches: name -> model."""
    path = ROOT / "test" / "Import" / "check-onnx-numerics.py"
    spec = importlib.util.spec_from_file_location("numerics", path)
    numerics = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(numerics)
    models = {}
    for n, (equation, shapes) in enumerate(numerics.EINSUM):
        operands = [np.zeros(shape, np.float32) for shape in shapes]
        output = np.einsum(equation, *operands).shape
        models[f"einsum{n}"] = numerics.einsum_model(equation, shapes, output)
    for n, case in enumerate(numerics.SCATTER):
        models[f"scatternd{n}"] = numerics.scatter_model(*case)
    return models


def write(folder, name, data):
    path = CORPUS / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsp-opt", required=True, help="path of dsp-opt")
    args = parser.parse_args()

    binaries = {}
    for text_path in sorted((ROOT / "test" / "Import").glob("*.onnxtxt")):
        lines = [line for line in text_path.read_text().splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        text = "\n".join(lines) + "\n"
        write("onnx-import-text", text_path.name, text.encode())
        try:
            model = onnx.parser.parse_model(text)
        except Exception as error:  # The parser's errors have no common type.
            print(f"skipped {text_path.name}: {error}", file=sys.stderr)
            continue
        binaries[text_path.stem] = model.SerializeToString()

    for path in sorted((ROOT / "test" / "Import" / "Inputs").glob("*.onnx")):
        binaries[path.stem] = path.read_bytes()
    for stem, model in numerics_models().items():
        binaries[stem] = model.SerializeToString()
        write("onnx-import-text", stem + ".onnxtxt",
              onnx.printer.to_text(model).encode())
    for stem, data in binaries.items():
        write("onnx-import", stem + ".onnx", data)
    # One real model each, the smallest that are whole transformers.
    write("onnx-import", "timesformer_small.onnx",
          (ROOT / "examples" / "timesformer_small.onnx").read_bytes())

    for i, (stem, data) in enumerate(sorted(binaries.items())):
        ranks, strategy, no_weights = COMPILE_OPTIONS[i % len(COMPILE_OPTIONS)]
        name = f"{stem}.r{ranks}-{strategy}{'-noweights' if no_weights else ''}"
        write("compile", name, compile_prefix(ranks, strategy, no_weights) + data)
    write("compile", "stdit_tiny.r2-auto",
          compile_prefix(2, "auto", False) +
          (ROOT / "examples" / "stdit_tiny.onnx").read_bytes())

    with tempfile.TemporaryDirectory() as scratch:
        sources = sorted((ROOT / "test" / "Import").glob("*.onnxtxt"))
        sources.append(ROOT / "examples" / "timesformer_small.onnx")
        for source in sources:
            for ranks in (1, 2):
                out = pathlib.Path(scratch) / "p.dspx"
                result = subprocess.run(
                    [args.dsp_opt, str(source), f"--dsp-pipeline=ranks={ranks}",
                     "--emit=program", "-o", str(out)],
                    capture_output=True)
                if result.returncode != 0:
                    continue
                # The example model only with two ranks: it is the largest.
                if source.suffix == ".onnx" and ranks == 1:
                    continue
                write("program-load", f"{source.stem}.r{ranks}.dspx",
                      out.read_bytes())

    for path in sorted((ROOT / "examples").glob("*.npy")):
        if path.stat().st_size <= 8192:
            write("npy-read", path.name, path.read_bytes())
    arrays = {
        "i64-2x3": np.arange(6, dtype="<i8").reshape(2, 3),
        "bool-4": np.array([True, False, True, True]),
        "f32-scalar": np.array(1.5, dtype="<f4"),
        "f32-0x3": np.zeros((0, 3), dtype="<f4"),
        "f32-fortran": np.asfortranarray(np.ones((2, 3), dtype="<f4")),
        "f64-2": np.ones(2, dtype="<f8"),
    }
    for name, array in arrays.items():
        for version in ((1, 0), (2, 0), (3, 0)):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, version=version)
            write("npy-read", f"{name}.v{version[0]}.npy", buffer.getvalue())


if __name__ == "__main__":
    main()
