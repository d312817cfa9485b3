#!/usr/bin/env python3
"""Writes the input and the reference outputs of mesh-2x2.mlir to DIR:
x.npy, row_sums.npy, exp.npy and frame_sums.npy.

Usage: mesh_reference.py DIR
"""
import os
import sys

import numpy as np


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    x = np.random.default_rng(7).standard_normal((4, 5, 6), dtype=np.float32)
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    softmax = shifted / shifted.sum(axis=1, keepdims=True)
    exp = np.exp(softmax)
    for name, value in [("x", x), ("row_sums", softmax.sum(2, keepdims=True)),
                        ("exp", exp), ("frame_sums", exp.sum(1, keepdims=True))]:
        np.save(os.path.join(folder, f"{name}.npy"), value.astype(np.float32))


if __name__ == "__main__":
    main()
