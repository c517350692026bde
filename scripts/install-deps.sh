#!/usr/bin/env bash
# Installs the Debian 12 packages qcc builds and tests with (LLVM/MLIR 19.1.7, Halide 14, ...).
# Does nothing when everything is already there, so the README commands can call it every time.
set -euo pipefail
PKGS=(cmake ninja-build ccache pkg-config clang-19 lld-19 llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
      libomp-19-dev libzstd-dev libhalide14-0-dev libpcre2-dev libgtest-dev libgmock-dev python3
      python3-matplotlib python3-numpy python3-yaml pybind11-dev python3-dev libc6-dev-arm64-cross
      qemu-user-static)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
