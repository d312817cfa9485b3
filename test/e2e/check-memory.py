"""Compares a plan report's memory with what dsp-run measured.

Usage: check-memory.py REPORT.json STATS.json. Prints whether the arena
and the inputs are the ones the report gives, and whether every rank's
peak is at least the report's memory per rank and within 10% above it;
exits 1 if not.
"""

import json
import sys


def main():
    with open(sys.argv[1]) as f:
        memory = json.load(f)["memory"]
    with open(sys.argv[2]) as f:
        stats = json.load(f)
    estimate = memory["bytes_per_rank"]
    checks = [
        ("arena as reported", stats["arena_bytes"] == memory["arena_bytes"]),
        ("inputs as reported", stats["input_bytes"] == memory["input_bytes"]),
        ("peak within 10% of the report",
         all(estimate <= peak <= 1.1 * estimate
             for peak in stats["peak_memory_bytes"])),
    ]
    print(", ".join(name if ok else "NOT " + name for name, ok in checks))
    print("report", estimate, "peaks", stats["peak_memory_bytes"])
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
