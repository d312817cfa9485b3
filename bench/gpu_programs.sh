#!/usr/bin/env bash
# Compiles the example models for bench/gpu_check.sh, on a machine with the
# full build and the CUDA toolkit: for each examples/NAME.onnx at 1 and 4
# ranks (strategy auto), NAME.rN.dspx (target cpu: every op a runtime
# kernel), NAME.rN.cuda.dspx (target cuda: element-wise chains as generated
# kernels) and NAME.rN.cuda-bf16.dspx (the same in bf16), next to copies of
# its inputs (NAME.input.INPUT.npy) and reference output (NAME.output.npy).
# Usage: bench/gpu_programs.sh OUTPUT_FOLDER [DSP_OPT]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: gpu_programs.sh OUTPUT_FOLDER [DSP_OPT]}
dsp_opt=${2:-$root/build/bin/dsp-opt}
mkdir -p "$out"
for model in "$root"/examples/*.onnx; do
  name=$(basename "$model" .onnx)
  for ranks in 1 4; do
    "$dsp_opt" "$model" --dsp-pipeline="ranks=$ranks strategy=auto" \
      --emit=program -o "$out/$name.r$ranks.dspx"
    "$dsp_opt" "$model" --dsp-pipeline="ranks=$ranks strategy=auto target=cuda" \
      --emit=program -o "$out/$name.r$ranks.cuda.dspx"
    "$dsp_opt" "$model" \
      --dsp-pipeline="ranks=$ranks strategy=auto target=cuda dtype=bf16" \
      --emit=program -o "$out/$name.r$ranks.cuda-bf16.dspx"
  done
  cp "$root/examples/$name".input.*.npy "$root/examples/$name.output.npy" \
    "$out/"
done
echo "wrote $(ls "$out"/*.dspx | wc -l) programs to $out"
