#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer, ASan and UBSan into build-fuzz/
# (clang-22) and fuzzes each for a while, one target at a time.
#
#   scripts/fuzz.sh [-t SECONDS] [-k] [-w WORKDIR] [TARGET...] [-- LIBFUZZER_FLAGS...]
#
#   -t SECONDS  how long to fuzz each target (default 60)
#   -k          keep going past findings (libFuzzer's -fork=1 with
#               -ignore_crashes, -ignore_timeouts and -ignore_ooms): every
#               finding of the run is saved, not only the first
#   -w WORKDIR  where the scratch corpora, findings and logs go (default: a
#               new folder under build-fuzz/fuzz-runs/)
#   TARGET      onnx-import, onnx-import-text, program-load, npy-read,
#               compile (default: all)
#
# Each target fuzzes a scratch copy of its committed corpus
# (test/fuzz/corpus/<target>/), which is never written. Findings land in
# WORKDIR/<target>/findings/; the script ends non-zero and names them if a
# target found anything. docs/fuzzing.md says what to do with a finding.
#
# Environment: DSP_BUILD_JOBS (default 2), DSP_FUZZ_RSS_MB (default 4096),
# DSP_FUZZ_TIMEOUT (seconds per input, default 25); DSP_FUZZ_ALLOW_UNVERIFIED
# and DSP_FUZZ_VERBOSE reach the targets (docs/fuzzing.md).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# DSP_FUZZ_BUILD: a build folder configured with DSP_BUILD_FUZZERS (the
# sanitizer build of scripts/test-sanitizers.sh); default build-fuzz/.
build="${DSP_FUZZ_BUILD:-$root/build-fuzz}"
all_targets=(onnx-import onnx-import-text program-load npy-read compile)

seconds=60
keep_going=0
work=""
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
  -t) seconds="$2"; shift 2 ;;
  -k) keep_going=1; shift ;;
  -w) work="$2"; shift 2 ;;
  --) shift; extra=("$@"); break ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  case " ${all_targets[*]} " in
  *" $target "*) ;;
  *) echo "fuzz.sh: no target '$target' (${all_targets[*]})" >&2; exit 2 ;;
  esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DDSP_BUILD_FUZZERS=ON -DDSP_BUILD_TESTS=OFF >/dev/null
elif ! grep -q '^DSP_BUILD_FUZZERS:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "fuzz.sh: $build is not configured with DSP_BUILD_FUZZERS=ON" >&2
  exit 2
fi
ninja -C "$build" -j"${DSP_BUILD_JOBS:-2}" fuzz-targets

[ -n "$work" ] || work="$build/fuzz-runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# The targets write each input to a file under TMPDIR.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
# Debian's LLVM headers poison memory (BumpPtrAllocator) in code compiled
# into the project; the uninstrumented libraries then touch it legitimately.
# dedup_token_length lets -fork=1 (-k) tell findings apart by their stacks.
export ASAN_OPTIONS="allow_user_poisoning=0:detect_leaks=1:dedup_token_length=3:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

summary=()
failed=0
for target in "${targets[@]}"; do
  dir="$work/$target"
  mkdir -p "$dir/corpus" "$dir/findings"
  cp -n "$root/test/fuzz/corpus/$target"/* "$dir/corpus/" 2>/dev/null || true
  # Room for the largest seed to grow a little; small inputs stay fast.
  largest=$(find "$root/test/fuzz/corpus/$target" -type f -printf '%s\n' |
    sort -n | tail -1)
  max_len=$(( ${largest:-0} + ${largest:-0} / 8 ))
  [ "$max_len" -ge 4096 ] || max_len=4096
  flags=(-max_total_time="$seconds" -max_len="$max_len"
    -rss_limit_mb="${DSP_FUZZ_RSS_MB:-4096}"
    -timeout="${DSP_FUZZ_TIMEOUT:-25}" -print_final_stats=1
    -artifact_prefix="$dir/findings/")
  [ ! -f "$root/test/fuzz/$target.dict" ] ||
    flags+=(-dict="$root/test/fuzz/$target.dict")
  [ "$keep_going" = 0 ] ||
    flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  echo "== $target: ${seconds}s, max_len $max_len, log $dir/fuzz.log"
  status=0
  "$build/bin/$target-fuzzer" "${flags[@]}" "${extra[@]}" "$dir/corpus" \
    >"$dir/fuzz.log" 2>&1 || status=$?
  execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$dir/fuzz.log" |
    tail -1 | grep -o '[0-9]*$' || true)
  if [ -z "$execs" ]; then
    # Fork mode prints no final stats: take the last status line.
    execs=$(grep -o 'exec/s: [0-9]*' "$dir/fuzz.log" | tail -1 |
      grep -o '[0-9]*$' || true)
  fi
  findings=$(find "$dir/findings" -type f | sort)
  line="$target: ${execs:-?} exec/s"
  if [ "$status" -ne 0 ] || [ -n "$findings" ]; then
    failed=1
    line="$line, FOUND (exit $status):"
    for finding in $findings; do
      line="$line
    $finding"
    done
    # A log may be all that is left of a run (CI): small findings travel
    # in it, to be decoded with base64 -d | gunzip.
    for finding in $findings; do
      [ "$(stat -c %s "$finding")" -le 65536 ] || continue
      echo "  ${finding##*/} (gzip, base64):"
      gzip -9c "$finding" | base64 -w 100 | sed 's/^/    /'
    done
    # The first report with its stack, so that a log alone tells where.
    awk '/^(==[0-9]+==ERROR|.*runtime error)/ && !seen { seen = 1; print; next }
         seen && /^ *#[0-9]+ / && frames < 25 { frames++; print }
         seen && /^SUMMARY/ { print; exit }' "$dir/fuzz.log" |
      sed 's/^/  /' || true
  fi
  echo "$line"
  summary+=("$line")
done

echo "== summary (work folder $work)"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: findings above; replay one with" \
    "$build/bin/<target>-fuzzer FILE" >&2
  exit 1
fi
