//===- FloatFormats.cpp - f32, f16 and bf16 rows ----------------------------===//
//
// One value per "block"; widening to f32 is exact, so these are plain conversions.
//
//===----------------------------------------------------------------------===//
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"

#include <cmath>

namespace qcc::ggml {

void dequantizeRowF32(const void *src, float *dst, int64_t n) {
  if (n > 0) // memcpy needs valid pointers even for 0 bytes
    std::memcpy(dst, src, size_t(n) * sizeof(float));
}

void dequantizeRowF16(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = fp16ToFp32(loadBlock<uint16_t>(src, i));
}

void dequantizeRowBF16(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = bf16ToFp32(loadBlock<uint16_t>(src, i));
}

} // namespace qcc::ggml

namespace qcc::ggml {

// The "quantizers" of the float formats are the narrowing conversions ggml_quantize_chunk uses
// (ggml_fp32_to_fp16_row, ggml_fp32_to_bf16_row); the imatrix means nothing to them.
void quantizeRowF32(const float *src, void *dst, int64_t n, const float *) {
  if (n > 0)
    std::memcpy(dst, src, size_t(n) * sizeof(float));
}

void quantizeRowF16(const float *src, void *dst, int64_t n, const float *) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32ToFp16(src[i]);
    std::memcpy(static_cast<uint8_t *>(dst) + 2 * i, &h, 2);
  }
}

void quantizeRowBF16(const float *src, void *dst, int64_t n, const float *) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32ToBf16(src[i]);
    std::memcpy(static_cast<uint8_t *>(dst) + 2 * i, &h, 2);
  }
}

// ggml's I8: plain int8 values. ggml gives it no from_float: round to nearest even, saturate.
void dequantizeRowI8(const void *src, float *dst, int64_t n) {
  const int8_t *x = static_cast<const int8_t *>(src);
  for (int64_t i = 0; i < n; ++i)
    dst[i] = float(x[i]);
}

void quantizeRowI8(const float *src, void *dst, int64_t n, const float *) {
  int8_t *y = static_cast<int8_t *>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const float r = std::nearbyint(src[i]);
    y[i] = int8_t(r != r ? 0.0f : (r < -128.0f ? -128.0f : (r > 127.0f ? 127.0f : r)));
  }
}

} // namespace qcc::ggml
