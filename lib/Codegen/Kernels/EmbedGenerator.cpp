//===- EmbedGenerator.cpp - token embedding rows in any matmul format -----===//
//
// qcc_embed: y(k, i) = table[tokens(i), k], the table row dequantized exactly as the format's
// reference dequantizer (rt::embed), bit for bit.
//   Input  tokens int32 [n]
//   Input  table  uint8 [rowBytes, vocab]   (rows as stored, WeightDecoders.h; the float formats
//                 typed [cols, vocab]: float32 for f32, uint16 bits for f16 / bf16)
//   Output y      float [cols, n]           (row-major [n, cols])
// GeneratorParams: format (any qcc_matmul format), cols (0 = dynamic, from y).
// Token ids are clamped to [0, vocab) (the caller range-checks them; the clamp only keeps the
// kernel's reads inside the table). Schedule: tokens in parallel, columns vectorised; the
// decoders' value() uses per-column index arithmetic, i.e. gathers within one row, which is
// fine for n rows per step. -O levels (OptLevel.h): O0 scalar serial loops, O1 vectorised
// columns, O2 and O3 + tokens in parallel.
//
//===----------------------------------------------------------------------===//
#include "OptLevel.h"
#include "WeightDecoders.h"

#include "Halide.h"

#include <cstdlib>
#include <iostream>

using namespace Halide;
using namespace qcc::kernels;

namespace {

class EmbedGenerator : public Generator<EmbedGenerator> {
public:
  GeneratorParam<std::string> format{"format", "f32"};
  GeneratorParam<int> cols{"cols", 0};
  GeneratorParam<int> opt{"opt", 3};

  Input<Buffer<int32_t>> tokens{"tokens", 1};
  Input<Buffer<>> table{"table", 2}; // type: the decoder's storageType() (as qcc_matmul's w)
  Output<Buffer<float>> y{"y", 2};

  void configure() {
    std::unique_ptr<WeightDecoder> dec = makeDecoder(format);
    table.set_type(dec ? dec->storageType() : UInt(8));
  }

  void generate() {
    const OptLevel o = checkedOptLevel(opt, "qcc_embed");
    std::unique_ptr<WeightDecoder> dec = makeDecoder(format);
    if (!dec) {
      std::cerr << "qcc_embed: unknown weight format '" << std::string(format) << "'\n";
      std::exit(1);
    }
    if (cols < 0 || cols % dec->colMultiple() != 0) {
      std::cerr << "qcc_embed: cols " << int(cols) << " is not a multiple of "
                << dec->colMultiple() << "\n";
      std::exit(1);
    }
    Var k("k"), i("i");
    // The row length comes from the output buffer, which can only be queried once y has a
    // definition: an undef pure definition (no code), the values as its update.
    y(k, i) = undef<float>();
    Expr nCols = cols > 0 ? Expr(int(cols)) : y.dim(0).extent();
    Expr row = clamp(tokens(i), 0, table.dim(1).extent() - 1);
    // (The unit RDom only tells Halide the update is intended; the select folds away.)
    RDom once(0, 1, "once");
    y(k, i) = select(once == 0, dec->value(k, nCols, [&](Expr b) { return table(b, row); }),
                     0.0f);

    tokens.dim(0).set_min(0);
    table.dim(0).set_min(0);
    table.dim(1).set_min(0);
    table.dim(0).set_extent(dec->rowElements(nCols));
    y.dim(0).set_min(0);
    y.dim(1).set_min(0);
    if (cols > 0)
      y.bound(k, 0, cols);

    if (get_target().has_gpu_feature()) {
      Var ko("ko"), ki("ki"), io("io"), ii("ii");
      y.update().gpu_tile(k, i, ko, io, ki, ii, 64, 1, TailStrategy::GuardWithIf);
      return;
    }
    if (o.parallel())
      y.update().parallel(i);
    if (o.vectorize())
      y.update().vectorize(k, natural_vector_size<float>(), TailStrategy::GuardWithIf);
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(EmbedGenerator, qcc_embed)
