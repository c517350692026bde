//===- IntGroupDecoder.cpp - qcc's #qllm.int<bits, group, sym> row decoder -===//
//
// Row layout (qcc/QuantAlgo/IntGroup.h): all groups' params first (f16 scale, then the f16 zero
// for asymmetric formats; symmetric formats use zero = 2^(b-1)), then an LSB-first bit stream of
// b-bit codes: code k occupies stream bits [k·b, (k+1)·b), stream bit n is bit n % 8 of byte
// n / 8. w = scale · (code − zero), exactly as quantalgo::dequantizeCode.
//
// Lanes. A lane owns one *unit*: the smallest run of whole bytes holding whole codes.
//   b ∈ {2, 4, 8}: one byte, 8 / b codes (no code crosses a byte). Lane j reads byte j of the
//                  step directly (a dense load) and pairs code k with x[first + (8/b)·j + k].
//   b ∈ {3, 5, 6, 7}: b bytes, 8 codes. Code k of the unit starts at unit bit b·k, i.e. in unit
//                  byte t = b·k / 8 at shift b·k % 8 (constants per k), and continues into byte
//                  t + 1 when shift + b > 8. Lane j's bytes lie at a stride of b, so the step's
//                  16·b bytes are staged (one dense load, transposed by a shuffle into 16-lane
//                  vectors of "byte t of every unit"), and so are the 8 x values of each unit.
// A step is 16 lanes (fewer for small groups: group / unit values), so a group is a whole
// number of steps. Per-channel rows (g0) are one group of `cols`; the walk covers the whole
// steps and the generator adds the remaining columns (a tail of < one step) with value().
//
//===----------------------------------------------------------------------===//
#include "WeightDecoders.h"

#include <algorithm>

using namespace Halide;

namespace qcc::kernels {
namespace {

Expr f32(Expr e) { return cast<float>(e); }

class IntGroupDecoder : public WeightDecoder {
public:
  IntGroupDecoder(int bits, int group, bool symmetric)
      : bits_(bits), group_(group), symmetric_(symmetric) {
    crossing_ = 8 % bits != 0;
    unitValues_ = crossing_ ? 8 : 8 / bits;
    unitBytes_ = crossing_ ? bits : 1;
    lanes_ = group ? std::min(16, group / unitValues_) : 16;
  }
  int lanes() const override { return lanes_; }
  int colMultiple() const override { return group_ ? group_ : 1; }
  Expr blocks(Expr cols) const override { return group_ ? cols / group_ : Expr(1); }
  Expr steps(Expr cols) const override { return groupLen(cols) / chunkValues(); }
  Expr rowBytes(Expr cols) const override {
    return blocks(cols) * paramBytes() + (cols * bits_ + 7) / 8;
  }
  Expr mainCols(Expr cols) const override {
    return group_ ? cols : cols / chunkValues() * chunkValues();
  }
  int stagedBytes() const override { return crossing_ ? unitBytes_ : 0; }
  int stagedValues() const override { return unitValues_ > 1 ? unitValues_ : 0; }
  Expr stagedByte(Expr j, Expr t, Expr s, Expr g, Expr cols) const override {
    return codesAt(cols) + firstColumn(s, g, cols) * bits_ / 8 + unitBytes_ * j + t;
  }
  Expr stagedColumn(Expr j, Expr t, Expr s, Expr g, Expr cols) const override {
    return firstColumn(s, g, cols) + unitValues_ * j + t;
  }

  Expr term(Expr j, Expr s, Expr g, Expr cols, const RowAccess &a) const override {
    Expr scale, zero;
    params(g, a.w, scale, zero);
    Expr first = firstColumn(s, g, cols);
    const int mask = (1 << bits_) - 1;
    Expr sum;
    auto add = [&](Expr t) { sum = sum.defined() ? sum + t : t; };
    if (!crossing_) {
      Expr byte = a.w(codesAt(cols) + first * bits_ / 8 + j);
      for (int k = 0; k < unitValues_; ++k) {
        Expr code = f32((byte >> (k * bits_)) & mask);
        Expr xv = unitValues_ > 1 ? a.stagedX(j, k, s, g) : a.x(first + j);
        add((scale * (code - zero)) * xv);
      }
      return sum;
    }
    for (int k = 0; k < unitValues_; ++k) {
      const int t = bits_ * k / 8, shift = bits_ * k % 8;
      Expr v = cast<uint16_t>(a.stagedW(j, t, s, g));
      if (shift + bits_ > 8)
        v = v | (cast<uint16_t>(a.stagedW(j, t + 1, s, g)) << 8);
      Expr code = f32((v >> shift) & mask);
      add((scale * (code - zero)) * a.stagedX(j, k, s, g));
    }
    return sum;
  }

  Expr value(Expr k, Expr cols, const std::function<Expr(Expr)> &w) const override {
    Expr scale, zero;
    params(k / groupLen(cols), w, scale, zero);
    Expr bit = k * bits_;
    Expr at = codesAt(cols) + bit / 8;
    Expr last = rowBytes(cols) - 1;
    Expr v = cast<uint16_t>(w(at)) | (cast<uint16_t>(w(min(at + 1, last))) << 8);
    Expr code = f32((v >> cast<uint16_t>(bit % 8)) & ((1 << bits_) - 1));
    return scale * (code - zero);
  }

private:
  int chunkValues() const { return lanes_ * unitValues_; }
  int paramBytes() const { return symmetric_ ? 2 : 4; }
  Expr groupLen(Expr cols) const { return group_ ? Expr(group_) : cols; }
  Expr codesAt(Expr cols) const { return blocks(cols) * paramBytes(); }
  Expr firstColumn(Expr s, Expr g, Expr cols) const {
    return g * groupLen(cols) + s * chunkValues();
  }
  void params(Expr g, const std::function<Expr(Expr)> &w, Expr &scale, Expr &zero) const {
    Expr p = g * paramBytes();
    scale = halfToFloat(w(p), w(p + 1));
    zero = symmetric_ ? Expr(float(1 << (bits_ - 1))) : halfToFloat(w(p + 2), w(p + 3));
  }

  int bits_, group_;
  bool symmetric_, crossing_;
  int unitValues_, unitBytes_, lanes_;
};

} // namespace

std::unique_ptr<WeightDecoder> makeIntGroupDecoder(int bits, int group, bool symmetric) {
  // IntGroupFormatAttr's rule: group 0 (per channel) or a power of two >= 16.
  if (bits < 2 || bits > 8 || group < 0 || (group != 0 && (group < 16 || (group & (group - 1)))))
    return nullptr;
  return std::make_unique<IntGroupDecoder>(bits, group, symmetric);
}

} // namespace qcc::kernels
