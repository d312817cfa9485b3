#!/usr/bin/env bash
# Rewrites test/Plans/golden from the current compiler (needs a build/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$root/test/Plans/golden"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/test/Plans/check-golden-plans.sh" "$root/build/bin/dsp-opt" \
  "$root/../shared/models" "$root/test/Plans/golden" "$work" --update
