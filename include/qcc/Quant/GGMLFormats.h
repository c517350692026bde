//===- GGMLFormats.h - the table of llama.cpp (ggml) tensor formats ---------===//
//
// One row per format: ggml's type id and name, block geometry and the row kernels. A row of n
// values (n a multiple of blockSize) is n / blockSize blocks laid out back to back, exactly as
// ggml keeps them in memory and in GGUF files. Block layouts are in GGMLBlocks.h.
//
// dequantizeRow is scalar reference code, bit-identical to ggml's dequantize_row_* (same float
// operations in the same order, no FMA contraction); fast kernels must be proved equal to it.
// quantizeRow is the slot for the quantizers; it is null until they exist.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANT_GGMLFORMATS_H
#define QCC_QUANT_GGMLFORMATS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>

namespace qcc {

/// ggml's type ids (enum ggml_type), as stored in GGUF tensor infos. Only formats this library
/// implements are listed; the gaps are ggml types it does not (yet) know.
enum class GGMLType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  BF16 = 30,
};

/// Writes n = a multiple of the block size values of one row; src holds exactly
/// n / blockSize * blockBytes bytes (no alignment needed) and is never read past that.
using DequantizeRowFn = void (*)(const void *src, float *dst, int64_t n);

/// Quantizes one row of n values into n / blockSize blocks at dst. `importance` is null or n
/// per-column weights (llama.cpp's imatrix); formats that ignore it accept it anyway.
using QuantizeRowFn = void (*)(const float *src, void *dst, int64_t n, const float *importance);

struct FormatInfo {
  GGMLType type;
  /// ggml's name (ggml_type_name): "f32", "q4_0", "q4_K", "iq4_nl", "bf16", ...
  const char *name;
  /// Values per block (1 for the plain float formats).
  int64_t blockSize;
  /// Bytes per block.
  int64_t blockBytes;
  DequantizeRowFn dequantizeRow;
  /// Null until the quantization issue provides the quantizers.
  QuantizeRowFn quantizeRow;
  /// False for f32, f16 and bf16.
  bool isQuantized;

  double bitsPerWeight() const { return 8.0 * double(blockBytes) / double(blockSize); }
};

/// Every implemented format, in ggml id order.
llvm::ArrayRef<FormatInfo> allFormats();

/// The row for `type`; null for a value outside the enum (e.g. an unchecked cast).
const FormatInfo *lookupFormat(GGMLType type);

/// The row whose ggml name matches `name` ignoring case ("Q4_K", "q4_k", "IQ4_NL"); else null.
const FormatInfo *lookupFormat(llvm::StringRef name);

/// The implemented format with ggml id `id`, if any (validates ids read from files).
std::optional<GGMLType> ggmlTypeFromId(uint32_t id);

/// Bytes of one row of n values. Precondition: `type` is implemented and n is a non-negative
/// multiple of its block size (asserted; dequantizeRow checks and reports instead).
int64_t rowBytes(GGMLType type, int64_t n);

/// Dequantizes one row of n values from src (rowBytes(type, n) bytes) into dst (n floats).
/// Fails, writing nothing, for an unknown type or n not a non-negative multiple of the block size.
llvm::Error dequantizeRow(GGMLType type, const void *src, float *dst, int64_t n);

} // namespace qcc

#endif // QCC_QUANT_GGMLFORMATS_H
