#!/usr/bin/env bash
# Configures and builds the project into build/ (compiler, runtime, tests),
# with the cuda backend when the CUDA compiler is installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/cuda-option.sh"
cmake -G Ninja -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DDSP_PYTHON="$root/.venv/bin/python" "${cuda_option[@]}"
ninja -C "$root/build" -j"${DSP_BUILD_JOBS:-2}"
