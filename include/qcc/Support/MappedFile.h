//===- MappedFile.h - read-only memory-mapped files and bounds-checked reads ===//
//
// Model files can be tens of GB: they are mapped, never copied. Every parser reads through
// ByteReader, which checks each access against the mapped size so a truncated or corrupt file
// yields an llvm::Error naming the file and the offset, never an out-of-bounds read.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_SUPPORT_MAPPEDFILE_H
#define QCC_SUPPORT_MAPPEDFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace qcc {

/// A whole file mapped read-only. Empty files are allowed (size 0, data null).
class MappedFile {
public:
  static llvm::Expected<std::unique_ptr<MappedFile>> open(llvm::StringRef path);
  ~MappedFile();
  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }
  llvm::StringRef path() const { return path_; }
  /// Hints the kernel to read ahead (sequential access); harmless if unsupported.
  void adviseSequential() const;

private:
  MappedFile() = default;
  std::string path_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  std::unique_ptr<llvm::sys::fs::mapped_file_region> region_;
};

/// Bounds-checked little-endian cursor over a byte range. All failures are llvm::Errors of the
/// form "<file>: <what> at offset N: <why>".
class ByteReader {
public:
  ByteReader(const uint8_t *data, uint64_t size, llvm::StringRef fileName)
      : data_(data), size_(size), fileName_(fileName.str()) {}

  uint64_t offset() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }
  llvm::Error seek(uint64_t off);
  llvm::Error skip(uint64_t n);

  template <typename T> llvm::Expected<T> read(llvm::StringRef what) {
    static_assert(std::is_trivially_copyable<T>::value, "POD only");
    if (auto err = need(sizeof(T), what))
      return std::move(err);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  /// Reads n raw bytes as a string (n is checked against the remaining size first).
  llvm::Expected<std::string> readBytes(uint64_t n, llvm::StringRef what);
  /// Returns a pointer to n bytes at the cursor and advances.
  llvm::Expected<const uint8_t *> take(uint64_t n, llvm::StringRef what);

  llvm::Error error(llvm::StringRef what, const llvm::Twine &why) const;
  llvm::Error need(uint64_t n, llvm::StringRef what) const;
  const std::string &fileName() const { return fileName_; }

private:
  const uint8_t *data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string fileName_;
};

/// `path` made absolute (against the working folder) with "." and ".." removed: the form the
/// tools compare paths in (an output must not overwrite an input).
std::string absolutePath(llvm::StringRef path);

/// Makes an llvm::Error "<file>: <message>".
llvm::Error fileError(llvm::StringRef file, const llvm::Twine &message);

/// Writes a file atomically: the callback writes to a temporary in the same folder, which is
/// renamed over `path` only if the callback succeeded; on failure nothing is left behind.
llvm::Error writeFileAtomically(llvm::StringRef path,
                                llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write);

/// Content fingerprint of a file: "xxh3:<16 hex>" over the size and the whole content for files
/// up to 256 MiB; for larger files over the size, the first and last 4 MiB and 64 evenly spaced
/// 64 KiB samples (so multi-GB files are identified in milliseconds).
std::string fingerprintFile(const MappedFile &file);

} // namespace qcc

#endif // QCC_SUPPORT_MAPPEDFILE_H
