#!/usr/bin/env python3
"""Time per kernel kind from Nsight Compute's CSV.

    ncu --clock-control none --metrics gpu__time_duration.sum --csv \\
        dsp-run PROGRAM ... --repeat=1 > LABEL.csv
    bench/kernel_times.py LABEL.csv... [--out FILE.md]

Writes one markdown table: per kind of kernel (by its name), the number of
launches and their summed duration in ms, one column per CSV (named after
the file). The first run of dsp-run is not replayed as a CUDA graph, so
ncu sees every kernel of it once.
"""

import argparse
import csv
import io
import os
import re
import sys

# (kind, pattern on the kernel name), first match wins.
KINDS = [
    ("attention (own tiled)", r"tiledAttentionKernel"),
    ("attention (own per row)", r"attentionKernel"),
    ("attention (cuDNN)", r"cudnn|sdpa|flash|fmha"),
    ("GEMM", r"gemm|nvjet|xmma|cutlass|magma|sm\d+_"),
    ("transposing copies", r"[Tt]ranspose|[Cc]opy|[Pp]ermute"),
    ("reductions, norms and softmax", r"[Rr]educe|[Nn]orm|[Ss]oftmax"),
    ("generated fused kernels", r"fused_\d+"),
    ("own element-wise kernels",
     r"(unary|binary|where|pad|gather|matmulEpilogue)Kernel"),
    ("convolution", r"convKernel"),
]
SCALE_TO_MS = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3,
               "msecond": 1.0, "ms": 1.0, "second": 1e3, "s": 1e3}


def kind_of(name):
    for kind, pattern in KINDS:
        if re.search(pattern, name):
            return kind
    return "other"


def read_durations(path):
    """(kernel name, ms) of every gpu__time_duration.sum row of the CSV."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    # ncu prints its own lines ("==PROF== ...") before the CSV's header.
    start = text.find('"ID"')
    if start < 0:
        raise SystemExit(f"{path}: no ncu CSV header (\"ID\",...) found")
    rows = []
    for row in csv.DictReader(io.StringIO(text[start:])):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        unit = row.get("Metric Unit", "")
        if unit not in SCALE_TO_MS:
            raise SystemExit(f"{path}: unknown duration unit '{unit}'")
        value = float(row["Metric Value"].replace(",", ""))
        rows.append((row["Kernel Name"], value * SCALE_TO_MS[unit]))
    if not rows:
        raise SystemExit(f"{path}: no gpu__time_duration.sum rows")
    return rows


def table(paths):
    labels = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    totals = {}
    for column, path in enumerate(paths):
        for name, ms in read_durations(path):
            count_ms = totals.setdefault(kind_of(name), [[0, 0.0]
                                                         for _ in paths])
            count_ms[column][0] += 1
            count_ms[column][1] += ms
    order = [kind for kind, _ in KINDS] + ["other"]
    lines = ["| kernels | " + " | ".join(f"{l} ms (launches)" for l in labels)
             + " |", "| --- |" + " ---: |" * len(paths)]
    sums = [0.0] * len(paths)
    for kind in order:
        if kind not in totals:
            continue
        cells = []
        for column, (count, ms) in enumerate(totals[kind]):
            sums[column] += ms
            cells.append(f"{ms:.3f} ({count})" if count else "")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("| all | " + " | ".join(f"{s:.3f}" for s in sums) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--out", help="write the table here too")
    args = parser.parse_args(argv)
    text = table(args.csv)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
