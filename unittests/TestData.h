//===- TestData.h - locate the shared data folder in unit tests -------------===//
//
// QCC_DATA_DIR (environment, else the path compiled in). Tests that need data FAIL when it is
// missing: a suite that silently skips its real-model checks would prove nothing.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_UNITTESTS_TESTDATA_H
#define QCC_UNITTESTS_TESTDATA_H

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace qcc::test {

inline std::string dataDir() {
  if (const char *env = std::getenv("QCC_DATA_DIR"); env && *env)
    return env;
  return QCC_DATA_DIR;
}

/// Absolute path of `rel` inside the data folder; fails the current test if it is missing.
inline std::string dataPath(const std::string &rel) {
  std::string p = dataDir() + "/" + rel;
  EXPECT_TRUE(llvm::sys::fs::exists(p)) << "missing test data: " << p;
  return p;
}

template <typename T> std::vector<T> readBinary(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, false, false);
  EXPECT_TRUE(bool(buf)) << "cannot read " << path;
  if (!buf)
    return {};
  std::vector<T> out((*buf)->getBufferSize() / sizeof(T));
  std::memcpy(out.data(), (*buf)->getBufferStart(), out.size() * sizeof(T));
  return out;
}

} // namespace qcc::test

#endif
