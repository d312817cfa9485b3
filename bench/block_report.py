#!/usr/bin/env python3
"""Merges what the block stage of bench/gpu_check.sh measured so far into
DIR/block.json and the table DIR/block.md.

DIR holds dsp.DTYPE.json (dsp-run --stats-json) and dsp.DTYPE.npy (its
output) for DSP, and torch.json with torch.MODE.DTYPE.npy from
bench/stdit_torch.py. Missing files are rows not measured yet, so the stage
runs this after every measurement. Outputs are compared with the f32
reference (--reference, else PyTorch eager's f32 output, else DSP's) as
the largest absolute difference over the largest absolute reference value:
f32 within 1e-4, bf16 within 2e-2.
"""

import argparse
import datetime
import json
import os
import statistics
import sys

import numpy as np

DTYPES = ("f32", "bf16")
RUNTIMES = ("dsp", "eager", "compile")
LIMITS = {"f32": 1e-4, "bf16": 2e-2}


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def relative_error(path, reference):
    output = np.load(path)
    if output.shape != reference.shape:
        return float("inf")
    return float(np.abs(output - reference).max() /
                 max(float(np.abs(reference).max()), 1e-30))


def measure(args):
    """block.json's content from the files in args.dir."""
    d = args.dir
    torch_report = read_json(os.path.join(d, "torch.json")) or {"rows": {}}
    torch_rows = torch_report["rows"]
    reference_path = args.reference or next(
        (p for p in (os.path.join(d, "torch.eager.f32.npy"),
                     os.path.join(d, "dsp.f32.npy")) if os.path.exists(p)),
        None)
    reference = np.load(reference_path) if reference_path else None
    rows = {}
    for dtype in DTYPES:
        for runtime in RUNTIMES:
            key = f"{runtime}.{dtype}"
            if runtime == "dsp":
                stats = read_json(os.path.join(d, f"dsp.{dtype}.json"))
                if stats is None:
                    continue
                # The first runs launch kernels one by one and record the
                # CUDA graph: warm-up, as for PyTorch.
                timed = stats["run_ms"][args.dsp_warmup:] or stats["run_ms"]
                row = {"median_ms": statistics.median(timed),
                       "ops": stats["ops"],
                       "implementations": stats.get("implementations", {})}
                output = os.path.join(d, f"dsp.{dtype}.npy")
            else:
                if key not in torch_rows:
                    continue
                row = dict(torch_rows[key])
                row.pop("run_ms", None)
                output = os.path.join(d, f"torch.{key}.npy")
            if reference is not None and os.path.exists(output):
                row["error"] = relative_error(output, reference)
                row["within_limit"] = row["error"] <= LIMITS[dtype]
            rows[key] = row
    for dtype in DTYPES:
        dsp = rows.get(f"dsp.{dtype}", {}).get("median_ms")
        if dsp is None:
            continue
        for runtime in ("eager", "compile"):
            peer = rows.get(f"{runtime}.{dtype}", {}).get("median_ms")
            if peer:
                rows[f"dsp.{dtype}"][f"ratio_{runtime}"] = dsp / peer
    return {"device": args.device_name, "date": args.date,
            "reference": reference_path, "limits": LIMITS,
            "torch": {
                k: torch_report.get(k) for k in
                ("torch", "device", "device_name", "threads", "attention",
                 "warmup", "repeat", "sizes")},
            "rows": rows,
            "breakdown": {dtype: torch_rows.get(f"breakdown.{dtype}")
                          for dtype in DTYPES}}


def shares(times):
    total = sum(times.values())
    return ", ".join(f"{kind} {100 * ms / total:.0f}%"
                     for kind, ms in sorted(times.items())) if total else "-"


def markdown(report):
    sizes = report["torch"].get("sizes") or {}
    lines = [
        "# ST-DiT block: DSP against PyTorch", "",
        f"- device: {report['device']}", f"- date: {report['date']}",
        f"- block: {json.dumps(sizes)}" if sizes else "- block: -",
        f"- PyTorch {report['torch'].get('torch')}, attention "
        f"{report['torch'].get('attention')}; TF32 off in f32",
        f"- outputs against {os.path.basename(report['reference'] or '-')}:"
        " max |out - ref| / max |ref|, limits f32 1e-4, bf16 2e-2", "",
        "| dtype | runtime | median ms | DSP / this | error | within limit |",
        "| --- | --- | --- | --- | --- | --- |"]
    for key, row in report["rows"].items():
        runtime, dtype = key.split(".")
        if "failure" in row:
            lines.append(f"| {dtype} | {runtime} | failed: {row['failure']} "
                         "| | | |")
            continue
        ratio = report["rows"].get(f"dsp.{dtype}", {}).get(f"ratio_{runtime}")
        error = row.get("error")
        within = "" if error is None else (
            "yes" if row["within_limit"] else "NO")
        lines.append(
            f"| {dtype} | {runtime} | {row['median_ms']:.3f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | "
            f"{'' if error is None else f'{error:.2e}'} | {within} |")
    lines += ["", "## Time per op kind", ""]
    for dtype in DTYPES:
        dsp = report["rows"].get(f"dsp.{dtype}")
        if dsp:
            times = {op: v["total_ms"] for op, v in dsp["ops"].items()}
            counts = ", ".join(f"{op} {v['count']}"
                               for op, v in sorted(dsp["ops"].items()))
            lines.append(f"- DSP {dtype}: {shares(times)} (instructions "
                         f"run: {counts}; replayed CUDA graphs time only "
                         "the whole run)")
            for op, counts in sorted(dsp.get("implementations", {}).items()):
                ran = ", ".join(f"{implementation} ({count})" for
                                implementation, count in sorted(counts.items()))
                lines.append(f"  - {op} ran on: {ran}")
        breakdown = report["breakdown"].get(dtype)
        if breakdown and "failure" in breakdown:
            lines.append(f"- PyTorch eager {dtype}: not measured: "
                         f"{breakdown['failure']}")
        elif breakdown:
            kinds = breakdown["eager_op_kinds_ms"]
            lines.append(f"- PyTorch eager {dtype}: {shares(kinds)}")
            lines.append(
                f"  - GEMMs in the block {kinds.get('matmul', 0):.3f} ms, "
                f"the same shapes alone (torch.matmul) "
                f"{breakdown['gemm_total_ms']:.3f} ms")
            lines.append(
                f"  - attention in the block {kinds.get('attention', 0):.3f}"
                f" ms, alone: SDPA {breakdown['attention_sdpa_total_ms']:.3f}"
                f" ms, softmax(q·kᵀ)·v "
                f"{breakdown['attention_math_total_ms']:.3f} ms")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="the block stage's folder")
    parser.add_argument("--reference", help="the f32 reference output .npy")
    parser.add_argument("--device-name", default="unknown")
    parser.add_argument("--dsp-warmup", type=int, default=3,
                        help="dsp-run runs not timed (default 3)")
    parser.add_argument("--report-dir",
                        help="where block.json and block.md go (default DIR)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless every output is within its limit")
    args = parser.parse_args(argv)
    args.date = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    report = measure(args)
    report_dir = args.report_dir or args.dir
    with open(os.path.join(report_dir, "block.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(report_dir, "block.md"), "w") as f:
        f.write(markdown(report))
    if args.check:
        bad = [key for key, row in report["rows"].items()
               if not row.get("within_limit", "failure" in row)]
        if bad:
            print(f"outputs beyond their limits: {', '.join(bad)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
