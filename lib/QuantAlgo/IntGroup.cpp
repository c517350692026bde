//===- IntGroup.cpp - b-bit integer group format: params, RTN, packing ----===//

#include "qcc/QuantAlgo/IntGroup.h"

#include "qcc/Quant/Float16.h"

#include <algorithm>
#include <vector>

using namespace qcc;
using namespace qcc::quantalgo;

llvm::Error IntGroupFormat::validate(int64_t cols) const {
  if (bits < 2 || bits > 8)
    return llvm::createStringError("integer group format: bits must be in 2..8, got %d", bits);
  if (groupSize < 0)
    return llvm::createStringError("integer group format: negative group size %lld",
                                   (long long)groupSize);
  if (cols <= 0)
    return llvm::createStringError("integer group format: row length must be positive, got %lld",
                                   (long long)cols);
  if (groupSize != 0 && cols % groupSize != 0)
    return llvm::createStringError(
        "integer group format: group size %lld does not divide the row length %lld",
        (long long)groupSize, (long long)cols);
  return llvm::Error::success();
}

int64_t quantalgo::rowBytes(const IntGroupFormat &format, int64_t cols) {
  const int64_t paramBytes = format.symmetric ? 2 : 4;
  return format.numGroups(cols) * paramBytes + (cols * format.bits + 7) / 8;
}

// The scale goes through f16 first so that codes are chosen against the stored scale.
static float roundScale(float scale) {
  float rounded = fp16ToFp32(fp32ToFp16(scale));
  // Below f16's range the group would dequantize to zeros; keep the smallest subnormal.
  return rounded > 0.0f ? rounded : 0x1.0p-24f;
}

GroupParams quantalgo::findGroupParams(const IntGroupFormat &format, const float *x, int64_t n,
                                       float clipRatio) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float maxCode = float(format.maxCode());
  GroupParams params;
  if (format.symmetric) {
    float amax = std::max(-lo, hi);
    if (amax == 0.0f)
      amax = 1.0f;
    params.scale = roundScale(2.0f * (clipRatio * amax) / maxCode);
    params.zero = float(1 << (format.bits - 1));
    return params;
  }
  if (lo == 0.0f && hi == 0.0f) {
    lo = -1.0f;
    hi = 1.0f;
  }
  lo *= clipRatio;
  hi *= clipRatio;
  params.scale = roundScale((hi - lo) / maxCode);
  params.zero = std::clamp(std::nearbyint(-lo / params.scale), 0.0f, maxCode);
  return params;
}

// Codes go LSB first into one bit stream per row; see the header for the exact layout.
static void packCodes(const uint8_t *codes, int64_t cols, int bits, uint8_t *out) {
  std::fill(out, out + (cols * bits + 7) / 8, uint8_t(0));
  int64_t bit = 0;
  for (int64_t i = 0; i < cols; ++i, bit += bits) {
    const uint32_t value = uint32_t(codes[i]) << (bit & 7);
    out[bit >> 3] |= uint8_t(value);
    if ((bit & 7) + bits > 8)
      out[(bit >> 3) + 1] |= uint8_t(value >> 8);
  }
}

static void unpackCodes(const uint8_t *in, int64_t cols, int bits, uint8_t *codes) {
  const uint32_t mask = (1u << bits) - 1;
  int64_t bit = 0;
  for (int64_t i = 0; i < cols; ++i, bit += bits) {
    uint32_t value = in[bit >> 3];
    if ((bit & 7) + bits > 8)
      value |= uint32_t(in[(bit >> 3) + 1]) << 8;
    codes[i] = uint8_t((value >> (bit & 7)) & mask);
  }
}

static void storeF16(uint8_t *p, float v) {
  const uint16_t h = fp32ToFp16(v);
  p[0] = uint8_t(h & 0xFF);
  p[1] = uint8_t(h >> 8);
}
static float loadF16(const uint8_t *p) { return fp16ToFp32(uint16_t(p[0] | (p[1] << 8))); }

void quantalgo::packRow(const IntGroupFormat &format, const uint8_t *codes,
                        const GroupParams *params, uint8_t *row, int64_t cols) {
  const int64_t groups = format.numGroups(cols);
  uint8_t *p = row;
  for (int64_t g = 0; g < groups; ++g) {
    storeF16(p, params[g].scale);
    p += 2;
    if (!format.symmetric) {
      storeF16(p, params[g].zero);
      p += 2;
    }
  }
  packCodes(codes, cols, format.bits, p);
}

void quantalgo::unpackRow(const IntGroupFormat &format, const uint8_t *row, uint8_t *codes,
                          GroupParams *params, int64_t cols) {
  const int64_t groups = format.numGroups(cols);
  const uint8_t *p = row;
  for (int64_t g = 0; g < groups; ++g) {
    params[g].scale = loadF16(p);
    p += 2;
    if (format.symmetric) {
      params[g].zero = float(1 << (format.bits - 1));
    } else {
      params[g].zero = loadF16(p);
      p += 2;
    }
  }
  unpackCodes(p, cols, format.bits, codes);
}

// Shared by the byte and the float paths so that both make identical choices.
static void rtnCodes(const IntGroupFormat &format, const float *x, int64_t cols,
                     float clipRatio, uint8_t *codes, GroupParams *params) {
  const int64_t length = format.groupLength(cols);
  const int64_t groups = format.numGroups(cols);
  for (int64_t g = 0; g < groups; ++g) {
    params[g] = findGroupParams(format, x + g * length, length, clipRatio);
    for (int64_t i = g * length; i < (g + 1) * length; ++i)
      codes[i] = quantizeCode(params[g], x[i], format.maxCode());
  }
}

void quantalgo::quantizeRowRTN(const IntGroupFormat &format, const float *x, uint8_t *row,
                               int64_t cols, float clipRatio) {
  std::vector<uint8_t> codes(cols);
  std::vector<GroupParams> params(format.numGroups(cols));
  rtnCodes(format, x, cols, clipRatio, codes.data(), params.data());
  packRow(format, codes.data(), params.data(), row, cols);
}

void quantalgo::dequantizeRow(const IntGroupFormat &format, const uint8_t *row, float *out,
                              int64_t cols) {
  std::vector<uint8_t> codes(cols);
  std::vector<GroupParams> params(format.numGroups(cols));
  unpackRow(format, row, codes.data(), params.data(), cols);
  const int64_t length = format.groupLength(cols);
  for (int64_t i = 0; i < cols; ++i)
    out[i] = dequantizeCode(params[i / length], codes[i]);
}

void quantalgo::fakeQuantizeRowRTN(const IntGroupFormat &format, const float *x, float *out,
                                   int64_t cols, float clipRatio) {
  std::vector<uint8_t> codes(cols);
  std::vector<GroupParams> params(format.numGroups(cols));
  rtnCodes(format, x, cols, clipRatio, codes.data(), params.data());
  const int64_t length = format.groupLength(cols);
  for (int64_t i = 0; i < cols; ++i)
    out[i] = dequantizeCode(params[i / length], codes[i]);
}

void quantalgo::quantizeMatrixRTN(const IntGroupFormat &format, const float *w, int64_t rows,
                                  int64_t cols, uint8_t *out, float clipRatio) {
  const int64_t bytes = rowBytes(format, cols);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    quantizeRowRTN(format, w + r * cols, out + r * bytes, cols, clipRatio);
}

void quantalgo::dequantizeMatrix(const IntGroupFormat &format, const uint8_t *in, int64_t rows,
                                 int64_t cols, float *out) {
  const int64_t bytes = rowBytes(format, cols);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    dequantizeRow(format, in + r * bytes, out + r * cols, cols);
}

void quantalgo::fakeQuantizeMatrixRTN(const IntGroupFormat &format, const float *w,
                                      int64_t rows, int64_t cols, float *out,
                                      float clipRatio) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    fakeQuantizeRowRTN(format, w + r * cols, out + r * cols, cols, clipRatio);
}
