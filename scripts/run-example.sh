#!/usr/bin/env bash
# The main job: sets up and builds, then compiles the example model with
# dsp-opt, runs it with dsp-run and checks it against the reference output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin="$root/build/bin"
example="$root/examples/${1:-stdit_tiny}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== import and compile $example.onnx"
"$bin/dsp-opt" "$example.onnx" --dsp-pipeline="ranks=1" --emit=program \
  -o "$work/model.dspx"
echo "== run and check against the reference output"
"$bin/dsp-run" "$work/model.dspx" --input=@"$example.input.npy" \
  --expected-output=@"$example.output.npy" --atol=1e-4 --repeat=3 \
  --print-statistics
