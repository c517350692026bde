//===- FloatFormats.cpp - f32, f16 and bf16 rows ----------------------------===//
//
// One value per "block"; widening to f32 is exact, so these are plain conversions.
//
//===----------------------------------------------------------------------===//
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"

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
