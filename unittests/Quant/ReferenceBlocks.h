//===- ReferenceBlocks.h - reference/llamacpp-blocks, shared by the tests ----===//
//
// The vectors llama.cpp wrote (see the folder's README.md): input.f32 is kRows × kCols;
// <stem>.bin holds the quantized rows, <stem>.dequant.f32 llama.cpp's dequantization, where the
// stem is the type name, plus ".imatrix" when imatrix.f32 weighted the quantizer.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_UNITTESTS_QUANT_REFERENCEBLOCKS_H
#define QCC_UNITTESTS_QUANT_REFERENCEBLOCKS_H

#include "../TestData.h"

#include <ostream>
#include <string>

namespace qcc::test {

constexpr int64_t kRows = 8;
constexpr int64_t kCols = 512;

inline std::string refPath(const std::string &file) {
  return dataPath("reference/llamacpp-blocks/" + file);
}

struct RefCase {
  const char *type;
  bool imatrix;
  std::string stem() const { return std::string(type) + (imatrix ? ".imatrix" : ""); }
};
inline void PrintTo(const RefCase &c, std::ostream *os) { *os << c.stem(); }

} // namespace qcc::test

#endif // QCC_UNITTESTS_QUANT_REFERENCEBLOCKS_H
