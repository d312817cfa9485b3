#!/usr/bin/env bash
# The main job: sets up and builds, prints the example model's sharding plan
# for 4 ranks, then compiles it with dsp-opt for one rank, runs it with
# dsp-run and checks it against the reference output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin="$root/build/bin"
example="$root/examples/${1:-stdit_tiny}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== the plan for 4 ranks (dynamic sequence parallelism, auto strategy)"
"$bin/dsp-opt" "$example.onnx" --dsp-pipeline="ranks=4 strategy=auto" \
  --dsp-summary -o /dev/null

echo "== import and compile $example.onnx for one rank"
"$bin/dsp-opt" "$example.onnx" --dsp-pipeline="ranks=1" --emit=program \
  -o "$work/model.dspx"
# Inputs: EXAMPLE.input.npy (a model with one input) or one
# EXAMPLE.input.NAME.npy per input, bound by name.
inputs=()
if [ -f "$example.input.npy" ]; then
  inputs+=(--input=@"$example.input.npy")
fi
for file in "$example".input.*.npy; do
  [ -f "$file" ] || continue
  name=${file#"$example.input."}
  inputs+=(--input="${name%.npy}=@$file")
done
echo "== run and check against the reference output"
"$bin/dsp-run" "$work/model.dspx" "${inputs[@]}" \
  --expected-output=@"$example.output.npy" --atol=1e-4 --repeat=3 \
  --print-statistics
