#!/usr/bin/env bash
# Quantization results table: student4M and stories260K (tiny TinyStories LLaMA models), every
# named llama.cpp mix we care about, q4_k_m with an imatrix, and the RTN/GPTQ/AWQ methods, each
# with its weight size, perplexity on the TinyStories validation slice (ctx 128, llama.cpp and
# GPTQ protocols) and qcc-quantize wall time. Writes $work/quant-table.md and prints it.
#   usage: bench/quant-table.sh [workdir]     (default build/bench-quant)
#   env:   QCC_BUILD_DIR (tools in $QCC_BUILD_DIR/bin), QCC_DATA_DIR (shared data)
# A configuration that qcc-quantize refuses (e.g. q8_0 on stories260K's 172-wide rows) does not
# stop the run: it becomes a row marked "n/a" with qcc-quantize's error as a note.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${QCC_BUILD_DIR:-$root/build}/bin"
data="${QCC_DATA_DIR:-$root/../shared/data}"
work="${1:-$root/build/bench-quant}"
py=/usr/bin/python3
text="$data/text/tinystories/TinyStories-valid.first22.txt"
calib=(--calib "$data/text/tinystories/tinystories_sample.txt" --calib-samples 32 --calib-seqlen 128)
ctx=128

for t in qcc-import qcc-quantize qcc-run; do
  [ -x "$bin/$t" ] || { echo "quant-table: missing $bin/$t (build first)" >&2; exit 1; }
done
mkdir -p "$work"
rows="$work/rows.tsv"
: > "$rows"

# measure MODEL TAG MLIR: summary + both perplexities of an existing module, and for student4M
# the perplexity on its held-out tokens (512 rows of 128: 65,024 next-token predictions, far less
# noisy than the 22-story text).
measure() {
  local dir="$work/$1" tag="$2" mlir="$3"
  "$bin/qcc-run" "$mlir" summary --json > "$dir/$tag.summary.json"
  local p
  for p in llama.cpp gptq; do
    "$bin/qcc-run" "$mlir" ppl --text "$text" --ctx "$ctx" --protocol "$p" --json \
      > "$dir/$tag.ppl-$p.json"
  done
  local held="$data/models/$1/heldout_tokens.i32"
  if [ -f "$held" ]; then
    "$bin/qcc-run" "$mlir" logits --tokens "$held" --batch 512 --out "$dir/heldout.f32"
    "$py" "$root/test/Quantize/heldout_ppl.py" "$dir/heldout.f32" "$held" 512 128 512 \
      > "$dir/$tag.heldout.txt"
    rm -f "$dir/heldout.f32"
  fi
}

# row MODEL TAG LABEL NOTE QUANTIZE-ARGS...: quantize the model's f32 module, time it, measure.
row() {
  local model="$1" tag="$2" label="$3" note="$4"; shift 4
  local dir="$work/$model" t0 t1 secs
  echo "== $model $label" >&2
  t0=$(date +%s.%N)
  if "$bin/qcc-quantize" "$dir/f32.mlir" "$@" -o "$dir/$tag.mlir" --gguf "$dir/$tag.gguf" \
       --report "$dir/$tag.report.json" > "$dir/$tag.log" 2>&1; then
    t1=$(date +%s.%N)
    secs=$("$py" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$t1")
    measure "$model" "$tag" "$dir/$tag.mlir"
    printf '%s\t%s\t%s\t%s\tok\t%s\n' "$model" "$tag" "$label" "$note" "$secs" >> "$rows"
  else
    local err
    err=$(grep -m1 'error' "$dir/$tag.log" || tail -n1 "$dir/$tag.log")
    echo "   not applicable: $err" >&2
    printf '%s\t%s\t%s\t%s\tfail\t%s\n' "$model" "$tag" "$label" "$err" "" >> "$rows"
  fi
}

# model NAME GGUF GROUP GROUP-NOTE: the whole set of rows for one model.
model() {
  local name="$1" gguf="$2" g="$3" gnote="$4" dir="$work/$1"
  mkdir -p "$dir"
  echo "== $name: import $gguf" >&2
  "$bin/qcc-import" "$gguf" -o "$dir/f32.mlir"
  measure "$name" f32 "$dir/f32.mlir"
  printf '%s\t%s\t%s\t%s\tok\t%s\n' "$name" f32 "f32 (baseline)" "" "" >> "$rows"
  local m
  for m in q8_0 q6_k q5_k_m q4_k_m q4_k_s q3_k_m q2_k; do
    row "$name" "$m" "$m" "" --mix "$m"
  done
  row "$name" q4_k_m-imatrix "q4_k_m + imatrix" "" --mix q4_k_m --imatrix "${calib[@]}"
  local b meth
  for b in 4 3; do
    row "$name" "rtn-w$b" "rtn int$b g$g asym" "$gnote" --method rtn --bits "$b" --group "$g" --asym
    row "$name" "gptq-w$b" "gptq int$b g$g asym" "$gnote" --method gptq --bits "$b" --group "$g" --asym "${calib[@]}"
    row "$name" "awq-w$b" "awq int$b g$g asym" "$gnote" --method awq --bits "$b" --group "$g" --asym "${calib[@]}"
  done
  row "$name" w8a8 "smoothquant W8A8 (α 0.5)" "" --method smoothquant "${calib[@]}"
  # The budget solver at Q4_K_M's bits/weight for this model (read from the q4_k_m row).
  local q4bpw
  q4bpw=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['bits_per_weight'])" \
          "$dir/q4_k_m.summary.json" 2>/dev/null || true)
  if [ -n "$q4bpw" ]; then
    row "$name" budget "budget solver @ q4_k_m's bits/weight" "" --budget "$q4bpw" "${calib[@]}" \
      --sensitivity-tokens 128
  fi
}

model student4M "$data/models/student4M/student4M-f32.gguf" 128 ""
model stories260K "$data/models/gguf/stories260K-f32.gguf" 0 \
  "group 0 = per output channel: stories260K's rows are 64 and 172 wide, which group 128 (or 64) does not divide"

"$py" - "$work" "$rows" > "$work/quant-table.md" <<'EOF'
import json, os, sys
work, rows = sys.argv[1], sys.argv[2]
def load(model, tag, what):
    with open(os.path.join(work, model, f"{tag}.{what}.json")) as f:
        return json.load(f)
out = ["| model | method/mix | bits/weight | MB | PPL llama.cpp (±) | PPL GPTQ | PPL held-out | quant s |",
       "|---|---|---:|---:|---:|---:|---:|---:|"]
notes, sim = [], False
for line in open(rows):
    model, tag, label, note, status, secs = line.rstrip("\n").split("\t")
    if status != "ok":
        out.append(f"| {model} | {label} | n/a | n/a | n/a | n/a | n/a | n/a |")
        notes.append(f"{model} {label}: not applicable, qcc-quantize says: `{note}`")
        continue
    s = load(model, tag, "summary")
    bpw, nbytes, mark = s["bits_per_weight"], s["weight_bytes"], ""
    if os.path.exists(os.path.join(work, model, f"{tag}.report.json")):
        r = load(model, tag, "report")
        if r.get("simulated_bytes", r["bytes"]) != r["bytes"]:
            # Simulated: stored dequantized as f32; report the bits the format would take packed.
            bpw, nbytes, mark, sim = r["simulated_bits_per_weight"], r["simulated_bytes"], " †", True
    pl, pg = load(model, tag, "ppl-llama.cpp"), load(model, tag, "ppl-gptq")
    held = os.path.join(work, model, f"{tag}.heldout.txt")
    ph = f"{float(open(held).read()):.4f}" if os.path.exists(held) else "—"
    out.append(f"| {model} | {label} | {bpw:.3f}{mark} | {nbytes / 1e6:.3f}{mark} "
               f"| {pl['ppl']:.4f} ± {pl['ppl_stderr']:.4f} | {pg['ppl']:.4f} | {ph} "
               f"| {secs if secs else '—'} |")
    if note and f"{model}: {note}" not in notes:
        notes.append(f"{model}: {note}")
print("\n".join(out))
print()
print("MB = 10^6 bytes of weights (qcc-run summary's weight_bytes); bits/weight over all weight "
      "tensors (embeddings and norms included). PPL on TinyStories-valid.first22.txt, ctx 128; "
      "± is llama.cpp-protocol ppl_stderr. PPL held-out: student4M's heldout_tokens.i32 (512 "
      "rows of 128 tokens, every next token scored), the metric that separates methods here. "
      "quant s = qcc-quantize wall time (import not included).")
if sim:
    print()
    print("† Simulated (weights stored dequantized as f32): bits/weight and MB are what the int "
          "format would take packed (qcc-quantize's simulated_bits_per_weight / simulated_bytes); "
          "the module actually run is f32.")
if notes:
    print()
    print("\n".join(f"- {n}" for n in notes))
EOF
cat "$work/quant-table.md"
