#!/usr/bin/env bash
# The main job: sets up and builds, then compiles the example ST-DiT model
# for 4 ranks with dynamic sequence parallelism, prints its plan (the factor
# each stage is sharded on, the bytes each collective moves), runs it on 4
# local ranks, and checks the result against the reference output and
# against a 1-rank run. Usage: run-example.sh [EXAMPLE] [RANKS] [STRATEGY]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin="$root/build/bin"
example="$root/examples/${1:-stdit_tiny}"
ranks=${2:-4}
strategy=${3:-auto}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inputs: EXAMPLE.input.npy (a model with one input) or one
# EXAMPLE.input.NAME.npy per input, bound by name. The inputs EXAMPLE.freeze
# names (one per line; a text mask whose NonZero sets a shape) are compiled
# in with --freeze-input instead.
frozen=()
if [ -f "$example.freeze" ]; then
  while read -r name; do
    [ -n "$name" ] && frozen+=(--freeze-input="$name=@$example.input.$name.npy")
  done <"$example.freeze"
fi
inputs=()
if [ -f "$example.input.npy" ]; then
  inputs+=(--input=@"$example.input.npy")
fi
for file in "$example".input.*.npy; do
  [ -f "$file" ] || continue
  name=${file#"$example.input."}
  name=${name%.npy}
  if [ -f "$example.freeze" ] && grep -qx "$name" "$example.freeze"; then
    continue
  fi
  inputs+=(--input="$name=@$file")
done

echo "== compile $example.onnx for $ranks ranks, strategy $strategy"
"$bin/dsp-opt" "$example.onnx" "${frozen[@]}" \
  --dsp-pipeline="ranks=$ranks strategy=$strategy" --dsp-summary \
  --emit=program -o "$work/model.dspx"

echo "== run on $ranks local ranks, check against the reference output"
"$bin/dsp-run" "$work/model.dspx" "${inputs[@]}" \
  --expected-output=@"$example.output.npy" --atol=1e-4 --rtol=1e-4 \
  --output=@"$work/ranks.npy" --stats-json="$work/stats.json" \
  --print-statistics

echo "== run on 1 rank, check the $ranks-rank result against it"
"$bin/dsp-opt" "$example.onnx" "${frozen[@]}" --dsp-pipeline="ranks=1" \
  --emit=program -o "$work/single.dspx"
"$bin/dsp-run" "$work/single.dspx" "${inputs[@]}" \
  --expected-output=@"$work/ranks.npy" --atol=1e-4

echo "== bytes each rank sent, as measured"
python3 - "$work/stats.json" <<'PYTHON'
import json, sys
stats = json.load(open(sys.argv[1]))
for c in stats["collectives"]:
    print(f"  {c['kind']:14} {c['location']:44} {c['bytes_per_rank']:>10}")
print(f"  total bytes per rank: {stats['totals']['bytes_per_rank']}; "
      f"peak memory per rank: {stats['peak_memory_bytes']}")
PYTHON
