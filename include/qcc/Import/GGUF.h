//===- GGUF.h - GGUF v2/v3 reader and writer --------------------------------===//
//
// GGUF as written by llama.cpp (gguf.c): magic "GGUF", version, tensor count, KV count, KV pairs,
// tensor infos, padding to `general.alignment` (default 32), tensor data. Tensor dims are stored
// in ggml order (ne[0] = row length first). The reader maps the file and checks every length,
// count, type and offset against the file size before use.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_IMPORT_GGUF_H
#define QCC_IMPORT_GGUF_H

#include "qcc/Quant/GGMLFormats.h"
#include "qcc/Support/MappedFile.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qcc::gguf {

enum class ValueType : uint32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
  String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};

/// One metadata value. Scalars use `i`/`u`/`f`/`b`/`str`; arrays fill exactly one of `ints`,
/// `floats`, `strings` (bools and integers go to `ints`), with `arrayType` naming the element type.
struct Value {
  ValueType type = ValueType::UInt32;
  ValueType arrayType = ValueType::UInt32;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string str;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  bool isInteger() const;
  bool isNumber() const;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  ///< ggml order: ne[0] is the (contiguous) row length.
  GGMLType type;
  uint64_t offset = 0;      ///< Absolute offset of the data in the file.
  uint64_t bytes = 0;       ///< Storage size computed from type and dims.
  int64_t numElements() const;
  /// Logical row-major shape ([rows..., row_len]), i.e. ne reversed.
  std::vector<int64_t> shape() const;
};

class Reader {
public:
  /// Maps and parses `path`. Errors name the file and the problem.
  static llvm::Expected<std::unique_ptr<Reader>> open(llvm::StringRef path);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const MappedFile &file() const { return *file_; }
  llvm::StringRef path() const { return file_->path(); }

  const Value *get(llvm::StringRef key) const;
  std::optional<int64_t> getInt(llvm::StringRef key) const;
  std::optional<double> getFloat(llvm::StringRef key) const;
  std::optional<bool> getBool(llvm::StringRef key) const;
  std::optional<std::string> getString(llvm::StringRef key) const;
  /// Keys in file order.
  llvm::ArrayRef<std::string> keys() const { return keyOrder_; }

  llvm::ArrayRef<TensorInfo> tensors() const { return tensors_; }
  const TensorInfo *findTensor(llvm::StringRef name) const;
  const uint8_t *tensorData(const TensorInfo &t) const { return file_->data() + t.offset; }
  /// Offset where the tensor data section starts.
  uint64_t dataOffset() const { return dataOffset_; }

private:
  Reader() = default;
  llvm::Error parse();
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t dataOffset_ = 0;
  llvm::StringMap<Value> kv_;
  std::vector<std::string> keyOrder_;
  std::vector<TensorInfo> tensors_;
  llvm::StringMap<size_t> tensorIndex_;
};

/// Builds a GGUF v3 file. Tensor data is produced by callbacks at write time, so a writer never
/// needs all weights in memory at once.
class Writer {
public:
  void setUInt32(llvm::StringRef key, uint32_t v);
  void setInt32(llvm::StringRef key, int32_t v);
  void setUInt64(llvm::StringRef key, uint64_t v);
  void setFloat32(llvm::StringRef key, float v);
  void setBool(llvm::StringRef key, bool v);
  void setString(llvm::StringRef key, llvm::StringRef v);
  void setStringArray(llvm::StringRef key, llvm::ArrayRef<std::string> v);
  void setFloat32Array(llvm::StringRef key, llvm::ArrayRef<float> v);
  void setInt32Array(llvm::StringRef key, llvm::ArrayRef<int32_t> v);
  /// Copies a metadata value read from another file.
  void setValue(llvm::StringRef key, const Value &v);

  /// `ne` in ggml order. `fill` must write exactly the tensor's storage bytes to the stream.
  void addTensor(llvm::StringRef name, llvm::ArrayRef<int64_t> ne, GGMLType type,
                 std::function<llvm::Error(llvm::raw_ostream &)> fill);

  /// Writes atomically to `path` (temp file + rename).
  llvm::Error write(llvm::StringRef path, uint64_t alignment = 32) const;

private:
  struct KV { std::string key; Value value; };
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> ne;
    GGMLType type;
    std::function<llvm::Error(llvm::raw_ostream &)> fill;
  };
  std::vector<KV> kv_;
  std::vector<PendingTensor> tensors_;
  void set(llvm::StringRef key, Value v);
};

} // namespace qcc::gguf

#endif // QCC_IMPORT_GGUF_H
