//===- RowKernels.h - the row functions the format table points at ----------===//
//
// Private to QCCQuant. Each family of formats has one file of functions; adding a format is a
// declaration here, its file, and one row in GGMLFormats.cpp.
//
// Every kernel copies each block out with memcpy (blocks in a row are packed, so misaligned),
// which also keeps every read inside the n / blockSize blocks of the row.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_QUANT_ROWKERNELS_H
#define QCC_LIB_QUANT_ROWKERNELS_H

#include "llvm/Support/SwapByteOrder.h"

#include <cstdint>
#include <cstring>

namespace qcc::ggml {

static_assert(llvm::sys::IsLittleEndianHost,
              "ggml blocks are little-endian; the kernels read them in host order");

/// Block `index` of a row, copied out of possibly misaligned memory.
template <typename Block> inline Block loadBlock(const void *row, int64_t index) {
  Block block;
  std::memcpy(&block, static_cast<const uint8_t *>(row) + index * int64_t(sizeof(Block)),
              sizeof(Block));
  return block;
}

// FloatFormats.cpp
void dequantizeRowF32(const void *src, float *dst, int64_t n);
void dequantizeRowF16(const void *src, float *dst, int64_t n);
void dequantizeRowBF16(const void *src, float *dst, int64_t n);
void dequantizeRowI8(const void *src, float *dst, int64_t n);

// LegacyQuants.cpp
void dequantizeRowQ4_0(const void *src, float *dst, int64_t n);
void dequantizeRowQ4_1(const void *src, float *dst, int64_t n);
void dequantizeRowQ5_0(const void *src, float *dst, int64_t n);
void dequantizeRowQ5_1(const void *src, float *dst, int64_t n);
void dequantizeRowQ8_0(const void *src, float *dst, int64_t n);
void dequantizeRowQ8_1(const void *src, float *dst, int64_t n);

// KQuants.cpp
void dequantizeRowQ2_K(const void *src, float *dst, int64_t n);
void dequantizeRowQ3_K(const void *src, float *dst, int64_t n);
void dequantizeRowQ4_K(const void *src, float *dst, int64_t n);
void dequantizeRowQ5_K(const void *src, float *dst, int64_t n);
void dequantizeRowQ6_K(const void *src, float *dst, int64_t n);
void dequantizeRowQ8_K(const void *src, float *dst, int64_t n);

// NonLinearQuants.cpp
void dequantizeRowIQ4_NL(const void *src, float *dst, int64_t n);

// Quantizers (QuantizeRowFn): byte-exact with llama.cpp's ggml_quantize_chunk for one row,
// importance null or one weight per value. FloatFormats.cpp, LegacyQuantize.cpp,
// KQuantize.cpp, NonLinearQuantize.cpp.
void quantizeRowF32(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowF16(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowBF16(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowI8(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ4_0(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ4_1(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ5_0(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ5_1(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ8_0(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ8_1(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ2_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ3_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ4_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ5_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ6_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowQ8_K(const float *src, void *dst, int64_t n, const float *importance);
void quantizeRowIQ4_NL(const float *src, void *dst, int64_t n, const float *importance);

} // namespace qcc::ggml

#endif // QCC_LIB_QUANT_ROWKERNELS_H
