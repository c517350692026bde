//===- KernelsTest.cpp - AOT Halide kernels against the rt:: reference kernels ===//
//
// Weights are random Gaussians quantized with qcc's own quantizers (quantizeRows for the ggml
// formats, quantizeMatrixRTN for #qllm.int), so the kernels read exactly the bytes the compiler
// will embed. Tolerance: the kernels sum in a different order than rt::linear (per-lane partial
// sums, then a tree), so results agree to float rounding: |y − ref| ≤ 1e-5 · max|ref| over the
// whole output. Every multiplication inside a weight's dequantization is done in the same order
// as the reference, so a decoding bug shows up as an O(1) relative error, far above that.
//
//===----------------------------------------------------------------------===//
#include "qcc/Runtime/Kernels.h"

#include "qcc_test_gemv_int4_g128_asym_4096.h"
#include "qcc_test_gemv_q4_0_4096.h"
#include "qcc_test_gemv_q4_k_4096.h"
#include "qcc_test_matmul_bf16.h"
#include "qcc_test_matmul_f16.h"
#include "qcc_test_matmul_f32.h"
#include "qcc_test_matmul_int2_g64_asym.h"
#include "qcc_test_matmul_int4_g128_asym.h"
#include "qcc_test_matmul_int4_g128_sym.h"
#include "qcc_test_matmul_int8_g0_sym.h"
#include "qcc_test_matmul_q4_0.h"
#include "qcc_test_matmul_q4_1.h"
#include "qcc_test_matmul_q4_k.h"
#include "qcc_test_matmul_q5_0.h"
#include "qcc_test_matmul_q5_1.h"
#include "qcc_test_matmul_q6_k.h"
#include "qcc_test_matmul_q8_0.h"
#include "qcc_test_matmul_q8_0_b4.h"
#include "qcc_test_rms_norm.h"
#include "qcc_test_swiglu.h"

#include "HalideBuffer.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

using namespace qcc;
using Halide::Runtime::Buffer;

namespace {

using MatMulFn = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

std::vector<float> gaussian(size_t n, unsigned seed, float sigma = 1.0f) {
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
};

/// A quantized weight and its view, built with qcc's quantizers.
struct QuantWeight {
  std::vector<uint8_t> bytes;
  rt::WeightView view;
};

QuantWeight quantize(const Case &c, int64_t rows, int64_t cols, unsigned seed) {
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
void expectClose(const std::vector<float> &got, const std::vector<float> &ref, double rel,
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

void checkMatMul(const Case &c, int64_t rows, int64_t cols, int64_t n, unsigned seed) {
  QuantWeight q = quantize(c, rows, cols, seed);
  std::vector<float> x = gaussian(size_t(n * cols), seed + 1);
  std::vector<float> ref(size_t(n * rows)), got(size_t(n * rows), -1.0f);
  rt::linear(x.data(), n, q.view, ref.data());

  Buffer<float> xb(x.data(), int(cols), int(n));
  Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), int(rows));
  Buffer<float> yb(got.data(), int(rows), int(n));
  ASSERT_EQ(c.fn(xb, wb, yb), 0) << c.name;
  expectClose(got, ref, 1e-5,
              c.name + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                  " n=" + std::to_string(n));
}

quantalgo::IntGroupFormat intFormat(int bits, int64_t group, bool sym) {
  quantalgo::IntGroupFormat f;
  f.bits = bits;
  f.groupSize = group;
  f.symmetric = sym;
  return f;
}

std::vector<Case> dynamicCases() {
  return {
      {"f32", qcc_test_matmul_f32, GGMLType::F32, std::nullopt},
      {"f16", qcc_test_matmul_f16, GGMLType::F16, std::nullopt},
      {"bf16", qcc_test_matmul_bf16, GGMLType::BF16, std::nullopt},
      {"q8_0", qcc_test_matmul_q8_0, GGMLType::Q8_0, std::nullopt},
      {"q4_0", qcc_test_matmul_q4_0, GGMLType::Q4_0, std::nullopt},
      {"q4_1", qcc_test_matmul_q4_1, GGMLType::Q4_1, std::nullopt},
      {"q5_0", qcc_test_matmul_q5_0, GGMLType::Q5_0, std::nullopt},
      {"q5_1", qcc_test_matmul_q5_1, GGMLType::Q5_1, std::nullopt},
      {"q4_K", qcc_test_matmul_q4_k, GGMLType::Q4_K, std::nullopt},
      {"q6_K", qcc_test_matmul_q6_k, GGMLType::Q6_K, std::nullopt},
      {"int4_g128_asym", qcc_test_matmul_int4_g128_asym, GGMLType::I8, intFormat(4, 128, false)},
      {"int4_g128_sym", qcc_test_matmul_int4_g128_sym, GGMLType::I8, intFormat(4, 128, true)},
      {"int8_g0_sym", qcc_test_matmul_int8_g0_sym, GGMLType::I8, intFormat(8, 0, true)},
      {"int2_g64_asym", qcc_test_matmul_int2_g64_asym, GGMLType::I8, intFormat(2, 64, false)},
  };
}

class DynamicMatMul : public ::testing::TestWithParam<Case> {};

// Shapes: a row count that is not a multiple of the 16-row tile, single rows, and batches.
TEST_P(DynamicMatMul, MatchesReferenceLinear) {
  const Case &c = GetParam();
  checkMatMul(c, 37, 512, 1, 11);
  checkMatMul(c, 1, 256, 1, 12);
  checkMatMul(c, 64, 768, 3, 13);
  checkMatMul(c, 20, 1024, 9, 14);
}

INSTANTIATE_TEST_SUITE_P(Formats, DynamicMatMul, ::testing::ValuesIn(dynamicCases()),
                         [](const auto &info) { return info.param.name; });

// The fixed-shape decode kernels the benchmark times (rows = cols = 4096, batch 1).
TEST(FixedMatMul, Gemv4096MatchesReference) {
  checkMatMul({"q4_0/4096", qcc_test_gemv_q4_0_4096, GGMLType::Q4_0, std::nullopt}, 4096, 4096,
              1, 21);
  checkMatMul({"int4_g128_asym/4096", qcc_test_gemv_int4_g128_asym_4096, GGMLType::I8,
               intFormat(4, 128, false)},
              4096, 4096, 1, 22);
  checkMatMul({"q4_K/4096", qcc_test_gemv_q4_k_4096, GGMLType::Q4_K, std::nullopt}, 4096, 4096,
              1, 23);
}

std::string lastHalideError;
void recordHalideError(void *, const char *message) { lastHalideError = message; }

TEST(FixedMatMul, FixedShapeRejectsOtherShapes) {
  // Halide's default error handler aborts; record the message instead.
  halide_set_error_handler(recordHalideError);
  std::vector<float> x(4096 * 2), y(4096 * 2);
  std::vector<uint8_t> w(size_t(rowBytes(GGMLType::Q4_0, 4096)) * 4096);
  Buffer<float> xb(x.data(), 4096, 2); // batch 2 for a batch-1 kernel
  Buffer<uint8_t> wb(w.data(), int(rowBytes(GGMLType::Q4_0, 4096)), 4096);
  Buffer<float> yb(y.data(), 4096, 2);
  EXPECT_NE(qcc_test_gemv_q4_0_4096(xb, wb, yb), 0);
  EXPECT_NE(lastHalideError.find("x.extent.1"), std::string::npos) << lastHalideError;
  halide_set_error_handler(nullptr);
}

// batch = 4 fixed: the decode-once, reuse-for-the-batch schedule.
TEST(FixedMatMul, SmallBatchQ8_0) {
  Case c{"q8_0/b4", qcc_test_matmul_q8_0_b4, GGMLType::Q8_0, std::nullopt};
  checkMatMul(c, 53, 512, 4, 31);
  checkMatMul(c, 128, 2048, 4, 32);
}

TEST(Elementwise, RmsNormMatchesReference) {
  for (int64_t d : {4096, 100, 7}) {
    const int64_t n = 3;
    std::vector<float> x = gaussian(size_t(n * d), 41), gamma = gaussian(size_t(d), 42);
    std::vector<float> ref(x.size()), got(x.size());
    const float eps = 1e-5f;
    rt::rmsNorm(x.data(), n, d, gamma.data(), eps, ref.data());
    Buffer<float> xb(x.data(), int(d), int(n)), gb(gamma.data(), int(d)), yb(got.data(), int(d),
                                                                              int(n));
    ASSERT_EQ(qcc_test_rms_norm(xb, gb, eps, yb), 0);
    expectClose(got, ref, 1e-6, "rms_norm d=" + std::to_string(d));
  }
}

TEST(Elementwise, SwiGluMatchesReference) {
  for (int64_t n : {10000, 5}) {
    std::vector<float> g = gaussian(size_t(n), 51, 4.0f), u = gaussian(size_t(n), 52);
    std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    rt::swiglu(g.data(), u.data(), ref.data(), n);
    Buffer<float> gb(g.data(), int(n)), ub(u.data(), int(n)), yb(got.data(), int(n));
    ASSERT_EQ(qcc_test_swiglu(gb, ub, yb), 0);
    for (int64_t k = 0; k < n; ++k)
      ASSERT_NEAR(got[k], ref[k], 1e-6f * std::max(1.0f, std::fabs(ref[k]))) << k;
  }
}

} // namespace
