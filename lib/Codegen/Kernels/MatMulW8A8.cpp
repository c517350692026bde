//===- MatMulW8A8.cpp - qcc_matmul act_quant=int8_per_token ---------------===//
//
// W8A8 (SmoothQuant-style): weights int8_g0_sym (row = f16 scale s_w, then `cols` offset-binary
// codes u = q_w + 128), activations quantized per token exactly as rt::fakeQuantizeInt8PerRow:
//   s_x = max(max_k |x_k|, 1e-5) / 127,  q_x = clamp(round_half_even(x / s_x), −127, 127).
// The reference then runs the f32 linear on the fake-quantized x; here the same products are
// summed exactly in int32 and scaled once:
//   y = float(Σ_k q_x · q_w) · (s_x · s_w),
// so the result differs from the reference only by the final rounding (≈ 1e-7 relative).
//
// Integer dot products. On x86 the weight codes are used unsigned: Σ u · q_x − 128 · Σ q_x, the
// u8 × i8 → i32 sum of 4 products that vpdpbusd computes (Halide matches it for targets with
// avx512_sapphirerapids, i.e. AVX512-VNNI; elsewhere pmaddwd). On other targets the codes are
// flipped to signed int8 (u ^ 0x80) for i8 × i8 → i32 (sdot with arm_dot_prod).
// Lane layout: 16 int32 lanes × 4 consecutive bytes = 64 columns per step; the 4 are reduced by
// a vectorised atomic reduction, the pattern that becomes one dot-product instruction. Columns
// past the last whole step (cols % 64) are a scalar tail.
//
// Schedule: the activations are quantized once per call (compute_root, parallel over tokens);
// rows are tiled and run in parallel like the float kernel; a fixed small batch is unrolled
// inside the row so each weight row is loaded once. -O levels (OptLevel.h): O0 scalar and
// serial (activations still quantized once), O1 vectorised, O2 + parallel, O3 + batch unroll.
//
//===----------------------------------------------------------------------===//
#include "MatMulW8A8.h"

#include "WeightDecoders.h"

using namespace Halide;

namespace qcc::kernels {

void defineMatMulW8A8(Func x, Func w, Func y, Expr cols, Var r, Var i, const Target &target,
                      const W8A8Options &options) {
  Var k("k"), j("j");
  const bool unsignedCodes = target.arch == Target::X86;

  // Per-token quantization (rt::fakeQuantizeInt8PerRow).
  RDom rk(0, cols, "rk");
  Func amax("amax");
  amax(i) = 0.0f;
  amax(i) = max(amax(i), abs(x(rk, i)));
  Func scale("act_scale");
  scale(i) = max(amax(i), 1e-5f) / 127.0f;
  Func q("act_q");
  q(k, i) = cast<int8_t>(clamp(round(x(k, i) / scale(i)), -127.0f, 127.0f));
  Func qsum("act_qsum");
  qsum(i) = 0;
  qsum(i) += cast<int32_t>(q(rk, i));

  // Weight code of column c of row r, as the integer the dot product multiplies.
  auto code = [&](Expr c) {
    Expr u = w(2 + c, r);
    return unsignedCodes ? cast<int32_t>(u) : cast<int32_t>(cast<int8_t>(u ^ 128));
  };

  const int lanes = 16, group = 4, step = lanes * group;
  RDom rd(0, group, 0, cols / step, "rd");
  Func acc("acc");
  acc(j, r, i) = 0;
  acc(j, r, i) += code(step * rd.y + group * j + rd.x) * cast<int32_t>(q(step * rd.y + group * j + rd.x, i));

  // The tail (< 64 columns) sums in float, which is exact here (|products| ≤ 32385, at most 63
  // of them: < 2^24). An int32 loop would be vectorised by LLVM into ymm dot products, which for
  // Halide's avx512_sapphirerapids feature means VEX-encoded AVX-VNNI (vpdpwssd): CPUs with
  // AVX512-VNNI but without AVX-VNNI (Ice Lake / Cooper Lake servers, which Halide 14's host
  // detection reports as sapphirerapids) would fault on them.
  Expr main = cols / step * step;
  RDom rt(main, cols - main, "rt");
  Func tail("acc_tail");
  tail(r, i) = 0.0f;
  tail(r, i) += cast<float>(code(rt)) * cast<float>(q(rt, i));

  Expr total = cast<int32_t>(tail(r, i));
  for (int l = 0; l < lanes; ++l)
    total = total + acc(l, r, i);
  if (unsignedCodes)
    total = total - 128 * qsum(i);
  Expr ws = halfToFloat(w(0, r), w(1, r));
  y(r, i) = cast<float>(total) * (scale(i) * ws);

  // Schedule.
  Var ro("ro"), ri("ri");
  if (target.has_gpu_feature()) {
    Var ko("ko"), ki("ki"), io("io"), ii("ii");
    scale.compute_root().gpu_tile(i, io, ii, 32, TailStrategy::GuardWithIf);
    qsum.compute_root().gpu_tile(i, io, ii, 32, TailStrategy::GuardWithIf);
    qsum.update().gpu_tile(i, io, ii, 32, TailStrategy::GuardWithIf);
    q.compute_root().gpu_tile(k, i, ko, io, ki, ii, 64, 1, TailStrategy::GuardWithIf);
    y.gpu_tile(r, i, ro, io, ri, ii, 64, 1, TailStrategy::GuardWithIf);
    acc.compute_at(y, ri).unroll(j);
    acc.update().reorder(j, rd.x, rd.y).unroll(j).unroll(rd.x);
    tail.compute_at(y, ri);
    return;
  }
  const OptLevel o = options.opt;
  // Every level: the activations quantized once per call (else every weight would recompute
  // its token's max). O0 leaves the rest to Halide's defaults (acc and the tail per output).
  scale.compute_root();
  q.compute_root();
  qsum.compute_root();
  if (!o.vectorize())
    return;
  q.vectorize(k, 64, TailStrategy::GuardWithIf);
  if (o.parallel()) {
    scale.parallel(i);
    q.parallel(i);
    qsum.update().parallel(i);
  }

  y.split(r, ro, ri, options.rowTile, TailStrategy::GuardWithIf);
  if (options.smallBatch)
    y.reorder(i, ri, ro);
  else
    y.reorder(ri, i, ro);
  const bool unrollBatch = options.smallBatch && o.unroll();
  if (unrollBatch)
    y.unroll(i);
  if (o.parallel())
    y.parallel(ro);
  acc.compute_at(y, ri).vectorize(j);
  tail.compute_at(y, ri);
  if (options.smallBatch) {
    acc.update().reorder(rd.x, j, i, rd.y).atomic().vectorize(rd.x).vectorize(j);
    tail.update().reorder(i, rt);
    if (unrollBatch) {
      acc.update().unroll(i);
      tail.update().unroll(i);
    }
  } else {
    acc.update().reorder(rd.x, j, rd.y).atomic().vectorize(rd.x).vectorize(j);
  }
}

} // namespace qcc::kernels
