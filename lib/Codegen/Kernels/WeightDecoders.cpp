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
//   iq4_nl 18 B / 32 values: d @0, qs[16] @2, nibbles as q4_0;  w = d · kvalues[nib]
//          (ggml's non-linear int8 grid, looked up with a 4-level select tree)
//   q2_K   84 B / 256 values: scales[16] @0 (low nibble scale, high nibble min), qs[64] @16,
//          d @80, dmin @82; half h < 2 covers values 128h..: plane p < 4 of bytes qs[32h + l]
//          (bits 2p..2p+1) is value 128h + 32p + l with scale byte 8h + 2p + l / 16;
//                                                                  w = (d·sc)·q − dmin·m
//   q3_K  110 B: hmask[32] @0, qs[64] @32, scales[12] @96 (sixteen 6-bit scales, bias 32),
//          d @108; the q2_K plane walk, value 128h + 32p + l has its high bit in bit 4h + p of
//          hmask[l];                                              w = (d·sc)·(q − 4·!hbit)
//   q4_K  144 B / 256 values: d @0, dmin @2, scales[12] @4 (eight 6-bit scale/min pairs),
//          qs[128] @16; chunk c < 4 covers values 64c.. : 32 low nibbles of qs[32c + l] with
//          pair 2c, then the 32 high nibbles with pair 2c + 1;     w = (d·sc)·nib − dmin·m
//   q6_K  210 B / 256 values: ql[128] @0, qh[64] @128, scales int8[16] @192, d @208; half
//          h < 2 covers values 128h.. in four runs of 32 (see dequantizeRowQ6_K).
//   q5_K  176 B: q4_K with qh[32] @16 and qs[128] @48: the fifth bit of chunk c's low/high
//          nibble values is bit 2c / 2c + 1 of qh[l].
//   int<b>_g<G>: see IntGroupDecoder.cpp.
//
// Lane/step choice: a step reads 16 or 32 consecutive bytes of codes (one 128/256-bit load) and
// the x values they pair with; for nibble formats one byte feeds two x columns, so both are
// consumed in the same lane rather than splitting the byte's halves across lanes.
//
//===----------------------------------------------------------------------===//
#include "WeightDecoders.h"

#include "qcc/Codegen/HalfToFloat.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

using namespace Halide;

namespace qcc::kernels {

namespace {
thread_local bool halfExtern = false;
} // namespace

HalfToFloatExtern::HalfToFloatExtern(bool on) : previous_(halfExtern) { halfExtern = on; }
HalfToFloatExtern::~HalfToFloatExtern() { halfExtern = previous_; }
bool HalfToFloatExtern::active() { return halfExtern; }

Expr halfToFloat(Expr lo, Expr hi) {
  if (halfExtern)
    return halfBitsToFloat(cast<uint16_t>(lo) | (cast<uint16_t>(hi) << 8));
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

Expr halfBitsToFloat(Expr h) {
  if (halfExtern)
    return Internal::Call::make(Float(32, h.type().lanes()), codegen::kHalfToFloatExtern,
                                {cast<uint16_t>(h)}, Internal::Call::PureExtern);
  // The exponent and mantissa moved into an f32's fields and scaled by 2^112 (rebias 15 →
  // 127; half subnormals become f32 subnormals, which the multiply normalises exactly). Inf and
  // NaN (≥ 2^16 after the multiply) get the all-ones exponent; then the sign.
  Expr u = cast<uint32_t>(h);
  Expr mag = reinterpret<float>((u & 0x7fff) << 13) * 0x1p112f;
  Expr bits = reinterpret<uint32_t>(mag);
  bits = select(mag >= 65536.0f, bits | Expr(uint32_t(255u << 23)), bits);
  return reinterpret<float>(bits | ((u & 0x8000) << 16));
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
  Expr value(Expr k, Expr, const std::function<Expr(Expr)> &w) const override {
    Expr b = k / values_;
    auto wb = [&](Expr off) { return w(b * bytes_ + off); };
    return blockValue(k % values_, wb);
  }

protected:
  using Reader = std::function<Expr(Expr)>;
  virtual Expr blockTerm(Expr j, Expr s, const Reader &w, const Reader &x) const = 0;
  /// Value l (< values) of the block read by w.
  virtual Expr blockValue(Expr l, const Reader &w) const = 0;
  Expr half(const Reader &w, Expr off) const { return halfToFloat(w(off), w(off + 1)); }

private:
  int values_, bytes_, lanes_, steps_;
};

/// f32, f16, bf16: one value per lane, read from a typed buffer (storageType()): f32 values
/// directly, f16 and bf16 as UInt(16) bits, f16 converted by halfBitsToFloat (Halide 14 has no
/// F16C codegen on x86: its Float(16) cast is a longer emulation; kernels that qcc's LLVM
/// compiles get vcvtph2ps through HalfToFloat.h instead), bf16 as the top half of an f32. 16
/// lanes for f32, 32 for the 16-bit formats (one 64-byte load). Rows of any length: the columns
/// past the last whole step are a scalar tail (stories260K's FFN is 172 wide).
class FloatDecoder : public BlockDecoder {
public:
  FloatDecoder(int width, bool brain)
      : BlockDecoder(lanesFor(width), lanesFor(width), lanesFor(width), 1), width_(width),
        brain_(brain) {}
  int colMultiple() const override { return 1; }
  Expr rowBytes(Expr cols) const override { return cols * width_; }
  Type storageType() const override { return width_ == 4 ? Float(32) : UInt(16); }
  Expr mainCols(Expr cols) const override { return cols / lanesFor(width_) * lanesFor(width_); }
  /// Value k read at element k directly: through the block split (k / 16, k % 16) Halide's
  /// bounds inference takes k % 16 as [0, 15] and would require the tail's reads up to the end
  /// of a whole last block, past the row (e.g. value 175 of a 172-value row).
  Expr value(Expr k, Expr, const std::function<Expr(Expr)> &w) const override {
    return blockValue(k, w);
  }

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    return blockValue(j, w) * x(j);
  }
  Expr blockValue(Expr j, const Reader &w) const override {
    if (width_ == 4)
      return w(j);
    if (!brain_)
      return halfBitsToFloat(w(j));
    return reinterpret<float>(cast<uint32_t>(w(j)) << 16); // bf16: the top half of an f32
  }

private:
  static int lanesFor(int width) { return width == 2 ? 32 : 16; }
  int width_;
  bool brain_;
};

class Q8_0Decoder : public BlockDecoder {
public:
  Q8_0Decoder() : BlockDecoder(32, 34, 32, 1) {}

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    return blockValue(j, w) * x(j);
  }
  Expr blockValue(Expr j, const Reader &w) const override {
    return f32(cast<int8_t>(w(2 + j))) * half(w, 0);
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
    Expr q = w(qsAt() + j);
    return dequant(i32(q & 15), j, w) * x(j) + dequant(i32(q >> 4), j + 16, w) * x(j + 16);
  }
  Expr blockValue(Expr l, const Reader &w) const override {
    Expr q = w(qsAt() + l % 16);
    return dequant(i32(select(l < 16, q & 15, q >> 4)), l, w);
  }

private:
  int qsAt() const { return (hasMin_ ? 4 : 2) + (fifthBit_ ? 4 : 0); }
  /// Value l of the block from its low 4 bits `nib` (the fifth bit is bit l of qh).
  Expr dequant(Expr nib, Expr l, const Reader &w) const {
    Expr d = half(w, 0);
    if (fifthBit_) {
      int at = hasMin_ ? 4 : 2;
      Expr qh = cast<uint32_t>(w(at)) | (cast<uint32_t>(w(at + 1)) << 8) |
                (cast<uint32_t>(w(at + 2)) << 16) | (cast<uint32_t>(w(at + 3)) << 24);
      nib = nib | i32(((qh >> cast<uint32_t>(l)) & 1) << 4);
    }
    if (!hasMin_)
      return f32(nib - (fifthBit_ ? 16 : 8)) * d;
    return f32(nib) * d + half(w, 2);
  }
  bool hasMin_, fifthBit_;
};

/// ggml's kvalues_iq4nl[nib] as an Int(32) expression: a select tree on the four bits (one
/// blend per node when vectorised, no gather).
Expr iq4nlValue(Expr nib) {
  static const int kValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                  1,    13,   25,  38,  53,  69,  89,  113};
  std::vector<Expr> level;
  for (int v : kValues)
    level.push_back(Expr(v));
  Expr n = i32(nib);
  for (int bit = 0; level.size() > 1; ++bit) {
    std::vector<Expr> next;
    Expr set = ((n >> bit) & 1) != 0;
    for (size_t k = 0; k < level.size(); k += 2)
      next.push_back(select(set, level[k + 1], level[k]));
    level.swap(next);
  }
  return level[0];
}

/// iq4_nl: the q4_0 lane layout, levels from the non-linear grid; w = d · level.
class IQ4_NLDecoder : public BlockDecoder {
public:
  IQ4_NLDecoder() : BlockDecoder(32, 18, 16, 1) {}

protected:
  Expr blockTerm(Expr j, Expr, const Reader &w, const Reader &x) const override {
    Expr d = half(w, 0);
    Expr q = w(2 + j);
    return (d * f32(iq4nlValue(q & 15))) * x(j) + (d * f32(iq4nlValue(q >> 4))) * x(j + 16);
  }
  Expr blockValue(Expr l, const Reader &w) const override {
    Expr q = w(2 + l % 16);
    return half(w, 0) * f32(iq4nlValue(select(l < 16, q & 15, q >> 4)));
  }
};

/// ggml's get_scale_min_k4 for pair `is` (0..7) of the 12 packed scale bytes at offset 4
/// (q4_K, q5_K).
void scaleMinK4(Expr is, const std::function<Expr(Expr)> &w, Expr &sc, Expr &mn) {
  auto q = [&](Expr k) { return w(4 + k); };
  Expr scLo = q(is) & 63, mnLo = q(is + 4) & 63;
  Expr scHi = (q(is + 4) & 15) | ((q(max(is - 4, 0)) >> 6) << 4);
  Expr mnHi = (q(is + 4) >> 4) | ((q(is) >> 6) << 4);
  sc = f32(select(is < 4, scLo, scHi));
  mn = f32(select(is < 4, mnLo, mnHi));
}

/// q4_K (and q5_K with the fifth bits): 32 lanes, 4 steps (chunks of 64 values) per 256-value
/// super-block.
class Q4_KDecoder : public BlockDecoder {
public:
  explicit Q4_KDecoder(bool fifthBit)
      : BlockDecoder(256, fifthBit ? 176 : 144, 32, 4), fifthBit_(fifthBit) {}

protected:
  Expr blockTerm(Expr j, Expr c, const Reader &w, const Reader &x) const override {
    Expr q = w(qsAt() + 32 * c + j);
    Expr lo = i32(q & 15), hi = i32(q >> 4);
    if (fifthBit_) {
      Expr qh = w(16 + j);
      lo = lo + i32((qh >> cast<uint8_t>(2 * c)) & 1) * 16;
      hi = hi + i32((qh >> cast<uint8_t>(2 * c + 1)) & 1) * 16;
    }
    return dequant(lo, 2 * c, w) * x(64 * c + j) + dequant(hi, 2 * c + 1, w) * x(64 * c + 32 + j);
  }
  Expr blockValue(Expr l, const Reader &w) const override {
    Expr c = l / 64, isHigh = (l % 64) >= 32, j = l % 32;
    Expr q = w(qsAt() + 32 * c + j);
    Expr v = i32(select(isHigh, q >> 4, q & 15));
    Expr is = 2 * c + select(isHigh, 1, 0);
    if (fifthBit_)
      v = v + i32((w(16 + j) >> cast<uint8_t>(is)) & 1) * 16;
    return dequant(v, is, w);
  }

private:
  int qsAt() const { return fifthBit_ ? 48 : 16; }
  /// (d · sc) · v − dmin · m, as ggml.
  Expr dequant(Expr v, Expr is, const Reader &w) const {
    Expr sc, mn;
    scaleMinK4(is, w, sc, mn);
    return (half(w, 0) * sc) * f32(v) - half(w, 2) * mn;
  }
  bool fifthBit_;
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
  Expr blockValue(Expr k, const Reader &w) const override {
    Expr h = k / 128, quarter = (k % 128) / 32, l = k % 32;
    Expr ql = w(64 * h + l + (quarter % 2) * 32);
    Expr low = select(quarter < 2, ql & 15, ql >> 4);
    Expr high = (w(128 + 32 * h + l) >> cast<uint8_t>(2 * quarter)) & 3;
    Expr q = f32(i32(low | (high << 4)) - 32);
    Expr sc = f32(cast<int8_t>(w(192 + 8 * h + l / 16 + 2 * quarter)));
    return (half(w, 208) * sc) * q;
  }
};

/// q2_K and q3_K share the walk: 32 lanes (byte l of a 32-byte half), 2 steps (halves), four
/// 2-bit planes per step; lanes 0..15 and 16..31 use neighbouring sub-block scales.
class Q2_KDecoder : public BlockDecoder {
public:
  Q2_KDecoder() : BlockDecoder(256, 84, 32, 2) {}

protected:
  /// dl = d · (sc & 15), ml = dmin · (sc >> 4) of sub-block scale byte `is`.
  void scaleMin(Expr is, const Reader &w, Expr &dl, Expr &ml) const {
    Expr sc = w(is);
    dl = half(w, 80) * f32(sc & 15);
    ml = half(w, 82) * f32(sc >> 4);
  }
  Expr blockTerm(Expr l, Expr h, const Reader &w, const Reader &x) const override {
    Expr q = w(16 + 32 * h + l);
    Expr sum;
    for (int p = 0; p < 4; ++p) {
      Expr dl0, ml0, dl1, ml1;
      scaleMin(8 * h + 2 * p, w, dl0, ml0);
      scaleMin(8 * h + 2 * p + 1, w, dl1, ml1);
      Expr dl = select(l < 16, dl0, dl1), ml = select(l < 16, ml0, ml1);
      Expr t = (dl * f32((q >> (2 * p)) & 3) - ml) * x(128 * h + 32 * p + l);
      sum = sum.defined() ? sum + t : t;
    }
    return sum;
  }
  Expr blockValue(Expr k, const Reader &w) const override {
    Expr h = k / 128, p = (k % 128) / 32, l = k % 32;
    Expr q = (w(16 + 32 * h + l) >> cast<uint8_t>(2 * p)) & 3;
    Expr dl, ml;
    scaleMin(8 * h + 2 * p + l / 16, w, dl, ml);
    return dl * f32(q) - ml;
  }
};

class Q3_KDecoder : public BlockDecoder {
public:
  Q3_KDecoder() : BlockDecoder(256, 110, 32, 2) {}

protected:
  /// d · scale j, scale j (< 16) unpacked from the 12 bytes at 96 as unpackQ3KScales does.
  Expr subScale(Expr j, const Reader &w) const {
    Expr low = select(j < 8, w(96 + min(j, 7)) & 15, w(96 + max(j - 8, 0)) >> 4);
    Expr high = (w(96 + 8 + j % 4) >> cast<uint8_t>(2 * (j / 4))) & 3;
    return half(w, 108) * f32(i32(low | (high << 4)) - 32);
  }
  /// The signed 3-bit value: 2 low bits of plane p, minus 4 when the hmask bit is clear.
  Expr q3(Expr qbyte, Expr hbyte, Expr p, Expr h) const {
    Expr lowBits = i32((qbyte >> cast<uint8_t>(2 * p)) & 3);
    Expr hbit = (hbyte >> cast<uint8_t>(4 * h + p)) & 1;
    return lowBits - select(hbit != 0, 0, 4);
  }
  Expr blockTerm(Expr l, Expr h, const Reader &w, const Reader &x) const override {
    Expr q = w(32 + 32 * h + l), hm = w(l);
    Expr sum;
    for (int p = 0; p < 4; ++p) {
      Expr dl = select(l < 16, subScale(8 * h + 2 * p, w), subScale(8 * h + 2 * p + 1, w));
      Expr t = (dl * f32(q3(q, hm, p, h))) * x(128 * h + 32 * p + l);
      sum = sum.defined() ? sum + t : t;
    }
    return sum;
  }
  Expr blockValue(Expr k, const Reader &w) const override {
    Expr h = k / 128, p = (k % 128) / 32, l = k % 32;
    return subScale(8 * h + 2 * p + l / 16, w) * f32(q3(w(32 + 32 * h + l), w(l), p, h));
  }
};

} // namespace

std::string lowerFormat(const std::string &format) {
  std::string f = format;
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
  return f;
}

std::unique_ptr<WeightDecoder> makeDecoder(const std::string &format) {
  const std::string f = lowerFormat(format);
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
    return std::make_unique<Q4_KDecoder>(false);
  if (f == "q6_k")
    return std::make_unique<Q6_KDecoder>();
  if (f == "q2_k")
    return std::make_unique<Q2_KDecoder>();
  if (f == "q3_k")
    return std::make_unique<Q3_KDecoder>();
  if (f == "q5_k")
    return std::make_unique<Q4_KDecoder>(true);
  if (f == "iq4_nl")
    return std::make_unique<IQ4_NLDecoder>();
  int bits = 0, group = 0;
  char sym[8] = {0};
  int consumed = 0;
  if (std::sscanf(f.c_str(), "int%d_g%d_%4[a-z]%n", &bits, &group, sym, &consumed) == 3 &&
      consumed == int(f.size()) && (std::string(sym) == "sym" || std::string(sym) == "asym"))
    return makeIntGroupDecoder(bits, group, std::string(sym) == "sym");
  return nullptr;
}

} // namespace qcc::kernels
