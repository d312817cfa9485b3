#!/usr/bin/env bash
# Compiles the example models for bench/gpu_check.sh, on a machine with the
# full build and the CUDA toolkit: for each examples/NAME.onnx at 1 and 4
# ranks (strategy auto), NAME.rN.dspx (target cpu: every op a runtime
# kernel), NAME.rN.cuda.dspx (target cuda: element-wise chains as generated
# kernels) and NAME.rN.cuda-bf16.dspx (the same in bf16), next to copies of
# its inputs (NAME.input.INPUT.npy) and reference output (NAME.output.npy),
# and the plan of the cpu-target program (NAME.rN.plan.json, dsp-opt's
# --dsp-report), whose bytes the measured ones must equal. For
# cogvideox_small, whose joint attention mixes every token, also
# NAME.r4.cuda-STRATEGY.dspx and NAME.r4.cuda-STRATEGY-bf16.dspx for
# strategies ring and usp: the cuda backend's ring attention.
# In OUTPUT_FOLDER/block, the ST-DiT block that gpu_check.sh's block stage
# times (scripts/gen_stdit.py with the options in $DSP_BLOCK_OPTIONS, by
# default the Open-Sora-size block) as stdit_block.TARGET.dspx for targets
# cpu, cpu-bf16, cuda and cuda-bf16 at 1 rank: the programs name the
# model's external weight file (--weights=reference) instead of holding it,
# and the file is left out of the folder, so the folder stays small; the
# block stage regenerates it from stdit_block.options. In
# OUTPUT_FOLDER/cudnn-frontend/include, the cudnn-frontend headers (from
# $DSP_CUDNN_FRONTEND_INCLUDE, by default the site-packages/include of
# $DSP_PYTHON, where pip install nvidia-cudnn-frontend puts them), which the
# GPU machine has no internet to fetch: gpu_check.sh builds cuDNN attention
# against them.
# In OUTPUT_FOLDER/overlap, an ST-DiT of batch 2 (the bench preset, as
# Open-Sora samples with classifier-free guidance) for 2 ranks, target
# cuda, with its switches in order (stdit_b2.chunks1.dspx) and pipelined
# with their GEMMs in 2 pieces (stdit_b2.chunks2.dspx), and its inputs and
# reference output; like the block's, its programs name the weight file,
# which the nccl stage regenerates from stdit_b2.options and then times
# both.
# Usage: bench/gpu_programs.sh OUTPUT_FOLDER [DSP_OPT]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: gpu_programs.sh OUTPUT_FOLDER [DSP_OPT]}
dsp_opt=${2:-$root/build/bin/dsp-opt}
python=${DSP_PYTHON:-$root/.venv/bin/python}
block_options=${DSP_BLOCK_OPTIONS:---preset opensora --layers 1 --seed 0}
# The integer masks that these models sum are compiled in as constants (as
# test/e2e/zoo.test does): they are not inputs of the programs.
declare -A frozen=([hunyuan_small]=encoder_attention_mask
  [mochi_small]=encoder_attention_mask)
# Static shapes for the models exported with symbolic dims, as their inputs.
declare -A shapes=([latte_symbolic]=hidden_states:1x4x8x8x8)
mkdir -p "$out"
for model in "$root"/examples/*.onnx; do
  name=$(basename "$model" .onnx)
  freeze=() mask=${frozen[$name]:-}
  [ -n "$mask" ] &&
    freeze=("--freeze-input=$mask=@$root/examples/$name.input.$mask.npy")
  [ -n "${shapes[$name]:-}" ] && freeze+=("--input-shape=${shapes[$name]}")
  for ranks in 1 4; do
    "$dsp_opt" "$model" "${freeze[@]}" \
      --dsp-pipeline="ranks=$ranks strategy=auto" \
      --dsp-report="$out/$name.r$ranks.plan.json" \
      --emit=program -o "$out/$name.r$ranks.dspx"
    "$dsp_opt" "$model" "${freeze[@]}" \
      --dsp-pipeline="ranks=$ranks strategy=auto target=cuda" \
      --emit=program -o "$out/$name.r$ranks.cuda.dspx"
    "$dsp_opt" "$model" "${freeze[@]}" \
      --dsp-pipeline="ranks=$ranks strategy=auto target=cuda dtype=bf16" \
      --emit=program -o "$out/$name.r$ranks.cuda-bf16.dspx"
  done
  for input in "$root/examples/$name".input.*.npy; do
    [ "$input" = "$root/examples/$name.input.$mask.npy" ] || cp "$input" "$out/"
  done
  cp "$root/examples/$name.output.npy" "$out/"
done
for strategy in ring usp; do
  "$dsp_opt" "$root/examples/cogvideox_small.onnx" \
    --dsp-pipeline="ranks=4 strategy=$strategy target=cuda" \
    --emit=program -o "$out/cogvideox_small.r4.cuda-$strategy.dspx"
  "$dsp_opt" "$root/examples/cogvideox_small.onnx" \
    --dsp-pipeline="ranks=4 strategy=$strategy target=cuda dtype=bf16" \
    --emit=program -o "$out/cogvideox_small.r4.cuda-$strategy-bf16.dspx"
done

block=$out/block
rm -rf "$block" && mkdir -p "$block"
echo "$block_options" >"$block/stdit_block.options"
# shellcheck disable=SC2086 # the options are words
"$python" "$root/scripts/gen_stdit.py" $block_options --external-data \
  -o "$block/stdit_block.onnx"
for target in cpu cpu-bf16 cuda cuda-bf16; do
  pipeline="ranks=1 strategy=auto target=${target%-bf16}"
  [ "$target" = "${target%-bf16}" ] || pipeline+=" dtype=bf16"
  "$dsp_opt" "$block/stdit_block.onnx" --dsp-pipeline="$pipeline" \
    --weights=reference --emit=program -o "$block/stdit_block.$target.dspx"
done
rm "$block/stdit_block.onnx" "$block/stdit_block.onnx.data"
overlap=$out/overlap
rm -rf "$overlap" && mkdir -p "$overlap"
overlap_options="--preset bench --batch 2 --seed 0"
echo "$overlap_options" >"$overlap/stdit_b2.options"
# shellcheck disable=SC2086 # the options are words
"$python" "$root/scripts/gen_stdit.py" $overlap_options --reference \
  --external-data -o "$overlap/stdit_b2.onnx"
for chunks in 1 2; do
  "$dsp_opt" "$overlap/stdit_b2.onnx" --weights=reference \
    --dsp-pipeline="ranks=2 strategy=auto target=cuda overlap-chunks=$chunks" \
    --emit=program -o "$overlap/stdit_b2.chunks$chunks.dspx"
done
rm "$overlap/stdit_b2.onnx" "$overlap/stdit_b2.onnx.data"
frontend=${DSP_CUDNN_FRONTEND_INCLUDE:-$("$python" -c \
  'import sysconfig; print(sysconfig.get_paths()["purelib"])')/include}
rm -rf "$out/cudnn-frontend"
if [ -f "$frontend/cudnn_frontend.h" ]; then
  mkdir -p "$out/cudnn-frontend/include"
  cp -r "$frontend"/cudnn_* "$out/cudnn-frontend/include/"
else
  echo "no cudnn-frontend headers in $frontend (pip install" \
    "nvidia-cudnn-frontend): the GPU check builds attention without cuDNN" >&2
fi
echo "wrote $(ls "$out"/*.dspx | wc -l) programs to $out and" \
  "$(ls "$block"/*.dspx | wc -l) to $block"
