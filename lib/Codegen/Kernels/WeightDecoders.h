//===- WeightDecoders.h - Halide expressions that read stored weight rows -===//
//
// A weight matrix W [rows, cols] is stored row by row exactly as qcc keeps it in memory and in
// GGUF files: every row is one byte span (rowBytes), laid out as the format's blocks back to back
// (llama.cpp formats, see qcc/Quant/GGMLBlocks.h) or as qcc's packed integer groups (see
// qcc/QuantAlgo/IntGroup.h). The kernels take that byte matrix as a uint8 buffer w(byte, row)
// and never repack it.
//
// A decoder describes how one row is walked by a vectorised dot product. The row is cut into
// `blocks` (the unit that shares scales: a ggml block, an int group), and each block into `steps`
// of `lanes` vector lanes. term(j, s, b) is the contribution of lane j at step s of block b to the
// row's dot product with x; lane j always touches consecutive bytes (and consecutive or evenly
// strided columns of x) for consecutive j, so a vectorised j loop turns into dense loads and
// shuffles, never gathers. Per-block parameters (f16 scales, mins, packed 6-bit K-quant scales)
// are scalar loads, broadcast to the lanes. Every decoder multiplies exactly like the reference
// dequantizer (e.g. (d · sc) · q for q6_K) before multiplying by x, so only the order of the
// final sum differs from rt::linear.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_CODEGEN_KERNELS_WEIGHTDECODERS_H
#define QCC_LIB_CODEGEN_KERNELS_WEIGHTDECODERS_H

#include "Halide.h"

#include <functional>
#include <memory>
#include <string>

namespace qcc::kernels {

/// How a decoder reaches one row of the weights and the matching activation row.
struct RowAccess {
  /// Byte `k` of the current weight row, a UInt(8) expression.
  std::function<Halide::Expr(Halide::Expr)> w;
  /// Column `k` of the current activation row, a Float(32) expression.
  std::function<Halide::Expr(Halide::Expr)> x;
};

class WeightDecoder {
public:
  virtual ~WeightDecoder() = default;
  /// Vector lanes per step (the extent of the vectorised lane dimension).
  virtual int lanes() const = 0;
  /// cols must be a multiple of this.
  virtual int colMultiple() const = 0;
  /// Blocks per row and steps per block, for a row of `cols` values.
  virtual Halide::Expr blocks(Halide::Expr cols) const = 0;
  virtual Halide::Expr steps(Halide::Expr cols) const = 0;
  /// Bytes of one stored row of `cols` values.
  virtual Halide::Expr rowBytes(Halide::Expr cols) const = 0;
  /// Lane j's contribution at step s of block b (Float(32)).
  virtual Halide::Expr term(Halide::Expr j, Halide::Expr s, Halide::Expr b,
                            Halide::Expr cols, const RowAccess &a) const = 0;
};

/// Parses a format name: a ggml name ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
/// "q5_1", "q4_K", "q6_K", case-insensitive) or qcc's integer groups "int<bits>_g<group>_<sym|asym>"
/// with bits in {2, 4, 8} ("int4_g128_asym"; g0 = one group per row). Null for anything else.
std::unique_ptr<WeightDecoder> makeDecoder(const std::string &format);

/// IEEE half (two little-endian bytes) to float, exactly, with integer operations only (no F16C
/// or half type needed, so it lowers the same on every target, CUDA included).
Halide::Expr halfToFloat(Halide::Expr lo, Halide::Expr hi);

} // namespace qcc::kernels

#endif // QCC_LIB_CODEGEN_KERNELS_WEIGHTDECODERS_H
