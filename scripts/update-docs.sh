#!/usr/bin/env bash
# Regenerates the dialect and pass reference from ODS (`ninja qcc-doc`) and copies it into docs/:
# docs/Dialect/QLlm.md and docs/Passes.md. Run after changing a .td file; commit the result.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${QCC_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  echo "update-docs.sh: no configured build in $build (run scripts/build.sh or set QCC_BUILD_DIR)" >&2
  exit 1
fi
ninja -C "$build" qcc-doc
mkdir -p "$root/docs/Dialect"
for md in "$build"/docs/Dialect/*.md; do
  cp "$md" "$root/docs/Dialect/"
done
cp "$build/docs/Passes.md" "$root/docs/Passes.md"
cp "$build/docs/ConversionPasses.md" "$root/docs/ConversionPasses.md"
echo "updated: docs/Dialect/$(cd "$build/docs/Dialect" && ls *.md | tr '\n' ' ')docs/Passes.md docs/ConversionPasses.md"
