//===- Float16.h - exact fp16 / bf16 <-> fp32 conversions as ggml does them -===//
//
// Bit patterns are passed as uint16_t, as ggml stores them (ggml_fp16_t, ggml_bf16_t.bits).
//
// fp16: IEEE binary16. Widening is exact. Narrowing rounds to nearest, ties to even, overflows
// to ±inf and turns every NaN into sign | 0x7E00: the result of ggml's portable
// GGML_FP32_TO_FP16 (the F16C path agrees on every non-NaN input).
//
// bf16: the top half of a binary32. Narrowing is ggml_compute_fp32_to_bf16: round to nearest,
// ties to even, subnormals kept (not flushed), finite values may round up to ±inf, and a NaN
// keeps its top 16 bits with the quiet bit (0x0040) forced on.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANT_FLOAT16_H
#define QCC_QUANT_FLOAT16_H

#include "llvm/ADT/bit.h"

#include <cstdint>

namespace qcc {

/// binary16 -> binary32, exact. A signalling NaN comes back quiet (as F16C and ggml's portable
/// code both return it); other NaN payload bits are kept.
inline float fp16ToFp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) // inf / NaN: the fp32 exponent is all ones too
    return llvm::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13) |
                                 (mantissa ? 0x00400000u : 0u));
  if (exponent == 0) {
    // ±0 or a subnormal: mantissa · 2^-24, exact in binary32.
    const float magnitude = float(mantissa) * 0x1.0p-24f;
    return sign ? -magnitude : magnitude;
  }
  // Normal: rebias the exponent from 15 to 127.
  return llvm::bit_cast<float>(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
}

/// binary32 -> binary16, round to nearest even; NaN -> sign | 0x7E00.
inline uint16_t fp32ToFp16(float f) {
  const uint32_t bits = llvm::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u)
    return sign | 0x7E00u;
  // 65520 = 65504 (largest half) + half an ulp: the tie rounds to the even neighbour, inf.
  if (magnitude >= 0x477FF000u)
    return sign | 0x7C00u;
  if (magnitude >= 0x38800000u) { // ≥ 2^-14: a normal half
    // Drop 13 mantissa bits and rebias; a carry out of the mantissa bumps the exponent, which
    // is the correct result.
    uint32_t half = (magnitude >> 13) - ((127u - 15u) << 10);
    const uint32_t rest = magnitude & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
      ++half;
    return sign | uint16_t(half);
  }
  // Below 2^-14: a multiple of 2^-24. Up to 2^-25 (a tie with 0 included) rounds to 0.
  if (magnitude <= 0x33000000u)
    return sign;
  const uint32_t exponent = magnitude >> 23;                    // 102 ... 112
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;                       // 14 ... 24
  uint32_t half = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  if (rest > halfway || (rest == halfway && (half & 1u)))
    ++half; // may become 0x400, the smallest normal: still the right encoding
  return sign | uint16_t(half);
}

/// bfloat16 -> binary32, exact.
inline float bf16ToFp32(uint16_t h) { return llvm::bit_cast<float>(uint32_t(h) << 16); }

/// binary32 -> bfloat16 exactly as ggml_compute_fp32_to_bf16.
inline uint16_t fp32ToBf16(float f) {
  const uint32_t bits = llvm::bit_cast<uint32_t>(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
    return uint16_t((bits >> 16) | 0x40u);
  return uint16_t((bits + (0x7FFFu + ((bits >> 16) & 1u))) >> 16);
}

} // namespace qcc

#endif // QCC_QUANT_FLOAT16_H
