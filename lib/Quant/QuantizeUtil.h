//===- QuantizeUtil.h - ggml's shared quantization searches -----------------===//
//
// Private to QCCQuant. The scale searches of ggml-quants.c (llama.cpp c392e50), restated with
// the same float operations in the same order so that the integers and scales they pick are
// the ones llama.cpp picks, bit for bit. Names follow ggml's so the two can be read side by side
// (make_qx_quants -> makeQxQuants, ...). Every caller is compiled without FMA contraction.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_QUANT_QUANTIZEUTIL_H
#define QCC_LIB_QUANT_QUANTIZEUTIL_H

#include "llvm/ADT/bit.h"

#include <cstdint>

namespace qcc::ggml {

/// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below it is treated as all zero.
constexpr float kGroupMaxEps = 1e-15f;

/// ggml's nearest_int: round to nearest, ties to even, through the float adder. Adding
/// 1.5 · 2^23 puts the integer in the low mantissa bits; valid for |x| <= 2^22 - 1.
inline int nearestInt(float x) {
  const float shifted = x + 12582912.f;
  const int32_t bits = llvm::bit_cast<int32_t>(shifted);
  return (bits & 0x007fffff) - 0x00400000;
}

/// make_qx_quants: symmetric levels L in [0, 2·nmax) around nmax, the signed max mapping to
/// -nmax. rmseType 0 = plain rounding; 1 = weighted least squares with weights qw (or x² when
/// qw is null) and a search over 18 nearby scales. Returns the scale.
float makeQxQuants(int n, int nmax, const float *x, int8_t *L, int rmseType, const float *qw);

/// make_q3_quants: as makeQxQuants with x² weights, refined by moving single levels.
float makeQ3Quants(int n, int nmax, const float *x, int8_t *L, bool doRmse);

/// make_qkx2_quants: asymmetric levels in [0, nmax] with a min (returned negated in *theMin),
/// fit by weighted least squares over nstep + 1 trial scales.
float makeQkx2Quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                     float *theMin, uint8_t *Laux, float rmin, float rdelta, int nstep,
                     bool useMad);

/// make_qkx3_quants: makeQkx2Quants' successor (null weights mean x²).
float makeQkx3Quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                     float *theMin, uint8_t *Laux, float rmin, float rdelta, int nstep,
                     bool useMad);

/// make_qp_quants: non-negative levels in [0, nmax] for non-negative x (the sub-block scales
/// of the k-quants), weighted by quantWeights.
float makeQpQuants(int n, int nmax, const float *x, uint8_t *L, const float *quantWeights);

/// best_index_int8: index of the entry of the sorted table val[0..n) nearest to x.
int bestIndexInt8(int n, const int8_t *val, float x);

} // namespace qcc::ggml

#endif // QCC_LIB_QUANT_QUANTIZEUTIL_H
