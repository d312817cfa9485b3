#!/usr/bin/env python3
"""Checks that docs/supported-ops.md lists exactly the ONNX operators the
importer's converter table holds (the `table.add("OpType", ...)` calls of
lib/Import): every operator in the first column of its table, no more.

Usage: check-supported-ops.py SOURCE_DIR
"""
import glob
import os
import re
import sys


def main():
    source = sys.argv[1]
    converted = set()
    for path in glob.glob(os.path.join(source, "lib/Import/*.cpp")):
        with open(path) as f:
            converted |= set(re.findall(r'table\.add\("(\w+)"', f.read()))
    documented = set()
    with open(os.path.join(source, "docs/supported-ops.md")) as f:
        for line in f:
            cells = line.split("|")
            if len(cells) > 2 and not cells[1].strip().startswith(("---", "ONNX")):
                documented |= {op.strip() for op in cells[1].split(",")}
    for op in sorted(converted - documented):
        print(f"not documented: {op}")
    for op in sorted(documented - converted):
        print(f"documented but not converted: {op}")
    print(f"{len(converted)} operators converted, "
          f"{len(converted & documented)} documented")
    return 0 if converted == documented else 1


if __name__ == "__main__":
    sys.exit(main())
