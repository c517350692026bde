//===- MatMulGenerator.cpp - dequantizing GEMV / small-batch GEMM ---------===//
//
// qcc_matmul: y[i, r] = Σ_k x[i, k] · W[r, k], W read straight from its stored bytes.
//
//   Input  x  float [cols, n]      (Halide order: x(k, i); row-major [n, cols] in C)
//   Input  w  uint8 [rowBytes, rows]  (w(byte, r); the rows exactly as stored, see
//                                      WeightDecoders.h for the per-format layouts); for the
//             float formats typed [cols, rows]: f32 float32, f16 and bf16 uint16 bits (the
//             decoder's storageType(), set in configure(): vector loads, vcvtph2ps for f16)
//   Output y  float [rows, n]      (y(r, i); row-major [n, rows])
//
// GeneratorParams (one generator covers every format and shape):
//   format    weight format name (makeDecoder: "q4_0", "q6_K", "int4_g128_asym", ...)
//   rows, cols, batch   0 = dynamic (taken from the buffers); > 0 = fixed, the extents are then
//             asserted on entry and Halide can fully unroll/specialise the block loops.
//   row_tile  rows per parallel task on CPUs (0 = automatic, the default: 16, except for fixed
//             rows with a fixed decode batch (1..8), where a task is about 1/32 of the rows and
//             at least 256 KiB of weights, in multiples of 16 rows; see autoRowTile()).
//   row_block act_quant=q8_block only: rows per step of the row loop (0 = automatic: 1; > 1
//             needs rows a fixed multiple of row_tile, itself a multiple of row_block).
//   act_quant "none" (default), "int8_per_token": W8A8 (format int8_g0_sym only), the
//             activations are quantized per token like rt::fakeQuantizeInt8PerRow and the dot
//             products run in int8 × int8 → int32 (MatMulW8A8.cpp); or "q8_block": decode
//             GEMVs (fixed batch 1..8, CPU targets) with the activations quantized to int8 and
//             integer dot products: q4_0, q8_0 and int4 groups per block of 32 columns
//             (MatMulQ8Act.cpp), q4_K and q6_K per 256 columns with integer group scales
//             (MatMulQ8K.cpp).
//   opt       0..3 (default 3), the CPU schedule's -O level (OptLevel.h; below).
//   prefill_gemm  true (default): the dynamic-batch O3 kernel switches to the prefill GEMM
//             from 32 tokens on (below); false keeps the GEMV-style schedule (prefill-bench).
//   half_extern  false (default); true: f16 values (f16 weights, the block formats' d / dmin,
//             int group scales) are converted by calls of the extern
//             qcc_f16_to_f32, which only qcc's LLVM resolves (F16C vcvtph2ps; HalfToFloat.h):
//             for bitcode that qcc compiles, never for objects linked as they are.
// The target (x86-64-linux[-avx2|-avx512_skylake], arm-64-linux[-arm_dot_prod],
// host-cuda-cuda_capability_86, ...) comes from the standard `target=` argument.
//
// Algorithm: partial(j, r, i) keeps one running sum per vector lane j over all (block, step)
// pairs of row r; y is the fixed pairwise tree sum of those lanes. The lane layout is the
// decoder's (dense byte loads, no gathers). Decoders that stage (3/5/6/7-bit integer groups)
// get two small Funcs: staged_w(j, t) per step and staged_x(j, t) once per call (the whole
// activation rows, permuted so that each step's x values are dense per t), both
// vectorised over j and t, which Halide lowers to dense loads plus transposing shuffles. Per-channel integer
// rows whose length is not a multiple of the step add a scalar tail (decoder value()).
//
// CPU schedule: rows are split into tiles of row_tile rows, tiles run in parallel. With a fixed
// small batch (1 ≤ batch ≤ 8, decode) every row is decoded once and reused for the whole batch:
// the batch loop is unrolled inside the block loop. With a dynamic batch (prefill) the batch
// loop sits between the tile and the row loop, so a tile's weights (row_tile · rowBytes, a few
// tens of KB) stay in L1/L2 while the batch streams over them.
//
// Prefill GEMM (dynamic batch, CPU, O3, GeneratorParam prefill_gemm=true by default): y is
// specialised at run time on n >= 32 tokens. Then each parallel task dequantizes a tile of 16
// rows to f32 once (deq_row(k, r) = the decoder's value(), vectorised over k) and runs a
// register-blocked GEMM over it: micro tiles of 4 rows × 2 vectors of tokens accumulate in
// registers over all columns, the weight broadcast, the activations read from x transposed
// once per call (x_t(i, k), tokens dense). Below 32 tokens the schedule above runs.
// prefill-bench (4096², 2 busy cores): 3-5x the GFLOP/s of the schedule above at n = 64..512.
// -O levels: O3 is the above; O2 the same without unrolling (batch, K-quant steps); O1 the same
// without parallel tiles (nor the parallel staging of x); O0 Halide's defaults: one scalar
// reduction per output (r, i), the staged Funcs inlined.
//
// GPU schedule (first cut): one thread per output (r, i), the per-lane sums in registers.
//
//===----------------------------------------------------------------------===//
#include "MatMulQ8Act.h"
#include "MatMulW8A8.h"
#include "OptLevel.h"
#include "WeightDecoders.h"

#include "Halide.h"

#include <cstdlib>
#include <iostream>

using namespace Halide;
using namespace qcc::kernels;

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::cerr << "qcc_matmul: " << message << "\n";
  std::exit(1);
}

class MatMulGenerator : public Generator<MatMulGenerator> {
public:
  GeneratorParam<std::string> format{"format", "q4_0"};
  GeneratorParam<int> rows{"rows", 0};
  GeneratorParam<int> cols{"cols", 0};
  GeneratorParam<int> batch{"batch", 0};
  GeneratorParam<int> row_tile{"row_tile", 0};
  GeneratorParam<int> row_block{"row_block", 0};
  GeneratorParam<std::string> act_quant{"act_quant", "none"};
  GeneratorParam<int> opt{"opt", 3};
  GeneratorParam<bool> prefill_gemm{"prefill_gemm", true};
  GeneratorParam<bool> half_extern{"half_extern", false};

  Input<Buffer<float>> x{"x", 2};
  Input<Buffer<>> w{"w", 2}; // type: the decoder's storageType() (configure)
  Output<Buffer<float>> y{"y", 2};

  void configure() {
    std::unique_ptr<WeightDecoder> dec = makeDecoder(format);
    w.set_type(dec && std::string(act_quant) == "none" ? dec->storageType() : UInt(8));
  }

  void generate() {
    checkedOptLevel(opt, "qcc_matmul");
    HalfToFloatExtern halfCalls(half_extern);
    std::unique_ptr<WeightDecoder> dec = makeDecoder(format);
    if (!dec)
      fail("unknown weight format '" + std::string(format) + "'");
    const int L = dec->lanes();
    if (cols < 0 || cols % dec->colMultiple() != 0)
      fail("cols " + std::to_string(int(cols)) + " is not a multiple of " +
           std::to_string(dec->colMultiple()) + " for format " + std::string(format));

    Expr nCols = cols > 0 ? Expr(int(cols)) : x.dim(0).extent();
    Var j("j"), r("r"), i("i");
    if (row_tile < 0)
      fail("row_tile must be >= 0 (0: automatic), got " + std::to_string(int(row_tile)));

    if (std::string(act_quant) == "q8_block") {
      const bool kQuant = isQ8KFormat(format);
      std::unique_ptr<Q8Layout> layout = kQuant ? nullptr : makeQ8Layout(format);
      if (!kQuant && !layout)
        fail("act_quant=q8_block supports formats q4_K, q6_K, q4_0, q8_0 and "
             "int4_g<G>_<sym|asym> (G a power of two >= 32), got " + std::string(format));
      if (batch < 1 || batch > 8)
        fail("act_quant=q8_block needs a fixed batch of 1..8 (decode), got batch=" +
             std::to_string(int(batch)));
      if (get_target().has_gpu_feature())
        fail("act_quant=q8_block has no GPU schedule (target " + get_target().to_string() + ")");
      const int colMultiple = kQuant ? 256 : layout->colMultiple();
      if (cols < 0 || cols % colMultiple != 0)
        fail("act_quant=q8_block with format " + std::string(format) + " needs cols a " +
             "multiple of " + std::to_string(colMultiple) + ", got " + std::to_string(int(cols)));
      Q8ActOptions opts;
      opts.rowTile = autoRowTile(kQuant ? dec->rowBytes(nCols) : layout->rowBytes(nCols));
      // One row per step (one stream per row, prefetched) unless row_block says otherwise:
      // with ~1.1-1.3 bytes of activation data per column (codes, and per 32 or 256 columns
      // their scale and sum) a 14336-column row's activations stay in L1. Streaming on 2
      // cores, ffn_down 4096 x 14336, alternating: int4 g128 26.1 GB/s against 19.0 with the
      // 4-row blocks that were automatic for q4_0 / int4 rows past 8192 columns while their
      // activations took 2 bytes per column; q4_K 21-25 against 18-21, q6_K 21-25 against
      // 19-21.
      // Blocks need whole tiles (no tail block past the last row): rows fixed, a multiple
      // of row_tile.
      const int nRows = rows, tile = opts.rowTile, block = row_block;
      const bool wholeTiles = nRows > 0 && tile > 0 && nRows % tile == 0;
      if (block > 1 && (!wholeTiles || tile % block != 0))
        fail("row_block=" + std::to_string(block) + " needs fixed rows that are a multiple " +
             "of row_tile=" + std::to_string(tile) + ", itself a multiple of row_block (rows=" +
             std::to_string(nRows) + ")");
      opts.rowBlock = block > 0 ? block : 1;
      opts.batch = batch;
      opts.weights = ImageParam(w).parameter();
      opts.opt = checkedOptLevel(opt, "qcc_matmul");
      if (kQuant)
        defineMatMulQ8K(x, w, y, format, nCols, r, i, get_target(), opts);
      else
        defineMatMulQ8Act(x, w, y, *layout, nCols, r, i, get_target(), opts);
      setShapes(kQuant ? dec->rowBytes(nCols) : layout->rowBytes(nCols), r, i);
      return;
    }
    if (std::string(act_quant) != "none") {
      std::string f = format;
      if (std::string(act_quant) != "int8_per_token" || (f != "int8_g0_sym"))
        fail("act_quant=" + std::string(act_quant) + " needs act_quant=int8_per_token and " +
             "format=int8_g0_sym, got format " + f);
      W8A8Options opts;
      opts.rowTile = autoRowTile(rowBytesW8A8(nCols));
      opts.smallBatch = batch > 0 && batch <= 8;
      opts.opt = checkedOptLevel(opt, "qcc_matmul");
      defineMatMulW8A8(x, w, y, nCols, r, i, get_target(), opts);
      setShapes(rowBytesW8A8(nCols), r, i);
      return;
    }

    // Staged bytes / activations (only decoders with strided lanes use them).
    Var sj("sj"), st("st"), ss("ss"), sb("sb");
    Func stagedW("staged_w"), stagedX("staged_x");
    if (dec->stagedBytes())
      stagedW(sj, st, ss, sb, r) = w(dec->stagedByte(sj, st, ss, sb, nCols), r);
    if (dec->stagedValues())
      stagedX(sj, st, ss, sb, i) = x(dec->stagedColumn(sj, st, ss, sb, nCols), i);

    RowAccess access{[&](Expr k) { return w(k, r); }, [&](Expr k) { return x(k, i); },
                     [&](Expr jj, Expr t, Expr s, Expr b) { return stagedW(jj, t, s, b, r); },
                     [&](Expr jj, Expr t, Expr s, Expr b) { return stagedX(jj, t, s, b, i); }};
    RDom rd(0, dec->steps(nCols), 0, dec->blocks(nCols), "rd");
    Func partial("partial");
    partial(j, r, i) = 0.0f;
    partial(j, r, i) += dec->term(j, rd.x, rd.y, nCols, access);

    // Fixed pairwise tree over the lanes: deterministic and pure (no update to schedule).
    Expr result = laneTreeSum(partial, L, r, i);

    // Tail: columns past the last whole step (per-channel integer rows only), one at a time.
    Expr main = dec->mainCols(nCols);
    Func tail("tail");
    const bool hasTail = !is_const_zero(Internal::simplify(nCols - main));
    if (hasTail) {
      RDom rt(main, nCols - main, "rt");
      tail(r, i) = 0.0f;
      tail(r, i) += dec->value(rt, nCols, [&](Expr k) { return w(k, r); }) * x(rt, i);
      result = result + tail(r, i);
    }
    // Prefill (dynamic batch, CPU, O3): from kPrefillMinBatch tokens on, a blocked GEMM over
    // dequantized row tiles instead (specialised at run time on the batch).
    const bool prefill = batch == 0 && !get_target().has_gpu_feature() &&
                         checkedOptLevel(opt, "qcc_matmul").unroll() && prefill_gemm;
    Expr nBatch = x.dim(1).extent();
    Func gemm("gemm"), deqRow("deq_row"), xT("x_t");
    if (prefill) {
      Var k("k");
      deqRow(k, r) = dec->value(k, nCols, [&](Expr b) { return w(b, r); });
      xT(i, k) = x(k, i);
      RDom rk(0, nCols, "rk");
      gemm(r, i) = 0.0f;
      gemm(r, i) += deqRow(rk, r) * xT(i, rk);
      y(r, i) = select(nBatch >= kPrefillMinBatch, gemm(r, i), result);
    } else {
      y(r, i) = result;
    }

    setShapes(dec->rowElements(nCols), r, i);
    floatRowTile_ = autoRowTile(dec->rowBytes(nCols));
    if (prefill)
      schedulePrefill(gemm, deqRow, xT, r, i, nBatch >= kPrefillMinBatch);
    schedule(partial, tail, hasTail, stagedW, stagedX, r, i, j, rd, *dec, nCols);
  }

private:
  static constexpr int kPrefillMinBatch = 32;
  int floatRowTile_ = 16;

  /// Rows per parallel task. Decode GEMVs stream every weight once, and a task's rows are one
  /// contiguous run of memory: short runs (16 rows of 4096 4-bit columns, 33 KB) restart the
  /// hardware prefetch at every task, as the threads take tiles in turn, and cost up to a third
  /// of the bandwidth (int4 14336 x 4096 on 2 cores: 25 -> 33 GB/s with 32 tasks; q6_K
  /// 128256 x 4096: 19 -> 27). So, for fixed rows and a fixed decode batch on CPUs: about 32
  /// tasks (enough for 16+ threads), each at least 256 KiB of weights, in multiples of 16 rows.
  /// Everything else (prefill, dynamic rows, an explicit row_tile): row_tile, 16 by default.
  int autoRowTile(Expr rowBytes) const {
    if (row_tile > 0)
      return row_tile;
    const bool decode = rows > 0 && batch >= 1 && batch <= 8 && !get_target().has_gpu_feature();
    if (!decode)
      return 16;
    auto up16 = [](int64_t v) { return (v + 15) / 16 * 16; };
    int64_t tile = up16((int64_t(rows) + 31) / 32);
    if (const int64_t *b = Internal::as_const_int(Internal::simplify(rowBytes)))
      if (*b > 0)
        tile = std::max<int64_t>(tile, up16(((int64_t(256) << 10) + *b - 1) / *b));
    return int(std::min<int64_t>(tile, up16(rows)));
  }

  /// The prefill GEMM, specialised on `big`: per parallel task a tile of 16 rows is dequantized
  /// to f32 once (deq_row, vectorised over columns), then 4 rows × 2 vectors of tokens are
  /// accumulated in registers over all columns (x transposed once per call so that the tokens
  /// are the dense, vectorised dimension and the weights are broadcast). Token chunks outside,
  /// row quads inside: a chunk of x_t (2·vec tokens × cols) is reused from L2 by the 4 quads.
  void schedulePrefill(Func gemm, Func deqRow, Func xT, Var r, Var i, Expr big) {
    const int vec = natural_vector_size<float>();
    const TailStrategy guard = TailStrategy::GuardWithIf;
    Var ro("pro"), rt("prt"), rm("prm"), rr("prr"), io("pio"), ii("pii"), iv("piv"), iu("piu");
    Stage s = y.specialize(big);
    s.split(r, ro, rt, 16, guard)
        .split(rt, rm, rr, 4, guard)
        .split(i, io, ii, 2 * vec, guard)
        .reorder(ii, rr, rm, io, ro)
        .parallel(ro)
        .vectorize(ii, vec)
        .unroll(rr);
    const std::vector<Var> ga = gemm.args(); // (r, i)
    gemm.compute_at(y, rm)
        .bound_extent(ga[0], 4)
        .bound_extent(ga[1], 2 * vec)
        .reorder_storage(ga[1], ga[0]); // tokens dense: the accumulators are whole vectors
    gemm.split(ga[1], iu, iv, vec).reorder(iv, iu, ga[0]).vectorize(iv).unroll(iu).unroll(ga[0]);
    RVar rk = gemm.rvars(0)[0];
    gemm.update()
        .split(ga[1], iu, iv, vec)
        .reorder(iv, iu, ga[0], rk)
        .vectorize(iv)
        .unroll(iu)
        .unroll(ga[0]);
    const std::vector<Var> da = deqRow.args(); // (k, r)
    deqRow.compute_at(y, ro).vectorize(da[0], vec, guard);
    const std::vector<Var> xa = xT.args(); // (i, k)
    Var ko("pko"), ki("pki");
    xT.compute_root().split(xa[1], ko, ki, 256, guard).parallel(ko).vectorize(xa[0], vec, guard);
  }

  /// Shapes: everything starts at 0; the rows of w (rowElements elements: bytes, or typed
  /// values for the float formats) are dense; fixed extents are asserted.
  void setShapes(Expr rowElements, Var r, Var i) {
    x.dim(0).set_min(0);
    x.dim(1).set_min(0);
    w.dim(0).set_min(0);
    w.dim(1).set_min(0);
    y.dim(0).set_min(0);
    y.dim(1).set_min(0);
    w.dim(0).set_extent(rowElements);
    if (cols > 0)
      x.dim(0).set_extent(cols);
    // Fixed output extents via bound(): the loops then have constant trip counts (unrollable).
    if (rows > 0) {
      w.dim(1).set_extent(rows);
      y.bound(r, 0, rows);
    }
    if (batch > 0) {
      x.dim(1).set_extent(batch);
      y.bound(i, 0, batch);
    }
  }

  void schedule(Func partial, Func tail, bool hasTail, Func stagedW, Func stagedX, Var r, Var i,
                Var j, RDom rd, const WeightDecoder &dec, Expr nCols) {
    const int L = dec.lanes();
    partial.bound(j, 0, L);
    Var ro("ro"), ri("ri");
    if (get_target().has_gpu_feature()) {
      Var io("io"), ii("ii");
      y.gpu_tile(r, i, ro, io, ri, ii, 64, 1, TailStrategy::GuardWithIf);
      partial.compute_at(y, ri).unroll(j);
      partial.update().reorder(j, rd.x, rd.y).unroll(j);
      if (hasTail)
        tail.compute_at(y, ri);
      return;
    }
    const OptLevel o = checkedOptLevel(opt, "qcc_matmul");
    // O0: Halide's defaults: partial (and the tail) computed per output (r, i) in scalar loops,
    // the reduction innermost; the staged Funcs inlined.
    if (!o.vectorize())
      return;
    const bool smallBatch = batch > 0 && batch <= 8;
    y.split(r, ro, ri, floatRowTile_, TailStrategy::GuardWithIf);
    if (smallBatch)
      y.reorder(i, ri, ro);
    else
      y.reorder(ri, i, ro);
    if (smallBatch && o.unroll())
      y.unroll(i);
    if (o.parallel())
      y.parallel(ro);

    partial.compute_at(y, ri).vectorize(j);
    if (smallBatch)
      partial.update().reorder(j, i, rd.x, rd.y).vectorize(j);
    else
      partial.update().reorder(j, rd.x, rd.y).vectorize(j);
    if (smallBatch && o.unroll())
      partial.update().unroll(i);
    // Few steps per block (K-quants: 2 or 4): unroll them so the scale selects fold away.
    if (const int64_t *steps = Internal::as_const_int(Internal::simplify(dec.steps(nCols))))
      if (*steps > 1 && *steps <= 8 && o.unroll())
        partial.update().unroll(rd.x);
    // The tail per output (ri: the row loop inside a tile).
    if (hasTail)
      tail.compute_at(y, ri);
    // Staged Funcs: per step, both dimensions vectorised (dense load + transpose shuffle).
    if (dec.stagedBytes()) {
      const std::vector<Var> a = stagedW.args();
      stagedW.compute_at(partial, rd.x)
          .bound_extent(a[0], dec.lanes())
          .bound_extent(a[1], dec.stagedBytes())
          .vectorize(a[0])
          .vectorize(a[1]);
    }
    // The permuted activations do not depend on the row: once per call (n · cols floats).
    if (dec.stagedValues()) {
      const std::vector<Var> a = stagedX.args();
      stagedX.compute_root()
          .bound_extent(a[0], dec.lanes())
          .bound_extent(a[1], dec.stagedValues())
          .vectorize(a[0])
          .vectorize(a[1]);
      if (o.parallel())
        stagedX.parallel(i);
    }
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(MatMulGenerator, qcc_matmul)
