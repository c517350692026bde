//===- MutationTest.cpp - readers survive corrupted real files --------------===//
//
// A deterministic stand-in until the readers get real fuzzers: each real model file is mutated
// (random byte flips concentrated in the header, random truncation, length fields set to huge
// values) and read again. Every outcome must be a clean success or a clean llvm::Error — never a
// crash, hang or out-of-bounds read (run this binary under ASan to check the latter).
//
//===----------------------------------------------------------------------===//
#include "../TestData.h"
#include "qcc/Import/ModelSource.h"

#include "llvm/Support/FileSystem.h"

#include <fstream>
#include <random>

using namespace qcc;
using namespace qcc::test;

namespace {

void mutateAndRead(const std::string &rel, const char *suffix, int iterations, size_t headerBytes) {
  std::vector<char> orig = readBinary<char>(dataPath(rel));
  ASSERT_GT(orig.size(), headerBytes);
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("qcc-mut", suffix, path));
  std::mt19937_64 rng(1234);
  int errors = 0, successes = 0;
  for (int it = 0; it < iterations; ++it) {
    std::vector<char> m = orig;
    switch (it % 4) {
    case 0: // a few random bytes in the header region
      for (int k = 0; k < 1 + int(rng() % 8); ++k)
        m[rng() % headerBytes] = char(rng());
      break;
    case 1: // truncation anywhere
      m.resize(rng() % m.size());
      break;
    case 2: { // an 8-byte field in the header set to a huge or negative value
      size_t at = rng() % (headerBytes - 8);
      uint64_t v = (it & 8) ? ~uint64_t(0) >> (rng() % 8) : uint64_t(1) << (32 + rng() % 31);
      std::memcpy(&m[at], &v, 8);
      break;
    }
    case 3: // random bytes anywhere plus a trailing slice dropped
      for (int k = 0; k < 64; ++k)
        m[rng() % m.size()] = char(rng());
      m.resize(m.size() - rng() % 64);
      break;
    }
    std::ofstream(path.str().str(), std::ios::binary | std::ios::trunc).write(m.data(), m.size());
    auto src = openModelSource(path);
    if (src) {
      ++successes;
      // Whatever was accepted must be self-consistent: every tensor inside the file.
      for (const TensorRef &t : (*src)->tensors)
        if (!(*src)->materialize)
          ASSERT_LE(t.offset + t.bytes, (*src)->files[t.fileIndex]->size()) << t.name;
    } else {
      ++errors;
      std::string msg = llvm::toString(src.takeError());
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line error: " << msg;
      EXPECT_NE(msg.find(path.str().str()), std::string::npos) << "error names no file: " << msg;
    }
  }
  llvm::sys::fs::remove(path);
  ::testing::Test::RecordProperty("errors", errors);
  ::testing::Test::RecordProperty("successes", successes);
  EXPECT_GT(errors, iterations / 2); // the mutations do hit the parser
}

TEST(Mutation, Llama2c) { mutateAndRead("models/llama2c/stories260K/stories260K.bin", ".bin", 400, 28); }
TEST(Mutation, GGUF) { mutateAndRead("models/gguf/stories260K-f32.gguf", ".gguf", 400, 4096); }

} // namespace
