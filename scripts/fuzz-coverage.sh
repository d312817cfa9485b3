#!/usr/bin/env bash
# Measures the source coverage the fuzz corpora reach: builds the replay
# executables with clang's source-based coverage into build-fuzz-cov/, runs
# each over its corpus and reports with llvm-cov-22.
#
#   scripts/fuzz-coverage.sh [-c CORPORA] [-o REPORT_DIR] [TARGET...]
#
#   -c CORPORA     a folder with one corpus folder per target: <target>/ or
#                  <target>/corpus/ (a scripts/fuzz.sh work folder);
#                  default test/fuzz/corpus
#   -o REPORT_DIR  where report.txt and html/ go (default
#                  build-fuzz-cov/report)
#   TARGET         default: all
#
# Prints the llvm-cov summary lines of the files of lib/Import/ and
# lib/Format/Validate.cpp; report.txt has every file of lib/, html/ the
# annotated sources.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-fuzz-cov"
all_targets=(onnx-import onnx-import-text program-load npy-read compile)
llvm_bin=/usr/lib/llvm-22/bin

corpora="$root/test/fuzz/corpus"
report="$build/report"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
  -c) corpora="$2"; shift 2 ;;
  -o) report="$2"; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "fuzz-coverage.sh: unknown option $1" >&2; exit 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

coverage_flags="-fprofile-instr-generate -fcoverage-mapping"
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_FLAGS="$coverage_flags" -DCMAKE_CXX_FLAGS="$coverage_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DDSP_BUILD_FUZZERS=OFF -DDSP_BUILD_TESTS=ON >/dev/null
ninja -C "$build" -j"${DSP_BUILD_JOBS:-2}" fuzz-targets

rm -rf "$report"
mkdir -p "$report/profiles"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
objects=()
for target in "${targets[@]}"; do
  corpus="$corpora/$target"
  [ ! -d "$corpus/corpus" ] || corpus="$corpus/corpus"
  echo "== $target: $corpus"
  # A crashing input ends its replay early: the coverage of the inputs
  # before it is still written, so go on, but say so.
  if ! TMPDIR="$scratch" \
      LLVM_PROFILE_FILE="$report/profiles/$target-%p.profraw" \
      "$build/bin/$target-replay" "$corpus" >"$report/$target.log" 2>&1; then
    echo "fuzz-coverage.sh: the $target replay failed; see" \
      "$report/$target.log" >&2
  fi
  objects+=(-object "$build/bin/$target-replay")
done

"$llvm_bin/llvm-profdata" merge -sparse "$report"/profiles/*.profraw \
  -o "$report/merged.profdata"
# Every target defines its own LLVMFuzzerTestOneInput (and the replay main
# is in each), so llvm-cov warns that their data mismatch across the
# binaries; the code of lib/ is the same in all of them.
cov() {
  "$llvm_bin/llvm-cov" "$@" 2> >(grep -v 'functions have mismatched data' >&2)
}
common=(-instr-profile="$report/merged.profdata" "${objects[@]:1}")
cov report "${common[@]}" "$root/lib" >"$report/report.txt"
cov show -format=html -output-dir="$report/html" "${common[@]}" "$root/lib" \
  >/dev/null
echo "== coverage (regions, functions, lines, branches; see $report/report.txt)"
cov report "${common[@]}" "$root/lib/Import" \
  "$root/lib/Format/Validate.cpp" | sed -n '1,2p;/Import\/\|Validate.cpp/p'
echo "HTML: $report/html/index.html"
