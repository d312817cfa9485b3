#!/usr/bin/env bash
# Compiles each shared model for 2, 3, 4 and 8 ranks under each strategy and
# compares the plan summary with the checked-in one in golden/, so that any
# change in a plan shows up in review. With --update, rewrites golden/.
# Usage: check-golden-plans.sh DSP_OPT MODELS_DIR GOLDEN_DIR WORK_DIR [--update]
set -u
dsp_opt=$(realpath "$1") golden=$(realpath "$3") update=${5:-}
mkdir -p "$4"
work=$(realpath "$4")
# Plans name the model file in locations: compile from its directory so the
# summaries do not depend on where the checkout is.
cd "$2" || exit 1
status=0
for model in tsf_s16_t8_legacy tsf_s16_t8_dynamo vivit_t8_legacy; do
  for ranks in 2 3 4 8; do
    for strategy in auto dsp ulysses megatron-sp; do
      name="$model.r$ranks.$strategy.txt"
      if ! "$dsp_opt" "$model.onnx" \
          --dsp-pipeline="ranks=$ranks strategy=$strategy" --dsp-summary \
          -o /dev/null 2>"$work/$name"; then
        echo "error: $name: compilation failed:"; cat "$work/$name"
        status=1
        continue
      fi
      if [ "$update" = --update ]; then
        cp "$work/$name" "$golden/$name"
      elif ! diff -u "$golden/$name" "$work/$name"; then
        echo "error: the plan $name changed (see the diff above); if the" \
             "change is intended, run scripts/update-golden-plans.sh"
        status=1
      fi
    done
  done
done
exit $status
