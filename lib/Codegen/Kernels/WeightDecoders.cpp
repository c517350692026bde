//===- WeightDecoders.cpp - per-format row decoders for the matmul kernels -===//
//
// Byte layouts (offsets within one block; "f16" = IEEE half, little endian):
//   f32/f16/bf16  plain values; walked as pseudo-blocks of 16 values.
//   q8_0   34 B / 32 values: d f16 @0, qs int8[32] @2;           w = q · d
//   q4_0   18 B / 32 values: d @0, qs[16] @2;   value j is the low nibble of qs[j], value
//          j + 16 the high nibble;                                w = (nib − 8) · d
//   q4_1   20 B: d @0, m @2, qs[16] @4;                          w = nib · d + m
//   q5_0   22 B: d @0, qh u32 @2 (bit j = 5th bit of value j), qs[16] @6;  w = (q5 − 16) · d
//   q5_1   24 B: d @0, m @2, qh @4, qs[16] @8;                   w = q5 · d + m
//   q4_K  144 B / 256 values: d @0, dmin @2, scales[12] @4 (eight 6-bit scale/min pairs),
//          qs[128] @16; chunk c < 4 covers values 64c.. : 32 low nibbles of qs[32c + l] with
//          pair 2c, then the 32 high nibbles with pair 2c + 1;     w = (d·sc)·nib − dmin·m
//   q6_K  210 B / 256 values: ql[128] @0, qh[64] @128, scales int8[16] @192, d @208; half
//          h < 2 covers values 128h.. in four runs of 32 (see dequantizeRowQ6_K).
//   int<b>_g<G>: the row starts with all groups' params (f16 scale, then f16 zero when
//          asymmetric), then an LSB-first bit stream of b-bit codes; w = scale · (u − zero).
//
// Lane/step choice: a step reads 16 or 32 consecutive bytes of codes (one 128/256-bit load) and
// the x values they pair with; for nibble formats one byte feeds two x columns, so both are
// consumed in the same lane rather than splitting the byte's halves across lanes.
//
//===----------------------------------------------------------------------===//
#include "WeightDecoders.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

using namespace Halide;

namespace qcc::kernels {

Expr halfToFloat(Expr lo, Expr hi) {
  Expr h = cast<uint32_t>(lo) | (cast<uint32_t>(hi) << 8);
  Expr sign = (h >> 15) << 31;
  Expr e = (h >> 10) & 31;
  Expr m = h & 1023;
  // Normal numbers: rebias the exponent (15 → 127) and widen the mantissa.
  Expr normal = reinterpret<float>(sign | ((e + 112) << 23) | (m << 13));
  // Subnormals (and zero): m · 2^-24, exact in float.
  Expr sub = cast<float>(m) * (1.0f / 16777216.0f);
  sub = select(sign != 0, -sub, sub);
  Expr special = reinterpret<float>(sign | Internal::make_const(UInt(32), 0x7f800000u) | (m << 13));
  return select(e == 0, sub, select(e == 31, special, normal));
}

namespace {

Expr f32(Expr e) { return cast<float>(e); }
Expr i32(Expr e) { return cast<int32_t>(e); }

/// ggml-style formats: fixed blocks of `values` values in `bytes` bytes, row = blocks back to back.
class BlockDecoder : public WeightDecoder {
public:
  BlockDecoder(int values, int bytes, int lanes, int steps)
      : values_(values), bytes_(bytes), lanes_(lanes), steps_(steps) {}
  int lanes() const override { return lanes_; }
  int colMultiple() const override { return values_; }
  Expr blocks(Expr cols) const override { return cols / values_; }
  Expr steps(Expr) const override { return steps_; }
  Expr rowBytes(Expr cols) const override { return cols / values_ * bytes_; }
  Expr term(Expr j, Expr s, Expr b, Expr, const RowAccess &a) const override {
    auto wb = [&](Expr off) { return a.w(b * bytes_ + off); };
    auto xb = [&](Expr off) { return a.x(b * values_ + off); };
    return blockTerm(j, s, wb, xb);
  }

protected:
  using Reader = std::function<Expr(Expr)>;
  virtual Expr blockTerm(Expr j, Expr s, const Reader &w, const Reader &x) const = 0;
  Expr half(const Reader &w, int off) const { return halfToFloat(w(off), w(off + 1)); }

private:
  int values_, bytes_, lanes_, steps_;
};

/// f32, f16, bf16: 16 values per pseudo-block, one value per lane.
class FloatDecoder : public BlockDecoder {
public:
  FloatDecoder(int width, bool brain)
      : BlockDecoder(16, 16 * width, 16, 1), width_(width), brain_(brain) {}

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    Expr v;
    if (width_ == 4) {
      Expr u = cast<uint32_t>(w(4 * j)) | (cast<uint32_t>(w(4 * j + 1)) << 8) |
               (cast<uint32_t>(w(4 * j + 2)) << 16) | (cast<uint32_t>(w(4 * j + 3)) << 24);
      v = reinterpret<float>(u);
    } else if (!brain_) {
      v = halfToFloat(w(2 * j), w(2 * j + 1));
    } else { // bf16: the top half of an f32
      v = reinterpret<float>((cast<uint32_t>(w(2 * j)) << 16) |
                             (cast<uint32_t>(w(2 * j + 1)) << 24));
    }
    return v * x(j);
  }

private:
  int width_;
  bool brain_;
};

class Q8_0Decoder : public BlockDecoder {
public:
  Q8_0Decoder() : BlockDecoder(32, 34, 32, 1) {}

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    Expr d = half(w, 0);
    return (f32(cast<int8_t>(w(2 + j))) * d) * x(j);
  }
};

/// q4_0, q4_1, q5_0, q5_1: 16 lanes, lane j = byte qs[j] = values j and j + 16.
class Legacy4Decoder : public BlockDecoder {
public:
  Legacy4Decoder(bool hasMin, bool fifthBit)
      : BlockDecoder(32, 2 + (hasMin ? 2 : 0) + (fifthBit ? 4 : 0) + 16, 16, 1),
        hasMin_(hasMin), fifthBit_(fifthBit) {}

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    Expr d = half(w, 0);
    int qs = hasMin_ ? 4 : 2;
    Expr q = w(qs + (fifthBit_ ? 4 : 0) + j);
    Expr x0 = i32(q & 15), x1 = i32(q >> 4);
    if (fifthBit_) {
      int at = qs;
      Expr qh = cast<uint32_t>(w(at)) | (cast<uint32_t>(w(at + 1)) << 8) |
                (cast<uint32_t>(w(at + 2)) << 16) | (cast<uint32_t>(w(at + 3)) << 24);
      Expr uj = cast<uint32_t>(j);
      x0 = x0 | i32(((qh >> uj) << 4) & 0x10);
      x1 = x1 | i32((qh >> (uj + 12)) & 0x10);
    }
    if (!hasMin_) {
      int bias = fifthBit_ ? 16 : 8;
      return (f32(x0 - bias) * d) * x(j) + (f32(x1 - bias) * d) * x(j + 16);
    }
    Expr m = half(w, 2);
    return (f32(x0) * d + m) * x(j) + (f32(x1) * d + m) * x(j + 16);
  }

private:
  bool hasMin_, fifthBit_;
};

/// q4_K: 32 lanes, 4 steps (chunks of 64 values) per 256-value super-block.
class Q4_KDecoder : public BlockDecoder {
public:
  Q4_KDecoder() : BlockDecoder(256, 144, 32, 4) {}

protected:
  /// ggml's get_scale_min_k4 for pair `is` (0..7) of the 12 packed scale bytes at offset 4.
  static void scaleMin(Expr is, const Reader &w, Expr &sc, Expr &mn) {
    auto q = [&](Expr k) { return w(4 + k); };
    Expr scLo = q(is) & 63, mnLo = q(is + 4) & 63;
    Expr scHi = (q(is + 4) & 15) | ((q(max(is - 4, 0)) >> 6) << 4);
    Expr mnHi = (q(is + 4) >> 4) | ((q(is) >> 6) << 4);
    sc = f32(select(is < 4, scLo, scHi));
    mn = f32(select(is < 4, mnLo, mnHi));
  }
  Expr blockTerm(Expr j, Expr c, const Reader &w, const Reader &x) const override {
    Expr d = half(w, 0), dmin = half(w, 2);
    Expr sc1, m1, sc2, m2;
    scaleMin(2 * c, w, sc1, m1);
    scaleMin(2 * c + 1, w, sc2, m2);
    Expr q = w(16 + 32 * c + j);
    Expr v1 = (d * sc1) * f32(q & 15) - dmin * m1;
    Expr v2 = (d * sc2) * f32(q >> 4) - dmin * m2;
    return v1 * x(64 * c + j) + v2 * x(64 * c + 32 + j);
  }
};

/// q6_K: 32 lanes, 2 steps (halves of 128 values) per 256-value super-block.
class Q6_KDecoder : public BlockDecoder {
public:
  Q6_KDecoder() : BlockDecoder(256, 210, 32, 2) {}

protected:
  Expr blockTerm(Expr l, Expr h, const Reader &w, const Reader &x) const override {
    Expr d = half(w, 208);
    Expr qlA = w(64 * h + l), qlB = w(64 * h + 32 + l), qh = w(128 + 32 * h + l);
    auto q6 = [&](Expr lowBits, int shift) {
      return f32(i32(lowBits | (((qh >> shift) & 3) << 4)) - 32);
    };
    // Lanes 0..15 use scale sc[is], lanes 16..31 sc[is + 1]: two scalar loads and a select
    // instead of a per-lane gather.
    auto scale = [&](int k) {
      Expr s0 = f32(cast<int8_t>(w(192 + 8 * h + k)));
      Expr s1 = f32(cast<int8_t>(w(192 + 8 * h + k + 1)));
      return d * select(l < 16, s0, s1);
    };
    Expr base = 128 * h + l;
    return (scale(0) * q6(qlA & 15, 0)) * x(base) + (scale(2) * q6(qlB & 15, 2)) * x(base + 32) +
           (scale(4) * q6(qlA >> 4, 4)) * x(base + 64) +
           (scale(6) * q6(qlB >> 4, 6)) * x(base + 96);
  }
};

/// qcc's #qllm.int<bits, group, sym> rows, bits in {2, 4, 8}: 16 lanes of code bytes per step,
/// each byte holding 8 / bits codes (LSB first) for consecutive columns.
class IntGroupDecoder : public WeightDecoder {
public:
  IntGroupDecoder(int bits, int group, bool symmetric)
      : bits_(bits), group_(group), symmetric_(symmetric) {}
  int lanes() const override { return 16; }
  int colMultiple() const override { return group_ ? group_ : chunkValues(); }
  Expr blocks(Expr cols) const override { return group_ ? cols / group_ : Expr(1); }
  Expr steps(Expr cols) const override { return groupLen(cols) / chunkValues(); }
  Expr rowBytes(Expr cols) const override {
    return blocks(cols) * paramBytes() + cols * bits_ / 8;
  }
  Expr term(Expr j, Expr s, Expr g, Expr cols, const RowAccess &a) const override {
    Expr p = g * paramBytes();
    Expr scale = halfToFloat(a.w(p), a.w(p + 1));
    Expr zero = symmetric_ ? Expr(float(1 << (bits_ - 1))) : halfToFloat(a.w(p + 2), a.w(p + 3));
    Expr first = g * groupLen(cols) + s * chunkValues(); // first column of this step
    Expr byte = a.w(blocks(cols) * paramBytes() + first * bits_ / 8 + j);
    int per = 8 / bits_;
    Expr sum;
    for (int k = 0; k < per; ++k) {
      Expr code = f32((byte >> (k * bits_)) & ((1 << bits_) - 1));
      Expr t = (scale * (code - zero)) * a.x(first + per * j + k);
      sum = sum.defined() ? sum + t : t;
    }
    return sum;
  }

private:
  int chunkValues() const { return 16 * 8 / bits_; }
  int paramBytes() const { return symmetric_ ? 2 : 4; }
  Expr groupLen(Expr cols) const { return group_ ? Expr(group_) : cols; }
  int bits_, group_;
  bool symmetric_;
};

} // namespace

std::unique_ptr<WeightDecoder> makeDecoder(const std::string &format) {
  std::string f = format;
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
  if (f == "f32")
    return std::make_unique<FloatDecoder>(4, false);
  if (f == "f16")
    return std::make_unique<FloatDecoder>(2, false);
  if (f == "bf16")
    return std::make_unique<FloatDecoder>(2, true);
  if (f == "q8_0")
    return std::make_unique<Q8_0Decoder>();
  if (f == "q4_0")
    return std::make_unique<Legacy4Decoder>(false, false);
  if (f == "q4_1")
    return std::make_unique<Legacy4Decoder>(true, false);
  if (f == "q5_0")
    return std::make_unique<Legacy4Decoder>(false, true);
  if (f == "q5_1")
    return std::make_unique<Legacy4Decoder>(true, true);
  if (f == "q4_k")
    return std::make_unique<Q4_KDecoder>();
  if (f == "q6_k")
    return std::make_unique<Q6_KDecoder>();
  int bits = 0, group = 0;
  char sym[8] = {0};
  int consumed = 0;
  if (std::sscanf(f.c_str(), "int%d_g%d_%4[a-z]%n", &bits, &group, sym, &consumed) == 3 &&
      consumed == int(f.size()) && (bits == 2 || bits == 4 || bits == 8) && group >= 0 &&
      (std::string(sym) == "sym" || std::string(sym) == "asym")) {
    int chunk = 16 * 8 / bits;
    if (group % chunk != 0)
      return nullptr;
    return std::make_unique<IntGroupDecoder>(bits, group, std::string(sym) == "sym");
  }
  return nullptr;
}

} // namespace qcc::kernels
