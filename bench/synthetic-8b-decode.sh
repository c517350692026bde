#!/usr/bin/env bash
# Imports a synthetic Llama-3-8B-shaped model (random weights at the real shapes; no quality is
# claimed) and runs one prefill + one decode step with the reference executor, reporting wall time
# and peak RSS. Weights are mapped from the side GGUF, not copied: peak RSS stays near the file size
# plus the KV cache and activations, within the 24 GB machine.
#   usage: bench/synthetic-8b-decode.sh [f16|bf16|f32] [workdir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${QCC_BUILD_DIR:-$root/build}/bin"
data="${QCC_DATA_DIR:-$root/../shared/data}"
type="${1:-bf16}"
work="${2:-$root/build/bench-8b}"
mkdir -p "$work"
model="$work/llama3-8b-$type.mlir"
if [ ! -f "$model" ]; then
  /usr/bin/time -f "import: %e s, peak RSS %M KiB" "$bin/qcc-import" --synthetic llama3-8b \
    --synthetic-type "$type" --tokenizer "$data/models/tokenizers/llama3/tokenizer.model" -o "$model"
fi
ls -l "$work/llama3-8b-$type.weights.gguf"
"$bin/qcc-run" "$model" summary
# Cold page cache is not forced (no root needed); the first run reads the file from disk.
/usr/bin/time -f "prefill+1 decode step: %e s wall, peak RSS %M KiB" \
  "$bin/qcc-run" "$model" generate --prompt "The capital of France is" -n 2 --json
