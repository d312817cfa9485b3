#!/usr/bin/env bash
# Regenerates docs/reference from the ODS definitions (needs a build/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ninja -C "$root/build" dsp-doc
mkdir -p "$root/docs/reference"
cp "$root/build/docs/Dialects/DSPOps.md" "$root/build/docs/DSPPasses.md" \
  "$root/docs/reference/"
