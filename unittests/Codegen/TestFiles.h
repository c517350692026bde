//===- TestFiles.h - scratch folders, files and commands for Codegen tests -*- C++ -*-===//
#ifndef QCC_UNITTESTS_CODEGEN_TESTFILES_H
#define QCC_UNITTESTS_CODEGEN_TESTFILES_H

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

/// A command line for std::system: every argument in single quotes (none of qcc's contain one).
inline std::string shellCommand(const std::vector<std::string> &args) {
  std::string cmd;
  for (const std::string &a : args)
    cmd += "'" + a + "' ";
  return cmd;
}

} // namespace qcc::test

#endif // QCC_UNITTESTS_CODEGEN_TESTFILES_H
