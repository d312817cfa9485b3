#!/usr/bin/env bash
# Installs everything the project needs on Debian 12 (run as root; safe to
# run again): Debian packages, then PyPI packages into the project's own
# virtual environment at .venv. Usage: setup.sh [REQUIREMENTS.txt ...]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential cmake ninja-build git ca-certificates python3 python3-venv
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libonnx-dev libonnx-testdata protobuf-compiler libprotobuf-dev
  libopenblas-dev libdnnl-dev libopenmpi-dev openmpi-bin libgtest-dev
  clang-22 libfuzzer-22-dev libclang-rt-22-dev llvm-22 pkg-config
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's /usr/bin/python3 refuses pip, so PyPI packages go into .venv.
if [ ! -x "$root/.venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$root/.venv"
fi
# Installs a requirements file into .venv, again only when it changed, so a
# set-up machine needs no network. Options after the file go to pip.
install_requirements() {
  local requirements=$1 stamp wanted
  shift
  stamp="$root/.venv/$(basename "$requirements" .txt).sha256"
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$root/.venv/bin/pip" install -q --disable-pip-version-check "$@" \
      -r "$requirements"
    echo "$wanted" > "$stamp"
  fi
}
install_requirements "$root/scripts/requirements.txt"
# Packages the build compiles against (the cudnn-frontend headers), without
# the Python dependencies of their own Python modules.
install_requirements "$root/scripts/header-requirements.txt" --no-deps
# Further requirements files given as arguments (the export tools'
# scripts/export-requirements.txt).
for requirements in "$@"; do
  install_requirements "$requirements"
done
