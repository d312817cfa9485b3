#!/usr/bin/env python3
"""Prints the communication figures of a model's plans side by side.

For each strategy the model is compiled with dsp-opt at the given rank count
and the plan report (JSON) is read back. Printed per strategy: the number of
all-to-alls, their bytes per rank against the DSP optimum
(2 L - 1) M (N-1) / N^2 (two switches per layer but none after the last;
M: the bytes of the stream the all-to-alls move, pads included; L: the
number of layers), all bytes per rank with and without the final gather of
the results, the ratio of those to ulysses, and the FLOPs of the busiest rank
against the total over N.
"""
import argparse
import json
import os
import subprocess
import tempfile


def plan(dsp_opt, model, ranks, strategy, work, shape_only):
    report = os.path.join(work, f"{strategy}.json")
    command = [dsp_opt, model,
               f"--dsp-pipeline=ranks={ranks} strategy={strategy}",
               f"--dsp-report={report}", "-o", os.devnull]
    if shape_only:
        command.append("--no-weights")
    subprocess.run(command, check=True)
    with open(report) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--dsp-opt", default="build/bin/dsp-opt")
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--stream-bytes", type=int, required=True,
                        help="bytes of the token stream the all-to-alls "
                             "switch (pads included)")
    parser.add_argument("--no-weights", action="store_true",
                        help="plan without reading the weights (full-size "
                             "models)")
    args = parser.parse_args()

    n, layers, m = args.ranks, args.layers, args.stream_bytes
    optimum = (2 * layers - 1) * m * (n - 1) // (n * n)
    with tempfile.TemporaryDirectory() as work:
        reports = {s: plan(args.dsp_opt, args.model, n, s, work,
                           args.no_weights)
                   for s in ("auto", "dsp", "ulysses", "megatron-sp")}
    def inner(r):
        t = r["totals"]
        return t["bytes_per_rank"] - t["output_bytes_per_rank"]
    ulysses_all = reports["ulysses"]["totals"]["bytes_per_rank"]
    ulysses_inner = inner(reports["ulysses"])
    print(f"{args.model}: N={n}, L={layers}, M={m} bytes, "
          f"DSP optimum (2L-1)M(N-1)/N^2 = {optimum} bytes per rank")
    print(f"{'strategy':12} {'a2a':>4} {'a2a bytes':>10} {'/optimum':>9} "
          f"{'all bytes':>10} {'/ulysses':>9} {'w/o results':>12} "
          f"{'/ulysses':>9} {'flops/rank*N/total':>19}")
    for strategy, r in reports.items():
        a2a = [c for c in r["collectives"] if c["kind"] == "all_to_all"]
        a2a_bytes = sum(c["bytes_per_rank"] for c in a2a)
        total = r["totals"]["bytes_per_rank"]
        flops = r["compute"]
        print(f"{strategy:12} {len(a2a):>4} {a2a_bytes:>10} "
              f"{a2a_bytes / optimum:>9.2f} {total:>10} "
              f"{total / ulysses_all:>9.2f} {inner(r):>12} "
              f"{inner(r) / ulysses_inner:>9.2f} "
              f"{flops['flops_per_rank'] * n / flops['flops_total']:>19.2f}")


if __name__ == "__main__":
    main()
