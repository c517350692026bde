#!/usr/bin/env bash
# Single 4096x4096 batch-1 GEMV, cold cache, as a fraction of the STREAM read roofline (a benchmark,
# not a test; docs/Benchmarks.md). Wraps bench/kernels/gemv-bench (which times the AOT Halide GEMVs
# over copies of their weights filling 600 MB, each call reading one) and bench/roofline/stream-read (1 GiB, all threads),
# measured before and after the GEMVs in the same run; the roofline is the higher of the two.
# gemv-bench's kernels are Halide's own objects for the build's test target; the `(qcc)` rows are
# the decode GEMVs with q8 activations as `qcc --target=x86-64` builds them for this machine
# (bench/kernels/gemv-shape.sh: bitcode compiled by qcc's LLVM for this CPU, e.g. AVX512-VNNI and
# F16C, which Halide 14 itself does not select on every CPU), their weights streamed from memory
# by rotating over copies filling 600 MB (every call reads them from memory, as after a flush).
#
#   usage: bench/roofline/gemv-roofline.sh [reps (default 30)] [--json]
#          QCC_BUILD_DIR (default build/) holds bin/gemv-bench, bin/stream-read, bin/qcc and
#          bin/qcc-kernel-gen.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${QCC_BUILD_DIR:-$root/build}/bin"
reps=30 json=0
for a in "$@"; do
  case "$a" in
    --json) json=1 ;;
    ''|*[!0-9]*) echo "usage: $0 [reps] [--json]" >&2; exit 1 ;;
    *) reps="$a" ;;
  esac
done
for t in gemv-bench stream-read qcc qcc-kernel-gen; do
  [ -x "$bin/$t" ] || { echo "$0: error: $bin/$t missing (ninja $t in QCC_BUILD_DIR)" >&2; exit 1; }
done
s1="$("$bin/stream-read" --json)"
g="$("$bin/gemv-bench" "$reps")"
q=""
for f in q4_0 q4_K q6_K int4_g128_sym int4_g128_asym; do
  out="$(QCC_BUILD_DIR="$(dirname "$bin")" bash "$root/bench/kernels/gemv-shape.sh" "$f" 4096 4096 "$reps" act_quant=q8_block)"
  q+="$f $(echo "$out" | tail -1)"$'\n'
done
s2="$("$bin/stream-read" --json)"
S1="$s1" S2="$s2" G="$g" Q="$q" JSON="$json" REPS="$reps" python3 - <<'PY'
import json, os, re
s1, s2 = json.loads(os.environ["S1"]), json.loads(os.environ["S2"])
stream = max(s1["best_gb_s"], s2["best_gb_s"])
g = os.environ["G"]
m = re.search(r"STREAM-like read \(256 MB, best of 5\): ([\d.]+) GB/s", g)
inproc = float(m.group(1)) if m else None
rows = []
for line in g.splitlines():
    m = re.match(r"(\S.*?)\s+4096x4096 cold, +([\d.]+) MB weights: median ([\d.]+) GB/s"
                 r".*best ([\d.]+) GB/s", line)
    if m:
        rows.append(dict(format=m.group(1), weights_mb=float(m.group(2)),
                         median_gb_s=float(m.group(3)), best_gb_s=float(m.group(4))))
if not rows:
    raise SystemExit("gemv-roofline: error: no result lines in gemv-bench's output:\n" + g)
for line in os.environ["Q"].splitlines():
    m = re.match(r"(\S+) 4096x4096, ([\d.]+) MB weights x \d+ copies: median [\d.]+ ms ([\d.]+) GB/s,"
                 r" best ([\d.]+) GB/s", line)
    if not m:
        raise SystemExit("gemv-roofline: error: unexpected gemv-shape.sh output: " + line)
    rows.append(dict(format=m.group(1) + " q8act (qcc)", weights_mb=float(m.group(2)),
                     median_gb_s=float(m.group(3)), best_gb_s=float(m.group(4))))
for r in rows:
    r["median_fraction"] = r["median_gb_s"] / stream
    r["best_fraction"] = r["best_gb_s"] / stream
if os.environ["JSON"] == "1":
    print(json.dumps(dict(benchmark="gemv-roofline", shape="4096x4096", batch=1,
                          reps=int(os.environ["REPS"]), stream_gb_s=stream,
                          stream_runs_gb_s=[s1["best_gb_s"], s2["best_gb_s"]],
                          gemv_bench_inprocess_read_gb_s=inproc, threads=s1["threads"],
                          gemvs=rows)))
else:
    print(f"STREAM read roofline (stream-read, 1 GiB, {s1['threads']} threads, best of before/after):"
          f" {stream:.2f} GB/s  (runs {s1['best_gb_s']:.2f}, {s2['best_gb_s']:.2f};"
          f" gemv-bench's in-process 256 MB read {inproc:.2f})")
    print(f"{'format':<30}{'MB':>7}{'median GB/s':>13}{'fraction':>10}{'best GB/s':>11}{'fraction':>10}")
    for r in rows:
        print(f"{r['format']:<30}{r['weights_mb']:>7.2f}{r['median_gb_s']:>13.2f}"
              f"{100*r['median_fraction']:>9.0f}%{r['best_gb_s']:>11.2f}{100*r['best_fraction']:>9.0f}%")
PY
