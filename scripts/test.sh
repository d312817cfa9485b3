#!/usr/bin/env bash
# Sets up, builds and runs every test: the full build (lit suite, gtest
# units, end-to-end models, ONNX conformance, fuzz corpora replayed), the
# runtime-only build, which must not need LLVM or MLIR (both with the cuda
# backend when nvcc is installed; its GPU tests skip without a GPU), and
# then the same under sanitizers with a bounded fuzzing run
# (scripts/test-sanitizers.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure -j"${DSP_TEST_JOBS:-2}"

source "$root/scripts/cuda-option.sh"
cmake -G Ninja -S "$root" -B "$root/build-runtime" -DCMAKE_BUILD_TYPE=Release \
  -DDSP_RUNTIME_ONLY=ON "${cuda_option[@]}"
ninja -C "$root/build-runtime" -j"${DSP_BUILD_JOBS:-2}"
ctest --test-dir "$root/build-runtime" --output-on-failure -j"${DSP_TEST_JOBS:-2}"

"$root/scripts/test-sanitizers.sh"
