#!/usr/bin/env bash
# The main job on the bundled data: import stories260K (a real LLaMA-architecture model with GQA)
# from its llama2.c checkpoint into qllm MLIR, print the model summary, and measure its
# perplexity on the TinyStories validation slice with llama.cpp's protocol.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
bin="${QCC_BUILD_DIR:-$root/build}/bin"
data="${QCC_DATA_DIR:-$root/../shared/data}"
out="${QCC_DEMO_DIR:-$root/build/demo}"
mkdir -p "$out"
model="$data/models/llama2c/stories260K"
"$bin/qcc-import" "$model/stories260K.bin" --tokenizer "$model/tok512.bin" -o "$out/stories260K.mlir"
echo "== imported $out/stories260K.mlir"
"$bin/qcc-run" "$out/stories260K.mlir" summary
echo "== perplexity on TinyStories-valid (first 22 stories); llama.cpp's llama-perplexity gives 5.4707 here"
"$bin/qcc-run" "$out/stories260K.mlir" ppl --text "$data/text/tinystories/TinyStories-valid.first22.txt" \
  --ctx 128 --protocol llama.cpp
echo "== greedy continuation"
"$bin/qcc-run" "$out/stories260K.mlir" generate --prompt "Once upon a time" -n 48
