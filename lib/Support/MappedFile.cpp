//===- MappedFile.cpp - read-only mapped files, bounds-checked reads -------===//
#include "qcc/Support/MappedFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <sys/mman.h>

using namespace llvm;

namespace qcc {

Error fileError(StringRef file, const Twine &message) {
  return createStringError(inconvertibleErrorCode(), "%s: %s", file.str().c_str(),
                           message.str().c_str());
}

Expected<std::unique_ptr<MappedFile>> MappedFile::open(StringRef path) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path.str();
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status))
    return fileError(path, "cannot open: " + ec.message());
  if (status.type() != sys::fs::file_type::regular_file)
    return fileError(path, "not a regular file");
  f->size_ = status.getSize();
  if (f->size_ == 0)
    return std::move(f);
  Expected<sys::fs::file_t> fd = sys::fs::openNativeFileForRead(path);
  if (!fd)
    return fileError(path, "cannot open: " + toString(fd.takeError()));
  std::error_code ec;
  f->region_ = std::make_unique<sys::fs::mapped_file_region>(
      *fd, sys::fs::mapped_file_region::readonly, f->size_, 0, ec);
  sys::fs::closeFile(*fd);
  if (ec)
    return fileError(path, "cannot map: " + ec.message());
  f->data_ = reinterpret_cast<const uint8_t *>(f->region_->const_data());
  return std::move(f);
}

MappedFile::~MappedFile() = default;

void MappedFile::adviseSequential() const {
  if (data_)
    ::madvise(const_cast<uint8_t *>(data_), size_, MADV_SEQUENTIAL);
}

Error ByteReader::error(StringRef what, const Twine &why) const {
  return fileError(fileName_, Twine(what) + " at offset " + Twine(pos_) + ": " + why);
}

Error ByteReader::need(uint64_t n, StringRef what) const {
  if (n > size_ - pos_)
    return error(what, "file truncated (need " + Twine(n) + " bytes, " + Twine(size_ - pos_) +
                           " left)");
  return Error::success();
}

Error ByteReader::seek(uint64_t off) {
  if (off > size_)
    return error("seek", "offset " + Twine(off) + " is past the end of the file (" +
                             Twine(size_) + " bytes)");
  pos_ = off;
  return Error::success();
}

Error ByteReader::skip(uint64_t n) {
  if (auto err = need(n, "skip"))
    return err;
  pos_ += n;
  return Error::success();
}

Expected<std::string> ByteReader::readBytes(uint64_t n, StringRef what) {
  if (auto err = need(n, what))
    return std::move(err);
  std::string s(reinterpret_cast<const char *>(data_ + pos_), n);
  pos_ += n;
  return s;
}

Expected<const uint8_t *> ByteReader::take(uint64_t n, StringRef what) {
  if (auto err = need(n, what))
    return std::move(err);
  const uint8_t *p = data_ + pos_;
  pos_ += n;
  return p;
}

std::string absolutePath(StringRef path) {
  SmallString<256> s(path);
  sys::fs::make_absolute(s);
  sys::path::remove_dots(s, /*remove_dot_dot=*/true);
  return s.str().str();
}

Error writeFileAtomically(StringRef path, function_ref<Error(raw_ostream &)> write) {
  SmallString<256> dir(path);
  sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  SmallString<256> model(dir);
  sys::path::append(model, sys::path::filename(path) + ".tmp-%%%%%%");
  int fd;
  SmallString<256> tmp;
  if (std::error_code ec = sys::fs::createUniqueFile(model, fd, tmp))
    return fileError(path, "cannot create output: " + ec.message());
  Error result = Error::success();
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    result = write(os);
    os.flush();
    if (!result && os.has_error()) {
      result = fileError(path, "write failed: " + os.error().message());
      os.clear_error();
    }
  }
  if (!result) {
    if (std::error_code ec = sys::fs::rename(tmp, path))
      result = fileError(path, "cannot rename output into place: " + ec.message());
  }
  if (result)
    sys::fs::remove(tmp);
  return result;
}

std::string fingerprintFile(const MappedFile &file) {
  const uint64_t size = file.size();
  const uint8_t *data = file.data();
  constexpr uint64_t kWhole = 256ull << 20, kEdge = 4ull << 20, kSample = 64ull << 10;
  uint64_t h = xxh3_64bits(ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(&size), 8));
  auto mix = [&](uint64_t off, uint64_t n) {
    uint64_t part = xxh3_64bits(ArrayRef<uint8_t>(data + off, n));
    uint64_t both[2] = {h, part};
    h = xxh3_64bits(ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(both), 16));
  };
  if (size <= kWhole) {
    if (size)
      mix(0, size);
  } else {
    mix(0, kEdge);
    mix(size - kEdge, kEdge);
    for (uint64_t i = 0; i < 64; ++i)
      mix((size - kSample) / 63 * i, kSample);
  }
  std::string out;
  raw_string_ostream os(out);
  os << "xxh3:" << format_hex_no_prefix(h, 16);
  return out;
}

} // namespace qcc
