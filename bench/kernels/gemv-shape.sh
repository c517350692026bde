#!/usr/bin/env bash
# One decode GEMV kernel at any shape and format, streaming its weights from memory (a benchmark,
# not a test; docs/Benchmarks.md): generates the kernel with qcc-kernel-gen for this machine's
# target and compiles it as qcc does (x86: Halide bitcode compiled by qcc's LLVM for this CPU,
# qcc --compile-kernel-bitcode), links it with gemv-shape-harness.cpp and runs it.
#
#   usage: bench/kernels/gemv-shape.sh FORMAT ROWS COLS [reps (30)] [generator params ...]
#   e.g.   bench/kernels/gemv-shape.sh q4_K 14336 4096 30 act_quant=q8_block
#          HL_NUM_THREADS=1 bench/kernels/gemv-shape.sh f16 128256 4096 8
#          GEMV_SHAPE_COPIES=1 HL_NUM_THREADS=1 bench/kernels/gemv-shape.sh q4_K 2048 4096 500
#          (one copy of the weights: they stay in cache, the kernel's compute rate)
# QCC_BUILD_DIR (default build/) holds bin/qcc-kernel-gen and bin/qcc; QCC_TARGET (default
# x86-64: this machine) is qcc's --target; CXX (default clang++-19) links.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${QCC_BUILD_DIR:-$root/build}/bin"
[ $# -ge 3 ] || { echo "usage: $0 FORMAT ROWS COLS [reps] [generator params ...]" >&2; exit 1; }
format=$1 rows=$2 cols=$3; shift 3
reps=30
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then reps=$1; shift; fi
[ -x "$bin/qcc-kernel-gen" ] && [ -x "$bin/qcc" ] ||
  { echo "$0: error: $bin/qcc-kernel-gen or $bin/qcc missing" >&2; exit 1; }
# The kernel's Halide target and, where qcc's LLVM compiles the kernels, the runtime's target and
# the CPU (qcc --print-kernel-target).
qtarget=${QCC_TARGET:-x86-64}
mapfile -t targets < <("$bin/qcc" --target="$qtarget" --print-kernel-target)
[ ${#targets[@]} -ge 1 ] || exit 1 # qcc said why
target=${targets[0]}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ${#targets[@]} -ge 3 ]; then
  # As qcc does (KernelKey::generatorCommand): f16 conversions left to qcc's LLVM (F16C).
  "$bin/qcc-kernel-gen" -g qcc_matmul -f qcc_gemv_under_test -o "$work" -n k -e bitcode \
    "target=$target-no_runtime" "format=$format" "rows=$rows" "cols=$cols" batch=1 \
    half_extern=true "$@"
  "$bin/qcc" --target="$qtarget" --compile-kernel-bitcode "$work/k.bc" -o "$work/k.o"
  rt_target=${targets[1]} cpu=${targets[2]}
else
  "$bin/qcc-kernel-gen" -g qcc_matmul -f qcc_gemv_under_test -o "$work" -n k -e object \
    "target=$target-no_runtime" "format=$format" "rows=$rows" "cols=$cols" batch=1 "$@"
  rt_target=$target cpu="(Halide's LLVM)"
fi
"$bin/qcc-kernel-gen" -r rt -o "$work" -e object "target=$rt_target"
halide_inc=$(ls -d /usr/include/halide* 2>/dev/null | head -1)
"${CXX:-clang++-19}" -O2 -std=c++17 -I"$halide_inc" "$root/bench/kernels/gemv-shape-harness.cpp" \
  "$work/k.o" "$work/rt.o" -lpthread -ldl -o "$work/harness"
case "$format" in f32) eb=4 ;; f16|bf16) eb=2 ;; *) eb=1 ;; esac
echo "$format $rows x $cols ($*), target $target, CPU $cpu, HL_NUM_THREADS=${HL_NUM_THREADS:-all}:"
"$work/harness" "$rows" "$cols" "$eb" "$reps"
