//===- MatMulQ8Act.cpp - act_quant=q8_block for q4_0, q8_0 and int4 ---------===//
//
// Decode GEMVs of q4_0, q8_0 and qcc's int4 groups as integer dot products, as llama.cpp does
// (ggml's vec_dot of q4_0 × q8_0, q8_0 × q8_0); q4_K and q6_K: MatMulQ8K.cpp. q8_0's codes are
// whole bytes (BlockLayout: half h of code byte p is its own byte), taken +128 as unsigned so
// that they multiply like the nibbles; its offset −128 d goes into the integer sums as q4_0's
// −8 d does. Only the 4-byte reductions (vpdpbusd, and the generic form elsewhere) take them:
// pmaddubsw pairs of 8-bit codes reach 2 · 255 · 127 > 2^15 (q8ActivationsSupported selects
// q8_0 on AVX512-VNNI CPUs only).
//
// 1. Once per call, the activations of each token are quantized per block of 32 columns like
//    ggml's quantize_row_q8_0: dx = max|x| / 127, q = round_half_even(x · (dx ? 1/dx : 0)),
//    x̂ = dx · q.
// 2. The codes are arranged in the weight's byte order (xq(p, h, s): the activation that
//    meets half h (low / high nibble) of code byte p of step s). Lanes 4t..4t+3 of a step (16
//    code bytes, both halves) hold activation block t of the step's 4 and one weight scale;
//    per block: dx_t and xs_t = dx_t · Σ q / 4 over its 32 columns (a quarter per lane: the
//    4 lanes together add the block's sum).
// 3. Per row and step (64 code bytes = 128 columns), 16 lanes: the integer sum
//       isum(j) = Σ_h Σ_{t<4} code(4j + t, h) · q(4j + t, h)
//    (u8 nibbles × i8 codes → i32: vpdpbusd with AVX512-VNNI (Halide's avx512_sapphirerapids),
//    else pmaddubsw + pmaddwd; sdot with arm_dot_prod), then
//       acc(j) += float(isum) · (a · dx_{j/4}) + o · xs_{j/4}
//    with w = a · code + o the lane's weight scale and offset (q4_0: d, −8d; int4 groups: s,
//    −s·z). The offset term uses the quantized activations' sums (Σ q·dx, as ggml's bsums), not
//    the float sums of x: then the result is exactly Σ w · x̂, whose error Σ w · (x̂ − x)
//    involves the centred weights, smaller than with the uncentred a · code (codes are 0..15,
//    the offset removes their mean). It is added once per row, Σ_e o_e · Σx̂_e over the row's
//    table entries spread over the 16 lanes, and per step only acc(j) += float(isum) ·
//    (dx_{j/4} · a) where an entry covers whole steps (int4 groups of >= 128 columns), else
//    float(isum) · c_{j/4} with c = a · dx per activation block from a per-row table (int4 g32:
//    an entry per block, g64: per 2 blocks) (2 cores streaming, int4 g128 14336 x 4096 30.3 ->
//    33.5 GB/s, 4096 x 14336 25.6 -> 27.3; int4 g64, which blended the step's 2 entries with two
//    FMAs per step before: 14336 x 4096 32.6 -> 35.6, one core in L2 21.9 -> 26.0). q4_0, whose
//    d sits inside each block, computes c from the step's own 4 d and starts the integer sums at
//    −8 · Σ q of each block's activation codes, a quarter in each of its 4 lanes (no per-row
//    work; 4096 x 14336 15.6 -> 22.3 in three changes).
// 4. y = the fixed pairwise sum of the 16 lanes.
//
// So y equals Σ_k w_k · x̂_k (w the exact dequantized weights) up to float summation order:
// unittests/Codegen checks it against a scalar model to ~1e-6 (relative to Σ|w·x̂|).
//
// Schedule (CPU, O ≥ 1): the quantization and arrangement once per call (compute_root,
// vectorised); rows in parallel tiles; per row, the lanes' float sums in one vector, the
// step's integer sums in a second Func computed per step (the 4-wide sum an atomic vectorised
// reduction, the pattern Halide turns into dot-product instructions); the step's 4 block
// scales and sums as 4-lane vectors spread over the 16 lanes by one permute each (16 lanes per
// step read from memory before: 2 bytes of activation data per column, past L1 on 14336-column
// rows); the batch (≤ 8) unrolled inside the row; the row's codes prefetched 4 steps ahead.
// With rowBlock > 1 (row_block=, MatMulGenerator.cpp) that many rows run together, unrolled
// inside the step loop, so each step's activation codes, scales and sums are loaded once for
// all of them (and the tables are built for the block).
// O0: Halide's defaults (scalar), except the per-call Funcs.
//
//===----------------------------------------------------------------------===//
#include "MatMulQ8Act.h"

#include "WeightDecoders.h"

#include <algorithm>
#include <cstdio>

using namespace Halide;

namespace qcc::kernels {
namespace {

Expr f32(Expr e) { return cast<float>(e); }
using Reader = std::function<Expr(Expr)>;
using ParamReader = std::function<Expr(Expr, int)>;

/// Set per generated kernel (x86): convert halves with Halide's float16 cast. Halide 14 lowers
/// it with integer operations too (no vcvtph2ps), but more cheaply than halfToFloat's selects;
/// the q8 kernels are approximate anyway, and the model test checks the result.
thread_local bool halideHalfCast = false;

Expr halfAt(const Reader &w, Expr off) {
  if (halideHalfCast && !HalfToFloatExtern::active()) {
    Expr u = cast<uint16_t>(w(off)) | (cast<uint16_t>(w(off + 1)) << 8);
    return cast<float>(reinterpret<float16_t>(u));
  }
  return halfToFloat(w(off), w(off + 1));
}

/// ggml's blocks of 32 values with their f16 d first (d @0, codes @2): a step is 4 blocks,
/// code byte p belongs to block p/16 and meets the block's columns p%16 (half 0) and 16 + p%16
/// (half 1); w = d · code + offset · d. Table: entry per block: d, offset · d.
///  q4_0: 18-byte blocks, qs[16] of two nibbles (low: half 0), offset −8.
///  q8_0: 34-byte blocks, qs[32] int8: half h of code byte p is qs[16h + p%16], taken as the
///        unsigned code qs + 128 (one XOR), offset −128.
class BlockLayout : public Q8Layout {
public:
  BlockLayout(int blockBytes, float offset, bool byteCodes, int prefetchSteps)
      : blockBytes_(blockBytes), offset_(offset), byteCodes_(byteCodes),
        prefetchSteps_(prefetchSteps) {}
  int prefetchSteps() const override { return prefetchSteps_; }
  int colMultiple() const override { return 128; }
  Expr rowBytes(Expr cols) const override { return cols / 32 * blockBytes_; }
  Expr codeByte(Expr s, Expr p, Expr cols) const override { return byteOfHalf(s, p, 0, cols); }
  Expr byteOfHalf(Expr s, Expr p, Expr h, Expr) const override {
    Expr b = blockBytes_ * (4 * s + p / 16) + 2 + p % 16;
    return byteCodes_ ? b + 16 * h : b;
  }
  Expr column(Expr s, Expr h, Expr p) const override {
    return 128 * s + 32 * (p / 16) + 16 * h + p % 16;
  }
  int halfParams() const override { return 1; }
  Expr paramBlocks(Expr cols) const override { return cols / 32; }
  Expr halfParamByte(Expr b, int, Expr) const override { return blockBytes_ * b; }
  Expr tableSize(Expr cols) const override { return cols / 32; }
  void tableEntry(Expr e, Expr, const Reader &, const ParamReader &P, Expr &a,
                  Expr &o) const override {
    a = P(e, 0);
    o = offset_ * a;
  }
  float offsetFactor() const override { return offset_; }
  int entryColumns() const override { return 32; }
  bool paramsInBlocks() const override { return true; }
  bool byteCodes() const override { return byteCodes_; }

private:
  int blockBytes_;
  float offset_;
  bool byteCodes_;
  int prefetchSteps_;
};

/// qcc's int4 groups (IntGroupDecoder.cpp): params (f16 scale [, f16 zero]) of every group
/// first, then the codes, two per byte, low nibble first: byte p of step s holds columns
/// 128s + 2p (low) and + 1 (high). Groups of G >= 128 columns hold whole steps; smaller ones
/// (32, 64) are 128/G per step. Table: entry per group: s, −s·z (symmetric: z = 8).
class Int4Layout : public Q8Layout {
public:
  Int4Layout(int group, bool symmetric) : group_(group), symmetric_(symmetric) {}
  int colMultiple() const override { return std::max(group_, 128); }
  Expr rowBytes(Expr cols) const override { return cols / group_ * paramBytes() + cols / 2; }
  Expr codeByte(Expr s, Expr p, Expr cols) const override {
    return cols / group_ * paramBytes() + 64 * s + p;
  }
  Expr column(Expr s, Expr h, Expr p) const override { return 128 * s + 2 * p + h; }
  int halfParams() const override { return symmetric_ ? 1 : 2; }
  Expr paramBlocks(Expr cols) const override { return cols / group_; }
  Expr halfParamByte(Expr b, int k, Expr) const override { return b * paramBytes() + 2 * k; }
  Expr tableSize(Expr cols) const override { return cols / group_; }
  void tableEntry(Expr e, Expr, const Reader &, const ParamReader &P, Expr &a,
                  Expr &o) const override {
    a = P(e, 0);
    o = symmetric_ ? -8.0f * a : -(a * P(e, 1));
  }
  float offsetFactor() const override { return symmetric_ ? -8.0f : 0.0f; }
  int entryColumns() const override { return group_; }
  int prefetchSteps() const override { return group_ == 64 ? 4 : 0; }

private:
  int paramBytes() const { return symmetric_ ? 2 : 4; }
  int group_;
  bool symmetric_;
};

} // namespace

Expr laneTreeSum(Func f, int lanes, Var r, Var i) {
  std::vector<Expr> level;
  for (int l = 0; l < lanes; ++l)
    level.push_back(f(l, r, i));
  while (level.size() > 1) {
    std::vector<Expr> next;
    for (size_t m = 0; m + 1 < level.size(); m += 2)
      next.push_back(level[m] + level[m + 1]);
    if (level.size() % 2)
      next.push_back(level.back()); // an odd lane count: the last one moves up a level
    level.swap(next);
  }
  return level[0];
}

Var rowLoops(Func y, Var r, Var i, Var ro, Var ri, Var rr, int rowTile, int rowBlock) {
  y.split(r, ro, ri, rowTile, TailStrategy::GuardWithIf);
  if (rowBlock <= 1) {
    // One row per step: the row loop itself (guarded per row; a second split would make Halide
    // require whole tiles of w).
    y.reorder(i, ri, ro);
    return ri;
  }
  Var rb("rb");
  y.split(ri, rb, rr, rowBlock, TailStrategy::GuardWithIf).reorder(i, rr, rb, ro);
  return rb;
}

std::unique_ptr<Q8Layout> makeQ8Layout(const std::string &format) {
  const std::string f = lowerFormat(format);
  if (f == "q4_0")
    return std::make_unique<BlockLayout>(18, -8.0f, false, /*prefetchSteps=*/4);
  if (f == "q8_0")
    return std::make_unique<BlockLayout>(34, -128.0f, true, /*prefetchSteps=*/0);
  int group = 0, consumed = 0;
  char sym[8] = {0};
  if (std::sscanf(f.c_str(), "int4_g%d_%4[a-z]%n", &group, sym, &consumed) == 2 &&
      consumed == int(f.size()) && group >= 32 && (group & (group - 1)) == 0 &&
      (std::string(sym) == "sym" || std::string(sym) == "asym"))
    return std::make_unique<Int4Layout>(group, std::string(sym) == "sym");
  return nullptr;
}

void defineMatMulQ8Act(Func x, Func w, Func y, const Q8Layout &L, Expr cols, Var r, Var i,
                       const Target &target, const Q8ActOptions &options) {
  Var blk("blk"), p("p"), h("h"), s("s"), j("j"), e("e"), q("q");
  const bool x86 = target.arch == Target::X86;
  // x86 without AVX512-VNNI: pmaddubsw (u8 × i8 pairs → i16; both halves' pairs of 4-bit
  // codes added: exact, 4 · 15 · 127 < 2^15), then pmaddwd (i16 pairs → i32). Elsewhere one 4-wide reduction (vpdpbusd, sdot).
  halideHalfCast = x86;
  // (Not for 8-bit codes: a pair of u8 × i8 products reaches 2 · 255 · 127 > 2^15.)
  const bool pairs = x86 && target.has_feature(Target::SSE41) &&
                     !target.has_feature(Target::AVX512_SapphireRapids) && !L.byteCodes();

  // 1. Per token and block of 32 columns: the scale and its inverse (quantize_row_q8_0).
  RDom r32(0, 32, "r32");
  Func amax("q8_amax");
  amax(blk, i) = 0.0f;
  amax(blk, i) = max(amax(blk, i), abs(x(32 * blk + r32, i)));
  Func dx("q8_dx"), inv("q8_inv");
  dx(blk, i) = amax(blk, i) / 127.0f;
  inv(blk, i) = select(dx(blk, i) != 0.0f, 1.0f / dx(blk, i), 0.0f);

  // 2. The codes in the weight's byte order, and per lane its block scale and Σ x̂.
  Func xq("q8_x");
  {
    Expr c = L.column(s, h, p);
    Expr v = round(x(c, i) * inv(c / 32, i));
    xq(p, h, s, i) = cast<int8_t>(clamp(v, -127.0f, 127.0f));
  }
  // Block t of step s: code bytes 16t..16t+15, both halves (lanes 4t..4t+3).
  Var t("t");
  RDom r16(0, 16, 0, 2, "r16");
  Func qsum("q8_block_qsum");
  qsum(t, s, i) = 0;
  qsum(t, s, i) += cast<int32_t>(xq(16 * t + r16.x, r16.y, s, i));
  Func dxb("q8_block_dx");
  dxb(t, s, i) = dx(L.column(s, 0, 16 * t) / 32, i);
  // Per step (computed in the step loop): the 4 blocks' scales, read by the lanes as j / 4,
  // which becomes one permute of a 4-lane vector (read from the per-call Func directly, the
  // same index became a gather).
  Func dxs("q8_step_dx");
  dxs(t, s, i) = dxb(t, s, i);
  // The offsets' part is added once per row (below), and per step the lanes only scale their
  // integer sums: by the step's one table entry where entries cover whole steps (int4 groups of
  // >= 128 columns, `wide`), else by a per-block product of weight scale and activation scale
  // (q4_0, int4 g32: an entry per activation block; int4 g64: an entry per 2 blocks).
  // xse: per table entry, Σ over its blocks of dx · Σ q.
  const bool wide = L.entryColumns() >= 128;
  const bool blockEntries = !wide;
  const int stepsPerEntry = wide ? L.entryColumns() / 128 : 0;
  const int blocksPerEntry = wide ? 0 : L.entryColumns() / 32;
  // Parameters inside the blocks (q4_0): each step reads its 4 blocks' d itself (the row stays
  // one sequential pass), and the offsets go into the integer sums: each of a block's 4 lanes
  // (which share d · dx) starts at c/4 · Σ q over the block's 32 activation codes (c = −8, an
  // integer multiple of 4), so the step's update is the same.
  const float factor4 = L.offsetFactor() / 4.0f;
  const bool stepScales = blockEntries && L.paramsInBlocks() && factor4 != 0.0f &&
                          factor4 == float(int(factor4));
  const bool rowOffsets = !stepScales;
  Func xse("q8_entry_xsum"), qoffB("q8_block_offset"), qoffS("q8_step_offset");
  if (stepScales) {
    // Per call, then per step (staged like dxs, spread over the lanes by one permute): 16 bytes
    // per step, not a 16-lane vector of per-lane sums (64): 4096 x 14336 streams 18.7 -> 22.3.
    qoffB(t, s, i) = int(factor4) * qsum(t, s, i);
    qoffS(t, s, i) = qoffB(t, s, i);
  }
  if (wide) {
    RDom rk(0, 4, 0, stepsPerEntry, "rk");
    xse(e, i) = 0.0f;
    xse(e, i) += dxb(rk.x, stepsPerEntry * e + rk.y, i) *
                 cast<float>(qsum(rk.x, stepsPerEntry * e + rk.y, i));
  } else {
    RDom rk(0, blocksPerEntry, "rk");
    Expr b = blocksPerEntry * e + rk;
    xse(e, i) = 0.0f;
    xse(e, i) += dx(b, i) * cast<float>(qsum(b % 4, b / 4, i));
  }
  // An int16 1 that Halide cannot fold away (pmaddwd's second operand).
  Func one("q8_one");
  one(q) = cast<int16_t>(1);

  // 3. Per row: the f16 parameters (vectorised over blocks), then the table of weight scales
  // and offsets.
  Var pb("pb");
  Func par("q8_params");
  {
    std::vector<Expr> ps;
    for (int k = 0; k < L.halfParams(); ++k)
      ps.push_back(halfAt([&](Expr b) { return w(b, r); }, L.halfParamByte(pb, k, cols)));
    if (ps.size() == 1)
      par(pb, r) = ps[0];
    else
      par(pb, r) = Tuple(ps);
  }
  auto P = [&](Expr b, int k) -> Expr {
    if (L.halfParams() == 1)
      return par(b, r);
    return par(b, r)[k];
  };
  // The weight scales (the offsets are read from par where they are used, below).
  Func tab("q8_table");
  {
    Expr a, o;
    L.tableEntry(e, cols, [&](Expr b) { return w(b, r); }, P, a, o);
    tab(e, r) = a;
  }
  auto tabA = [&](Expr ee) -> Expr { return tab(ee, r); };

  // 4. Per row and step: the lanes' integer sums, then their float contribution.
  // 8-bit codes: staged per step (16-byte loads of each block's halves, not one gather).
  Func codes8("q8_codes");
  if (L.byteCodes())
    codes8(p, h, s, r) = w(L.byteOfHalf(s, p, h, cols), r) ^ Expr(uint8_t(128));
  auto nib = [&](Expr s_, Expr pp, Expr half) {
    if (L.byteCodes())
      return Expr(codes8(pp, half, s_, r));
    Expr byte = w(L.codeByte(s_, pp, cols), r);
    return select(half == 0, byte & 15, byte >> 4);
  };
  auto prod = [&](Expr s_, Expr pp, Expr half, Type t) {
    Expr n = nib(s_, pp, half);
    if (!x86 && !L.byteCodes()) // 8-bit codes stay unsigned (q8ActivationsSupported: x86 only)
      n = cast<int8_t>(n);
    return cast(t, n) * cast(t, xq(pp, half, s_, i));
  };
  Func p16("q8_p16"), isum("q8_isum");
  // stepScales: a quarter of the block's offset sum in each of its lanes (the whole sum in one
  // lane of 4 with a select ran slower on one core: 21.5 vs 23.0).
  Expr isumInit = stepScales ? qoffS(j / 4, s, i) : Expr(0);
  if (pairs) {
    // p16(q): code pair q (bytes 2q, 2q+1), both halves summed.
    RDom rp(0, 2, 0, 2, "rp");
    p16(q, s, r, i) = cast<int16_t>(0);
    p16(q, s, r, i) = saturating_add(p16(q, s, r, i), prod(s, 2 * q + rp.x, rp.y, Int(16)));
    RDom r2(0, 2, "r2");
    isum(j, s, r, i) = isumInit;
    isum(j, s, r, i) += cast<int32_t>(p16(2 * j + r2, s, r, i)) * cast<int32_t>(one(2 * j + r2));
  } else {
    RDom rt(0, 4, 0, 2, "rt");
    isum(j, s, r, i) = isumInit;
    isum(j, s, r, i) += prod(s, 4 * j + rt.x, rt.y, Int(32));
  }
  RDom rs(0, cols / 128, "rs");
  Func acc("q8_acc");
  acc(j, r, i) = 0.0f;
  // blockEntries: per step the 4 blocks' weight scale times activation scale as a 4-lane vector
  // (staged like dxs, spread over the lanes by a permute); the products come from a per-row
  // table (per activation block: its entry's scale times its dx), or with stepScales from the
  // step's own d.
  Func comb("q8_block_scale"), combS("q8_step_scale");
  if (wide) {
    // Per step: the integer sums scaled by the lanes' activation blocks and the step's entry.
    Expr a = tabA(rs / stepsPerEntry);
    acc(j, r, i) += f32(isum(j, rs, r, i)) * (dxs(j / 4, rs, i) * a);
  } else {
    if (stepScales) {
      Expr d = halfAt([&](Expr b) { return w(b, r); }, L.halfParamByte(4 * s + t, 0, cols));
      combS(t, s, r, i) = d * dxb(t, s, i); // dxb: per call (dx inlined costs a multiply)
    } else {
      // e: the activation block (cols / 32 of them).
      comb(e, r, i) = tabA(e / blocksPerEntry) * dx(e, i);
      combS(t, s, r, i) = comb(4 * s + t, r, i);
    }
    acc(j, r, i) += f32(isum(j, rs, r, i)) * combS(j / 4, rs, r, i);
  }
  if (rowOffsets) {
    // Then the offsets' part, Σ_e o_e · xse_e, spread over the lanes (lane j adds entries j,
    // j + 16, …). o_e from the row's parameters, not read back from tab: with tab, LLVM
    // scalarised half of the parameters' f16 conversion (hot 512 x 4096: 30.1 vs 33.5 GB/s).
    Expr nE = L.tableSize(cols);
    RDom rk(0, (nE + 15) / 16, "rk");
    Expr ee = min(16 * rk + j, nE - 1), ae, oe;
    L.tableEntry(ee, cols, [&](Expr b) { return w(b, r); }, P, ae, oe);
    acc(j, r, i) += select(16 * rk + j < nE, oe * xse(ee, i), 0.0f);
  }
  y(r, i) = laneTreeSum(acc, 16, r, i);

  // Schedule.
  const OptLevel o = options.opt;
  amax.compute_root();
  xq.compute_root();
  qsum.compute_root();
  dxb.compute_root();
  one.compute_root();
  const int RB = std::max(1, options.rowBlock);
  Var ro("ro"), ri("ri"), rr("rr");
  Var rb = rowLoops(y, r, i, ro, ri, rr, options.rowTile, RB);
  par.compute_at(y, rb);
  tab.compute_at(y, rb);
  if (!o.vectorize())
    return;
  amax.update().atomic().vectorize(r32);
  {
    Var po("po"), pi("pi");
    xq.split(p, po, pi, 16).vectorize(pi).unroll(h);
  }
  qsum.bound(t, 0, 4).vectorize(t);
  qsum.update().reorder(r16.x, r16.y, t).atomic().vectorize(r16.x).unroll(r16.y).unroll(t);
  dxb.bound(t, 0, 4).vectorize(t);
  one.vectorize(q, 16);
  tab.vectorize(e, 16, TailStrategy::GuardWithIf);
  par.vectorize(pb, 16, TailStrategy::GuardWithIf);
  if (o.parallel()) {
    xq.parallel(s);
    qsum.parallel(s);
  }

  const bool unrollBatch = o.unroll();
  if (unrollBatch)
    y.unroll(i);
  if (o.parallel())
    y.parallel(ro);
  acc.compute_at(y, rb).vectorize(j);
  // Update 0: the steps; rowOffsets layouts' update 1: the offsets' part.
  for (int u = 0; u <= (rowOffsets ? 1 : 0); ++u) {
    acc.update(u).reorder(j, i, r, acc.rvars(u)[0]).vectorize(j);
    if (RB > 1)
      acc.update(u).unroll(r);
    if (unrollBatch)
      acc.update(u).unroll(i);
  }
  if (RB > 1) {
    acc.bound_extent(r, RB).unroll(r);
    if (o.unroll())
      y.unroll(rr);
  }
  if (stepScales) {
    qoffB.compute_root().bound(t, 0, 4).vectorize(t);
    qoffS.compute_at(acc, rs).bound(t, 0, 4).vectorize(t);
    if (unrollBatch)
      qoffS.unroll(i);
  }
  if (blockEntries) {
    if (!stepScales)
      comb.compute_at(y, rb).vectorize(e, 16, TailStrategy::GuardWithIf);
    combS.compute_at(acc, rs).bound(t, 0, 4).vectorize(t);
    if (unrollBatch) {
      if (!stepScales)
        comb.unroll(i);
      combS.unroll(i);
    }
    if (RB > 1)
      combS.unroll(r);
  }
  if (rowOffsets) {
    xse.compute_root().vectorize(e, 16, TailStrategy::GuardWithIf);
    xse.update().vectorize(e, 16, TailStrategy::GuardWithIf);
  }
  // One row per step: the layout's software prefetch of the row's codes (q4_0, int4 g64: 4
  // steps, 256 bytes, ahead), past the row's end into the next row (prefetches do not fault).
  // Each format was measured with and without it, the two kernels alternated call by call
  // against a plain read of the same bytes (docs/Codegen.md): int4 g128, int4 g32 and q8_0
  // streamed faster with the hardware prefetchers alone. Row blocks (row_block=4, 4 streams)
  // did not gain from it.
  if (RB == 1 && o.parallel() && options.weights.defined() && L.prefetchSteps() > 0)
    acc.update(0).prefetch(options.weights, rs, rs, L.prefetchSteps(),
                           PrefetchBoundStrategy::NonFaulting);
  if (wide) {
    dxs.compute_at(acc, rs).bound(t, 0, 4).vectorize(t);
    if (unrollBatch)
      dxs.unroll(i);
  }
  isum.compute_at(acc, rs).vectorize(j);
  if (L.byteCodes()) {
    Var po("po"), pi("pi");
    codes8.compute_at(acc, rs).bound(p, 0, 64).bound(h, 0, 2);
    codes8.split(p, po, pi, 16).vectorize(pi).unroll(po).unroll(h);
    if (RB > 1)
      codes8.unroll(r);
  }
  if (RB > 1)
    isum.unroll(r);
  const std::vector<RVar> rv = isum.rvars(0);
  if (pairs) {
    isum.update().reorder(rv[0], j, i).atomic().vectorize(rv[0]).vectorize(j);
    p16.compute_at(acc, rs).vectorize(q);
    const std::vector<RVar> pv = p16.rvars(0);
    p16.update()
        .reorder(pv[0], q, pv[1], i)
        .atomic(/*override_associativity_test=*/true) // saturating_add: never saturates here
        .vectorize(pv[0])
        .vectorize(q)
        .unroll(pv[1]);
    if (unrollBatch)
      p16.update().unroll(i);
    if (RB > 1) {
      p16.unroll(r);
      p16.update().unroll(r);
    }
  } else {
    isum.update()
        .reorder(rv[0], j, rv[1], i)
        .atomic()
        .vectorize(rv[0])
        .vectorize(j)
        .unroll(rv[1]);
  }
  if (unrollBatch)
    isum.update().unroll(i);
  if (RB > 1)
    isum.update().unroll(r);
}

} // namespace qcc::kernels
