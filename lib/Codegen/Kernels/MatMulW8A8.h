//===- MatMulW8A8.h - qcc_matmul with int8 per-token activations ----------===//
//
// The act_quant=int8_per_token variant of qcc_matmul (W8A8): weights #qllm.int<bits=8,
// group=0, sym=true>, activations quantized per token on the fly. See MatMulW8A8.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_CODEGEN_KERNELS_MATMULW8A8_H
#define QCC_LIB_CODEGEN_KERNELS_MATMULW8A8_H

#include "OptLevel.h"

#include "Halide.h"

namespace qcc::kernels {

struct W8A8Options {
  int rowTile = 16;
  /// Fixed batch of at most 8 (decode): the batch loop is unrolled inside the row loop.
  bool smallBatch = false;
  /// The CPU schedule's -O level (OptLevel.h).
  OptLevel opt;
};

/// Bytes of one int8_g0_sym row: the f16 scale, then `cols` offset-binary codes.
inline Halide::Expr rowBytesW8A8(Halide::Expr cols) { return cols + 2; }

/// Defines and schedules y(r, i) = Σ_k fq(x)(k, i) · W(r, k) with fq the per-token int8 fake
/// quantization, computed as an int32 dot product. x(k, i): float activations; w(byte, r): the
/// rows as stored; `cols` the (possibly dynamic) number of columns.
void defineMatMulW8A8(Halide::Func x, Halide::Func w, Halide::Func y, Halide::Expr cols,
                      Halide::Var r, Halide::Var i, const Halide::Target &target,
                      const W8A8Options &options);

} // namespace qcc::kernels

#endif // QCC_LIB_CODEGEN_KERNELS_MATMULW8A8_H
