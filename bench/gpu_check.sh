#!/usr/bin/env bash
# The GPU check, for a machine with CUDA, NCCL, cuDNN and PyTorch but no
# LLVM, in about 5 minutes:
#   1. probe   what the runtime build needs (protoc, libprotobuf, BLAS,
#              mpirun, nccl.h, cudnn.h, nvcc, the cudnn-frontend headers
#              in PROGRAMS/cudnn-frontend) and print what is missing;
#   2. build   the runtime-only configuration with the cuda backend, its
#              cuDNN attention built against PROGRAMS/cudnn-frontend;
#   3. units   the gtest units, whose GPU tests run here;
#   4. models  every program of PROGRAMS (made by bench/gpu_programs.sh:
#              targets cpu and cuda, f32 and bf16, 1 and 4 ranks) on
#              --backend=cuda with local ranks, checked against its
#              reference output;
#   5. nccl    multi-process runs under mpirun: every 1-rank program of
#              PROGRAMS with --comm=nccl (NCCL refuses two ranks on one
#              GPU), and every 4-rank cpu-target program as 4 processes on
#              the GPU(s) with --comm=mpi (device buffers staged through
#              host memory); outputs against the references, measured
#              bytes against the plan (NAME.r4.plan.json); then 2 local
#              ranks on streams of one GPU running the ST-DiT of
#              PROGRAMS/overlap with its switches in order and in 2
#              pieces on communication streams, the median time per run
#              of each to $OUT/overlap.md;
#   6. block   the ST-DiT block of PROGRAMS/block (Open-Sora size: B1 T16
#              S1024 C1152) timed in dsp-run, f32 and bf16, against the
#              same block in PyTorch eager and torch.compile on the same
#              weights (bench/stdit_torch.py), outputs compared, and which
#              implementation ran the attention (cuDNN or the own kernel);
#              the results go to $OUT/block.json and $OUT/block.md as they
#              are measured.
# Each stage writes its log under $OUT (default ./gpu-check) as soon as it
# ends, and a line to $OUT/summary.txt.
# Settings: DSP_GPU_STAGES (the stages to run, default all), DSP_GPU_BUILD
# (the runtime build, default $OUT/build), DSP_PYTHON (with torch and numpy,
# default python3), DSP_BLOCK_DEVICE (cuda, or cpu to try the block stage
# without a GPU on the cpu programs), DSP_BLOCK_REPEAT (timed runs, default
# 20), DSP_BLOCK_MODES (the PyTorch modes, default "eager compile"),
# DSP_BLOCK_THREADS (CPU threads of both runtimes on the cpu device).
# Usage: bench/gpu_check.sh [PROGRAMS]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
programs=${1:-}
out=${OUT:-$PWD/gpu-check}
build=${DSP_GPU_BUILD:-$out/build}
jobs=${DSP_BUILD_JOBS:-$(nproc)}
stages=${DSP_GPU_STAGES:-probe build units models nccl block}
python=${DSP_PYTHON:-python3}
block_device=${DSP_BLOCK_DEVICE:-cuda}
block_repeat=${DSP_BLOCK_REPEAT:-20}
block_modes=${DSP_BLOCK_MODES:-eager compile}
block_threads=${DSP_BLOCK_THREADS:-}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"

# Runs stage NAME (a shell function) with its output in $out/NAME.log,
# stopped after SECONDS; records the result in the summary. A stage not in
# $stages passes without running.
stage() {
  local name=$1 seconds=$2 start=$SECONDS status
  [[ " $stages " == *" $name "* ]] || return 0
  timeout "$seconds" bash -c "$(declare -f "$name" program_arguments); $(declare -p root programs out build jobs python block_device block_repeat block_modes block_threads); $name" \
    >"$out/$name.log" 2>&1
  status=$?
  local result=passed
  [ "$status" -eq 0 ] || result="FAILED (exit $status)"
  [ "$status" -eq 124 ] && result="TIMED OUT after ${seconds}s"
  echo "$name: $result in $((SECONDS - start))s (log: $out/$name.log)" |
    tee -a "$summary"
  return "$status"
}

probe() {
  local missing=0
  # Whether any of the paths exists.
  any() {
    for path in "$@"; do [ -e "$path" ] && return 0; done
    return 1
  }
  check() {
    if eval "$2" >/dev/null 2>&1; then echo "found   $1"
    else echo "MISSING $1"; missing=1; fi
  }
  check protoc "command -v protoc"
  check libprotobuf "pkg-config --exists protobuf || any /usr/lib/*/libprotobuf.so"
  check "GEMM (oneDNN or OpenBLAS)" "any /usr/lib/*/libdnnl.so /usr/lib/*/libopenblas.so /usr/lib/*/openblas*/libopenblas.so"
  check mpirun "command -v mpirun"
  check nvcc "test -x /usr/local/cuda/bin/nvcc"
  check nccl.h "any /usr/include/nccl.h /usr/local/cuda/include/nccl.h"
  check cudnn.h "any /usr/include/cudnn.h /usr/include/*/cudnn.h /usr/local/cuda/include/cudnn.h"
  check "cudnn-frontend headers" "test -f '$programs/cudnn-frontend/include/cudnn_frontend.h'"
  check gtest "any /usr/include/gtest/gtest.h"
  check GPU "nvidia-smi -L"
  command -v nvidia-smi >/dev/null && nvidia-smi | head -15
  return "$missing"
}

build() {
  # Without GoogleTest, only the runtime and dsp-run.
  local tests=ON frontend=()
  [ -e /usr/include/gtest/gtest.h ] || tests=OFF
  # The headers that travel with the programs; CMake says whether it
  # builds cuDNN attention.
  [ -f "$programs/cudnn-frontend/include/cudnn_frontend.h" ] &&
    frontend=("-DDSP_CUDNN_FRONTEND_INCLUDE=$(cd "$programs" && pwd)/cudnn-frontend/include")
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DDSP_RUNTIME_ONLY=ON -DDSP_ENABLE_CUDA=ON -DDSP_BUILD_TESTS=$tests \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
    "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual" "${frontend[@]}" &&
    ninja -C "$build" -j"$jobs"
}

units() {
  # Every unit test; the GPU tests skip only where no GPU is found.
  ctest --test-dir "$build" -j"$jobs" --output-on-failure 2>&1 |
    tee "$out/units.ctest.log"
  local status=${PIPESTATUS[0]}
  echo "skipped tests (GPU tests skip only without a GPU):"
  grep "(Skipped)" "$out/units.ctest.log" || echo "  none"
  return "$status"
}

# The dsp-run arguments of program NAME in $programs: inputs and reference.
program_arguments() {
  local name=$1 file input
  for file in "$programs/$name".input.*.npy; do
    [ -f "$file" ] || continue
    input=${file#"$programs/$name.input."}
    echo "--input=${input%.npy}=@$file"
  done
  [ -f "$programs/$name.input.npy" ] && echo "--input=@$programs/$name.input.npy"
  echo "--expected-output=@$programs/$name.output.npy"
}

models() {
  local failed=0 count=0
  [ -n "$programs" ] || { echo "no program folder given"; return 0; }
  for program in "$programs"/*.r*.dspx; do
    local name=${program##*/}
    name=${name%.r*.dspx}
    local arguments
    mapfile -t arguments < <(program_arguments "$name")
    # bf16 keeps 8 bits of mantissa: within 2e-2 of the f32 reference.
    local tolerance=(--atol=1e-3 --rtol=1e-3)
    case "$program" in *bf16*) tolerance=(--atol=5e-2 --rtol=2e-2) ;; esac
    count=$((count + 1))
    echo "== $program"
    if ! "$build/bin/dsp-run" "$program" "${arguments[@]}" --backend=cuda \
      --comm=local --repeat=3 "${tolerance[@]}" --print-statistics; then
      failed=$((failed + 1))
      echo "FAILED: $program"
    fi
  done
  echo "$((count - failed)) of $count programs match their reference"
  [ "$failed" -eq 0 ]
}

nccl() {
  local failed=0 count=0 program name arguments
  [ -n "$programs" ] || { echo "no program folder given"; return 0; }
  # mpirun as root, over shared memory only: one node.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_btl=self,vader
  # Stops a stage that ran past its budget, saying so.
  in_time() {
    [ "$SECONDS" -lt 50 ] && return 0
    echo "out of time: skipped $1 and the programs after it"
    failed=$((failed + 1))
    return 1
  }
  # NCCL refuses two ranks on one GPU; mpi ranks share it.
  local ranks comm
  for run in "1 nccl" "4 mpi"; do
    read -r ranks comm <<<"$run"
    for program in "$programs"/*.r"$ranks".dspx; do
      name=${program##*/}
      name=${name%.r"$ranks".dspx}
      in_time "$program" || break 2
      mapfile -t arguments < <(program_arguments "$name")
      count=$((count + 1))
      echo "== $comm, $ranks processes: $program"
      local stats=$out/nccl.$name.r$ranks.stats.json
      local plan=$programs/$name.r$ranks.plan.json
      if ! mpirun -np "$ranks" --oversubscribe "$build/bin/dsp-run" \
        "$program" "${arguments[@]}" --backend=cuda --comm="$comm" \
        --atol=1e-3 --rtol=1e-3 --stats-json="$stats"; then
        failed=$((failed + 1))
        echo "FAILED: $program"
        continue
      fi
      [ -f "$plan" ] || { echo "no plan $plan: bytes not compared"; continue; }
      "$python" - "$stats" "$plan" <<'PYTHON' || { failed=$((failed + 1)); echo "FAILED: $program (bytes)"; }
import json, sys
measured = json.load(open(sys.argv[1]))["totals"]["bytes_per_rank"]
planned = json.load(open(sys.argv[2]))["totals"]["bytes_per_rank"]
print(f"bytes per rank: measured {measured}, planned {planned}")
sys.exit(measured != planned)
PYTHON
    done
  done
  # Local ranks on streams of one GPU: device copies, which take no SMs
  # from the GEMMs as NCCL's kernels over NVLink do.
  local chunks overlap=$programs/overlap
  for chunks in 1 2; do
    program=$overlap/stdit_b2.chunks$chunks.dspx
    [ -f "$program" ] || { echo "no $program (bench/gpu_programs.sh)"; break; }
    in_time "$program" || break
    count=$((count + 1))
    echo "== local, 2 ranks on one GPU, overlap-chunks=$chunks"
    if ! "$build/bin/dsp-run" "$program" --backend=cuda --comm=local \
      --input=x=@"$overlap/stdit_b2.input.x.npy" \
      --input=y=@"$overlap/stdit_b2.input.y.npy" \
      --expected-output=@"$overlap/stdit_b2.output.npy" --atol=1e-3 \
      --rtol=1e-3 --repeat=20 --stats-json="$out/overlap.chunks$chunks.json"; then
      failed=$((failed + 1))
      echo "FAILED: $program"
      continue
    fi
    "$python" - "$out/overlap.chunks$chunks.json" "$chunks" <<'PYTHON' | tee -a "$out/overlap.md"
import json, statistics, sys
stats = json.load(open(sys.argv[1]))
runs = stats["run_ms"][3:] or stats["run_ms"]
print(f"| overlap-chunks={sys.argv[2]} | {statistics.median(runs):.3f} ms "
      f"| {stats['totals']['bytes_per_rank']} bytes per rank |")
PYTHON
  done
  echo "$((count - failed)) of $count multi-process runs passed"
  [ "$failed" -eq 0 ]
}

block() {
  local dir=$programs/block work=$out/block failed=0
  if [ -z "$programs" ] || [ ! -f "$dir/stdit_block.options" ]; then
    echo "no block programs in '$dir' (bench/gpu_programs.sh makes them)"
    return 0
  fi
  rm -rf "$work" && mkdir -p "$work"
  local device_name=cpu threads=()
  [ "$block_device" = cuda ] &&
    device_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  [ -n "$block_threads" ] && threads=(--threads="$block_threads")
  report() {
    "$python" "$root/bench/block_report.py" "$work" --report-dir="$out" \
      --device-name="$device_name" --dsp-warmup=3 "$@"
  }
  # The weights and inputs come from their seed: the programs check the
  # weight file against the checksum recorded when they were compiled.
  # shellcheck disable=SC2046 # the options are words
  "$python" "$root/scripts/gen_stdit.py" $(cat "$dir/stdit_block.options") \
    --data-only -o "$dir/stdit_block.onnx" || return 1
  for dtype in f32 bf16; do
    local target=$block_device
    [ "$dtype" = bf16 ] && target+=-bf16
    echo "== dsp-run $dtype"
    "$build/bin/dsp-run" "$dir/stdit_block.$target.dspx" \
      --backend="$block_device" "${threads[@]}" \
      --input=x=@"$dir/stdit_block.input.x.npy" \
      --input=y=@"$dir/stdit_block.input.y.npy" \
      --repeat=$((3 + block_repeat)) --stats-json="$work/dsp.$dtype.json" \
      --output=@"$work/dsp.$dtype.npy" --print-statistics || failed=1
    report
  done
  # Eager first, with the time per op kind: torch.compile takes longest
  # and may not finish in time.
  for mode in $block_modes; do
    local breakdown=()
    [ "$mode" = eager ] && breakdown=(--breakdown)
    echo "== PyTorch $mode"
    "$python" "$root/bench/stdit_torch.py" "$dir/stdit_block.weights.json" \
      --out-dir="$work" --device="$block_device" "${threads[@]}" \
      --repeat="$block_repeat" --modes="$mode" "${breakdown[@]}" || failed=1
    report
  done
  cat "$out/block.md"
  report --check && [ "$failed" -eq 0 ]
}

# The limits add up to 5 minutes; block.md keeps the rows measured before
# a limit stops the block stage (its torch.compile rows come last).
stage probe 10
stage build 110 || { echo "the build failed: see $out/build.log" | tee -a "$summary"; exit 1; }
stage units 40
stage models 50
stage nccl 40
stage block 50
echo "summary: $summary"
