#!/usr/bin/env bash
# Downloads into OUTPUT_FOLDER the Debian packages of bench/gpu-debs.txt,
# which bench/gpu_check.sh unpacks under its own prefix for each part of
# the runtime build that the GPU machine lacks (that machine cannot reach a
# package registry). Run on Debian 12 (amd64), where apt-get can download.
# Usage: bench/gpu_deps.sh OUTPUT_FOLDER
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: gpu_deps.sh OUTPUT_FOLDER}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mapfile -t packages < <(grep -v '^#' "$root/bench/gpu-debs.txt" |
  awk '{for (i = 2; i <= NF; i++) print $i}')
# apt's sandbox user must be able to write there.
(cd "$out" && apt-get download -o APT::Sandbox::User=root "${packages[@]}")
echo "downloaded ${#packages[@]} packages to $out"
