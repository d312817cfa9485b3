#!/usr/bin/env python3
"""Checks that the bytes each collective moved, as dsp-run counted them
(--stats-json), equal the plan's figures (dsp-opt --dsp-report), that
each ring attention took the steps the plan models, and that the memory of
the busiest rank is the plan's (compiled with --dsp-report-threads=N, run
with --threads=N on the cpu backend).

Usage: plan_bytes.py PLAN.json STATS.json
"""
import json
import sys


def bytes_per_kind(collectives):
    """[(kind, bytes)] summed by kind."""
    sums = {}
    for kind, sent in collectives:
        sums[kind] = sums.get(kind, 0) + sent
    return list(sums.items())


def compare(plan, stats, pieces=False):
    """None and the measured total bytes per rank if every collective moved
    what the plan says, else a description of the difference. With
    `pieces`, switches ran as async pieces (which must have run: the
    statistics count waits), and the bytes of each kind of collective are
    compared as a sum, which the pieces share."""
    with open(plan) as f:
        planned = json.load(f)
    with open(stats) as f:
        measured = json.load(f)
    want = [(c["kind"], c["bytes_per_rank"]) for c in planned["collectives"]]
    got = [(c["kind"], c["bytes_per_rank"]) for c in measured["collectives"]]
    total = measured["totals"]["bytes_per_rank"]
    if pieces:
        if "wait" not in measured["ops"]:
            return "no collective ran asynchronously", total
        want, got = bytes_per_kind(want), bytes_per_kind(got)
    if sorted(want) != sorted(got) or \
            planned["totals"]["bytes_per_rank"] != total:
        return (f"planned collectives {want} (total "
                f"{planned['totals']['bytes_per_rank']}) but measured {got} "
                f"(total {total})"), total
    return None, total


def ring_steps(plan, stats):
    """None and the steps of each ring attention, measured as the bytes a
    rank sent over the bytes of one step (its key and value blocks), if
    they equal the plan's steps; else a description of the difference."""
    with open(plan) as f:
        planned = [c for c in json.load(f)["collectives"]
                   if c["kind"] == "ring_attention"]
    with open(stats) as f:
        measured = [c["bytes_per_rank"] for c in json.load(f)["collectives"]
                    if c["kind"] == "ring_attention"]
    if len(planned) != len(measured):
        return (f"planned {len(planned)} ring attentions but ran "
                f"{len(measured)}"), []
    steps = [sent / ring["bytes"] for ring, sent in zip(planned, measured)]
    want = [ring["steps"] for ring in planned]
    if steps != want:
        return f"planned ring steps {want} but measured {steps}", steps
    return None, want


def memory(plan, stats):
    """None and the busiest rank's peak memory if the arena, the inputs,
    the workspace and that peak are the plan's memory (a collective may
    stage less on the other ranks, never more), else a description of the
    difference."""
    with open(plan) as f:
        planned = json.load(f)["memory"]
    with open(stats) as f:
        measured = json.load(f)
    peak = max(measured["peak_memory_bytes"])
    for name, want, got in (
            ("arena", planned["arena_bytes"], measured["arena_bytes"]),
            ("inputs", planned["input_bytes"], measured["input_bytes"]),
            ("workspace", planned["workspace_bytes"],
             measured["workspace_bytes"]),
            ("busiest rank's peak", planned["bytes_per_rank"], peak)):
        if want != got:
            return (f"planned {name} of {want} bytes but measured {got} "
                    f"(peaks {measured['peak_memory_bytes']})"), peak
    return None, peak


def main():
    problem, total = compare(sys.argv[1], sys.argv[2])
    if not problem:
        problem, steps = ring_steps(sys.argv[1], sys.argv[2])
    if not problem:
        problem, peak = memory(sys.argv[1], sys.argv[2])
    if problem:
        print(f"error: {problem}")
        return 1
    print(f"{total} bytes per rank as planned")
    if steps:
        print(f"ring steps {steps} as planned")
    print(f"peak memory {peak} bytes as planned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
