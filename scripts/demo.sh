#!/usr/bin/env bash
# The main job on the bundled data: import stories260K (a real LLaMA-architecture model with GQA)
# from its llama2.c checkpoint into qllm MLIR, print the model summary and its perplexity on the
# TinyStories validation slice (llama.cpp's protocol) with the reference executor; then compile it
# and student4M (f32 and quantized to Q4_K_M and 4-bit groups) into executables with qcc and print
# each executable's perplexity, latency/throughput (also under 4 concurrent requests) and PIQA
# accuracy on 200 items (near chance for models this small).
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

txt="$data/text/tinystories/TinyStories-valid.first22.txt"
echo "== compiled: qcc -O3 --target=x86-64 (kernels cached in build/kernel-cache)"
"$bin/qcc" "$out/stories260K.mlir" -O3 --target=x86-64 --kernel-cache "$out/../kernel-cache" \
  -o "$out/stories260K"
"$out/stories260K" ppl --text "$txt" --ctx 128 --protocol llama.cpp
"$out/stories260K" bench --prompt 64 --gen 32 --batch 4
s4m="$data/models/student4M"
"$bin/qcc-import" "$s4m/student4M-f32.gguf" -o "$out/student4M-f32.mlir"
"$bin/qcc-quantize" "$out/student4M-f32.mlir" --mix q4_k_m -o "$out/student4M-q4_k_m.mlir"
"$bin/qcc-quantize" "$out/student4M-f32.mlir" --method rtn --bits 4 --group 128 --asym \
  -o "$out/student4M-int4.mlir"
for v in f32 q4_k_m int4; do
  echo "== student4M $v"
  "$bin/qcc" "$out/student4M-$v.mlir" -O3 --target=x86-64 --kernel-cache "$out/../kernel-cache" \
    -o "$out/student4M-$v"
  "$out/student4M-$v" ppl --text "$txt" --ctx 128 --protocol llama.cpp | head -1
  "$out/student4M-$v" bench --prompt 64 --gen 32 --concurrency 4 --requests 8
  "$out/student4M-$v" tasks --task piqa --data "$data/tasks/piqa/piqa_validation.mosaic.jsonl" \
    --limit 200
done
