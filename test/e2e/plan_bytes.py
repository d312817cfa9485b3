#!/usr/bin/env python3
"""Checks that the bytes each collective moved, as dsp-run counted them
(--stats-json), equal the plan's figures (dsp-opt --dsp-report).

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


def main():
    problem, total = compare(sys.argv[1], sys.argv[2])
    if problem:
        print(f"error: {problem}")
        return 1
    print(f"{total} bytes per rank as planned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
