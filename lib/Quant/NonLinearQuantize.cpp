//===- NonLinearQuantize.cpp - the iq4_nl quantizer -------------------------===//
//
// ggml's quantize_iq4_nl: quantize_row_iq4_nl_impl with super-block = block = 32 and ntry = 7,
// with or without an imatrix (null weights mean x²). Each value takes the nearest grid level
// for a trial scale; the scale with the best weighted fit (d = Σwqx / Σwq²) wins, and the
// values are requantized with it. σ² is per block: 2 · mean square of its 32 values.
//
//===----------------------------------------------------------------------===//
#include "QuantizeUtil.h"
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"

#include <cmath>

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

static constexpr int kQK = int(kBlockSize);
static constexpr int kNTry = 7;

static void quantizeIQ4NLBlock(const float *x, const float *qw, BlockIQ4_NL &y) {
  const int8_t *values = kIQ4NLValues;
  uint8_t L[kQK] = {};
  float weight[kQK];
  float sigma2 = 0;
  for (int j = 0; j < kQK; ++j)
    sigma2 += x[j] * x[j];
  sigma2 *= 2.f / float(kQK);

  if (qw) {
    for (int j = 0; j < kQK; ++j)
      weight[j] = qw[j] * std::sqrt(sigma2 + x[j] * x[j]);
  } else {
    for (int j = 0; j < kQK; ++j)
      weight[j] = x[j] * x[j];
  }
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) {
      amax = ax;
      max = x[j];
    }
  }
  float scale = 0;
  if (amax >= kGroupMaxEps) {
    float d = -max / float(values[0]);
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < kQK; ++j) {
      const int l = bestIndexInt8(16, values, id * x[j]);
      L[j] = uint8_t(l);
      const float q = values[l];
      sumqx += weight[j] * q * x[j];
      sumq2 += weight[j] * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kNTry; itry <= kNTry; ++itry) {
      id = float(itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < kQK; ++j) {
        const float q = values[bestIndexInt8(16, values, id * x[j])];
        sumqx += weight[j] * q * x[j];
        sumq2 += weight[j] * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scale = d;
  }
  y.d = fp32ToFp16(scale);
  const float id = scale ? 1 / scale : 0;
  for (int j = 0; j < kQK; ++j)
    L[j] = uint8_t(bestIndexInt8(16, values, id * x[j]));
  for (int j = 0; j < kQK / 2; ++j)
    y.qs[j] = uint8_t(L[j] | (L[j + kQK / 2] << 4));
}

void quantizeRowIQ4_NL(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockIQ4_NL block;
    quantizeIQ4NLBlock(x, importance ? importance + i * kQK : nullptr, block);
    std::memcpy(static_cast<uint8_t *>(dst) + i * int64_t(sizeof(block)), &block,
                sizeof(block));
  }
}

} // namespace qcc::ggml
