#!/usr/bin/env python3
"""Checks that a dsp-run --trace shows async collectives on their own track.

Usage: check-overlap-trace.py TRACE.json PROGRAM.txt RANKS

PROGRAM.txt is the program as dsp-opt --emit=program-text writes it. On
every rank, each collective is on the communication track (tid 1) and
each wait on the compute track (tid 0); each async collective has one
wait after it, and where a GEMM of another piece comes between the two in
program order, the transfer could hide behind it. Prints one summary line.
Whether the intervals intersect on the timeline depends on timing, so it
is not checked.
"""
import json
import re
import sys

COLLECTIVES = {"all_to_all", "all_gather", "reduce_scatter", "all_reduce"}


def fail(message):
    print("error: " + message)
    sys.exit(1)


def instructions(text):
    """(op, inputs, outputs, async) of each instruction, in order."""
    found = []
    for body in re.findall(r"^instructions \{\n(.*?)^\}", text, re.S | re.M):
        op = re.search(r'^  op: "([^"]*)"', body, re.M).group(1)
        inputs = [int(v) for v in re.findall(r"^  inputs: (\d+)", body, re.M)]
        outputs = [int(v) for v in re.findall(r"^  outputs: (\d+)", body, re.M)]
        started = re.search(r'name: "async"\s*ints \{\s*values: 1', body)
        found.append((op, inputs, outputs, started is not None))
    return found


def main():
    trace_path, program_path, ranks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(trace_path) as f:
        events = [e for e in json.load(f)["traceEvents"] if e["ph"] == "X"]
    with open(program_path) as f:
        program = instructions(f.read())

    writer = {out: i for i, (_, _, outputs, _) in enumerate(program)
              for out in outputs}
    started = {i for i, (_, _, _, is_async) in enumerate(program) if is_async}
    hidden = 0
    for index, (op, inputs, _, _) in enumerate(program):
        if op != "wait":
            continue
        start = writer.get(inputs[0])
        if start not in started or start > index:
            fail("wait %d completes no async collective before it" % index)
        started.discard(start)
        if any(program[i][0] == "matmul" for i in range(start + 1, index)):
            hidden += 1
    if started:
        fail("async collectives without a wait: %s" % sorted(started))
    if not hidden:
        fail("no GEMM runs between an async collective and its wait")

    for event in events:
        op = program[event["args"]["instruction"]][0]
        track = 1 if op in COLLECTIVES else 0
        if event["tid"] != track:
            fail("%s (instruction %d) of rank %d is on track %d, not %d"
                 % (op, event["args"]["instruction"], event["pid"],
                    event["tid"], track))
    if sorted({e["pid"] for e in events}) != list(range(ranks)):
        fail("the trace does not hold %d ranks" % ranks)
    waits = sum(op == "wait" for op, _, _, _ in program)
    print("%d ranks: %d async collectives on the communication track, "
          "%d with a GEMM before their wait" % (ranks, waits, hidden))


if __name__ == "__main__":
    main()
