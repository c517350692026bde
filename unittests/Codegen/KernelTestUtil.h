//===- KernelTestUtil.h - shared helpers of the AOT kernel tests ----------===//
//
// Random inputs, weights quantized with qcc's own quantizers (so the kernels read exactly the
// bytes the compiler embeds) and the max-error check used by every kernel test.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_UNITTESTS_CODEGEN_KERNELTESTUTIL_H
#define QCC_UNITTESTS_CODEGEN_KERNELTESTUTIL_H

#include "qcc/Runtime/Kernels.h"

#include "HalideRuntime.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace qcc::kerneltest {

using MatMulFn = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

inline std::vector<float> gaussian(size_t n, unsigned seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// One weight format under test: a ggml type, or qcc's integer groups.
struct Case {
  std::string name;
  MatMulFn fn;
  GGMLType type;
  std::optional<quantalgo::IntGroupFormat> intFormat;
  /// The format's qcc_embed kernel (tokens, table, y), if built.
  MatMulFn embed = nullptr;
};

/// gtest prints a parameter with this: the format name, not the struct's bytes.
inline void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

/// A quantized weight and its view, built with qcc's quantizers.
struct QuantWeight {
  std::vector<uint8_t> bytes;
  rt::WeightView view;
};

inline QuantWeight quantize(const Case &c, int64_t rows, int64_t cols, unsigned seed) {
  std::vector<float> w = gaussian(size_t(rows * cols), seed, 0.05f);
  QuantWeight q;
  q.view.rows = rows;
  q.view.cols = cols;
  if (c.intFormat) {
    q.view.type = GGMLType::I8;
    q.view.intFormat = c.intFormat;
    q.view.rowBytes = uint64_t(quantalgo::rowBytes(*c.intFormat, cols));
    q.bytes.resize(q.view.rowBytes * rows);
    quantalgo::quantizeMatrixRTN(*c.intFormat, w.data(), rows, cols, q.bytes.data());
  } else {
    if (c.type == GGMLType::F16 || c.type == GGMLType::BF16)
      for (size_t k = 0; k < w.size(); k += 97)
        w[k] *= 1e-5f; // some f16 subnormals (and bf16 small values)
    q.view.type = c.type;
    q.view.rowBytes = uint64_t(rowBytes(c.type, cols));
    q.bytes.resize(q.view.rowBytes * rows);
    llvm::cantFail(quantizeRows(c.type, w.data(), q.bytes.data(), rows, cols));
  }
  q.view.data = q.bytes.data();
  return q;
}

/// max |a − b| ≤ 1e-5 · max |ref|.
inline void expectClose(const std::vector<float> &got, const std::vector<float> &ref, double rel,
                 const std::string &what) {
  ASSERT_EQ(got.size(), ref.size());
  double maxRef = 0, maxErr = 0;
  size_t worst = 0;
  for (size_t k = 0; k < ref.size(); ++k) {
    maxRef = std::max(maxRef, double(std::fabs(ref[k])));
    double e = std::fabs(double(got[k]) - double(ref[k]));
    if (!(e <= maxErr)) { // catches NaN too
      maxErr = e;
      worst = k;
    }
  }
  EXPECT_GT(maxRef, 0.0) << what;
  EXPECT_LE(maxErr, rel * maxRef) << what << ": worst index " << worst << " got " << got[worst]
                                  << " ref " << ref[worst] << " (max|ref| " << maxRef << ")";
}

inline quantalgo::IntGroupFormat intFormat(int bits, int64_t group, bool sym) {
  quantalgo::IntGroupFormat f;
  f.bits = bits;
  f.groupSize = group;
  f.symmetric = sym;
  return f;
}

} // namespace qcc::kerneltest

#endif // QCC_UNITTESTS_CODEGEN_KERNELTESTUTIL_H
