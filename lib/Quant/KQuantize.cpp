//===- KQuantize.cpp - quantizers for q2_K ... q6_K and q8_K ----------------===//
//
// ggml_quantize_chunk's dispatch: without an imatrix each k-quant uses quantize_row_*_ref;
// with one, quantize_row_*_impl (weights imatrix · sqrt(σ² + x²), σ² from the super-block).
// Both first fit each sub-block (a scale, and a min for q2_K / q4_K / q5_K), then quantize the
// sub-block scales to 4 / 6 / 8 bits against an fp16 super-scale, then requantize every value
// with the rounded scales it will be decoded with. Bit layouts are those the dequantizers in
// KQuants.cpp read. q8_K (the activation format) is quantize_row_q8_K_ref.
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

static constexpr int kQK = int(kSuperBlockSize);

template <typename Block> static void storeBlock(void *row, int64_t index, const Block &block) {
  std::memcpy(static_cast<uint8_t *>(row) + index * int64_t(sizeof(Block)), &block,
              sizeof(Block));
}

static inline int clampInt(int lo, int hi, int v) { return std::max(lo, std::min(hi, v)); }

/// Four 2-bit planes: byte qs[32·h + l] holds values 128·h + 32·k + l in bits 2k..2k+1.
static void pack2BitPlanes(const uint8_t *L, uint8_t *qs) {
  for (int j = 0; j < kQK; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                              (L[j + l + 96] << 6));
}

/// ggml's get_scale_min_k4 (6-bit scale and min j of a q4_K / q5_K super-block).
static void scaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

/// The inverse of scaleMinK4 for sub-block j (the bytes start zeroed or set by j - 4).
static void packScaleMinK4(int j, uint8_t ls, uint8_t lm, uint8_t *scales) {
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
    scales[j - 4] |= uint8_t((ls >> 4) << 6);
    scales[j - 0] |= uint8_t((lm >> 4) << 6);
  }
}

//===----------------------------------------------------------------------===//
// q2_K
//===----------------------------------------------------------------------===//

static void requantizeQ2_K(const float *x, BlockQ2_K &y, uint8_t *L) {
  const float dAll = fp16ToFp32(y.d), mAll = fp16ToFp32(y.dmin);
  for (int j = 0; j < kQK / 16; ++j) {
    const float d = dAll * float(y.scales[j] & 0xF);
    if (!d)
      continue;
    const float dm = mAll * float(y.scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearestInt((x[16 * j + ii] + dm) / d);
      L[16 * j + ii] = uint8_t(clampInt(0, 3, l));
    }
  }
}

static void quantizeQ2_KRef(const float *x, BlockQ2_K &y) {
  uint8_t L[kQK], Laux[16];
  float weights[16], mins[kQK / 16], scales[kQK / 16];
  const float q4scale = 15.f;
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < kQK / 16; ++j) {
    for (int l = 0; l < 16; ++l)
      weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                               0.1f, 15, true);
    if (scales[j] > maxScale)
      maxScale = scales[j];
    if (mins[j] > maxMin)
      maxMin = mins[j];
  }
  if (maxScale > 0) {
    const float iscale = q4scale / maxScale;
    for (int j = 0; j < kQK / 16; ++j)
      y.scales[j] = uint8_t(nearestInt(iscale * scales[j]));
    y.d = fp32ToFp16(maxScale / q4scale);
  } else {
    std::memset(y.scales, 0, sizeof(y.scales));
    y.d = fp32ToFp16(0.f);
  }
  if (maxMin > 0) {
    const float iscale = q4scale / maxMin;
    for (int j = 0; j < kQK / 16; ++j)
      y.scales[j] |= uint8_t(nearestInt(iscale * mins[j]) << 4);
    y.dmin = fp32ToFp16(maxMin / q4scale);
  } else {
    y.dmin = fp32ToFp16(0.f);
  }
  requantizeQ2_K(x, y, L);
  pack2BitPlanes(L, y.qs);
}

static void quantizeQ2_KImpl(const float *x, BlockQ2_K &y, const float *qwAll) {
  uint8_t L[kQK], Laux[16], Ls[kQK / 16], Lm[kQK / 16];
  float mins[kQK / 16], scales[kQK / 16], sw[kQK / 16] = {}, weight[16];
  float sumx2 = 0;
  for (int j = 0; j < kQK; ++j)
    sumx2 += x[j] * x[j];
  const float sigma2 = sumx2 / float(kQK);
  for (int j = 0; j < kQK / 16; ++j) {
    const float *qw = qwAll + 16 * j;
    for (int l = 0; l < 16; ++l)
      weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    for (int l = 0; l < 16; ++l)
      sw[j] += weight[l];
    scales[j] = makeQkx3Quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f,
                               0.05f, 36, false);
  }
  const float dm = makeQpQuants(kQK / 16, 15, scales, Ls, sw);
  const float mm = makeQpQuants(kQK / 16, 15, mins, Lm, sw);
  y.d = fp32ToFp16(dm);
  y.dmin = fp32ToFp16(mm);
  for (int j = 0; j < kQK / 16; ++j)
    y.scales[j] = uint8_t(Ls[j] | (Lm[j] << 4));
  requantizeQ2_K(x, y, L);
  pack2BitPlanes(L, y.qs);
}

void quantizeRowQ2_K(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ2_K block;
    if (importance)
      quantizeQ2_KImpl(x, block, importance + i * kQK);
    else
      quantizeQ2_KRef(x, block);
    storeBlock(dst, i, block);
  }
}

//===----------------------------------------------------------------------===//
// q3_K
//===----------------------------------------------------------------------===//

/// Stores 6-bit biased scale l (0..63) of sub-block j: low nibble in scales[j] (j < 8) or the
/// high nibble of scales[j - 8], top 2 bits at bit 2·(j/4) of scales[8 + j % 4].
static void packQ3_KScale(int j, int l, uint8_t *scales) {
  if (j < 8)
    scales[j] = uint8_t(l & 0xF);
  else
    scales[j - 8] |= uint8_t((l & 0xF) << 4);
  l >>= 4;
  scales[j % 4 + 8] |= uint8_t(l << (2 * (j / 4)));
}

/// Requantizes with the stored scales, then splits levels 0..7 into hmask bits and 2-bit planes.
static void finishQ3_K(const float *x, BlockQ3_K &y, int8_t *L) {
  for (int j = 0; j < kQK / 16; ++j) {
    int8_t sc = int8_t(j < 8 ? y.scales[j] & 0xF : y.scales[j - 8] >> 4);
    sc = int8_t((sc | (((y.scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    const float d = fp16ToFp32(y.d) * float(sc);
    if (!d)
      continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearestInt(x[16 * j + ii] / d);
      L[16 * j + ii] = int8_t(clampInt(-4, 3, l) + 4);
    }
  }
  // The high bit of the first 32 values goes to bit 0 of hmask[0..31], the next 32 to bit 1...
  std::memset(y.hmask, 0, sizeof(y.hmask));
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < kQK; ++j) {
    if (L[j] > 3) {
      y.hmask[m] |= hm;
      L[j] = int8_t(L[j] - 4);
    }
    if (++m == kQK / 8) {
      m = 0;
      hm = uint8_t(hm << 1);
    }
  }
  pack2BitPlanes(reinterpret_cast<const uint8_t *>(L), y.qs);
}

static void quantizeQ3_KRef(const float *x, BlockQ3_K &y) {
  int8_t L[kQK];
  float scales[kQK / 16];
  float maxScale = 0, amax = 0;
  for (int j = 0; j < kQK / 16; ++j) {
    scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j, true);
    const float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      maxScale = scales[j];
    }
  }
  std::memset(y.scales, 0, sizeof(y.scales));
  if (maxScale) {
    const float iscale = -32.f / maxScale;
    for (int j = 0; j < kQK / 16; ++j) {
      int8_t l = int8_t(nearestInt(iscale * scales[j]));
      l = int8_t(clampInt(-32, 31, l) + 32);
      packQ3_KScale(j, l, y.scales);
    }
    y.d = fp32ToFp16(1 / iscale);
  } else {
    y.d = fp32ToFp16(0.f);
  }
  finishQ3_K(x, y, L);
}

static void quantizeQ3_KImpl(const float *x, BlockQ3_K &y, const float *qwAll) {
  int8_t L[kQK], Ls[kQK / 16];
  float scales[kQK / 16], weight[16], sw[kQK / 16];
  float sumx2 = 0;
  for (int j = 0; j < kQK; ++j)
    sumx2 += x[j] * x[j];
  const float sigma2 = 2 * sumx2 / float(kQK);
  for (int j = 0; j < kQK / 16; ++j) {
    const float *qw = qwAll + 16 * j;
    for (int l = 0; l < 16; ++l)
      weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 16; ++l)
      sumw += weight[l];
    sw[j] = sumw;
    scales[j] = makeQxQuants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
  }
  std::memset(y.scales, 0, sizeof(y.scales));
  const float dBlock = makeQxQuants(kQK / 16, 32, scales, Ls, 1, sw);
  for (int j = 0; j < kQK / 16; ++j)
    packQ3_KScale(j, Ls[j], y.scales);
  y.d = fp32ToFp16(dBlock);
  finishQ3_K(x, y, L);
}

void quantizeRowQ3_K(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ3_K block;
    if (importance)
      quantizeQ3_KImpl(x, block, importance + i * kQK);
    else
      quantizeQ3_KRef(x, block);
    storeBlock(dst, i, block);
  }
}

//===----------------------------------------------------------------------===//
// q4_K and q5_K: 8 sub-blocks of 32 with 6-bit scales and mins
//===----------------------------------------------------------------------===//

/// Fits the 8 sub-blocks and packs their 6-bit scales / mins and the fp16 d / dmin into y.
/// nmax is 15 (q4_K) or 31 (q5_K); L receives levels in [0, nmax].
template <typename Block>
static void fitScalesMinsK(const float *x, Block &y, uint8_t *L, int nmax, const float *qwAll) {
  uint8_t Laux[32];
  float weights[32], mins[kQK / 32], scales[kQK / 32];
  std::memset(y.scales, 0, sizeof(y.scales));
  if (!qwAll) {
    // quantize_row_q{4,5}_K_ref
    float maxScale = 0, maxMin = 0;
    const float rmin = nmax == 15 ? -1.f : -0.5f;
    const int nstep = nmax == 15 ? 20 : 15;
    for (int j = 0; j < kQK / 32; ++j) {
      float sumX2 = 0;
      for (int l = 0; l < 32; ++l)
        sumX2 += x[32 * j + l] * x[32 * j + l];
      const float avX = std::sqrt(sumX2 / 32);
      for (int l = 0; l < 32; ++l)
        weights[l] = avX + std::fabs(x[32 * j + l]);
      scales[j] = makeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                 rmin, 0.1f, nstep, false);
      if (scales[j] > maxScale)
        maxScale = scales[j];
      if (mins[j] > maxMin)
        maxMin = mins[j];
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    for (int j = 0; j < kQK / 32; ++j) {
      uint8_t ls = uint8_t(nearestInt(invScale * scales[j]));
      uint8_t lm = uint8_t(nearestInt(invMin * mins[j]));
      ls = std::min<uint8_t>(63, ls);
      lm = std::min<uint8_t>(63, lm);
      packScaleMinK4(j, ls, lm, y.scales);
    }
    y.d = fp32ToFp16(maxScale / 63.f);
    y.dmin = fp32ToFp16(maxMin / 63.f);
    return;
  }
  // quantize_row_q{4,5}_K_impl
  uint8_t Ls[kQK / 32], Lm[kQK / 32];
  float sw[kQK / 32];
  float sumX2 = 0;
  for (int l = 0; l < kQK; ++l)
    sumX2 += x[l] * x[l];
  const float sigma2 = 2 * sumX2 / float(kQK);
  for (int j = 0; j < kQK / 32; ++j) {
    const float *qw = qwAll + 32 * j;
    for (int l = 0; l < 32; ++l)
      weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 32; ++l)
      sumw += weights[l];
    sw[j] = sumw;
    scales[j] = makeQkx3Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f,
                               0.05f, 36, false);
  }
  const float dBlock = makeQpQuants(kQK / 32, 63, scales, Ls, sw);
  const float mBlock = makeQpQuants(kQK / 32, 63, mins, Lm, sw);
  for (int j = 0; j < kQK / 32; ++j)
    packScaleMinK4(j, std::min<uint8_t>(63, Ls[j]), std::min<uint8_t>(63, Lm[j]), y.scales);
  y.d = fp32ToFp16(dBlock);
  y.dmin = fp32ToFp16(mBlock);
}

/// Requantizes every value with the stored 6-bit scale and min it will be decoded with.
template <typename Block>
static void requantizeK(const float *x, const Block &y, uint8_t *L, int nmax) {
  for (int j = 0; j < kQK / 32; ++j) {
    uint8_t sc, m;
    scaleMinK4(j, y.scales, sc, m);
    const float d = fp16ToFp32(y.d) * float(sc);
    if (!d)
      continue;
    const float dm = fp16ToFp32(y.dmin) * float(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = uint8_t(clampInt(0, nmax, l));
    }
  }
}

void quantizeRowQ4_K(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ4_K block;
    uint8_t L[kQK];
    fitScalesMinsK(x, block, L, 15, importance ? importance + i * kQK : nullptr);
    requantizeK(x, block, L, 15);
    // qs[32·p + l] holds value 64·p + l (low nibble) and 64·p + 32 + l (high).
    uint8_t *q = block.qs;
    for (int j = 0; j < kQK; j += 64, q += 32)
      for (int l = 0; l < 32; ++l)
        q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    storeBlock(dst, i, block);
  }
}

void quantizeRowQ5_K(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ5_K block;
    uint8_t L[kQK];
    fitScalesMinsK(x, block, L, 31, importance ? importance + i * kQK : nullptr);
    requantizeK(x, block, L, 31);
    // Nibbles as q4_K; bit 4 of the low / high nibble's value in bit 2p / 2p + 1 of qh[l].
    std::memset(block.qh, 0, sizeof(block.qh));
    uint8_t *ql = block.qs;
    uint8_t m1 = 1, m2 = 2;
    for (int j = 0; j < kQK; j += 64, ql += 32) {
      for (int l = 0; l < 32; ++l) {
        int l1 = L[j + l];
        if (l1 > 15) {
          l1 -= 16;
          block.qh[l] |= m1;
        }
        int l2 = L[j + l + 32];
        if (l2 > 15) {
          l2 -= 16;
          block.qh[l] |= m2;
        }
        ql[l] = uint8_t(l1 | (l2 << 4));
      }
      m1 = uint8_t(m1 << 2);
      m2 = uint8_t(m2 << 2);
    }
    storeBlock(dst, i, block);
  }
}

//===----------------------------------------------------------------------===//
// q6_K
//===----------------------------------------------------------------------===//

void quantizeRowQ6_K(const float *x, void *dst, int64_t n, const float *importance) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ6_K y;
    int8_t L[kQK];
    float scales[kQK / 16];
    float maxScale = 0, maxAbsScale = 0;
    for (int ib = 0; ib < kQK / 16; ++ib) {
      // The impl passes the imatrix straight through as the weights (no σ² term).
      const float *qw = importance ? importance + i * kQK + 16 * ib : nullptr;
      const float scale = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw);
      scales[ib] = scale;
      const float absScale = std::fabs(scale);
      if (absScale > maxAbsScale) {
        maxAbsScale = absScale;
        maxScale = scale;
      }
    }
    if (maxAbsScale < kGroupMaxEps) {
      std::memset(&y, 0, sizeof(y));
      y.d = fp32ToFp16(0.f);
      storeBlock(dst, i, y);
      continue;
    }
    const float iscale = -128.f / maxScale;
    y.d = fp32ToFp16(1 / iscale);
    for (int ib = 0; ib < kQK / 16; ++ib)
      y.scales[ib] = int8_t(std::min(127, nearestInt(iscale * scales[ib])));
    for (int j = 0; j < kQK / 16; ++j) {
      const float d = fp16ToFp32(y.d) * float(y.scales[j]);
      if (!d)
        continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearestInt(x[16 * j + ii] / d);
        L[16 * j + ii] = int8_t(clampInt(-32, 31, l) + 32);
      }
    }
    // ql: low nibbles, values l / l + 32 in ql[l] / ql[l + 32], l + 64 / l + 96 in their high
    // nibbles; qh[l]: the top 2 bits of the four values, 2 bits each.
    uint8_t *ql = y.ql, *qh = y.qh;
    for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = uint8_t(q1 | (q3 << 4));
        ql[l + 32] = uint8_t(q2 | (q4 << 4));
        qh[l] = uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                        ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
    storeBlock(dst, i, y);
  }
}

//===----------------------------------------------------------------------===//
// q8_K
//===----------------------------------------------------------------------===//

void quantizeRowQ8_K(const float *x, void *dst, int64_t n, const float *) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ8_K y;
    float max = 0, amax = 0;
    for (int j = 0; j < kQK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (!amax) {
      // ggml leaves bsums as they were here; zero is what they would sum to.
      std::memset(&y, 0, sizeof(y));
      storeBlock(dst, i, y);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK; ++j)
      y.qs[j] = int8_t(std::min(127, nearestInt(iscale * x[j])));
    for (int j = 0; j < kQK / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii)
        sum += y.qs[j * 16 + ii];
      y.bsums[j] = int16_t(sum);
    }
    y.d = 1 / iscale;
    storeBlock(dst, i, y);
  }
}

} // namespace qcc::ggml
