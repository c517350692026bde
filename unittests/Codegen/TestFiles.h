//===- TestFiles.h - scratch folders and file contents for Codegen tests -*- C++ -*-===//
#ifndef QCC_UNITTESTS_CODEGEN_TESTFILES_H
#define QCC_UNITTESTS_CODEGEN_TESTFILES_H

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace qcc::test {

/// An empty folder <gtest temp dir>/qcc-<suite>-<name>, removed and recreated (the suite keeps
/// equal names of different test files apart when they run in parallel).
inline std::filesystem::path freshDir(const std::string &suite, const std::string &name) {
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("qcc-" + suite + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// The whole file ("" if it cannot be read).
inline std::string readFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace qcc::test

#endif // QCC_UNITTESTS_CODEGEN_TESTFILES_H
