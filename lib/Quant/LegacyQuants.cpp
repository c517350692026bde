//===- LegacyQuants.cpp - q4_0, q4_1, q5_0, q5_1, q8_0, q8_1 rows -----------===//
//
// Blocks of 32 values with one fp16 scale (and min). Value j of a block sits in the low nibble
// of qs[j] for j < 16 and in the high nibble of qs[j - 16] otherwise; the 5-bit formats keep
// bit 4 of value j in bit j of the little-endian word qh.
//
// Each expression is ggml's (ggml-quants.c, dequantize_row_*): the integer quant is formed in
// int, converted to float, multiplied by d, then m is added. Contraction into an FMA would
// change the rounding, so it is off.
//
//===----------------------------------------------------------------------===//
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

static constexpr int64_t kHalf = kBlockSize / 2;

void dequantizeRowQ4_0(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ4_0>(src, i);
    const float d = fp16ToFp32(block.d);
    for (int j = 0; j < kHalf; ++j) {
      const int x0 = (block.qs[j] & 0x0F) - 8;
      const int x1 = (block.qs[j] >> 4) - 8;
      dst[j] = float(x0) * d;
      dst[j + kHalf] = float(x1) * d;
    }
  }
}

void dequantizeRowQ4_1(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ4_1>(src, i);
    const float d = fp16ToFp32(block.d);
    const float m = fp16ToFp32(block.m);
    for (int j = 0; j < kHalf; ++j) {
      const int x0 = block.qs[j] & 0x0F;
      const int x1 = block.qs[j] >> 4;
      dst[j] = float(x0) * d + m;
      dst[j + kHalf] = float(x1) * d + m;
    }
  }
}

/// Bit 4 of values j and j + 16, already shifted into place (0 or 0x10).
static void fifthBits(uint32_t qh, int j, int &high0, int &high1) {
  high0 = int(((qh >> j) << 4) & 0x10);
  high1 = int((qh >> (j + 12)) & 0x10);
}

void dequantizeRowQ5_0(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ5_0>(src, i);
    const float d = fp16ToFp32(block.d);
    uint32_t qh;
    std::memcpy(&qh, block.qh, sizeof(qh));
    for (int j = 0; j < kHalf; ++j) {
      int high0, high1;
      fifthBits(qh, j, high0, high1);
      const int x0 = ((block.qs[j] & 0x0F) | high0) - 16;
      const int x1 = ((block.qs[j] >> 4) | high1) - 16;
      dst[j] = float(x0) * d;
      dst[j + kHalf] = float(x1) * d;
    }
  }
}

void dequantizeRowQ5_1(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ5_1>(src, i);
    const float d = fp16ToFp32(block.d);
    const float m = fp16ToFp32(block.m);
    uint32_t qh;
    std::memcpy(&qh, block.qh, sizeof(qh));
    for (int j = 0; j < kHalf; ++j) {
      int high0, high1;
      fifthBits(qh, j, high0, high1);
      const int x0 = (block.qs[j] & 0x0F) | high0;
      const int x1 = (block.qs[j] >> 4) | high1;
      dst[j] = float(x0) * d + m;
      dst[j + kHalf] = float(x1) * d + m;
    }
  }
}

void dequantizeRowQ8_0(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ8_0>(src, i);
    const float d = fp16ToFp32(block.d);
    for (int j = 0; j < kBlockSize; ++j)
      dst[j] = float(block.qs[j]) * d;
  }
}

// ggml registers no to_float for q8_1 (it only feeds dot products); its values mean d · q, the
// same as q8_0, and the cached sum s is not needed to recover them.
void dequantizeRowQ8_1(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockQ8_1>(src, i);
    const float d = fp16ToFp32(block.d);
    for (int j = 0; j < kBlockSize; ++j)
      dst[j] = float(block.qs[j]) * d;
  }
}

} // namespace qcc::ggml
