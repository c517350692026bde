//===- MatMulQ8K.cpp - qcc_matmul act_quant=q8_block for q4_K and q6_K ------===//
//
// Decode GEMVs of the K-quants as ggml's ggml_vec_dot_q4_K_q8_K / _q6_K_q8_K compute them:
//
// 1. Once per call, the activations of each token are quantized per super-block of 256
//    columns, ggml's q8_K blocks, with quantize_row_q8_0's arithmetic (MatMulQ8Act.cpp):
//    dx = max|x| / 127, q = round_half_even(x · (dx ? 1/dx : 0)), x̂ = dx · q; and per group of
//    the weight's scales (q4_K: sub-blocks of 32 columns, q6_K: 16) the sum of its codes (bsums).
// 2. A weight value is d · sc_g · c − mn_g with an integer code c and integer group scale sc_g
//    (q4_K: c in 0..15, sc and m 6-bit, mn_g = dmin · m_g; q6_K: c in 0..63 stored +32, sc int8,
//    w = d · sc_g · (c − 32)). So per super-block b the dot product with x̂ is
//       d_b · dx_b · Σ_g sc_g · Σ_{k in g} c_k q_k  −  (q4_K) dmin_b · dx_b · Σ_g m_g · bsum_g
//                                                   −  (q6_K) 32 · d_b · dx_b · Σ_g sc_g · bsum_g
//    The first sum is integer: per step (64 code bytes = 128 columns, a half of one super-block)
//    and half h (low / high nibble, q6_K: the two 64-column halves), pmaddubsw multiplies code
//    and activation bytes into i16 pairs and pmaddwd multiplies those pairs by the lanes' group
//    scales (sc as i16) and adds them into i32: the scales cost no float work at all. The four
//    steps and halves of a super-block chain into one accumulator (vpdpwssd with AVX512-VNNI),
//    converted once and multiplied by d_b · dx_b (one FMA per 16 lanes and super-block). Each
//    lane's scale vector is one permute of the block's scales. The second sum (the mins, or
//    q6_K's −32 offset) is folded into the same per-block update as pmaddwd pairs of i16
//    products, the bsums kept as i16: q6_K's 16 sc · bsum in lanes 0..7 into the integer sum
//    (its factor is d_b · dx_b too), q4_K's 8 mins · bsums in lanes 0..3, times dmin_b · dx_b.
// 3. y = the fixed pairwise sum of the 16 lane sums.
//
// y equals Σ_k w_k · x̂_k (w the exact dequantized weights, x̂ per 256 columns) up to float
// summation order: unittests/Codegen/Q8ActTest.cpp checks it against that scalar model.
// Activation blocks of 256 (not 32, as MatMulQ8Act.cpp uses for q4_0 and int4 groups) are
// ggml's choice for the K-quants, and what makes the integer scale folding possible: one dx
// per step.
//
// Byte layouts (WeightDecoders.cpp): q4_K 144 B per 256 values: d, dmin, scales[12] @4,
// qs[128] @16; step s covers qs[64·(s%2) ..]: byte p holds column 128s + 64·(p/32) + p%32 (low
// nibble, group 4s + 2·(p/32)) and + 32 (high nibble, the next group). q6_K 210 B: ql[128],
// qh[64] @128, scales int8[16] @192, d @208; step s = half s%2 of block s/2: ql[64·(s%2) + p]
// holds the low 4 bits of column 128s + p (low nibble) and 128s + 64 + p (high nibble), their
// 2 high bits in qh[32·(s%2) + p%32] at shift 2·(p/32) (+4 for the high nibble); group
// (16 columns) 8s + 4h + p/16.
//
// Schedule (CPU, O ≥ 1): as MatMulQ8Act.cpp: activations once per call (compute_root), rows in
// parallel tiles, optionally `rowBlock` rows per step, the batch (≤ 8) unrolled; one pass over
// each row: per super-block its d (· dmin) and group scales (one vector), then both steps and
// halves unrolled. q6_K with AVX512-VNNI and the targets without x86 pmaddubsw (arm dot
// products) take each lane's 4-byte dot product as one integer reduction (vpdpbusd / sdot)
// times the lane's group scale.
//
// Measured (bench/kernels/gemv-bench, docs/Benchmarks.md): q4_K 4096 x 4096 on one core, weights
// in L3, 12.9 GB/s against 8.0 for the 32-column layout this replaced and 6.5 for the float
// kernel. Streaming from memory on 2 cores (bench/kernels/gemv-shape.sh, same minutes), reading
// the scales inside the block loop instead of per-row tables built before it: q6_K 4096 x 14336
// 15-16 -> 20-21 GB/s, q6_K 128256 x 4096 20 -> 33, q4_K 4096 x 14336 13.5-14 -> 17-20. One
// core, 2048 x 4096 in L3 (gemv-shape.sh, GEMV_SHAPE_COPIES=1): the vpdpwssd chain, permuted
// scale vectors and pmaddwd mins took q4_K from 18.5 to 23.3 GB/s (a hand-written AVX512 loop
// packing vpdpbusd sums with vpackssdw reached 29-30: what is left), the permuted scales q6_K
// from 26.7 to 28.9; q4_K's scale unpack on 32-bit words then took it to 24.5. Then (the old
// and new kernel alternated call by call, same minutes): the unpack as one 16-lane vector
// (below) and d, dmin as one 2-lane conversion into two accumulators took q4_K's block loop
// from ~75 to 44 instructions and 23.3 to 26.5 GB/s (+13 %); AVX2 unchanged (15.2 -> 15.5).
// On Zen 4 the loop is bound by the 512-bit multiply ports (pmaddubsw, vpdpwssd, gf2p8affine
// and the FMAs each take both halves of one of two 256-bit pipes; the permutes share one):
// the core of 4 pmaddubsw + 4 vpdpwssd + 2 gf2p8affine + 1 FMA alone runs at 11 cycles per
// super-block, the whole loop at ~20 (26.5 GB/s at 3.6 GHz). q6_K with vpdpbusd: i32 group
// scales (vpermd, no sign extension per lane vector) and dx as a value, 27.7 -> 29.3 GB/s at
// 2048 x 4096 and 28.6 -> 28.9 at 512 x 14336 (3 passes each).
//
//===----------------------------------------------------------------------===//
#include "MatMulQ8Act.h"

#include "WeightDecoders.h"

#include <algorithm>

using namespace Halide;

namespace qcc::kernels {
namespace {

Expr i16(Expr e) { return cast<int16_t>(e); }
Expr i32(Expr e) { return cast<int32_t>(e); }
Expr f32(Expr e) { return cast<float>(e); }

} // namespace

bool isQ8KFormat(const std::string &format) {
  const std::string f = lowerFormat(format);
  return f == "q4_k" || f == "q6_k";
}

void defineMatMulQ8K(Func x, Func w, Func y, const std::string &format, Expr cols, Var r, Var i,
                     const Target &target, const Q8ActOptions &options) {
  const bool q6 = lowerFormat(format) == "q6_k";
  const int groupCols = q6 ? 16 : 32;     // columns per scale group
  Var b("b"), c("c"), p("p"), h("h"), s("s"), j("j"), g("g"), q("q"), k("k");
  const bool x86 = target.arch == Target::X86;
  // x86 pairs (pmaddubsw, then the scales by pmaddwd / vpdpwssd) for q4_K everywhere, and for
  // q6_K without AVX512-VNNI; q6_K with it uses vpdpbusd (below). With the scales applied per
  // i16 pair the four halves of a super-block chain into one vpdpwssd accumulator: q4_K one
  // core, weights in L3, 18.8 -> 23.3 GB/s together with the shuffled scales and the mins in
  // pmaddwd (below); q6_K, 2 more bytes per group of 16, was slower that way (26.6 -> 22.0).
  const bool pairs = x86 && target.has_feature(Target::SSE41) &&
                     (!q6 || !target.has_feature(Target::AVX512_SapphireRapids));

  // 1. Activations: per token and super-block of 256 columns, dx and its inverse; the codes in
  // column order, arranged per step and half in the weight's byte order; the groups' sums.
  RDom r256(0, 256, "r256");
  Func amax("q8k_amax"), dx("q8k_dx"), inv("q8k_inv");
  amax(b, i) = 0.0f;
  amax(b, i) = max(amax(b, i), abs(x(256 * b + r256, i)));
  dx(b, i) = amax(b, i) / 127.0f;
  inv(b, i) = select(dx(b, i) != 0.0f, 1.0f / dx(b, i), 0.0f);
  Func qn("q8k_q");
  qn(c, i) = cast<int8_t>(clamp(round(x(c, i) * inv(c / 256, i)), -127.0f, 127.0f));
  auto column = [&](Expr s_, Expr h_, Expr p_) -> Expr {
    if (q6)
      return 128 * s_ + 64 * h_ + p_;
    return 128 * s_ + 64 * (p_ / 32) + 32 * h_ + p_ % 32;
  };
  Func xq("q8k_x");
  xq(p, h, s, i) = qn(column(s, h, p), i);
  RDom rg(0, groupCols, "rg");
  Func bsum("q8k_bsum");
  bsum(g, i) = 0;
  bsum(g, i) += i32(qn(groupCols * g + rg, i));

  // 2. Per super-block b of a row: its scales d (q4_K: and dmin), and per lane j (16) its
  // group's integer scale (q6_K: the 16 groups; q4_K: the 8 sub-blocks' scales in lanes 0..7,
  // their mins in lanes 8..15). Read inside the block loop, from the block's own bytes:
  // built per row before the loop (strided reads, a cache line per super-block), the tables of
  // long rows (q6_K 4096 x 14336: 56 lines) ran ahead of the hardware prefetcher into memory.
  auto W = [&](Expr off) { return w(off, r); };
  // q6_K: d per super-block; q4_K: dd(k) = d (k = 0) and dmin (k = 1), one 2-lane conversion.
  Func dd("q8k_d"), ddx("q8k_d_dx");
  if (q6) {
    dd(b, r) = halfToFloat(W(210 * b + 208), W(210 * b + 209));
  } else {
    dd(k, b, r) = halfToFloat(W(144 * b + 2 * k), W(144 * b + 2 * k + 1));
    ddx(k, b, r, i) = dd(k, b, r) * dx(b, i);
  }
  Func sc("q8k_scale"), raw("q8k_scale_bytes");
  if (q6) {
    // i16 for pmaddwd's pairs; i32 for the 4-byte dot products (one vpermd per lane vector,
    // not a word permute and a sign extension).
    Expr s8 = cast<int8_t>(W(210 * b + 192 + j));
    sc(j, b, r) = pairs ? i16(s8) : i32(s8);
  } else {
    // ggml's get_scale_min_k4 on the 12 scale bytes S at 4, per lane j of one 16-lane i16
    // vector: scales 0..7 in lanes 0..7, mins 0..7 in lanes 8..15. Sub-block k < 4: scale
    // S[k] & 63, min S[k+4] & 63; k >= 4: scale (S[k+4] & 15) | (S[k-4] >> 6) << 4, min
    // (S[k+4] >> 4) | (S[k] >> 6) << 4. So lane j = ((S[xi] >> sx) & mx) | ((S[yi] >> 2) & my)
    // with per-lane constants; S[xi] and S[yi] are permutes of the block's 16 bytes at 4 (one
    // load: the scales and 4 code bytes), sx a per-lane shift.
    raw(q, b, r) = i16(W(144 * b + 4 + q));
    Expr lowHalf = j < 4 || (j >= 8 && j < 12); // S[k] & 63 lanes: scales and mins 0..3
    Expr xi = clamp(select(j < 4, j, j < 8, j + 4, j - 4), 0, 15);
    Expr yi = clamp(select(j < 8, j - 4, j - 8), 0, 15);
    Expr sx = i16(select(j >= 12, 4, 0));
    Expr mx = i16(select(lowHalf, 63, 15)), my = i16(select(lowHalf, 0, 0x30));
    sc(j, b, r) = ((raw(xi, b, r) >> sx) & mx) | ((raw(yi, b, r) >> 2) & my);
  }
  // pairSum(j): an offset term in pairs of i16 products (pmaddwd; one 8- or 4-lane vector).
  // q6_K: the −32 offset's Σ sc · bsum over the 16 groups, in lanes 0..7 (|sc · bsum| <=
  // 128 · 16 · 127). The group sums as i16 take 2 bytes per 16 columns, not 4: on long rows
  // every activation byte read per row competes in L1 with the streamed weights (4096 x 14336
  // streamed 3-14 % faster, one core in L3 5-7 % slower: one more sign extension per block).
  // q4_K: the mins term per pair of sub-blocks (|m · bsum| <= 63 · 32 · 127), lanes 0..3.
  Func bsumL("q8k_bsum_lane"), pairSum("q8k_pair_sum");
  RDom rm(0, 2, "rm");
  const int pairLanes = q6 ? 8 : 4;
  bsumL(g, i) = i16(bsum(g, i));
  pairSum(j, b, r, i) = 0;
  if (q6) {
    Expr s16 = i16(cast<int8_t>(W(210 * b + 192 + 2 * j + rm)));
    pairSum(j, b, r, i) += i32(s16) * i32(bsumL(16 * b + 2 * j + rm, i));
  } else {
    pairSum(j, b, r, i) += i32(sc(8 + 2 * j + rm, b, r)) * i32(bsumL(8 * b + 2 * j + rm, i));
  }
  // 3. Per row and step: the codes. q6_K's two high bits come from a staged Func computed per
  // super-block in 32-byte halves (p / 32 constant in each): one constant shift per half (an
  // inline select of two shifts becomes a per-lane vpsllvw on widened words, 2x the work).
  Func q6High("q8k_q6_high");
  if (q6) {
    Expr qh = W(210 * (s / 2) + 128 + 32 * (s % 2) + p % 32);
    q6High(p, h, s, r) = ((qh >> cast<uint8_t>(4 * h + 2 * (p / 32))) & 3) << 4;
  }
  auto code = [&](Expr s_, Expr p_, Expr h_) -> Expr {
    if (!q6) {
      Expr byte = W(144 * (s_ / 2) + 16 + 64 * (s_ % 2) + p_);
      return select(h_ == 0, byte & 15, byte >> 4);
    }
    Expr ql = W(210 * (s_ / 2) + 64 * (s_ % 2) + p_);
    Expr low = select(h_ == 0, ql & 15, ql >> 4);
    return low | q6High(p_, h_, s_, r);
  };
  // The group of half h_ of code byte p_ of step s_ (2 per step for q4_K, 4 for q6_K), and the
  // lane's scale read from the block's scale vector at that index: after unrolling, LLVM
  // makes it one vpermw / vpermd of that vector per step and half. (A select over the
  // groups' broadcast entries, used before, became a permute, a broadcast and an insert each.)
  auto laneScale = [&](Expr s_, Expr h_, Expr byteIdx) -> Expr {
    Expr blk = s_ / 2;
    if (!q6)
      return sc(4 * (s_ % 2) + h_ + 2 * (byteIdx / 32), blk, r);
    return sc(8 * (s_ % 2) + 4 * h_ + byteIdx / 16, blk, r);
  };

  // isum(j, b): the super-block's integer sum per lane, both steps and halves.
  Func p16("q8k_p16"), isum("q8k_isum"), isumH("q8k_isum_half");
  if (pairs) {
    // p16(q): bytes 2q, 2q+1 (pmaddubsw); isum(j): i16 pairs 2j, 2j+1 times their scales,
    // accumulated over the 2 steps and 2 halves (pmaddwd, vpdpwssd). Both are exact:
    // |2 · 63 · 127| < 2^15, and |4 · 2 · 16002 · 128| < 2^31 / 128.
    RDom rp(0, 2, "rp");
    p16(q, h, s, r, i) = i16(0);
    // saturating_add: the pattern Halide lowers to pmaddubsw (never saturates here).
    p16(q, h, s, r, i) = saturating_add(p16(q, h, s, r, i),
                                        i16(code(s, 2 * q + rp, h)) * i16(xq(2 * q + rp, h, s, i)));
    RDom rk(0, 2, 0, 2, 0, 2, "rk"); // pair element, half, step
    isum(j, b, r, i) = 0;
    isum(j, b, r, i) += i32(p16(2 * j + rk.x, rk.y, 2 * b + rk.z, r, i)) *
                        i32(laneScale(2 * b + rk.z, rk.y, 2 * (2 * j + rk.x)));
  } else {
    RDom rt(0, 4, "rt");
    // Here p16 is the lane's 4-byte dot product (i32); codes < 64 as int8 on arm (sdot is
    // signed × signed).
    Expr cd = code(s, 4 * j + rt, h);
    if (!x86)
      cd = cast<int8_t>(cd);
    p16(j, h, s, r, i) = 0;
    p16(j, h, s, r, i) += i32(cd) * i32(xq(4 * j + rt, h, s, i));
    isumH(j, h, s, r, i) = p16(j, h, s, r, i) * i32(laneScale(s, h, 4 * j));
    isum(j, b, r, i) = (isumH(j, 0, 2 * b, r, i) + isumH(j, 1, 2 * b, r, i)) +
                       (isumH(j, 0, 2 * b + 1, r, i) + isumH(j, 1, 2 * b + 1, r, i));
  }
  // Per super-block: the integer sum converted once; the offset term folded in per lane:
  // q6_K's −32 · Σ sc · bsum into the integer sum (same factor d · dx; lanes 0..7, the lanes
  // are summed in the end anyway), q4_K's mins (4 lanes) times dmin · dx.
  RDom rs(0, cols / 256, "rs");
  Func acc("q8k_acc"), accDiff("q8k_acc_diff");
  Expr isum4 = isum(j, rs, r, i);
  Expr pairLane = select(j < pairLanes, pairSum(min(j, pairLanes - 1), rs, r, i), 0);
  if (q6) {
    acc(j, r, i) = 0.0f;
    acc(j, r, i) += f32(isum4 - 32 * pairLane) * (dd(rs, r) * dx(rs, i));
    y(r, i) = laneTreeSum(acc, 16, r, i);
  } else {
    // Two accumulators (the d and the dmin terms), each one FMA per super-block (as one
    // expression: a multiply, an FMA and an add).
    acc(j, r, i) = Tuple(0.0f, 0.0f);
    acc(j, r, i) = Tuple(acc(j, r, i)[0] + f32(isum4) * ddx(0, rs, r, i),
                         acc(j, r, i)[1] + f32(pairLane) * ddx(1, rs, r, i));
    accDiff(j, r, i) = acc(j, r, i)[0] - acc(j, r, i)[1];
    y(r, i) = laneTreeSum(accDiff, 16, r, i);
  }

  // Schedule.
  const OptLevel o = options.opt;
  amax.compute_root();
  dx.compute_root(); // inlined, Halide took amax / 127 apart: one more multiply per block
  qn.compute_root();
  xq.compute_root();
  bsum.compute_root();
  bsumL.compute_root();
  const int RB = std::max(1, options.rowBlock);
  Var ro("ro"), ri("ri"), rr("rr");
  Var rbk = rowLoops(y, r, i, ro, ri, rr, options.rowTile, RB);
  dd.compute_at(acc, rs);
  if (!q6) {
    dd.bound(k, 0, 2);
    ddx.compute_at(acc, rs).bound(k, 0, 2);
  }
  sc.compute_at(acc, rs).bound(j, 0, 16);
  if (!q6)
    raw.compute_at(acc, rs).bound(q, 0, 16);
  acc.compute_at(y, rbk);
  pairSum.compute_at(acc, rs);
  if (!o.vectorize())
    return;
  amax.update().atomic().vectorize(r256, 16);
  qn.vectorize(c, 32);
  {
    Var po("po"), pi("pi");
    xq.split(p, po, pi, 32).vectorize(pi).unroll(h);
  }
  bsum.update().atomic().vectorize(rg);
  bsumL.vectorize(g, 16);
  sc.vectorize(j, 16);
  if (!q6) {
    raw.vectorize(q, 16);
    dd.vectorize(k);
    ddx.vectorize(k);
  }
  if (o.parallel()) {
    qn.parallel(i);
    y.parallel(ro);
  }
  const bool unroll = o.unroll();
  acc.vectorize(j);
  acc.update().reorder(j, i, r, rs).vectorize(j);
  // Software prefetch of the weights 8 super-blocks (1.1-1.7 KB per row) ahead of the block
  // loop, past the row's end into the next row (prefetches do not fault). When the per-row
  // tables were built before the loop, the hardware prefetchers alone left the kernel waiting
  // on its loads: q4_K 14336 x 4096 went from 10-12 to 15-17 GB/s and q6_K 4096 x 4096 from
  // 6-9 to 18 GB/s with it (2 and 4 blocks ahead helped less, 16 less too). With the tables
  // read inside the block loop it is kept for q6_K only. Alternated call by call against a
  // plain read of the same bytes on 2 cores, q4_K 14336 x 4096 streams faster without it
  // (+3.5 % of the read in slow minutes, +8 % in fast ones), and q6_K 4096 x 14336 slower
  // (-7 %, -11 %).
  if (q6 && o.parallel() && options.weights.defined())
    acc.update().prefetch(options.weights, rs, rs, 8, PrefetchBoundStrategy::NonFaulting);
  if (RB > 1) {
    acc.bound_extent(r, RB).unroll(r);
    acc.update().unroll(r);
    dd.unroll(r);
    sc.unroll(r);
    if (!q6) {
      ddx.unroll(r);
      raw.unroll(r);
    }
    if (unroll)
      y.unroll(rr);
  }
  if (unroll) {
    y.unroll(i);
    acc.update().unroll(i);
    if (!q6)
      ddx.unroll(i);
  }
  if (q6) {
    Var po("po"), pi("pi");
    q6High.compute_at(acc, rs).split(p, po, pi, 32).vectorize(pi).unroll(po).unroll(h).unroll(s);
    if (RB > 1)
      q6High.unroll(r);
  }
  p16.compute_at(acc, rs).unroll(h).unroll(s);
  pairSum.bound(j, 0, pairLanes).vectorize(j);
  pairSum.update().reorder(rm, j, r, i).atomic().vectorize(rm).vectorize(j);
  if (RB > 1) {
    p16.unroll(r);
    pairSum.unroll(r).update().unroll(r);
  }
  if (unroll) {
    p16.unroll(i);
    pairSum.unroll(i).update().unroll(i);
  }
  const std::vector<RVar> pv = p16.rvars(0);
  if (pairs) {
    p16.vectorize(q);
    p16.update()
        .reorder(pv[0], q, h, s, r, i)
        .atomic(/*override_associativity_test=*/true)
        .vectorize(pv[0])
        .vectorize(q)
        .unroll(h)
        .unroll(s);
    // The pair element innermost (pmaddwd's pairs), then the lanes; the 4 halves unrolled
    // into one accumulator.
    const std::vector<RVar> iv = isum.rvars(0);
    isum.compute_at(acc, rs).vectorize(j);
    isum.update()
        .reorder(iv[0], j, iv[1], iv[2], r, i)
        .atomic()
        .vectorize(iv[0])
        .vectorize(j)
        .unroll(iv[1])
        .unroll(iv[2]);
    if (RB > 1) {
      p16.update().unroll(r);
      isum.unroll(r).update().unroll(r);
    }
    if (unroll) {
      p16.update().unroll(i);
      isum.unroll(i).update().unroll(i);
    }
  } else {
    isumH.compute_at(acc, rs).vectorize(j).unroll(h).unroll(s);
    if (RB > 1)
      isumH.unroll(r);
    if (unroll)
      isumH.unroll(i);
    p16.vectorize(j);
    p16.update()
        .reorder(pv[0], j, h, s, r, i)
        .atomic()
        .vectorize(pv[0])
        .vectorize(j)
        .unroll(h)
        .unroll(s);
    if (RB > 1)
      p16.update().unroll(r);
    if (unroll)
      p16.update().unroll(i);
  }
}

} // namespace qcc::kernels
