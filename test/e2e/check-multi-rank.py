#!/usr/bin/env python3
"""Compiles models for N ranks under each strategy, runs them with dsp-run
and checks that they match their reference output, that the bytes each
collective moved, as counted by the transport, equal the plan's figures,
and that the busiest rank's peak memory is the plan's (at --threads per
rank, 1 by default).

Usage: check-multi-rank.py DSP_OPT DSP_RUN WORK_DIR --model NAME.onnx
         [--ranks 1 2 ...] [--strategies auto ...] [--dtype bf16] [--mpi]
         [--freeze-input INPUT ...] [--overlap-chunks K] [--mesh 2x2 ...]
Inputs are NAME.input.npy (a single input) or NAME.input.INPUT.npy (one
per named input), the reference output NAME.output.npy, next to the model. With --mpi the ranks are Open MPI processes.
A --freeze-input INPUT is compiled into the program as a constant (dsp-opt
--freeze-input) instead of being given to dsp-run. With --overlap-chunks K
above 1 each switch runs as K async pieces (plan_bytes.compare). With
--mesh the ranks are the meshes' sizes (their products), planned on those
meshes.
"""
import argparse
import glob
import math
import os
import subprocess
import sys

import plan_bytes


def inputs(stem):
    """The model's input files by input name ("" for a single input)."""
    if os.path.exists(f"{stem}.input.npy"):
        return {"": f"{stem}.input.npy"}
    prefix = f"{stem}.input."
    return {path[len(prefix):-len(".npy")]: path
            for path in sorted(glob.glob(glob.escape(prefix) + "*.npy"))}


def input_flags(stem, frozen):
    return [f"--input={name}=@{path}" if name else f"--input=@{path}"
            for name, path in inputs(stem).items() if name not in frozen]


def freeze_flags(stem, frozen):
    return [f"--freeze-input={name}=@{path}"
            for name, path in inputs(stem).items() if name in frozen]


def check(args, model, ranks, strategy, mesh=None):
    stem = os.path.splitext(model)[0]
    tag = f"{os.path.basename(stem)} ranks={ranks} {strategy}"
    pipeline = (f"ranks={ranks} strategy={strategy} dtype={args.dtype}"
                f" overlap-chunks={args.overlap_chunks}")
    if mesh:
        tag += f" mesh={mesh}"
        pipeline += f" mesh={mesh}"
    if args.dtype != "f32":
        tag += f" {args.dtype}"
    if args.overlap_chunks != 1:
        tag += f" overlap-chunks={args.overlap_chunks}"
    program = os.path.join(
        args.work, f"{os.path.basename(stem)}.{mesh or ranks}.{strategy}."
        f"{args.dtype}.{args.overlap_chunks}.dspx")
    plan = program + ".plan.json"
    stats = program + ".stats.json"
    compile_ = subprocess.run(
        [args.dsp_opt, model,
         f"--dsp-pipeline={pipeline}",
         f"--dsp-report={plan}", f"--dsp-report-threads={args.threads}",
         *freeze_flags(stem, args.freeze_input),
         "--emit=program", "-o", program],
        capture_output=True, text=True)
    if compile_.returncode != 0:
        return f"{tag}: dsp-opt failed: {compile_.stderr.strip()}"
    run = [args.dsp_run, program, *input_flags(stem, args.freeze_input),
           f"--expected-output=@{stem}.output.npy", f"--atol={args.atol}",
           f"--rtol={args.rtol}",
           f"--stats-json={stats}", "--comm-timeout=60",
           f"--threads={args.threads}"]
    if args.mpi:
        run = ["mpirun", "--oversubscribe", "-np", str(ranks)] + run + ["--comm=mpi"]
    result = subprocess.run(run, capture_output=True, text=True)
    if result.returncode != 0:
        return f"{tag}: dsp-run failed: {(result.stderr or result.stdout).strip()}"
    problem, total = plan_bytes.compare(plan, stats,
                                        args.overlap_chunks != 1)
    if problem:
        return f"{tag}: {problem}"
    problem, steps = plan_bytes.ring_steps(plan, stats)
    if problem:
        return f"{tag}: {problem}"
    problem, peak = plan_bytes.memory(plan, stats)
    if problem:
        return f"{tag}: {problem}"
    rings = f"; ring steps {steps} as planned" if steps else ""
    print(f"{tag}: {result.stdout.strip()}; {total} bytes per rank as planned"
          f"{rings}; peak memory {peak} bytes as planned")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dsp_opt")
    parser.add_argument("dsp_run")
    parser.add_argument("work")
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 3, 4, 8])
    parser.add_argument("--strategies", nargs="+",
                        default=["auto", "dsp", "ulysses", "megatron-sp"])
    parser.add_argument("--dtype", default="f32")
    parser.add_argument("--mpi", action="store_true")
    parser.add_argument("--atol", default="1e-4")
    parser.add_argument("--rtol", default="0")
    parser.add_argument("--overlap-chunks", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per rank, in dsp-run and the plan")
    parser.add_argument("--freeze-input", nargs="+", default=[],
                        help="inputs compiled into the programs as constants")
    parser.add_argument("--mesh", nargs="+", default=[],
                        help="meshes such as 2x2 to plan on instead of --ranks")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    groups = [(math.prod(int(size) for size in mesh.split("x")), mesh)
              for mesh in args.mesh] or [(ranks, None) for ranks in args.ranks]
    failures = [problem for model in args.model for ranks, mesh in groups
                for strategy in args.strategies
                if (problem := check(args, model, ranks, strategy, mesh))]
    for problem in failures:
        print(f"error: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
