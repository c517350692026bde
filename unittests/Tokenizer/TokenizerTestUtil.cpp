//===- TokenizerTestUtil.cpp - shared helpers for the tokenizer tests -----===//
#include "TokenizerTestUtil.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <memory>
#include <mutex>

using namespace llvm;

namespace qcc::test {

std::string dataPath(StringRef relative) {
  const char *env = std::getenv("QCC_DATA_DIR");
  SmallString<256> path(env && *env ? env : QCC_DATA_DIR);
  sys::path::append(path, relative);
  return std::string(path);
}

Expected<std::string> readFile(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(buffer.getError(), "%s: cannot read: %s", path.str().c_str(),
                             buffer.getError().message().c_str());
  return (*buffer)->getBuffer().str();
}

Expected<std::vector<ConformanceCase>> readConformanceCases(StringRef inpPath, StringRef outPath) {
  auto inp = readFile(inpPath);
  if (!inp)
    return inp.takeError();
  auto out = readFile(outPath);
  if (!out)
    return out.takeError();

  static constexpr StringLiteral kSeparator("\n__ggml_vocab_test__\n");
  std::vector<std::string> inputs;
  StringRef raw = *inp;
  for (size_t pos = 0; pos < raw.size();) {
    size_t next = raw.find(kSeparator, pos);
    if (next == StringRef::npos) {
      inputs.push_back(raw.substr(pos).str());
      break;
    }
    inputs.push_back(raw.slice(pos, next).str());
    pos = next + kSeparator.size();
  }

  SmallVector<StringRef> lines;
  StringRef(*out).split(lines, '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();  // the final newline ends the last line, it does not start a new one
  if (lines.size() != inputs.size())
    return createStringError(inconvertibleErrorCode(), "%s has %zu cases but %s has %zu lines",
                             inpPath.str().c_str(), inputs.size(), outPath.str().c_str(),
                             lines.size());

  std::vector<ConformanceCase> cases;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ConformanceCase c;
    c.text = inputs[i];
    SmallVector<StringRef> fields;
    lines[i].split(fields, ' ', -1, /*KeepEmpty=*/false);
    for (StringRef f : fields) {
      int32_t id = 0;
      if (f.trim().getAsInteger(10, id))
        return createStringError(inconvertibleErrorCode(), "%s line %zu: bad id '%s'",
                                 outPath.str().c_str(), i + 1, f.str().c_str());
      c.ids.push_back(id);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

const Tokenizer *cachedTokenizer(StringRef path, StringRef kind, int32_t vocabSize,
                                 std::string *error) {
  struct Entry {
    std::unique_ptr<Tokenizer> tokenizer;
    std::string error;
  };
  static std::mutex mutex;
  static StringMap<Entry> cache;
  std::lock_guard<std::mutex> lock(mutex);
  std::string key = (kind + ":" + path + ":" + Twine(vocabSize)).str();
  auto [it, inserted] = cache.try_emplace(key);
  if (inserted) {
    auto loaded = Tokenizer::load(path, kind, vocabSize);
    if (loaded)
      it->second.tokenizer = std::move(*loaded);
    else
      it->second.error = toString(loaded.takeError());
  }
  if (error)
    *error = it->second.error;
  return it->second.tokenizer.get();
}

std::string writeTempFile(StringRef stem, StringRef bytes) {
  SmallString<128> path;
  int fd = -1;
  if (sys::fs::createTemporaryFile(stem, "bin", fd, path))
    return {};
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
  }
  static std::vector<std::string> *created = [] {
    auto *v = new std::vector<std::string>();
    std::atexit([] {
      for (const std::string &p : *created)
        sys::fs::remove(p);
    });
    return v;
  }();
  created->push_back(std::string(path));
  return std::string(path);
}

std::string idsToString(ArrayRef<int32_t> ids) {
  std::string s;
  raw_string_ostream os(s);
  for (size_t i = 0; i < ids.size(); ++i)
    os << (i ? " " : "") << ids[i];
  return s;
}

} // namespace qcc::test
