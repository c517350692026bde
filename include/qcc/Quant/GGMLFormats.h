//===- GGMLFormats.h - the table of llama.cpp (ggml) tensor formats ---------===//
//
// One row per format: ggml's type id and name, block geometry and the row kernels. A row of n
// values (n a multiple of blockSize) is n / blockSize blocks laid out back to back, exactly as
// ggml keeps them in memory and in GGUF files. Block layouts are in GGMLBlocks.h.
//
// dequantizeRow is scalar reference code, bit-identical to ggml's dequantize_row_* (same float
// operations in the same order, no FMA contraction); fast kernels must be proved equal to it.
// quantizeRow writes, for the same input, the bytes llama.cpp's ggml_quantize_chunk writes
// (c392e50): without an imatrix the *_ref paths, with one the imatrix (*_impl) paths.
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
  /// Plain int8 values. qcc also stores its own packed formats (#qllm.int) as I8 rows of raw
  /// bytes, the format named by the module and by the GGUF key qcc.format.<tensor>.
  I8 = 24,
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
  /// Never null: every format in the table has a quantizer.
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

/// Quantizes one row of n values from src into dst (rowBytes(type, n) bytes), byte for byte as
/// llama.cpp's ggml_quantize_chunk. `importance` is null (no imatrix) or n weights.
/// Fails, writing nothing, for an unknown type or n not a non-negative multiple of the block size.
llvm::Error quantizeRow(GGMLType type, const float *src, void *dst, int64_t n,
                        const float *importance = nullptr);

/// Quantizes nrows rows of nPerRow values (row-major src, rows packed back to back in dst, as
/// in GGUF) with ggml_quantize_chunk's semantics: `importance` is null or nPerRow weights shared
/// by every row. Rows are spread over threads: numThreads 0 uses llvm::parallelFor's default
/// strategy, 1 runs on the caller's thread, k > 1 a pool of k threads; the bytes never depend
/// on it. Fails, writing nothing, for an unknown type, a negative count, or nPerRow not a
/// multiple of the block size.
llvm::Error quantizeRows(GGMLType type, const float *src, void *dst, int64_t nrows,
                         int64_t nPerRow, const float *importance = nullptr,
                         unsigned numThreads = 0);

} // namespace qcc

#endif // QCC_QUANT_GGMLFORMATS_H
