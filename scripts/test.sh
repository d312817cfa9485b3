#!/usr/bin/env bash
# Sets up, builds and runs every test: the full build (lit suite, gtest
# units, end-to-end models, ONNX conformance, fuzz corpora replayed, the
# Python package's tests, then again on the package as pip installs it),
# the runtime-only build, which must not need LLVM or MLIR (both with the cuda
# backend when nvcc is installed; its GPU tests skip without a GPU), and
# then the same under sanitizers with a bounded fuzzing run
# (scripts/test-sanitizers.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure -j"${DSP_TEST_JOBS:-2}"

# `pip install .` from the tree BUILD, which is configured and built:
# scikit-build-core reuses it, so nothing is rebuilt. The package goes to a
# scratch folder, where its tests run.
pip_install_and_test() {
  local site
  site=$(mktemp -d)
  "$root/.venv/bin/pip" install -q --disable-pip-version-check \
    --no-build-isolation --no-deps --target "$site" \
    --config-settings=build-dir="$1" "$root"
  (cd "$root/python/tests" &&
    PYTHONPATH="$site" "$root/.venv/bin/python" -m pytest -q -rs \
      -p no:cacheprovider .)
  rm -rf "$site"
}
pip_install_and_test "$root/build"

# The runtime-only build, its Python package included, which runs programs
# compiled by the full build.
programs=$(mktemp -d)
trap 'rm -rf "$programs"' EXIT
for ranks in 1 4; do
  "$root/build/bin/dsp-opt" "$root/examples/stdit_tiny.onnx" \
    --dsp-pipeline="ranks=$ranks" --emit=program \
    -o "$programs/stdit_tiny.r$ranks.dspx"
done
export DSP_TEST_PROGRAMS=$programs
source "$root/scripts/cuda-option.sh"
cmake -G Ninja -S "$root" -B "$root/build-runtime" -DCMAKE_BUILD_TYPE=Release \
  -DDSP_RUNTIME_ONLY=ON -DDSP_PYTHON="$root/.venv/bin/python" \
  "${cuda_option[@]}"
ninja -C "$root/build-runtime" -j"${DSP_BUILD_JOBS:-2}"
ctest --test-dir "$root/build-runtime" --output-on-failure -j"${DSP_TEST_JOBS:-2}"
pip_install_and_test "$root/build-runtime"
unset DSP_TEST_PROGRAMS

"$root/scripts/test-sanitizers.sh"
