#!/usr/bin/env bash
# check_exe.sh PYTHON MODEL.mlir EXE TOKENS.i32 BATCH LOGITS_TOL TEXT CTX PPL_TOL [RUNNER...]
# An executable built by qcc against the reference executor (qcc-run) on the same module:
# logits of TOKENS (BATCH rows) within LOGITS_TOL of max|ref| (compare_f32.py), and the
# llama.cpp-protocol perplexity of TEXT at CTX within PPL_TOL (relative, ppl_match.py).
# RUNNER (e.g. qemu-aarch64-static -L /usr/aarch64-linux-gnu) runs the executable; with a
# runner only the logits are compared (cross executables have no tokenizer).
set -euo pipefail
py=$1 mlir=$2 exe=$3 tokens=$4 batch=$5 ltol=$6 text=$7 ctx=$8 ptol=$9
shift 9
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
qcc-run "$mlir" logits --tokens "$tokens" --batch "$batch" --out "$out/ref.f32"
"$@" "$exe" logits --tokens "$tokens" --batch "$batch" --out "$out/exe.f32"
echo -n "logits: "
"$py" "$here/../Exec/compare_f32.py" "$out/exe.f32" "$out/ref.f32" "$ltol"
if [ $# -gt 0 ]; then exit 0; fi
qcc-run "$mlir" ppl --text "$text" --ctx "$ctx" --protocol llama.cpp --json > "$out/ref.json"
"$exe" ppl --text "$text" --ctx "$ctx" --protocol llama.cpp --json > "$out/exe.json"
echo -n "perplexity: "
"$py" "$here/ppl_match.py" "$out/exe.json" "$out/ref.json" "$ptol"
