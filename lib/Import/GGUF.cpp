//===- GGUF.cpp - GGUF v2/v3 reader and writer ------------------------------===//
//
// Layout (llama.cpp gguf.c): "GGUF" u32 version, u64 n_tensors, u64 n_kv, then n_kv × (string key,
// u32 type, value), then n_tensors × (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset
// relative to the data section), padding to `general.alignment`, data. Strings are u64 length +
// bytes. Every count read from the file is checked against the bytes left before anything is
// allocated for it, so a corrupt count cannot trigger a huge allocation.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/GGUF.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qcc::gguf {

static constexpr uint64_t kMaxDims = 4;

bool Value::isInteger() const {
  switch (type) {
  case ValueType::UInt8: case ValueType::Int8: case ValueType::UInt16: case ValueType::Int16:
  case ValueType::UInt32: case ValueType::Int32: case ValueType::UInt64: case ValueType::Int64:
    return true;
  default:
    return false;
  }
}

bool Value::isNumber() const {
  return isInteger() || type == ValueType::Float32 || type == ValueType::Float64;
}

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : ne)
    n *= d;
  return n;
}

std::vector<int64_t> TensorInfo::shape() const { return std::vector<int64_t>(ne.rbegin(), ne.rend()); }

// Size in bytes of one scalar of the given type; 0 for string/array.
static uint64_t scalarSize(ValueType t) {
  switch (t) {
  case ValueType::UInt8: case ValueType::Int8: case ValueType::Bool: return 1;
  case ValueType::UInt16: case ValueType::Int16: return 2;
  case ValueType::UInt32: case ValueType::Int32: case ValueType::Float32: return 4;
  case ValueType::UInt64: case ValueType::Int64: case ValueType::Float64: return 8;
  default: return 0;
  }
}

static Expected<std::string> readString(ByteReader &r, StringRef what) {
  auto len = r.read<uint64_t>(what);
  if (!len)
    return len.takeError();
  if (*len > r.remaining())
    return r.error(what, "string length " + Twine(*len) + " exceeds the file size");
  return r.readBytes(*len, what);
}

// Reads one scalar into `v` (type already set). Integers go to v.i, floats to v.f, bools to v.b.
static Error readScalar(ByteReader &r, ValueType t, Value &v, StringRef what) {
  auto get = [&](auto tag, auto store) -> Error {
    auto x = r.read<decltype(tag)>(what);
    if (!x)
      return x.takeError();
    store(*x);
    return Error::success();
  };
  switch (t) {
  case ValueType::UInt8: return get(uint8_t(), [&](uint8_t x) { v.i = x; });
  case ValueType::Int8: return get(int8_t(), [&](int8_t x) { v.i = x; });
  case ValueType::UInt16: return get(uint16_t(), [&](uint16_t x) { v.i = x; });
  case ValueType::Int16: return get(int16_t(), [&](int16_t x) { v.i = x; });
  case ValueType::UInt32: return get(uint32_t(), [&](uint32_t x) { v.i = x; });
  case ValueType::Int32: return get(int32_t(), [&](int32_t x) { v.i = x; });
  case ValueType::UInt64: return get(uint64_t(), [&](uint64_t x) { v.i = int64_t(x); });
  case ValueType::Int64: return get(int64_t(), [&](int64_t x) { v.i = x; });
  case ValueType::Float32: return get(float(), [&](float x) { v.f = x; });
  case ValueType::Float64: return get(double(), [&](double x) { v.f = x; });
  case ValueType::Bool:
    return get(uint8_t(), [&](uint8_t x) { v.b = x != 0; v.i = x; });
  case ValueType::String: {
    auto s = readString(r, what);
    if (!s)
      return s.takeError();
    v.str = std::move(*s);
    return Error::success();
  }
  default:
    return r.error(what, "unknown value type " + Twine(uint32_t(t)));
  }
}

static Error readValue(ByteReader &r, Value &v, StringRef key) {
  auto type = r.read<uint32_t>(key);
  if (!type)
    return type.takeError();
  if (*type > uint32_t(ValueType::Float64))
    return r.error(key, "unknown metadata value type " + Twine(*type));
  v.type = ValueType(*type);
  if (v.type != ValueType::Array)
    return readScalar(r, v.type, v, key);

  auto elemType = r.read<uint32_t>(key);
  if (!elemType)
    return elemType.takeError();
  if (*elemType > uint32_t(ValueType::Float64) || ValueType(*elemType) == ValueType::Array)
    return r.error(key, "unsupported array element type " + Twine(*elemType));
  v.arrayType = ValueType(*elemType);
  auto count = r.read<uint64_t>(key);
  if (!count)
    return count.takeError();
  // Each element takes at least one byte (strings at least 8): bound the count before reserving.
  uint64_t minElem = v.arrayType == ValueType::String ? 8 : scalarSize(v.arrayType);
  if (*count > r.remaining() / minElem)
    return r.error(key, "array of " + Twine(*count) + " elements exceeds the file size");
  Value elem;
  if (v.arrayType == ValueType::String)
    v.strings.reserve(*count);
  else if (v.arrayType == ValueType::Float32 || v.arrayType == ValueType::Float64)
    v.floats.reserve(*count);
  else
    v.ints.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    if (auto err = readScalar(r, v.arrayType, elem, key))
      return err;
    if (v.arrayType == ValueType::String)
      v.strings.push_back(std::move(elem.str));
    else if (v.arrayType == ValueType::Float32 || v.arrayType == ValueType::Float64)
      v.floats.push_back(elem.f);
    else
      v.ints.push_back(elem.i);
  }
  return Error::success();
}

Expected<std::unique_ptr<Reader>> Reader::open(StringRef path) {
  auto file = MappedFile::open(path);
  if (!file)
    return file.takeError();
  std::unique_ptr<Reader> reader(new Reader());
  reader->file_ = std::move(*file);
  if (auto err = reader->parse())
    return std::move(err);
  return std::move(reader);
}

Error Reader::parse() {
  ByteReader r(file_->data(), file_->size(), file_->path());
  auto magic = r.read<uint32_t>("magic");
  if (!magic)
    return magic.takeError();
  if (*magic != 0x46554747u) // "GGUF" little-endian
    return fileError(path(), "not a GGUF file (bad magic)");
  auto version = r.read<uint32_t>("version");
  if (!version)
    return version.takeError();
  if (*version != 2 && *version != 3)
    return fileError(path(), "unsupported GGUF version " + Twine(*version) + " (need 2 or 3)");
  version_ = *version;
  auto nTensors = r.read<uint64_t>("tensor count");
  if (!nTensors)
    return nTensors.takeError();
  auto nKV = r.read<uint64_t>("metadata count");
  if (!nKV)
    return nKV.takeError();
  // A KV pair is at least 8 (key length) + 4 (type) bytes; a tensor info at least 8+4+4+8.
  if (*nKV > r.remaining() / 12)
    return fileError(path(), "metadata count " + Twine(*nKV) + " exceeds the file size");
  if (*nTensors > r.remaining() / 24)
    return fileError(path(), "tensor count " + Twine(*nTensors) + " exceeds the file size");

  for (uint64_t i = 0; i < *nKV; ++i) {
    auto key = readString(r, "metadata key");
    if (!key)
      return key.takeError();
    Value v;
    if (auto err = readValue(r, v, *key))
      return err;
    if (kv_.count(*key))
      return fileError(path(), "duplicate metadata key '" + *key + "'");
    keyOrder_.push_back(*key);
    kv_[*key] = std::move(v);
  }
  if (const Value *a = get("general.alignment")) {
    if (!a->isInteger() || a->i <= 0 || (a->i & (a->i - 1)) != 0)
      return fileError(path(), "general.alignment must be a positive power of two");
    alignment_ = uint64_t(a->i);
  }

  tensors_.reserve(*nTensors);
  for (uint64_t i = 0; i < *nTensors; ++i) {
    TensorInfo t;
    auto name = readString(r, "tensor name");
    if (!name)
      return name.takeError();
    t.name = std::move(*name);
    auto nDims = r.read<uint32_t>("tensor dims");
    if (!nDims)
      return nDims.takeError();
    if (*nDims == 0 || *nDims > kMaxDims)
      return fileError(path(), "tensor '" + t.name + "' has " + Twine(*nDims) + " dims (1-4 allowed)");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < *nDims; ++d) {
      auto ne = r.read<int64_t>("tensor dim");
      if (!ne)
        return ne.takeError();
      if (*ne <= 0 || uint64_t(*ne) > (uint64_t(1) << 40) || elements > (uint64_t(1) << 50) / uint64_t(*ne))
        return fileError(path(), "tensor '" + t.name + "' has an invalid dimension " + Twine(*ne));
      elements *= uint64_t(*ne);
      t.ne.push_back(*ne);
    }
    auto type = r.read<uint32_t>("tensor type");
    if (!type)
      return type.takeError();
    std::optional<GGMLType> gt = ggmlTypeFromId(*type);
    if (!gt)
      return fileError(path(), "tensor '" + t.name + "' has unsupported ggml type " + Twine(*type));
    t.type = *gt;
    const FormatInfo *info = lookupFormat(t.type);
    if (t.ne[0] % info->blockSize != 0)
      return fileError(path(), "tensor '" + t.name + "': row length " + Twine(t.ne[0]) +
                                   " is not a multiple of the " + info->name + " block size " +
                                   Twine(info->blockSize));
    t.bytes = elements / info->blockSize * info->blockBytes;
    auto off = r.read<uint64_t>("tensor offset");
    if (!off)
      return off.takeError();
    t.offset = *off;
    if (tensorIndex_.count(t.name))
      return fileError(path(), "duplicate tensor '" + t.name + "'");
    tensorIndex_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }
  dataOffset_ = (r.offset() + alignment_ - 1) / alignment_ * alignment_;
  for (TensorInfo &t : tensors_) {
    if (t.offset % alignment_ != 0)
      return fileError(path(), "tensor '" + t.name + "' data offset " + Twine(t.offset) +
                                   " is not aligned to " + Twine(alignment_));
    uint64_t abs = dataOffset_ + t.offset;
    if (t.offset > file_->size() || abs > file_->size() || t.bytes > file_->size() - abs)
      return fileError(path(), "tensor '" + t.name + "' data (" + Twine(t.bytes) + " bytes at " +
                                   Twine(abs) + ") lies past the end of the file (" +
                                   Twine(file_->size()) + " bytes): file truncated?");
    t.offset = abs;
  }
  return Error::success();
}

const Value *Reader::get(StringRef key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

std::optional<int64_t> Reader::getInt(StringRef key) const {
  const Value *v = get(key);
  if (!v || !(v->isInteger() || v->type == ValueType::Bool))
    return std::nullopt;
  return v->i;
}

std::optional<double> Reader::getFloat(StringRef key) const {
  const Value *v = get(key);
  if (!v || !v->isNumber())
    return std::nullopt;
  return v->isInteger() ? double(v->i) : v->f;
}

std::optional<bool> Reader::getBool(StringRef key) const {
  const Value *v = get(key);
  if (!v || v->type != ValueType::Bool)
    return std::nullopt;
  return v->b;
}

std::optional<std::string> Reader::getString(StringRef key) const {
  const Value *v = get(key);
  if (!v || v->type != ValueType::String)
    return std::nullopt;
  return v->str;
}

const TensorInfo *Reader::findTensor(StringRef name) const {
  auto it = tensorIndex_.find(name);
  return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

void Writer::set(StringRef key, Value v) {
  for (KV &kv : kv_)
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  kv_.push_back({key.str(), std::move(v)});
}

void Writer::setUInt32(StringRef key, uint32_t x) { Value v; v.type = ValueType::UInt32; v.i = x; set(key, v); }
void Writer::setInt32(StringRef key, int32_t x) { Value v; v.type = ValueType::Int32; v.i = x; set(key, v); }
void Writer::setUInt64(StringRef key, uint64_t x) { Value v; v.type = ValueType::UInt64; v.i = int64_t(x); set(key, v); }
void Writer::setFloat32(StringRef key, float x) { Value v; v.type = ValueType::Float32; v.f = x; set(key, v); }
void Writer::setBool(StringRef key, bool x) { Value v; v.type = ValueType::Bool; v.b = x; v.i = x; set(key, v); }
void Writer::setString(StringRef key, StringRef x) { Value v; v.type = ValueType::String; v.str = x.str(); set(key, v); }
void Writer::setStringArray(StringRef key, ArrayRef<std::string> x) {
  Value v; v.type = ValueType::Array; v.arrayType = ValueType::String; v.strings = x.vec(); set(key, v);
}
void Writer::setFloat32Array(StringRef key, ArrayRef<float> x) {
  Value v; v.type = ValueType::Array; v.arrayType = ValueType::Float32; v.floats.assign(x.begin(), x.end()); set(key, v);
}
void Writer::setInt32Array(StringRef key, ArrayRef<int32_t> x) {
  Value v; v.type = ValueType::Array; v.arrayType = ValueType::Int32; v.ints.assign(x.begin(), x.end()); set(key, v);
}
void Writer::setValue(StringRef key, const Value &v) { set(key, v); }

void Writer::addTensor(StringRef name, ArrayRef<int64_t> ne, GGMLType type,
                       std::function<Error(raw_ostream &)> fill) {
  tensors_.push_back({name.str(), ne.vec(), type, std::move(fill)});
}

template <typename T> static void put(raw_ostream &os, T v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof(T));
}

static void putString(raw_ostream &os, StringRef s) {
  put<uint64_t>(os, s.size());
  os << s;
}

static void putScalar(raw_ostream &os, ValueType t, const Value &v, size_t idx, bool inArray) {
  auto i = inArray ? (idx < v.ints.size() ? v.ints[idx] : 0) : v.i;
  auto f = inArray ? (idx < v.floats.size() ? v.floats[idx] : 0.0) : v.f;
  switch (t) {
  case ValueType::UInt8: put<uint8_t>(os, uint8_t(i)); break;
  case ValueType::Int8: put<int8_t>(os, int8_t(i)); break;
  case ValueType::UInt16: put<uint16_t>(os, uint16_t(i)); break;
  case ValueType::Int16: put<int16_t>(os, int16_t(i)); break;
  case ValueType::UInt32: put<uint32_t>(os, uint32_t(i)); break;
  case ValueType::Int32: put<int32_t>(os, int32_t(i)); break;
  case ValueType::UInt64: put<uint64_t>(os, uint64_t(i)); break;
  case ValueType::Int64: put<int64_t>(os, i); break;
  case ValueType::Float32: put<float>(os, float(f)); break;
  case ValueType::Float64: put<double>(os, f); break;
  case ValueType::Bool: put<uint8_t>(os, inArray ? uint8_t(i != 0) : uint8_t(v.b)); break;
  case ValueType::String: putString(os, inArray ? StringRef(v.strings[idx]) : StringRef(v.str)); break;
  case ValueType::Array: break;
  }
}

Error Writer::write(StringRef path, uint64_t alignment) const {
  return writeFileAtomically(path, [&](raw_ostream &os) -> Error {
    uint64_t pos = 0;
    auto counted = [&](auto fn) {
      std::string buf;
      raw_string_ostream s(buf);
      fn(s);
      s.flush();
      os << buf;
      pos += buf.size();
    };
    bool hasAlign = false;
    for (const KV &kv : kv_)
      hasAlign |= kv.key == "general.alignment";
    counted([&](raw_ostream &s) {
      put<uint32_t>(s, 0x46554747u);
      put<uint32_t>(s, 3);
      put<uint64_t>(s, tensors_.size());
      put<uint64_t>(s, kv_.size() + (alignment != 32 && !hasAlign ? 1 : 0));
      for (const KV &kv : kv_) {
        putString(s, kv.key);
        put<uint32_t>(s, uint32_t(kv.value.type));
        if (kv.value.type != ValueType::Array) {
          putScalar(s, kv.value.type, kv.value, 0, false);
          continue;
        }
        put<uint32_t>(s, uint32_t(kv.value.arrayType));
        size_t n = kv.value.arrayType == ValueType::String ? kv.value.strings.size()
                   : (kv.value.arrayType == ValueType::Float32 || kv.value.arrayType == ValueType::Float64)
                       ? kv.value.floats.size()
                       : kv.value.ints.size();
        put<uint64_t>(s, n);
        for (size_t i = 0; i < n; ++i)
          putScalar(s, kv.value.arrayType, kv.value, i, true);
      }
      if (alignment != 32 && !hasAlign) {
        putString(s, "general.alignment");
        put<uint32_t>(s, uint32_t(ValueType::UInt32));
        put<uint32_t>(s, uint32_t(alignment));
      }
    });
    // Tensor infos with offsets relative to the data section, each aligned.
    std::vector<uint64_t> sizes;
    uint64_t rel = 0;
    counted([&](raw_ostream &s) {
      for (const PendingTensor &t : tensors_) {
        putString(s, t.name);
        put<uint32_t>(s, t.ne.size());
        uint64_t elements = 1;
        for (int64_t d : t.ne) {
          put<int64_t>(s, d);
          elements *= uint64_t(d);
        }
        put<uint32_t>(s, uint32_t(t.type));
        put<uint64_t>(s, rel);
        const FormatInfo *info = lookupFormat(t.type);
        uint64_t bytes = elements / info->blockSize * info->blockBytes;
        sizes.push_back(bytes);
        rel += (bytes + alignment - 1) / alignment * alignment;
      }
    });
    auto pad = [&]() {
      uint64_t target = (pos + alignment - 1) / alignment * alignment;
      for (; pos < target; ++pos)
        os << '\0';
    };
    pad();
    for (size_t i = 0; i < tensors_.size(); ++i) {
      uint64_t before = os.tell();
      if (Error err = tensors_[i].fill(os))
        return err;
      uint64_t written = os.tell() - before;
      if (written != sizes[i])
        return fileError(path, "tensor '" + tensors_[i].name + "' wrote " + Twine(written) +
                                   " bytes, expected " + Twine(sizes[i]));
      pos += written;
      pad();
    }
    return Error::success();
  });
}

} // namespace qcc::gguf
