//===- IntGroup.h - generic b-bit integer weights with per-group f16 params -===//
//
// The format every calibration algorithm here (RTN, GPTQ, AWQ) writes. A weight W is row-major
// [rows = out_features, cols = in_features]; each row is split into groups of `groupSize`
// consecutive columns (groupSize 0: one group per row, i.e. per output channel).
//
// Codes. Every weight is an unsigned code u in [0, 2^b - 1] and dequantizes as
//   w = scale * (u - zero).
// - symmetric:  zero = 2^(b-1) fixed (offset binary, so the signed code u - 2^(b-1) lies in
//   [-2^(b-1), 2^(b-1) - 1]); scale = 2·clip·amax / (2^b - 1), amax = max|w| over the group.
//   This is GPTQ's quant.py convention: +amax lands on the clamped top code, half a step short.
// - asymmetric: zero is an integer in [0, 2^b - 1]; with lo = min(min w, 0), hi = max(max w, 0)
//   (the range always holds 0, as in GPTQ), scale = clip·(hi - lo) / (2^b - 1) and
//   zero = round(-clip·lo / scale).
// A group that is all zeros gets the range [-1, 1] (GPTQ's rule), so no scale is ever 0.
// The scale is rounded to f16 *before* the codes and the zero are computed, so the stored
// parameters are exactly the ones the codes were chosen with. u = clamp(round(w/scale) + zero,
// 0, 2^b - 1), rounding half to even.
//
// Row layout (row-contiguous: every row is one byte span of rowBytes(), so rows dequantize
// independently):
//   [params]  for g in 0..groups-1: scale as f16 (2 bytes, little endian), then for asymmetric
//             formats the zero point as f16 (2 bytes, little endian; an exact small integer)
//   [codes]   ceil(cols·b / 8) bytes: an LSB-first bit stream; code i occupies stream bits
//             [i·b, (i+1)·b), its least significant bit first, and stream bit k is bit (k mod 8)
//             of byte k / 8. Codes may straddle bytes (3, 5, 6, 7 bits); unused high bits of
//             the last byte are zero.
//   rowBytes = groups · (symmetric ? 2 : 4) + ceil(cols · bits / 8).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTALGO_INTGROUP_H
#define QCC_QUANTALGO_INTGROUP_H

#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdint>

namespace qcc::quantalgo {

struct IntGroupFormat {
  int bits = 4;          ///< 2..8
  int64_t groupSize = 128; ///< columns per group; 0 = the whole row (per output channel)
  bool symmetric = false;

  /// bits in 2..8, groupSize ≥ 0, and a nonzero groupSize divides cols (cols > 0).
  llvm::Error validate(int64_t cols) const;
  int64_t groupLength(int64_t cols) const { return groupSize == 0 ? cols : groupSize; }
  int64_t numGroups(int64_t cols) const { return cols / groupLength(cols); }
  int maxCode() const { return (1 << bits) - 1; }
};

/// One group's dequantization parameters, already rounded to what the row stores (f16 scale;
/// zero an integer-valued float, 2^(b-1) for symmetric formats).
struct GroupParams {
  float scale = 1.0f;
  float zero = 0.0f;
};

int64_t rowBytes(const IntGroupFormat &format, int64_t cols);

/// Parameters for the values x[0..n) as documented above; clipRatio in (0, 1] shrinks the range.
GroupParams findGroupParams(const IntGroupFormat &format, const float *x, int64_t n,
                            float clipRatio = 1.0f);

inline uint8_t quantizeCode(GroupParams params, float x, int maxCode) {
  float u = std::nearbyint(x / params.scale) + params.zero;
  u = u < 0.0f ? 0.0f : (u > float(maxCode) ? float(maxCode) : u);
  return uint8_t(u);
}
inline float dequantizeCode(GroupParams params, uint8_t code) {
  return params.scale * (float(code) - params.zero);
}

/// Round-to-nearest: params per group (with clipRatio), codes, packed into `row` (rowBytes).
void quantizeRowRTN(const IntGroupFormat &format, const float *x, uint8_t *row, int64_t cols,
                    float clipRatio = 1.0f);
void dequantizeRow(const IntGroupFormat &format, const uint8_t *row, float *out, int64_t cols);
/// quantize + dequantize in one go, no bytes: what RTN does to the weights.
void fakeQuantizeRowRTN(const IntGroupFormat &format, const float *x, float *out, int64_t cols,
                        float clipRatio = 1.0f);

/// codes: cols unsigned codes in [0, 2^b - 1]; params: numGroups entries.
void packRow(const IntGroupFormat &format, const uint8_t *codes, const GroupParams *params,
             uint8_t *row, int64_t cols);
void unpackRow(const IntGroupFormat &format, const uint8_t *row, uint8_t *codes,
               GroupParams *params, int64_t cols);

/// Whole matrices, row by row (rows · rowBytes bytes).
void quantizeMatrixRTN(const IntGroupFormat &format, const float *w, int64_t rows, int64_t cols,
                       uint8_t *out, float clipRatio = 1.0f);
void dequantizeMatrix(const IntGroupFormat &format, const uint8_t *in, int64_t rows,
                      int64_t cols, float *out);
void fakeQuantizeMatrixRTN(const IntGroupFormat &format, const float *w, int64_t rows,
                           int64_t cols, float *out, float clipRatio = 1.0f);

} // namespace qcc::quantalgo

#endif // QCC_QUANTALGO_INTGROUP_H
