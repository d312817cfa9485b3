#!/usr/bin/env bash
# Configures and builds the project into build/ (compiler, runtime, tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -G Ninja -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DDSP_PYTHON="$root/.venv/bin/python"
ninja -C "$root/build" -j"${DSP_BUILD_JOBS:-2}"
