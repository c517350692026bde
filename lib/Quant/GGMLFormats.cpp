//===- GGMLFormats.cpp - the format table and its lookups -------------------===//
//
// Block sizes and bytes are ggml's type_traits (ggml.c). quantizeRows is in QuantizeRows.cpp.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/GGMLFormats.h"

#include "RowKernels.h"

#include "qcc/Quant/GGMLBlocks.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <cassert>

using namespace llvm;

namespace qcc {

using namespace ggml;

// Sorted by id: lookups by type are a binary search.
static const FormatInfo kFormats[] = {
    // type, name, blockSize, blockBytes, dequantizeRow, quantizeRow, isQuantized
    {GGMLType::F32, "f32", 1, 4, dequantizeRowF32, quantizeRowF32, false},
    {GGMLType::F16, "f16", 1, 2, dequantizeRowF16, quantizeRowF16, false},
    {GGMLType::Q4_0, "q4_0", kBlockSize, sizeof(BlockQ4_0),
     dequantizeRowQ4_0, quantizeRowQ4_0, true},
    {GGMLType::Q4_1, "q4_1", kBlockSize, sizeof(BlockQ4_1),
     dequantizeRowQ4_1, quantizeRowQ4_1, true},
    {GGMLType::Q5_0, "q5_0", kBlockSize, sizeof(BlockQ5_0),
     dequantizeRowQ5_0, quantizeRowQ5_0, true},
    {GGMLType::Q5_1, "q5_1", kBlockSize, sizeof(BlockQ5_1),
     dequantizeRowQ5_1, quantizeRowQ5_1, true},
    {GGMLType::Q8_0, "q8_0", kBlockSize, sizeof(BlockQ8_0),
     dequantizeRowQ8_0, quantizeRowQ8_0, true},
    {GGMLType::Q8_1, "q8_1", kBlockSize, sizeof(BlockQ8_1),
     dequantizeRowQ8_1, quantizeRowQ8_1, true},
    {GGMLType::Q2_K, "q2_K", kSuperBlockSize, sizeof(BlockQ2_K),
     dequantizeRowQ2_K, quantizeRowQ2_K, true},
    {GGMLType::Q3_K, "q3_K", kSuperBlockSize, sizeof(BlockQ3_K),
     dequantizeRowQ3_K, quantizeRowQ3_K, true},
    {GGMLType::Q4_K, "q4_K", kSuperBlockSize, sizeof(BlockQ4_K),
     dequantizeRowQ4_K, quantizeRowQ4_K, true},
    {GGMLType::Q5_K, "q5_K", kSuperBlockSize, sizeof(BlockQ5_K),
     dequantizeRowQ5_K, quantizeRowQ5_K, true},
    {GGMLType::Q6_K, "q6_K", kSuperBlockSize, sizeof(BlockQ6_K),
     dequantizeRowQ6_K, quantizeRowQ6_K, true},
    {GGMLType::Q8_K, "q8_K", kSuperBlockSize, sizeof(BlockQ8_K),
     dequantizeRowQ8_K, quantizeRowQ8_K, true},
    {GGMLType::IQ4_NL, "iq4_nl", kBlockSize, sizeof(BlockIQ4_NL),
     dequantizeRowIQ4_NL, quantizeRowIQ4_NL, true},
    {GGMLType::I8, "i8", 1, 1, dequantizeRowI8, quantizeRowI8, false},
    {GGMLType::BF16, "bf16", 1, 2, dequantizeRowBF16, quantizeRowBF16, false},
};

ArrayRef<FormatInfo> allFormats() { return kFormats; }

const FormatInfo *lookupFormat(GGMLType type) {
  const FormatInfo *it = llvm::partition_point(
      kFormats, [&](const FormatInfo &f) { return uint32_t(f.type) < uint32_t(type); });
  return it != std::end(kFormats) && it->type == type ? it : nullptr;
}

const FormatInfo *lookupFormat(StringRef name) {
  for (const FormatInfo &f : kFormats)
    if (name.equals_insensitive(f.name))
      return &f;
  return nullptr;
}

std::optional<GGMLType> ggmlTypeFromId(uint32_t id) {
  if (const FormatInfo *f = lookupFormat(static_cast<GGMLType>(id)))
    return f->type;
  return std::nullopt;
}

int64_t rowBytes(GGMLType type, int64_t n) {
  const FormatInfo *f = lookupFormat(type);
  assert(f && "rowBytes of an unknown GGML type");
  assert(n >= 0 && n % f->blockSize == 0 && "row length not a multiple of the block size");
  return n / f->blockSize * f->blockBytes;
}

Error dequantizeRow(GGMLType type, const void *src, float *dst, int64_t n) {
  const FormatInfo *f = lookupFormat(type);
  if (!f)
    return createStringError(inconvertibleErrorCode(),
                             "unknown GGML type id " + Twine(uint32_t(type)));
  if (n < 0 || n % f->blockSize != 0)
    return createStringError(inconvertibleErrorCode(),
                             Twine(f->name) + " row of " + Twine(n) +
                                 " values: not a non-negative multiple of the block size " +
                                 Twine(f->blockSize));
  if (n > 0)
    f->dequantizeRow(src, dst, n);
  return Error::success();
}

} // namespace qcc
