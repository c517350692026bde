//===- LegacyQuantize.cpp - quantizers for q4_0 ... q8_1 --------------------===//
//
// ggml_quantize_chunk's dispatch, row by row: without an imatrix each format uses its
// quantize_row_*_ref (round the block's extreme to the end of the grid); with one, q4_0 / q5_0
// search a symmetric scale (make_qx_quants) and q4_1 / q5_1 a scale and min (make_qkx3_quants)
// under the weights imatrix · sqrt(σ² + x²), σ² the mean square of the whole row. q8_0 and q8_1
// ignore the imatrix. Nibble order and the qh bit layout are those of the dequantizers
// (LegacyQuants.cpp).
//
//===----------------------------------------------------------------------===//
#include "QuantizeUtil.h"
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"

#include <algorithm>
#include <cmath>

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

static constexpr int kHalf = int(kBlockSize / 2);

/// The signed value of largest magnitude in a block (the first one on ties), as ggml picks it.
static float signedAbsMax(const float *x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kBlockSize; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

static void minMax(const float *x, float &min, float &max) {
  min = 3.402823466e+38f; // FLT_MAX
  max = -3.402823466e+38f;
  for (int j = 0; j < kBlockSize; ++j) {
    if (x[j] < min)
      min = x[j];
    if (x[j] > max)
      max = x[j];
  }
}

/// σ² of the legacy imatrix weights: the mean square over the whole row.
static float rowMeanSquare(const float *x, int64_t n) {
  float sumX2 = 0;
  for (int64_t j = 0; j < n; ++j)
    sumX2 += x[j] * x[j];
  return sumX2 / float(n);
}

static void importanceWeights(const float *xb, const float *qw, float sigma2, float *weight) {
  for (int j = 0; j < kBlockSize; ++j)
    weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

/// Packs 32 levels: value j in the low nibble of qs[j], value j + 16 in the high nibble; the
/// 5-bit formats also get bit 4 of value j in bit j of qh.
template <typename Level>
static void packNibbles(const Level *L, uint8_t *qs, uint32_t *qh) {
  uint32_t high = 0;
  for (int j = 0; j < kHalf; ++j) {
    const uint8_t xi0 = uint8_t(L[j]);
    const uint8_t xi1 = uint8_t(L[j + kHalf]);
    qs[j] = uint8_t((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
    high |= uint32_t((xi0 & 0x10u) >> 4) << j;
    high |= uint32_t((xi1 & 0x10u) >> 4) << (j + kHalf);
  }
  if (qh)
    *qh = high;
}

template <typename Block> static void storeBlock(void *row, int64_t index, const Block &block) {
  std::memcpy(static_cast<uint8_t *>(row) + index * int64_t(sizeof(Block)), &block,
              sizeof(Block));
}

void quantizeRowQ4_0(const float *x, void *dst, int64_t n, const float *importance) {
  const float sigma2 = importance ? rowMeanSquare(x, n) : 0.f;
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ4_0 block;
    int8_t L[kBlockSize];
    if (importance) {
      float weight[kBlockSize];
      importanceWeights(x, importance + i * kBlockSize, sigma2, weight);
      block.d = fp32ToFp16(makeQxQuants(kBlockSize, 8, x, L, 1, weight));
    } else {
      const float d = signedAbsMax(x) / -8;
      const float id = d ? 1.0f / d : 0.0f;
      block.d = fp32ToFp16(d);
      for (int j = 0; j < kBlockSize; ++j)
        L[j] = int8_t(std::min(15, int(int8_t(int(x[j] * id + 8.5f)))));
    }
    packNibbles(L, block.qs, nullptr);
    storeBlock(dst, i, block);
  }
}

void quantizeRowQ4_1(const float *x, void *dst, int64_t n, const float *importance) {
  const float sigma2 = importance ? rowMeanSquare(x, n) : 0.f;
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ4_1 block;
    uint8_t L[kBlockSize];
    if (importance) {
      float weight[kBlockSize];
      uint8_t Laux[kBlockSize];
      importanceWeights(x, importance + i * kBlockSize, sigma2, weight);
      float min;
      const float d =
          makeQkx3Quants(kBlockSize, 15, x, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
      block.d = fp32ToFp16(d);
      block.m = fp32ToFp16(-min);
    } else {
      float min, max;
      minMax(x, min, max);
      const float d = (max - min) / ((1 << 4) - 1);
      const float id = d ? 1.0f / d : 0.0f;
      block.d = fp32ToFp16(d);
      block.m = fp32ToFp16(min);
      for (int j = 0; j < kBlockSize; ++j)
        L[j] = uint8_t(std::min(15, int(int8_t(int((x[j] - min) * id + 0.5f)))));
    }
    packNibbles(L, block.qs, nullptr);
    storeBlock(dst, i, block);
  }
}

void quantizeRowQ5_0(const float *x, void *dst, int64_t n, const float *importance) {
  const float sigma2 = importance ? rowMeanSquare(x, n) : 0.f;
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ5_0 block;
    int8_t L[kBlockSize];
    if (importance) {
      float weight[kBlockSize];
      importanceWeights(x, importance + i * kBlockSize, sigma2, weight);
      block.d = fp32ToFp16(makeQxQuants(kBlockSize, 16, x, L, 1, weight));
    } else {
      const float d = signedAbsMax(x) / -16;
      const float id = d ? 1.0f / d : 0.0f;
      block.d = fp32ToFp16(d);
      for (int j = 0; j < kBlockSize; ++j)
        L[j] = int8_t(std::min(31, int(int8_t(int(x[j] * id + 16.5f)))));
    }
    uint32_t qh;
    packNibbles(L, block.qs, &qh);
    std::memcpy(block.qh, &qh, sizeof(qh));
    storeBlock(dst, i, block);
  }
}

void quantizeRowQ5_1(const float *x, void *dst, int64_t n, const float *importance) {
  const float sigma2 = importance ? rowMeanSquare(x, n) : 0.f;
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ5_1 block;
    uint8_t L[kBlockSize];
    if (importance) {
      float weight[kBlockSize];
      uint8_t Laux[kBlockSize];
      importanceWeights(x, importance + i * kBlockSize, sigma2, weight);
      float min;
      const float d =
          makeQkx3Quants(kBlockSize, 31, x, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
      block.d = fp32ToFp16(d);
      block.m = fp32ToFp16(-min);
    } else {
      float min, max;
      minMax(x, min, max);
      const float d = (max - min) / ((1 << 5) - 1);
      const float id = d ? 1.0f / d : 0.0f;
      block.d = fp32ToFp16(d);
      block.m = fp32ToFp16(min);
      // No MIN(31, ...) here: ggml's q5_1 reference relies on the range.
      for (int j = 0; j < kBlockSize; ++j)
        L[j] = uint8_t(int((x[j] - min) * id + 0.5f));
    }
    uint32_t qh;
    packNibbles(L, block.qs, &qh);
    std::memcpy(block.qh, &qh, sizeof(qh));
    storeBlock(dst, i, block);
  }
}

/// q8_0 / q8_1: d = absmax / 127, q = roundf(x / d) (half away from zero).
template <typename Block> static float quantizeQ8Block(const float *x, Block &block) {
  float amax = 0.0f;
  for (int j = 0; j < kBlockSize; ++j)
    amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / ((1 << 7) - 1);
  const float id = d ? 1.0f / d : 0.0f;
  block.d = fp32ToFp16(d);
  for (int j = 0; j < kBlockSize; ++j)
    block.qs[j] = int8_t(std::round(x[j] * id));
  return d;
}

void quantizeRowQ8_0(const float *x, void *dst, int64_t n, const float *) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ8_0 block;
    quantizeQ8Block(x, block);
    storeBlock(dst, i, block);
  }
}

void quantizeRowQ8_1(const float *x, void *dst, int64_t n, const float *) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, x += kBlockSize) {
    BlockQ8_1 block;
    const float d = quantizeQ8Block(x, block);
    int sum = 0;
    for (int j = 0; j < kHalf; ++j)
      sum += block.qs[j] + block.qs[j + kHalf];
    block.s = fp32ToFp16(float(sum) * d);
    storeBlock(dst, i, block);
  }
}

} // namespace qcc::ggml
