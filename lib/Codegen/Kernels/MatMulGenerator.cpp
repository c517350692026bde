//===- MatMulGenerator.cpp - dequantizing GEMV / small-batch GEMM ---------===//
//
// qcc_matmul: y[i, r] = Σ_k x[i, k] · W[r, k], W read straight from its stored bytes.
//
//   Input  x  float [cols, n]      (Halide order: x(k, i); row-major [n, cols] in C)
//   Input  w  uint8 [rowBytes, rows]  (w(byte, r); the rows exactly as stored, see
//                                      WeightDecoders.h for the per-format layouts)
//   Output y  float [rows, n]      (y(r, i); row-major [n, rows])
//
// GeneratorParams (one generator covers every format and shape):
//   format    weight format name (makeDecoder: "q4_0", "q6_K", "int4_g128_asym", ...)
//   rows, cols, batch   0 = dynamic (taken from the buffers); > 0 = fixed, the extents are then
//             asserted on entry and Halide can fully unroll/specialise the block loops.
//   row_tile  rows per parallel task on CPUs / per thread block on GPUs.
// The target (x86-64-linux[-avx2|-avx512_skylake], arm-64-linux[-arm_dot_prod],
// host-cuda-cuda_capability_86, ...) comes from the standard `target=` argument.
//
// Algorithm: partial(j, r, i) keeps one running sum per vector lane j over all (block, step)
// pairs of row r; y is the fixed pairwise tree sum of those lanes. The lane layout is the
// decoder's (dense byte loads, no gathers).
//
// CPU schedule: rows are split into tiles of row_tile rows, tiles run in parallel. With a fixed
// small batch (1 ≤ batch ≤ 8, decode) every row is decoded once and reused for the whole batch:
// the batch loop is unrolled inside the block loop. With a dynamic batch (prefill) the batch
// loop sits between the tile and the row loop, so a tile's weights (row_tile · rowBytes, a few
// tens of KB) stay in L1/L2 while the batch streams over them. A true prefill GEMM
// (dequantize a tile to f32, then a register-blocked GEMM) is future work.
//
// GPU schedule (first cut): one thread per output (r, i), the per-lane sums in registers.
//
//===----------------------------------------------------------------------===//
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
  GeneratorParam<int> row_tile{"row_tile", 16};

  Input<Buffer<float>> x{"x", 2};
  Input<Buffer<uint8_t>> w{"w", 2};
  Output<Buffer<float>> y{"y", 2};

  void generate() {
    std::unique_ptr<WeightDecoder> dec = makeDecoder(format);
    if (!dec)
      fail("unknown weight format '" + std::string(format) + "'");
    const int L = dec->lanes();
    if (cols < 0 || cols % dec->colMultiple() != 0)
      fail("cols " + std::to_string(int(cols)) + " is not a multiple of " +
           std::to_string(dec->colMultiple()) + " for format " + std::string(format));

    Expr nCols = cols > 0 ? Expr(int(cols)) : x.dim(0).extent();
    Var j("j"), r("r"), i("i");

    RowAccess access{[&](Expr k) { return w(k, r); }, [&](Expr k) { return x(k, i); }};
    RDom rd(0, dec->steps(nCols), 0, dec->blocks(nCols), "rd");
    Func partial("partial");
    partial(j, r, i) = 0.0f;
    partial(j, r, i) += dec->term(j, rd.x, rd.y, nCols, access);

    // Fixed pairwise tree over the lanes: deterministic and pure (no update to schedule).
    std::vector<Expr> level;
    for (int l = 0; l < L; ++l)
      level.push_back(partial(l, r, i));
    while (level.size() > 1) {
      std::vector<Expr> next;
      for (size_t k = 0; k + 1 < level.size(); k += 2)
        next.push_back(level[k] + level[k + 1]);
      if (level.size() % 2)
        next.push_back(level.back());
      level.swap(next);
    }
    y(r, i) = level[0];

    // Shapes: everything starts at 0; the byte rows are dense; fixed extents are asserted.
    x.dim(0).set_min(0);
    x.dim(1).set_min(0);
    w.dim(0).set_min(0);
    w.dim(1).set_min(0);
    y.dim(0).set_min(0);
    y.dim(1).set_min(0);
    w.dim(0).set_extent(dec->rowBytes(nCols));
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

    schedule(partial, r, i, j, rd, *dec, nCols);
  }

private:
  void schedule(Func partial, Var r, Var i, Var j, RDom rd, const WeightDecoder &dec,
                Expr nCols) {
    const int L = dec.lanes();
    partial.bound(j, 0, L);
    Var ro("ro"), ri("ri");
    if (get_target().has_gpu_feature()) {
      Var io("io"), ii("ii");
      y.gpu_tile(r, i, ro, io, ri, ii, 64, 1, TailStrategy::GuardWithIf);
      partial.compute_at(y, ri).unroll(j);
      partial.update().reorder(j, rd.x, rd.y).unroll(j);
      return;
    }
    const bool smallBatch = batch > 0 && batch <= 8;
    y.split(r, ro, ri, row_tile, TailStrategy::GuardWithIf);
    if (smallBatch)
      y.reorder(i, ri, ro).unroll(i);
    else
      y.reorder(ri, i, ro);
    y.parallel(ro);

    partial.compute_at(y, ri).vectorize(j);
    if (smallBatch)
      partial.update().reorder(j, i, rd.x, rd.y).vectorize(j).unroll(i);
    else
      partial.update().reorder(j, rd.x, rd.y).vectorize(j);
    // Few steps per block (K-quants: 2 or 4): unroll them so the scale selects fold away.
    if (const int64_t *steps = Internal::as_const_int(Internal::simplify(dec.steps(nCols))))
      if (*steps > 1 && *steps <= 8)
        partial.update().unroll(rd.x);
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(MatMulGenerator, qcc_matmul)
