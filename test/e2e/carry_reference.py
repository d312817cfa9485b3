#!/usr/bin/env python3
"""Runs an ONNX model for K steps under ONNX Runtime, each step's output
fed back as the next step's input, and writes the last output.

Usage: carry_reference.py MODEL.onnx OUTPUT.npy --steps K --carry INPUT
         --input NAME=FILE.npy ...
"""
import argparse

import numpy as np
import onnxruntime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--carry", required=True,
                        help="the input that each step's output becomes")
    parser.add_argument("--input", action="append", default=[])
    args = parser.parse_args()
    feeds = {name: np.load(path) for name, path in
             (flag.split("=", 1) for flag in args.input)}
    session = onnxruntime.InferenceSession(
        args.model, providers=["CPUExecutionProvider"])
    for _ in range(args.steps):
        feeds[args.carry] = session.run(None, feeds)[0]
    np.save(args.output, feeds[args.carry])


if __name__ == "__main__":
    main()
