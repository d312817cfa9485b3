"""Checks a dsp-run --trace file against the --stats-json of the same run.

Usage: check-trace.py TRACE.json STATS.json RANKS

Every rank has every instruction exactly once per run, no time is
negative, and in the last run each collective instruction carries bytes
whose largest value over the ranks is the bytes_per_rank of --stats-json,
the collectives being matched in program order. Prints one summary line.
"""
import json
import sys


def fail(message):
    print("error: " + message)
    sys.exit(1)


def main():
    trace_path, stats_path, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    with open(stats_path) as f:
        stats = json.load(f)
    runs = stats["runs"]
    instructions = sum(op["count"] for op in stats["ops"].values()) // runs

    per_rank = {}
    for event in events:
        if event["ph"] != "X":
            continue
        if event["dur"] < 0 or event["ts"] < 0:
            fail("negative time in %r" % event)
        per_rank.setdefault(event["pid"], []).append(event)
    if sorted(per_rank) != list(range(ranks)):
        fail("ranks in the trace: %s" % sorted(per_rank))

    # instruction index -> bytes of each rank
    collective_bytes = {}
    for rank, rank_events in per_rank.items():
        for run in range(runs):
            indices = sorted(e["args"]["instruction"] for e in rank_events
                             if e["args"]["run"] == run)
            if indices != list(range(instructions)):
                fail("rank %d does not have each of the %d instructions once "
                     "in run %d" % (rank, instructions, run))
        for event in rank_events:
            if "bytes" in event["args"] and event["args"]["run"] == runs - 1:
                collective_bytes.setdefault(
                    event["args"]["instruction"], []).append(event)

    collectives = stats["collectives"]
    if len(collective_bytes) != len(collectives):
        fail("%d collectives in the trace, %d in the statistics"
             % (len(collective_bytes), len(collectives)))
    for index, expected in zip(sorted(collective_bytes), collectives):
        traced = collective_bytes[index]
        first = traced[0]
        if len(traced) != ranks:
            fail("instruction %d is traced on %d ranks" % (index, len(traced)))
        if (first["name"], first["args"]["location"]) != (
                expected["kind"], expected["location"]):
            fail("instruction %d is %s at %s, the statistics say %s at %s"
                 % (index, first["name"], first["args"]["location"],
                    expected["kind"], expected["location"]))
        largest = max(event["args"]["bytes"] for event in traced)
        if largest != expected["bytes_per_rank"]:
            fail("instruction %d sends %d bytes, the statistics say %d"
                 % (index, largest, expected["bytes_per_rank"]))
    print("%d ranks, %d runs of %d instructions each, %d collectives with "
          "their bytes" % (ranks, runs, instructions, len(collectives)))


if __name__ == "__main__":
    main()
