#!/usr/bin/env bash
# Builds qcc (installing Debian packages if needed) and runs the whole suite through CTest:
# GoogleTest binaries and the lit suite (dialect, passes, tools, end-to-end on the real models).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
build="${QCC_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j"$(nproc)" "$@"
