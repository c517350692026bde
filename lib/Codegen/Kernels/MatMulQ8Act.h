//===- MatMulQ8Act.h - 4/8-bit weights × q8 activations, int8 dots --------===//
//
// The act_quant=q8_block variant of qcc_matmul (decode GEMVs, a small fixed batch): the
// activations of the call are quantized once to int8 (llama.cpp's q8_0 arithmetic: d = max|x| /
// 127, q = round(x / d)), arranged in the weight's byte order, and the codes are multiplied with
// them as integer dot products: per block of 32 columns for q4_0, q8_0 and int4 groups
// (MatMulQ8Act.cpp), per 256 for q4_K and q6_K (MatMulQ8K.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_CODEGEN_KERNELS_MATMULQ8ACT_H
#define QCC_LIB_CODEGEN_KERNELS_MATMULQ8ACT_H

#include "OptLevel.h"

#include "Halide.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qcc::kernels {

/// How the q8 kernel walks one stored row of a 4-bit format: steps of 64 code bytes (128
/// columns); code byte p of a step holds a low and a high nibble (half h = 0 / 1); 16 lanes of
/// 4 consecutive code bytes each. Every lane's values of one half share one weight scale and
/// offset (w = a · code + o) and one activation block of 32 columns.
class Q8Layout {
public:
  virtual ~Q8Layout() = default;
  /// cols must be a multiple of this (a multiple of 128).
  virtual int colMultiple() const = 0;
  virtual Halide::Expr rowBytes(Halide::Expr cols) const = 0;
  /// Row byte of code byte p (0..63) of step s; its low nibble (half h = 0) and high nibble
  /// (h = 1) share the lane's scale, offset and activation block.
  virtual Halide::Expr codeByte(Halide::Expr s, Halide::Expr p, Halide::Expr cols) const = 0;
  /// Column of half h of code byte p of step s.
  virtual Halide::Expr column(Halide::Expr s, Halide::Expr h, Halide::Expr p) const = 0;
  /// The row's f16 parameters: `halfParams()` per parameter block, `paramBlocks(cols)` blocks;
  /// parameter k of block b is the half at row byte halfParamByte(b, k). They are converted
  /// once per row, vectorised over blocks.
  virtual int halfParams() const = 0;
  virtual Halide::Expr paramBlocks(Halide::Expr cols) const = 0;
  virtual Halide::Expr halfParamByte(Halide::Expr b, int k, Halide::Expr cols) const = 0;
  /// The row's weight scales and offsets, as a table computed once per row: entry e of
  /// tableSize(cols) has scale a and offset o (w = a · code + o for its values); Float(32).
  /// P(b, k) is parameter k of block b.
  virtual Halide::Expr tableSize(Halide::Expr cols) const = 0;
  virtual void tableEntry(Halide::Expr e, Halide::Expr cols,
                          const std::function<Halide::Expr(Halide::Expr)> &w,
                          const std::function<Halide::Expr(Halide::Expr, int)> &P,
                          Halide::Expr &a, Halide::Expr &o) const = 0;
  /// c when every offset is c · its scale (o = c · a: q4_0, symmetric int4), else 0: with
  /// paramsInBlocks (q4_0) the kernel then starts the integer sums at c · Σ q (c a multiple of 4).
  virtual float offsetFactor() const { return 0.0f; }
  /// Columns per table entry, a power of two >= 32 (q4_0: 32, int4: the group): entries of
  /// >= 128 columns cover whole 128-column steps, smaller ones whole 32-column activation
  /// blocks (the kernel scales each block by its entry's scale times its activation scale).
  virtual int entryColumns() const = 0;
  /// True when the f16 parameters sit inside the blocks between the codes (q4_0), so that
  /// reading a row's parameters up front would touch every line of the row before the step loop.
  virtual bool paramsInBlocks() const { return false; }
  /// True for 8-bit codes (q8_0): half h of code byte p is a byte of its own (byteOfHalf), its
  /// int8 value stored +128 as the unsigned code (w = a · code + o with o = −128 a); else the
  /// halves are the low and high nibble of byte codeByte(s, p).
  virtual bool byteCodes() const { return false; }
  /// Steps (64 code bytes each) ahead of the step loop that the kernel prefetches its row when
  /// it runs one row per step; 0: none, the hardware prefetchers alone. Chosen per format by
  /// measurement (docs/Codegen.md), not derived from the layout.
  virtual int prefetchSteps() const { return 0; }
  virtual Halide::Expr byteOfHalf(Halide::Expr s, Halide::Expr p, Halide::Expr h,
                                  Halide::Expr cols) const {
    return codeByte(s, p, cols);
  }
};

/// The layout of a format with a MatMulQ8Act path ("q4_0", "q8_0", "int4_g<G>_<sym|asym>" with G
/// a power of two >= 32); null for the others (q4_K and q6_K: MatMulQ8K.cpp).
std::unique_ptr<Q8Layout> makeQ8Layout(const std::string &format);

struct Q8ActOptions {
  int rowTile = 16;
  /// Rows computed together in the step loop (a divisor of rowTile): the activations' codes,
  /// scales and sums loaded once per step serve that many rows.
  int rowBlock = 1;
  /// The weight buffer (MatMulQ8K.cpp prefetches its rows ahead of the block loop).
  Halide::Internal::Parameter weights;
  /// The fixed batch (1..8): tokens unrolled inside the row loop.
  int batch = 1;
  OptLevel opt;
};

/// The fixed pairwise sum f(0, r, i) + ... + f(lanes - 1, r, i) (adjacent pairs level by level;
/// with an odd count the last lane moves up unpaired). Used by every qcc_matmul GEMV.
Halide::Expr laneTreeSum(Halide::Func f, int lanes, Halide::Var r, Halide::Var i);

/// Splits y's rows into parallel tiles (ro) of rowTile rows and, for rowBlock > 1, blocks of
/// rowBlock rows (rr inside); the batch i innermost. Returns the loop that runs once per row
/// (rowBlock 1: ri) or row block, where the per-row Funcs are computed.
Halide::Var rowLoops(Halide::Func y, Halide::Var r, Halide::Var i, Halide::Var ro, Halide::Var ri,
                     Halide::Var rr, int rowTile, int rowBlock);

/// q4_K and q6_K take MatMulQ8K.cpp's kernel (activations per 256 columns, integer scales).
bool isQ8KFormat(const std::string &format);
void defineMatMulQ8K(Halide::Func x, Halide::Func w, Halide::Func y, const std::string &format,
                     Halide::Expr cols, Halide::Var r, Halide::Var i, const Halide::Target &target,
                     const Q8ActOptions &options);

/// Defines and schedules y(r, i) = Σ_k W(r, k) · x̂(k, i), x̂ the q8 fake quantization of x
/// (per token, per block of 32 columns), computed with integer dot products per lane and one
/// float scale per lane and step. x(k, i) float activations, w(byte, r) the stored rows.
void defineMatMulQ8Act(Halide::Func x, Halide::Func w, Halide::Func y, const Q8Layout &layout,
                       Halide::Expr cols, Halide::Var r, Halide::Var i,
                       const Halide::Target &target, const Q8ActOptions &options);

} // namespace qcc::kernels

#endif // QCC_LIB_CODEGEN_KERNELS_MATMULQ8ACT_H
