//===- NonLinearQuants.cpp - iq4_nl rows -------------------------------------===//
//
// 4-bit indices into a fixed non-uniform grid of int8 levels, one fp16 scale per 32 values;
// nibbles ordered as q4_0. x = d · level, as ggml's dequantize_row_iq4_nl.
//
//===----------------------------------------------------------------------===//
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

void dequantizeRowIQ4_NL(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kBlockSize; ++i, dst += kBlockSize) {
    const auto block = loadBlock<BlockIQ4_NL>(src, i);
    const float d = fp16ToFp32(block.d);
    for (int j = 0; j < kBlockSize / 2; ++j) {
      dst[j] = d * float(kIQ4NLValues[block.qs[j] & 0xF]);
      dst[j + kBlockSize / 2] = d * float(kIQ4NLValues[block.qs[j] >> 4]);
    }
  }
}

} // namespace qcc::ggml
