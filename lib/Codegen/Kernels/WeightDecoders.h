//===- WeightDecoders.h - Halide expressions that read stored weight rows -===//
//
// A weight matrix W [rows, cols] is stored row by row exactly as qcc keeps it in memory and in
// GGUF files: every row is one byte span (rowBytes), laid out as the format's blocks back to back
// (llama.cpp formats, see qcc/Quant/GGMLBlocks.h) or as qcc's packed integer groups (see
// qcc/QuantAlgo/IntGroup.h). The kernels take that matrix as a buffer w(element, row) and never
// repack it: a uint8 byte matrix for the block formats, and for the float formats the rows as
// typed values (storageType(): f32 as Float(32), f16 and bf16 as UInt(16) bits), so that Halide
// emits plain vector loads instead of rebuilding each value from bytes.
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
// Staging. Bit streams whose codes straddle bytes (3/5/6/7-bit integer groups) give lane j a
// unit of several bytes, so a lane's byte t sits at a stride of the unit size. Such decoders ask
// the generator to stage the step's bytes (and the x values they pair with) through small
// transposed buffers, staged(j, t) = byte t of lane j: Halide fills those with one dense load and
// a shuffle, and the decoder then reads them back densely per t.
//
// Tails. A per-channel integer row (one group of `cols` values) need not be a multiple of the
// step; the (block, step) walk then covers mainCols(cols) columns and the generator adds the
// remaining columns one by one with value().
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
  /// Element `k` of the current weight row: a UInt(8) byte, or for the float formats the
  /// typed value (WeightDecoder::storageType()).
  std::function<Halide::Expr(Halide::Expr)> w;
  /// Column `k` of the current activation row, a Float(32) expression.
  std::function<Halide::Expr(Halide::Expr)> x;
  /// Staged byte / activation t of lane j at step s of block b (only for decoders that stage):
  /// the values at stagedByte(j, t, s, b) and stagedColumn(j, t, s, b).
  std::function<Halide::Expr(Halide::Expr, Halide::Expr, Halide::Expr, Halide::Expr)> stagedW,
      stagedX;
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
  /// The element type of the weight buffer w: UInt(8) (the bytes) except for the float formats
  /// (Float(32) for f32, UInt(16) for f16 and bf16).
  virtual Halide::Type storageType() const { return Halide::UInt(8); }
  /// Elements of w per stored row (the extent of w's dimension 0): rowBytes / element size.
  Halide::Expr rowElements(Halide::Expr cols) const {
    return rowBytes(cols) / (storageType().bits() / 8);
  }
  /// Lane j's contribution at step s of block b (Float(32)).
  virtual Halide::Expr term(Halide::Expr j, Halide::Expr s, Halide::Expr b,
                            Halide::Expr cols, const RowAccess &a) const = 0;
  /// The dequantized value of column k (Float(32)), computed exactly as the reference
  /// dequantizer does (bit-exact). Scalar index arithmetic: used by qcc_embed and for tails.
  virtual Halide::Expr value(Halide::Expr k, Halide::Expr cols,
                             const std::function<Halide::Expr(Halide::Expr)> &w) const = 0;
  /// Columns covered by the (block, step) walk; [mainCols, cols) is the tail.
  virtual Halide::Expr mainCols(Halide::Expr cols) const { return cols; }
  /// Bytes / activations per lane to stage (0: none), and where lane j's t-th one lives.
  virtual int stagedBytes() const { return 0; }
  virtual int stagedValues() const { return 0; }
  virtual Halide::Expr stagedByte(Halide::Expr j, Halide::Expr t, Halide::Expr s, Halide::Expr b,
                                  Halide::Expr cols) const {
    return Halide::Expr();
  }
  virtual Halide::Expr stagedColumn(Halide::Expr j, Halide::Expr t, Halide::Expr s,
                                    Halide::Expr b, Halide::Expr cols) const {
    return Halide::Expr();
  }
};

/// Parses a format name: a ggml name ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
/// "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", case-insensitive) or qcc's integer
/// groups "int<bits>_g<group>_<sym|asym>" with bits in 2..8 and group 0 (one group per row, any
/// cols) or a power of two >= 16 ("int4_g128_asym", "int3_g0_sym"). Null for anything else.
std::unique_ptr<WeightDecoder> makeDecoder(const std::string &format);

/// A format name as the generators compare it: lower case ("Q4_K" and "q4_K" are "q4_k").
std::string lowerFormat(const std::string &format);

/// qcc's integer groups (IntGroupDecoder.cpp); null for an unsupported bits/group pair.
std::unique_ptr<WeightDecoder> makeIntGroupDecoder(int bits, int group, bool symmetric);

/// IEEE half (two little-endian bytes) to float, exactly, with integer operations only (no F16C
/// or half type needed, so it lowers the same on every target, CUDA included).
Halide::Expr halfToFloat(Halide::Expr lo, Halide::Expr hi);

/// IEEE half bits (a UInt(16) expression) to float, exactly (subnormals, Inf and NaN included):
/// a shift, an f32 multiply by 2^112 and a fix-up for Inf/NaN, vectorising to a few
/// instructions per vector (Halide 14 emulates Float(16) casts on x86 with more, never
/// vcvtph2ps).
/// While a HalfToFloatExtern is alive on this thread, a call of the pure extern
/// qcc_f16_to_f32 (qcc/Codegen/HalfToFloat.h) instead, for qcc's LLVM to turn into F16C
/// conversions (x86 kernels compiled from bitcode only: nothing else defines it).
Halide::Expr halfBitsToFloat(Halide::Expr h);

/// Scope of halfBitsToFloat's (and halfToFloat's) extern calls (one generator run; generators
/// run on one thread).
class HalfToFloatExtern {
public:
  explicit HalfToFloatExtern(bool on);
  ~HalfToFloatExtern();
  /// Whether a scope with `on` is alive on this thread.
  static bool active();
  HalfToFloatExtern(const HalfToFloatExtern &) = delete;
  HalfToFloatExtern &operator=(const HalfToFloatExtern &) = delete;

private:
  bool previous_;
};

} // namespace qcc::kernels

#endif // QCC_LIB_CODEGEN_KERNELS_WEIGHTDECODERS_H
