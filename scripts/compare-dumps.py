#!/usr/bin/env python3
"""Compares two folders of `dsp-run --dump-tensors` (one rank's, such as
DUMP/rank0) and names the first instruction whose output parts.

Outputs are matched by their instruction's source node and output index, so
two programs of one model (another target, dtype, strategy or backend) line
up wherever they compute the same node: a fused GPU kernel carries the node
of the op it ends with. For each match in the order of the first folder it
prints the largest difference over the largest absolute value of the second
folder's output, and marks the first one beyond --limit.

Usage: scripts/compare-dumps.py FIRST SECOND [--limit 1e-4] [--all]
"""

import argparse
import os
import re
import sys

import numpy as np

NAME = re.compile(r"^(\d+)-([a-z_0-9]+)-(.*)-(\d+)\.npy$")


def outputs(folder):
    """{(node, output index): (instruction index, op, path)} of a dump."""
    files = {}
    for name in sorted(os.listdir(folder)):
        match = NAME.match(name)
        if match:
            index, op, node, output = match.groups()
            files.setdefault((int(index), op, node), []).append(
                (int(output), os.path.join(folder, name)))
    found = {}
    for (index, op, node), paths in sorted(files.items()):
        paths.sort()
        # A fused kernel's last output is its node's value; the others are
        # values of ops inside it.
        if op == "kernel":
            paths = [(0, paths[-1][1])]
        # The first instruction of a node is the one both programs share.
        for output, path in paths:
            found.setdefault((node, output), (index, op, path))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--limit", type=float, default=1e-4,
                        help="largest relative difference that matches")
    parser.add_argument("--all", action="store_true",
                        help="print every match, not only up to the first "
                             "difference beyond the limit")
    args = parser.parse_args(argv)
    first, second = outputs(args.first), outputs(args.second)
    shared = sorted((value[0], key) for key, value in first.items()
                    if key in second)
    if not shared:
        print("no instruction output of one folder matches the other's")
        return 2
    parted = None
    for _, key in shared:
        index, op, path = first[key]
        other_index, other_op, other_path = second[key]
        a, b = np.load(path), np.load(other_path)
        if a.shape != b.shape:
            if a.size != b.size:
                print(f"{index:5d} {op:14s} {key[0]}: shapes {a.shape} and "
                      f"{b.shape} differ")
                continue
            a = a.reshape(b.shape)
        scale = max(float(np.abs(b).max()) if b.size else 0.0, 1e-30)
        difference = (float(np.abs(a.astype(np.float64) - b).max())
                      if a.size else 0.0)
        relative = difference / scale
        beyond = not relative <= args.limit
        mark = "  <-- first beyond the limit" if beyond and parted is None \
            else ""
        if parted is None or args.all:
            print(f"{index:5d} {op:14s} {other_index:5d} {other_op:14s} "
                  f"{key[0]}[{key[1]}]: {relative:.3g}{mark}")
        if beyond and parted is None:
            parted = key
    print(f"{len(shared)} outputs compared; "
          + ("all within the limit" if parted is None else
             f"first beyond {args.limit:g} at node {parted[0]}"))
    return 0 if parted is None else 1


if __name__ == "__main__":
    sys.exit(main())
