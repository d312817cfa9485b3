#!/usr/bin/env bash
# Exports the model zoo with scripts/export_zoo.py after installing torch,
# transformers, diffusers and onnxscript into the project's .venv (several
# GB; not needed to build or test).
#
#   scripts/export-zoo.sh                  the committed small models, into
#                                          examples/ with their references
#   scripts/export-zoo.sh ARGS...          export_zoo.py ARGS (e.g.
#                                          --model latte --size full -o DIR/latte.onnx)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" "$root/scripts/export-requirements.txt"

if [ $# -gt 0 ]; then
  exec "$root/.venv/bin/python" "$root/scripts/export_zoo.py" "$@"
fi
for model in latte cogvideox cogvideox15 hunyuan mochi allegro wan ltx \
    timesformer axial; do
  "$root/.venv/bin/python" "$root/scripts/export_zoo.py" --model "$model" \
    --size small --seed 0 -o "$root/examples/${model}_small.onnx"
done
# Latte with a symbolic latent size, specialized by dsp-opt --input-shape.
"$root/.venv/bin/python" "$root/scripts/export_zoo.py" --model latte \
  --layers 2 --symbolic --size small --seed 0 \
  -o "$root/examples/latte_symbolic.onnx"
