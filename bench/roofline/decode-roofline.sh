#!/usr/bin/env bash
# Decode roofline of a Llama-3-8B-shaped model (a benchmark, not a test; docs/Benchmarks.md).
#
# Imports a synthetic llama3-8b (random f16 weights at the real shapes, side GGUF ~16 GB),
# quantizes it to Q4_K_M (--mix q4_k_m) and to 4-bit g128 (--method rtn --bits 4 --group 128),
# compiles each with `qcc -O3 --target=x86-64` into a fresh (cold) kernel cache, timing the compile,
# runs `./model bench --prompt 16 --gen 16 --repeat 2 --json`, measures stream-read in the same run,
# and prints per model: bytes read per decode token, decode tok/s, achieved GB/s, STREAM GB/s and
# the fraction of the read roofline.
#
#   usage: bench/roofline/decode-roofline.sh [--workdir DIR] [--prepare-only] [--models q4km,int4]
#                                            [--gen N] [--repeat N] [--act-quant q8,none] [--json]
#          --act-quant: compile each model once per listed qcc --act-quant mode (decode GEMV
#          activations: q8 = int8 dot products, none = float), measured in the same run; by
#          default qcc's own default (q8 at -O3).
#          QCC_BUILD_DIR (default build/) holds bin/qcc-import, qcc-quantize, qcc, stream-read.
#          Work files go to DIR (default /tmp/qcc-roofline, ~16 GB f16 + ~5 GB per quantized
#          model) and are reused if present; the cold kernel caches are deleted after each compile.
#
# Bytes per decode token: every weight tensor is read once per batch-1 decode step except the
# token embedding, of which one row is read (qcc-quantize's --report gives each tensor's bytes);
# plus the KV cache read by attention (bench's kv_cache_bytes covers prompt + gen positions; the
# mean decode step reads (prompt + gen/2) / (prompt + gen) of it: ~0.1% of the weights here).
# bench's weights_bytes (all tensors, embedding included) is printed too.
# The bench also runs with --roofline: after each decode step the executable reads the weights
# that step streamed (the same bytes, mapping and threads) and times that read on its own; the
# ratio of the summed times ("paired") compares each step with the read rate of its own moment,
# which stream-read before and after the bench cannot when the machine's bandwidth changes
# within seconds (it does here). Both are printed. And with --profile: each matmul role's share
# of the step and the GB/s its kernels streamed (against the paired reads' p50: which kernels
# fall short).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${QCC_BUILD_DIR:-$root/build}/bin"
work=/tmp/qcc-roofline
prepare_only=0
models=q4km,int4
prompt=16 gen=16 repeat=2 json=0 act_quants=default
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) work="$2"; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;
    --models) models="$2"; shift 2 ;;
    --gen) gen="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --json) json=1; shift ;;
    --act-quant) act_quants="$2"; shift 2 ;;
    *) echo "usage: $0 [--workdir DIR] [--prepare-only] [--models q4km,int4] [--gen N] [--repeat N] [--act-quant q8,none] [--json]" >&2; exit 1 ;;
  esac
done
mkdir -p "$work"
log() { echo "[$(date +%T)] $*" >&2; }

# --- data: synthetic f16 model, then the two quantized models (each step skipped if done) ---
f16="$work/llama3-8b-f16.mlir"
# No --tokenizer: bench draws random token ids, and qcc-quantize cannot write the llama3 (BPE)
# vocabulary into its GGUF yet.
need_f16=0
for m in ${models//,/ }; do [ -f "$work/llama3-8b-$m.mlir" ] || need_f16=1; done
if [ "$need_f16" = 1 ] && [ ! -f "$f16" ]; then   # the f16 model may be deleted once quantized
  log "importing synthetic llama3-8b (f16, ~16 GB side GGUF) into $work"
  /usr/bin/time -f "import: %e s, peak RSS %M KiB" "$bin/qcc-import" --synthetic llama3-8b \
    --synthetic-type f16 -o "$f16"   # the tools write their outputs atomically
fi
quantize() { # name, flags...
  local name="$1"; shift
  local out="$work/llama3-8b-$name.mlir"
  if [ ! -f "$out" ]; then
    log "quantizing -> $name ($*)"
    /usr/bin/time -f "quantize $name: %e s, peak RSS %M KiB" "$bin/qcc-quantize" "$f16" "$@" \
      --gguf "$work/llama3-8b-$name.gguf" --report "$work/llama3-8b-$name.report.json" \
      -o "$out"
  fi
}
for m in ${models//,/ }; do
  case "$m" in
    q4km) quantize q4km --mix q4_k_m ;;
    int4) quantize int4 --method rtn --bits 4 --group 128 ;;
    *) echo "unknown model $m (q4km, int4)" >&2; exit 1 ;;
  esac
done
[ "$prepare_only" = 1 ] && { log "prepared in $work"; exit 0; }

# --- compile (cold kernel cache, timed), bench, STREAM read in the same run ---
for t in qcc stream-read; do
  [ -x "$bin/$t" ] || { echo "$0: error: $bin/$t missing (ninja $t in QCC_BUILD_DIR)" >&2; exit 1; }
done
results="$work/results.jsonl"
: > "$results"
for m in ${models//,/ }; do
for aq in ${act_quants//,/ }; do
  case "$aq" in
    default) aqflag=() label="$m" ;;
    q8|none) aqflag=(--act-quant="$aq") label="$m/$aq" ;;
    *) echo "unknown --act-quant mode $aq (q8, none)" >&2; exit 1 ;;
  esac
  tag="${label//\//-}"
  mlir="$work/llama3-8b-$m.mlir" exe="$work/llama3-8b-$tag.exe"
  cache="$(mktemp -d "$work/kernel-cache-$tag.XXXXXX")"   # fresh: every kernel is generated
  log "compiling $label: qcc -O3 --target=x86-64 ${aqflag[*]} --kernel-cache $cache"
  t0=$(date +%s.%N)
  "$bin/qcc" "$mlir" -O3 --target=x86-64 "${aqflag[@]}" --kernel-cache "$cache" -o "$exe" \
    2> "$work/qcc-$tag.log" || { cat "$work/qcc-$tag.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  cat "$work/qcc-$tag.log" >&2
  nkernels=$(sed -n 's/^qcc: \([0-9]*\) kernels.*/\1/p' "$work/qcc-$tag.log" | head -1)
  nkernels=${nkernels:-0}
  rm -rf "$cache"
  compile_s=$(python3 -c "print(round($t1 - $t0, 2))")
  log "compiled $label in $compile_s s ($nkernels kernels); stream-read, bench, stream-read"
  s1="$("$bin/stream-read" --json)"
  "$exe" bench --prompt "$prompt" --gen "$gen" --repeat "$repeat" --roofline --profile --json \
    > "$work/bench-$tag.json"
  s2="$("$bin/stream-read" --json)"
  echo "{\"model\": \"$label\", \"compile_s\": $compile_s, \"kernels\": $nkernels, \"report\": \"$work/llama3-8b-$m.report.json\", \"bench\": \"$work/bench-$tag.json\", \"stream\": [$s1, $s2]}" >> "$results"
done
done

PROMPT=$prompt GEN=$gen JSON=$json python3 - "$results" <<'PY'
import json, os, sys
rows = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    rep = json.load(open(r["report"]))
    t = {x["name"]: x for x in rep["tensors"]}
    b = json.load(open(r["bench"]))
    emb = t["token_embd.weight"]
    tied = "output.weight" not in t
    # embedding: one row per token, unless tied (then the whole matrix is the LM head, read anyway)
    emb_skip = 0 if tied else emb["bytes"] - emb["bytes"] // emb["shape"][0]
    weights_read = rep["bytes"] - emb_skip
    p, g = int(os.environ["PROMPT"]), int(os.environ["GEN"])
    kv_read = b["kv_cache_bytes"] * (p + g / 2) / (p + g)
    per_tok = weights_read + kv_read
    tok_s = b["decode_tok_s"]
    stream = max(s["best_gb_s"] for s in r["stream"])
    achieved = per_tok * tok_s / 1e9
    rows.append(dict(model=r["model"], compile_s=r["compile_s"], kernels=r["kernels"],
                     weights_bytes=b["weights_bytes"], report_bytes=rep["bytes"],
                     embedding_bytes_skipped=emb_skip, kv_read_bytes_per_token=round(kv_read),
                     bytes_per_token=round(per_tok), decode_tok_s=tok_s,
                     decode_latency_ms_p50=b["decode_latency_ms"]["p50"],
                     achieved_gb_s=achieved, stream_gb_s=stream,
                     stream_runs_gb_s=[s["best_gb_s"] for s in r["stream"]],
                     roofline_fraction=achieved / stream,
                     # The machine's read bandwidth changed during the run: the fraction
                     # (against the faster) is then a bound, not a measurement.
                     stream_unsteady=max(s["best_gb_s"] for s in r["stream"]) >
                     1.25 * min(s["best_gb_s"] for s in r["stream"]),
                     roofline_tok_s=stream * 1e9 / per_tok, threads=b.get("threads"),
                     # bench --roofline: each decode step against a read of the weights it
                     # streamed, timed right after it (docs/Driver.md)
                     paired_fraction=b["roofline"]["fraction"],
                     paired_step_fraction_p50=b["roofline"]["step_fraction"]["p50"],
                     paired_read_gb_s_p50=b["roofline"]["read_gb_s"]["p50"],
                     paired_read_gb_s_range=[b["roofline"]["read_gb_s"]["min"],
                                             b["roofline"]["read_gb_s"]["max"]],
                     streamed_bytes=b["roofline"]["streamed_bytes"],
                     # bench --profile: the decode step's kernels (docs/Driver.md)
                     kernel_fraction=b["profile"]["decode"]["kernel_ms"] /
                     b["profile"]["decode"]["ms"],
                     matmuls=[dict(weights=k["weights"], format=k["format"], ms=k["ms"],
                                   fraction=k["fraction"], gb_s=k["gb_s"])
                              for k in b["profile"]["decode"]["rows"] if k["op"] == "matmul"]))
if os.environ["JSON"] == "1":
    print(json.dumps(dict(benchmark="decode-roofline", shape="llama3-8b", prompt=p, gen=g, models=rows)))
else:
    for x in rows:
        print(f"llama3-8b {x['model']}: compile -O3 cold cache {x['compile_s']:.1f} s "
              f"({x['kernels']} kernels generated)")
        print(f"  bytes/decode token {x['bytes_per_token']/1e9:.3f} GB (weights_bytes "
              f"{x['weights_bytes']/1e9:.3f} GB - embedding {x['embedding_bytes_skipped']/1e9:.3f} GB"
              f" + KV {x['kv_read_bytes_per_token']/1e6:.2f} MB)")
        print(f"  decode {x['decode_tok_s']:.3f} tok/s (p50 {x['decode_latency_ms_p50']:.0f} ms) -> "
              f"{x['achieved_gb_s']:.2f} GB/s; STREAM read {x['stream_gb_s']:.2f} GB/s "
              f"(runs {', '.join(f'{v:.2f}' for v in x['stream_runs_gb_s'])}); "
              f"roofline fraction {100*x['roofline_fraction']:.1f}% "
              f"(roofline {x['roofline_tok_s']:.2f} tok/s)")
        print(f"  paired with a read of the {x['streamed_bytes']/1e9:.3f} GB each step streams, "
              f"right after each step: {100*x['paired_fraction']:.1f}% of the reads (per step p50 "
              f"{100*x['paired_step_fraction_p50']:.1f}%; reads p50 {x['paired_read_gb_s_p50']:.2f} "
              f"GB/s, {x['paired_read_gb_s_range'][0]:.2f}..{x['paired_read_gb_s_range'][1]:.2f})")
        print(f"  kernels {100*x['kernel_fraction']:.1f}% of the step; matmuls, most time first "
              f"(GB/s, % of the paired reads' p50):")
        for k in x["matmuls"][:6]:
            print(f"    {k['weights']:<12} {k['format']:<14} {100*k['fraction']:5.1f}% of the step "
                  f"{k['gb_s']:6.2f} GB/s ({100*k['gb_s']/x['paired_read_gb_s_p50']:.0f}%)")
        if x["stream_unsteady"]:
            print("  note: the two stream-read runs differ by more than 25%: the machine's "
                  "bandwidth changed during this model's run, so the fraction is only a lower bound")
PY
