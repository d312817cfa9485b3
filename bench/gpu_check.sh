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
#              targets cpu and cuda, f32 and bf16, 1 and 4 ranks, and
#              CogVideoX's ring and usp plans for ring attention) on
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
#              are measured;
#   7. kernels Nsight Compute's duration of every kernel of the block's
#              first run in f32 and bf16, summed per kind of kernel (own
#              or cuDNN attention, GEMMs, transposing copies, fused
#              kernels, ...) by bench/kernel_times.py into $OUT/kernels.md;
#   8. python_package  pip install . (runtime-only, CUDA) and the pytest
#              suite of python/tests on PROGRAMS' programs: numpy, DLPack,
#              PyTorch and CUDA paths.
# Each stage's log goes to WORK/logs (WORK is $DSP_GPU_WORK, default
# /tmp/dsp-gpu-check, which also holds the build, the unpacked programs and
# the dependencies' prefix) and, as soon as the stage ends, into
# $OUT/logs.tar.gz with a line in $OUT/summary.txt; the block, kernels and
# overlap tables go to $OUT too: $OUT (default ./gpu-check) gets a few files only.
# PROGRAMS is the folder bench/gpu_programs.sh wrote, or a .tar.xz of it.
# DEBS is a folder of the Debian packages of bench/gpu-debs.txt (from
# bench/gpu_deps.sh): each part of the build that this machine lacks
# (protobuf, BLAS, GoogleTest, MPI) is unpacked from them under WORK/prefix,
# never into /. NCCL and cuDNN are taken from CUDA's folders or, failing
# those, from the nvidia-* Python packages of $DSP_PYTHON.
# Settings: DSP_GPU_STAGES (the stages to run, default all), DSP_GPU_BUILD
# (the runtime build, default WORK/build), DSP_PYTHON (with torch and numpy,
# default python3), DSP_BLOCK_DEVICE (cuda, or cpu to try the block stage
# without a GPU on the cpu programs), DSP_BLOCK_REPEAT (timed runs, default
# 20), DSP_BLOCK_MODES (the PyTorch modes, default "eager compile"),
# DSP_BLOCK_THREADS (CPU threads of both runtimes on the cpu device),
# DSP_GPU_JOBS (programs run at once in the models and nccl stages,
# default 8), DSP_GPU_SLOW (a factor on every stage's time limit, for a
# slower machine; default 1).
# Usage: bench/gpu_check.sh [PROGRAMS [DEBS]]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
programs=${1:-}
debs=${2:-}
out=${OUT:-$PWD/gpu-check}
work=${DSP_GPU_WORK:-/tmp/dsp-gpu-check}
build=${DSP_GPU_BUILD:-$work/build}
jobs=${DSP_BUILD_JOBS:-$(nproc)}
parallel=${DSP_GPU_JOBS:-8}
slow=${DSP_GPU_SLOW:-1}
stages=${DSP_GPU_STAGES:-probe build units models nccl block kernels python_package}
python=${DSP_PYTHON:-python3}
block_device=${DSP_BLOCK_DEVICE:-cuda}
block_repeat=${DSP_BLOCK_REPEAT:-20}
block_modes=${DSP_BLOCK_MODES:-eager compile}
block_threads=${DSP_BLOCK_THREADS:-}
mkdir -p "$out" "$work/logs"
out=$(cd "$out" && pwd)
[ -n "$debs" ] && debs=$(cd "$debs" && pwd)
summary="$out/summary.txt"
: >"$summary"
# PyTorch loads its own libraries, not those unpacked for the build.
python_library_path=${LD_LIBRARY_PATH:-}
# What the build needs beyond CMake's own search (set by find_dependencies).
cmake_hints=()
mpirun=mpirun

# Runs stage NAME (a shell function) with its output in WORK/logs/NAME.log,
# stopped after SECONDS; records the result in the summary and refreshes
# $OUT/logs.tar.gz. A stage not in $stages passes without running.
stage() {
  local name=$1 seconds=$(($2 * slow)) start=$SECONDS status
  [[ " $stages " == *" $name "* ]] || return 0
  timeout "$seconds" bash -c "$(declare -f "$name" any program_arguments run_parallel); $(declare -p root programs out work build jobs parallel python block_device block_repeat block_modes block_threads cmake_hints mpirun python_library_path); $name" \
    >"$work/logs/$name.log" 2>&1
  status=$?
  local result=passed
  [ "$status" -eq 0 ] || result="FAILED (exit $status)"
  [ "$status" -eq 124 ] && result="TIMED OUT after ${seconds}s"
  echo "$name: $result in $((SECONDS - start))s" | tee -a "$summary"
  tar -czf "$out/logs.tar.gz" -C "$work" logs
  return "$status"
}

# PROGRAMS as a folder: an archive is unpacked into WORK (with Python's
# tarfile where there is no xz).
unpack_programs() {
  case "$programs" in
  *.tar.xz)
    rm -rf "$work/programs" && mkdir -p "$work/programs"
    tar -xJf "$programs" -C "$work/programs" 2>/dev/null ||
      "$python" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")' \
        "$programs" "$work/programs" || return 1
    programs=$(find "$work/programs" -mindepth 1 -maxdepth 1 -type d | head -1)
    ;;
  ?*) programs=$(cd "$programs" && pwd) ;;
  esac
}

# Whether any of the paths exists.
any() {
  local path
  for path in "$@"; do [ -e "$path" ] && return 0; done
  return 1
}

# The Debian packages of part NAME (bench/gpu-debs.txt) unpacked under
# WORK/prefix.
unpack_part() {
  local package file
  for package in $(awk -v part="$1" '$1 == part {$1 = ""; print}' \
    "$root/bench/gpu-debs.txt"); do
    file=$(ls "$debs/${package}"_*.deb 2>/dev/null | head -1)
    [ -n "$file" ] || { echo "no package $package in '$debs'"; return 1; }
    dpkg-deb -x "$file" "$work/prefix" || return 1
  done
  echo "unpacked $1 from $debs under $work/prefix"
}

# The folder of the first file named NAME under the nvidia-* Python
# packages.
python_nvidia() {
  local site
  site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null) || return 1
  find "$site/nvidia" -name "$1" 2>/dev/null | head -1 | xargs -r dirname
}

# Library NAME (libNAME.so*) of a Python package as a folder of its own
# with the unversioned name that find_library looks for.
python_library() {
  local folder file
  folder=$(python_nvidia "lib$1.so*") || return 1
  [ -n "$folder" ] || return 1
  file=$(ls "$folder/lib$1".so* | head -1)
  mkdir -p "$work/shim/lib"
  ln -sf "$file" "$work/shim/lib/lib$1.so"
  echo "$work/shim/lib/lib$1.so"
}

# Points the build and the runs at what this machine lacks: Debian packages
# from DEBS under WORK/prefix, NCCL and cuDNN from Python packages.
find_dependencies() {
  local arch=x86_64-linux-gnu prefix=$work/prefix/usr folder library
  rm -rf "$work/prefix" "$work/shim"
  mkdir -p "$work/prefix"
  local lib=$prefix/lib/$arch
  if ! command -v protoc >/dev/null ||
    ! any /usr/include/google/protobuf/message.h \
      /usr/local/include/google/protobuf/message.h; then
    unpack_part protobuf &&
      cmake_hints+=("-DProtobuf_PROTOC_EXECUTABLE=$prefix/bin/protoc")
  fi
  if ! any /usr/lib/$arch/libopenblas.so /usr/lib/$arch/libdnnl.so; then
    unpack_part blas && cmake_hints+=(
      "-DDSP_OPENBLAS_LIBRARY=$lib/openblas-pthread/libopenblas.so"
      "-DDSP_CBLAS_INCLUDE_DIR=$prefix/include/$arch/openblas-pthread")
  fi
  any /usr/include/gtest/gtest.h || unpack_part gtest
  if ! command -v mpirun >/dev/null; then
    if unpack_part mpi; then
      # Where Open MPI and PMIx find their plugins and help files.
      export OPAL_PREFIX=$prefix
      export PMIX_MCA_mca_base_component_path=$lib/pmix2/lib/pmix
      mpirun=$prefix/bin/mpirun.openmpi
      cmake_hints+=("-DMPI_C_COMPILER=$prefix/bin/mpicc.openmpi")
    fi
  fi
  # Compilers, linkers, CMake and pkg-config look there too.
  export PATH=$prefix/bin:$PATH CMAKE_PREFIX_PATH=$prefix
  export CPATH=$prefix/include LIBRARY_PATH=$lib PKG_CONFIG_PATH=$lib/pkgconfig
  export LD_LIBRARY_PATH=$lib:$lib/openblas-pthread:$lib/openmpi/lib:${LD_LIBRARY_PATH:-}
  # The loader finds them where the build found them.
  local name header
  for name in nccl cudnn; do
    header=$name.h
    [ "$name" = cudnn ] && header=cudnn_version.h
    any "/usr/include/$header" "/usr/include/$arch/$header" \
      "/usr/local/cuda/include/$header" && continue
    folder=$(python_nvidia "$header")
    [ -n "$folder" ] || { echo "no $header here"; continue; }
    library=$(python_library "$name") || continue
    LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$(dirname "$(readlink "$library")")
    export LD_LIBRARY_PATH
    echo "$name from the Python package in $(dirname "$folder")"
    if [ "$name" = nccl ]; then
      cmake_hints+=("-DDSP_NCCL_INCLUDE_DIR=$folder"
        "-DDSP_NCCL_LIBRARY=$library")
    else
      cmake_hints+=("-DDSP_CUDNN_INCLUDE=$folder"
        "-DDSP_CUDNN_LIBRARY=$library")
    fi
  done
  return 0
}

# Reports what the machine has; what it lacks is looked for later.
probe() {
  local missing=0
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
  grep PRETTY_NAME /etc/os-release
  c++ --version | head -1
  /usr/local/cuda/bin/nvcc --version | tail -2
  command -v nvidia-smi >/dev/null && nvidia-smi | head -15
  lscpu | grep -E "Model name|^CPU\(s\)"
  [ "$missing" -eq 0 ] ||
    echo "what is missing comes from DEBS and the Python packages, if there"
}

build() {
  # Without GoogleTest, only the runtime and dsp-run.
  local tests=ON frontend=()
  any /usr/include/gtest/gtest.h "$work/prefix/usr/include/gtest/gtest.h" ||
    tests=OFF
  # The headers that travel with the programs; CMake says whether it
  # builds cuDNN attention.
  [ -f "$programs/cudnn-frontend/include/cudnn_frontend.h" ] &&
    frontend=("-DDSP_CUDNN_FRONTEND_INCLUDE=$programs/cudnn-frontend/include")
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DDSP_RUNTIME_ONLY=ON -DDSP_ENABLE_CUDA=ON -DDSP_BUILD_TESTS=$tests \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
    "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual" "${frontend[@]}" \
    "${cmake_hints[@]}" &&
    ninja -C "$build" -j"$jobs"
}

units() {
  # Every unit test; the GPU tests skip only where no GPU is found.
  ctest --test-dir "$build" -j"$jobs" --output-on-failure 2>&1 |
    tee "$work/logs/units.ctest.log"
  local status=${PIPESTATUS[0]}
  echo "skipped tests (GPU tests skip only without a GPU):"
  grep "(Skipped)" "$work/logs/units.ctest.log" || echo "  none"
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

# Runs `TASK ITEM` for every ITEM, $parallel at a time, each with its output
# in WORK/logs/FOLDER; prints the outputs in order and which failed, and
# fails if any did.
run_parallel() {
  local task=$1 folder=$work/logs/$2 items i=0 failed=0 status
  shift 2
  items=("$@")
  rm -rf "$folder" && mkdir -p "$folder"
  for ((i = 0; i < ${#items[@]}; i++)); do
    ("$task" "${items[i]}" >"$folder/$i.log" 2>&1
     echo $? >"$folder/$i.status") &
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  done
  wait
  for ((i = 0; i < ${#items[@]}; i++)); do
    echo "== ${items[i]}"
    cat "$folder/$i.log"
    status=$(cat "$folder/$i.status" 2>/dev/null) || status=unknown
    [ "$status" = 0 ] && continue
    failed=$((failed + 1))
    echo "FAILED (exit $status): ${items[i]}"
  done
  echo "$((${#items[@]} - failed)) of ${#items[@]} passed"
  [ "$failed" -eq 0 ]
}

models() {
  [ -n "$programs" ] || { echo "no program folder given"; return 0; }
  # One program on local ranks of the cuda backend against its reference.
  run_model() {
    local program=$1 name arguments
    name=${program##*/}
    name=${name%.r*.dspx}
    mapfile -t arguments < <(program_arguments "$name")
    # bf16 keeps 8 bits of mantissa: within 3.5e-2 of the largest value
    # of the f32 reference. The small models' random weights make sharp
    # attention, which amplifies rounding: docs/cuda.md has the figures.
    local tolerance=(--atol=1e-3 --rtol=1e-3)
    case "$program" in *bf16*)
      tolerance=("--atol=$("$python" -c 'import sys, numpy; print(3.5e-2 * float(abs(numpy.load(sys.argv[1])).max()))' "$programs/$name.output.npy")" --rtol=0) ;;
    esac
    "$build/bin/dsp-run" "$program" "${arguments[@]}" --backend=cuda \
      --comm=local --repeat=3 "${tolerance[@]}" --print-statistics
  }
  run_parallel run_model models "$programs"/*.r*.dspx
}

nccl() {
  [ -n "$programs" ] || { echo "no program folder given"; return 0; }
  # mpirun as root, over shared memory only: one node.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_btl=self,vader
  # One program as RANKS processes on the GPU(s) with --comm=COMM, its
  # output against the reference and its bytes against the plan.
  run_processes() {
    local ranks comm program name arguments
    read -r ranks comm program <<<"$1"
    name=${program##*/}
    name=${name%.r"$ranks".dspx}
    mapfile -t arguments < <(program_arguments "$name")
    local stats=$work/nccl/$name.r$ranks.$comm.stats.json
    local plan=$programs/$name.r$ranks.plan.json
    "$mpirun" -np "$ranks" --oversubscribe "$build/bin/dsp-run" \
      "$program" "${arguments[@]}" --backend=cuda --comm="$comm" \
      --atol=1e-3 --rtol=1e-3 --stats-json="$stats" || return 1
    [ -f "$plan" ] || { echo "no plan $plan: bytes not compared"; return 0; }
    "$python" - "$stats" "$plan" <<'PYTHON'
import json, sys
measured = json.load(open(sys.argv[1]))["totals"]["bytes_per_rank"]
planned = json.load(open(sys.argv[2]))["totals"]["bytes_per_rank"]
print(f"bytes per rank: measured {measured}, planned {planned}")
sys.exit(measured != planned)
PYTHON
  }
  mkdir -p "$work/nccl"
  # NCCL refuses two ranks on one GPU; mpi ranks share it.
  local runs=() program failed=0
  for program in "$programs"/*.r1.dspx; do runs+=("1 nccl $program"); done
  for program in "$programs"/*.r4.dspx; do runs+=("4 mpi $program"); done
  run_parallel run_processes nccl "${runs[@]}" || failed=1
  # Local ranks on streams of one GPU: device copies, which take no SMs
  # from the GEMMs as NCCL's kernels over NVLink do. The weights and
  # inputs come from their seed, as the block's do.
  local chunks overlap=$programs/overlap
  if [ ! -f "$overlap/stdit_b2.options" ]; then
    echo "no $overlap/stdit_b2.options (bench/gpu_programs.sh)"
    return 1
  fi
  # shellcheck disable=SC2046 # the options are words
  "$python" "$root/scripts/gen_stdit.py" $(cat "$overlap/stdit_b2.options") \
    --data-only -o "$overlap/stdit_b2.onnx" || return 1
  for chunks in 1 2; do
    program=$overlap/stdit_b2.chunks$chunks.dspx
    echo "== local, 2 ranks on one GPU, overlap-chunks=$chunks"
    if ! "$build/bin/dsp-run" "$program" --backend=cuda --comm=local \
      --input=x=@"$overlap/stdit_b2.input.x.npy" \
      --input=y=@"$overlap/stdit_b2.input.y.npy" \
      --expected-output=@"$overlap/stdit_b2.output.npy" --atol=1e-3 \
      --rtol=1e-3 --repeat=20 --stats-json="$work/overlap.chunks$chunks.json"; then
      failed=1
      echo "FAILED: $program"
      continue
    fi
    "$python" - "$work/overlap.chunks$chunks.json" "$chunks" <<'PYTHON' | tee -a "$out/overlap.md"
import json, statistics, sys
stats = json.load(open(sys.argv[1]))
runs = stats["run_ms"][3:] or stats["run_ms"]
print(f"| overlap-chunks={sys.argv[2]} | {statistics.median(runs):.3f} ms "
      f"| {stats['totals']['bytes_per_rank']} bytes per rank |")
PYTHON
  done
  [ "$failed" -eq 0 ]
}

# Nsight Compute's duration of every kernel of the block's first run (not
# replayed as a graph), summed per kind of kernel by bench/kernel_times.py
# into $OUT/kernels.md.
kernels() {
  local dir=$programs/block work=$work/kernels ncu
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null) ||
    { echo "no ncu (Nsight Compute) on this machine"; return 0; }
  if [ "$block_device" != cuda ] || [ ! -f "$dir/stdit_block.input.x.npy" ]; then
    echo "no cuda block programs with their data (the block stage writes it)"
    return 0
  fi
  rm -rf "$work" && mkdir -p "$work"
  for dtype in f32 bf16; do
    local target=cuda
    [ "$dtype" = bf16 ] && target+=-bf16
    "$ncu" --clock-control none --metrics gpu__time_duration.sum --csv \
      "$build/bin/dsp-run" "$dir/stdit_block.$target.dspx" --backend=cuda \
      --input=x=@"$dir/stdit_block.input.x.npy" \
      --input=y=@"$dir/stdit_block.input.y.npy" --repeat=1 \
      >"$work/$dtype.csv" || return 1
  done
  "$python" "$root/bench/kernel_times.py" "$work/f32.csv" "$work/bf16.csv" \
    --out "$out/kernels.md"
}

# The Python package as a user without LLVM installs it (pip install .,
# runtime-only, with CUDA), and its pytest suite on the programs of
# PROGRAMS: the numpy, DLPack, PyTorch and CUDA paths.
python_package() {
  local target=$work/python frontend=()
  [ -f "$programs/cudnn-frontend/include/cudnn_frontend.h" ] &&
    frontend=("--config-settings=cmake.define.DSP_CUDNN_FRONTEND_INCLUDE=$(
      cd "$programs/cudnn-frontend/include" && pwd)")
  rm -rf "$target"
  # No package registry here: the build's requirements are the machine's.
  "$python" -m pip install --no-build-isolation --no-deps --no-cache-dir \
    --target "$target" \
    --config-settings=cmake.define.DSP_RUNTIME_ONLY=ON \
    --config-settings=cmake.define.DSP_ENABLE_CUDA=ON \
    --config-settings=cmake.build-type=Release "${frontend[@]}" \
    "${cmake_hints[@]/#-D/--config-settings=cmake.define.}" "$root" ||
    return 1
  # pytest runs from the work folder, so that `import dsp` finds the
  # installed package rather than the checkout's python/dsp.
  (cd "$work" && PYTHONPATH=$target DSP_TEST_PROGRAMS=$programs \
    LD_LIBRARY_PATH=$python_library_path:${LD_LIBRARY_PATH:-} \
    "$python" -m pytest -q -rs -p no:cacheprovider "$root/python/tests")
}

block() {
  local dir=$programs/block work=$work/block failed=0
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
    LD_LIBRARY_PATH=$python_library_path "$python" \
      "$root/bench/stdit_torch.py" "$dir/stdit_block.weights.json" \
      --out-dir="$work" --device="$block_device" "${threads[@]}" \
      --repeat="$block_repeat" --modes="$mode" "${breakdown[@]}" || failed=1
    report
  done
  cat "$out/block.md"
  report --check && [ "$failed" -eq 0 ]
}

unpack_programs || { echo "cannot unpack $programs" | tee -a "$summary"; exit 1; }
stage probe 20
find_dependencies >"$work/logs/dependencies.log" 2>&1
cat "$work/logs/dependencies.log"
stage build 200 || { echo "the build failed: see build.log in $out/logs.tar.gz" | tee -a "$summary"; exit 1; }
stage units 60
stage models 90
stage nccl 60
stage block 150
stage kernels 90
stage python_package 150
echo "summary: $summary"
cat "$summary"
