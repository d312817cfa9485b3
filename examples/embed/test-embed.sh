#!/usr/bin/env bash
# Installs the runtime of the build folder BUILD into a temporary prefix,
# builds both examples against the installed package (run_group.c with
# pkg-config and the C compiler CC, run_group.cpp with CMake and the C++
# compiler CXX, both with FLAGS: a sanitized build's) and runs them on the
# committed 4-rank program: both must succeed and print the same sums.
# Usage: test-embed.sh BUILD [CC [CXX [FLAGS]]]
set -euo pipefail
build=$1
cc=${2:-cc}
cxx=${3:-c++}
flags=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" --component runtime >/dev/null
# The package's folder first; protobuf's may be on the caller's path.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name dsp-runtime.pc)")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
# shellcheck disable=SC2046 # pkg-config prints several flags
# shellcheck disable=SC2086 # FLAGS holds several flags
"$cc" -std=c99 -Wall -Werror $flags "$here/run_group.c" \
  $(pkg-config --cflags --libs dsp-runtime) \
  -Wl,-rpath,"$(pkg-config --variable=libdir dsp-runtime)" \
  -o "$work/run_group"
cmake -S "$here" -B "$work/cpp" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$work/cpp" >/dev/null

program=$here/stdit_tiny_4.dspx
from_c=$("$work/run_group" "$program")
from_cpp=$("$work/cpp/run_group_cpp" "$program")
printf '%s\n%s\n' "$from_c" "$from_cpp"
grep -q '^ranks: 4, runs: 1,' <<<"$from_c"
diff <(grep '^output' <<<"$from_c") <(grep '^output' <<<"$from_cpp")
