#!/usr/bin/env bash
# The test suite under sanitizers (run by scripts/test.sh after the plain
# builds; scripts/setup.sh must have run):
#  - build-sanitize/: the full build with clang-22 under AddressSanitizer
#    and UndefinedBehaviorSanitizer, every test of ctest (lit suite, gtest
#    units, ONNX conformance, the fuzz corpora replayed), then every fuzz
#    target fuzzed for DSP_FUZZ_SECONDS (default 60) from its corpus, with
#    libFuzzer's seed DSP_FUZZ_SEED (default 1), so that a finding replays
#    (scripts/fuzz.sh alone explores with random seeds);
#  - build-tsan/: the runtime-only build under ThreadSanitizer (the thread
#    pool and local ranks are threads), every test of its ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs="${DSP_BUILD_JOBS:-2}"
clang=(-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22)

# Debian's MLIR is not instrumented: LLVM headers compiled into the project
# poison memory (BumpPtrAllocator) that the libraries then use legitimately.
# Open MPI keeps allocations until exit (test/sanitizers/lsan.supp), made in
# components it has unloaded by then: only the slow unwinder reaches the
# frames of Open MPI that the suppressions name, and it slows every
# allocation several times, so the processes mpirun starts use it and no
# others do (mca_base_env_list sets their environment).
export ASAN_OPTIONS="allow_user_poisoning=0:detect_leaks=1"
export OMPI_MCA_mca_base_env_list="ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$root/test/sanitizers/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1"

cmake -G Ninja -S "$root" -B "$root/build-sanitize" "${clang[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DDSP_PYTHON="$root/.venv/bin/python" -DDSP_BUILD_FUZZERS=ON
ninja -C "$root/build-sanitize" -j"$jobs"
ctest --test-dir "$root/build-sanitize" --output-on-failure -j"$jobs"
DSP_FUZZ_BUILD="$root/build-sanitize" \
  "$root/scripts/fuzz.sh" -t "${DSP_FUZZ_SECONDS:-60}" -- \
  -seed="${DSP_FUZZ_SEED:-1}"

tsan=(-fsanitize=thread -fno-omit-frame-pointer)
cmake -G Ninja -S "$root" -B "$root/build-tsan" "${clang[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDSP_RUNTIME_ONLY=ON \
  -DCMAKE_C_FLAGS="${tsan[*]}" -DCMAKE_CXX_FLAGS="${tsan[*]}" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread
ninja -C "$root/build-tsan" -j"$jobs"
ctest --test-dir "$root/build-tsan" --output-on-failure -j"$jobs"
