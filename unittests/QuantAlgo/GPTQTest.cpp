//===- GPTQTest.cpp - GPTQ against RTN on a layer with correlated inputs --===//

#include "qcc/QuantAlgo/GPTQ.h"
#include "qcc/QuantAlgo/Matrix.h"

#include "RandomData.h"

#include "gtest/gtest.h"

#include <cstdio>

using namespace qcc::quantalgo;

namespace {

constexpr int64_t kSamples = 2048, kCols = 256, kRows = 128;

// X = Z·A with a random mixing A: strongly correlated input channels, where GPTQ's error
// feedback pays off. W is Gaussian. Built once for all tests.
struct Layer {
  std::vector<float> x, w;
  std::vector<double> h;
  Layer() {
    std::vector<float> z = testdata::gaussian(kSamples * kCols, 11);
    std::vector<float> a = testdata::gaussian(kCols * kCols, 12, 1.0f / 16.0f);
    x = testdata::matmul(z, a, kSamples, kCols, kCols);
    w = testdata::gaussian(kRows * kCols, 13, 0.05f);
    h = accumulateHessian(x.data(), kSamples, kCols);
  }
};

const Layer &layer() {
  static Layer instance;
  return instance;
}

double rtnError(const IntGroupFormat &format) {
  std::vector<float> q(kRows * kCols);
  fakeQuantizeMatrixRTN(format, layer().w.data(), kRows, kCols, q.data());
  return outputError(layer().x.data(), kSamples, kCols, layer().w.data(), q.data(), kRows);
}

double gptqError(const IntGroupFormat &format, const GPTQOptions &options,
                 GPTQResult *resultOut = nullptr, std::vector<float> *wOut = nullptr) {
  std::vector<float> q = layer().w;
  llvm::Expected<GPTQResult> result =
      gptqQuantize(format, q.data(), kRows, kCols, layer().h.data(), options);
  if (!result) {
    ADD_FAILURE() << llvm::toString(result.takeError());
    return 0.0;
  }
  if (resultOut)
    *resultOut = std::move(*result);
  if (wOut)
    *wOut = q;
  return outputError(layer().x.data(), kSamples, kCols, layer().w.data(), q.data(), kRows);
}

struct Case {
  int bits;
  bool symmetric;
  bool actOrder;
  bool staticGroups;
};

class GPTQBeatsRTN : public ::testing::TestWithParam<Case> {};

TEST_P(GPTQBeatsRTN, OutputErrorAtMostFourFifthsOfRTN) {
  const Case c = GetParam();
  IntGroupFormat format{c.bits, 128, c.symmetric};
  GPTQOptions options;
  options.actOrder = c.actOrder;
  options.staticGroups = c.staticGroups;
  const double rtn = rtnError(format);
  GPTQResult result;
  std::vector<float> wq;
  const double gptq = gptqError(format, options, &result, &wq);
  std::printf("GPTQ b%d g128 %s%s%s: rtn %.4g gptq %.4g ratio %.3f\n", c.bits,
              c.symmetric ? "sym" : "asym", c.actOrder ? " act-order" : "",
              c.staticGroups ? " static" : "", rtn, gptq, gptq / rtn);
  EXPECT_LE(gptq, 0.8 * rtn);

  // The in-place weights are exactly the result's codes, params and g_idx.
  EXPECT_EQ(result.dequantize(), wq);
  // Act order with dynamic groups gives g_idx groups of scattered columns.
  EXPECT_EQ(result.isContiguousGrouping(), !(c.actOrder && !c.staticGroups));
  // Packable results dequantize to the same weights.
  if (result.isContiguousGrouping()) {
    llvm::Expected<std::vector<uint8_t>> packed = result.packRows(format);
    ASSERT_TRUE(bool(packed)) << llvm::toString(packed.takeError());
    std::vector<float> back(kRows * kCols);
    dequantizeMatrix(format, packed->data(), kRows, kCols, back.data());
    EXPECT_EQ(back, wq);
  } else {
    EXPECT_TRUE(c.actOrder && !c.staticGroups);
    llvm::Expected<std::vector<uint8_t>> packed = result.packRows(format);
    EXPECT_FALSE(bool(packed));
    llvm::consumeError(packed.takeError());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Synthetic, GPTQBeatsRTN,
    ::testing::Values(Case{4, false, false, false}, Case{3, false, false, false},
                      Case{4, true, false, false}, Case{3, true, false, false},
                      Case{4, false, true, false}, Case{3, false, true, false},
                      Case{4, false, true, true}, Case{3, false, true, true}),
    [](const ::testing::TestParamInfo<Case> &info) {
      const Case &c = info.param;
      return "b" + std::to_string(c.bits) + (c.symmetric ? "_sym" : "_asym") +
             (c.actOrder ? "_actorder" : "") + (c.staticGroups ? "_static" : "");
    });

TEST(GPTQ, IdentityHessianIsExactlyRTN) {
  std::vector<double> identity(kCols * kCols, 0.0);
  for (int64_t i = 0; i < kCols; ++i)
    identity[i * kCols + i] = 1.0;
  for (IntGroupFormat format : {IntGroupFormat{4, 128, false}, IntGroupFormat{3, 32, true},
                                IntGroupFormat{2, 0, false}, IntGroupFormat{8, 64, true}}) {
    for (bool actOrder : {false, true}) {
      std::vector<float> q = layer().w, rtn(kRows * kCols);
      GPTQOptions options;
      options.actOrder = actOrder;
      options.blockSize = 64;
      llvm::Expected<GPTQResult> result =
          gptqQuantize(format, q.data(), kRows, kCols, identity.data(), options);
      ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
      fakeQuantizeMatrixRTN(format, layer().w.data(), kRows, kCols, rtn.data());
      EXPECT_EQ(q, rtn) << "bits " << format.bits << " group " << format.groupSize;
    }
  }
}

// An independent formulation: OBQ's greedy update with an explicit inverse Hessian that loses
// one row/column per quantized weight (Frantar & Alistarh 2022, eq. 3–4), in double. GPTQ's
// Cholesky form is the same algorithm in exact arithmetic; per channel there are no group
// params to recompute, so the two must agree up to float rounding.
std::vector<float> obqReference(const IntGroupFormat &format, const std::vector<float> &w,
                                const std::vector<double> &h, double percdamp) {
  std::vector<double> a = h;
  double mean = 0.0;
  for (int64_t i = 0; i < kCols; ++i)
    mean += a[i * kCols + i] / kCols;
  for (int64_t i = 0; i < kCols; ++i)
    a[i * kCols + i] += percdamp * mean;
  // Gauss–Jordan inverse.
  std::vector<double> inv(kCols * kCols, 0.0);
  for (int64_t i = 0; i < kCols; ++i)
    inv[i * kCols + i] = 1.0;
  for (int64_t k = 0; k < kCols; ++k) {
    const double p = a[k * kCols + k];
    for (int64_t j = 0; j < kCols; ++j) {
      a[k * kCols + j] /= p;
      inv[k * kCols + j] /= p;
    }
    for (int64_t i = 0; i < kCols; ++i) {
      if (i == k)
        continue;
      const double f = a[i * kCols + k];
      for (int64_t j = 0; j < kCols; ++j) {
        a[i * kCols + j] -= f * a[k * kCols + j];
        inv[i * kCols + j] -= f * inv[k * kCols + j];
      }
    }
  }
  std::vector<double> work(w.begin(), w.end());
  std::vector<GroupParams> params(kRows);
  for (int64_t r = 0; r < kRows; ++r)
    params[r] = findGroupParams(format, w.data() + r * kCols, kCols);
  std::vector<float> q(kRows * kCols);
  for (int64_t i = 0; i < kCols; ++i) {
    const double d = inv[i * kCols + i];
    for (int64_t r = 0; r < kRows; ++r) {
      const float x = float(work[r * kCols + i]);
      const float qi = dequantizeCode(params[r], quantizeCode(params[r], x, format.maxCode()));
      q[r * kCols + i] = qi;
      const double e = (work[r * kCols + i] - qi) / d;
      for (int64_t j = i + 1; j < kCols; ++j)
        work[r * kCols + j] -= e * inv[i * kCols + j];
    }
    // Drop column i from the inverse: H⁻¹ ← H⁻¹ − H⁻¹[:, i] H⁻¹[i, :] / H⁻¹[i, i].
    for (int64_t a1 = i + 1; a1 < kCols; ++a1)
      for (int64_t b1 = i + 1; b1 < kCols; ++b1)
        inv[a1 * kCols + b1] -= inv[a1 * kCols + i] * inv[i * kCols + b1] / d;
  }
  return q;
}

TEST(GPTQ, MatchesTheExplicitInverseFormulation) {
  for (int bits : {3, 4}) {
    IntGroupFormat format{bits, 0, false};
    std::vector<float> ref = obqReference(format, layer().w, layer().h, 0.01);
    std::vector<float> q = layer().w;
    llvm::Expected<GPTQResult> result =
        gptqQuantize(format, q.data(), kRows, kCols, layer().h.data());
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    int64_t same = 0;
    for (int64_t i = 0; i < kRows * kCols; ++i)
      same += q[i] == ref[i];
    const double errGptq =
        outputError(layer().x.data(), kSamples, kCols, layer().w.data(), q.data(), kRows);
    const double errRef =
        outputError(layer().x.data(), kSamples, kCols, layer().w.data(), ref.data(), kRows);
    std::printf("GPTQ b%d per-channel vs OBQ reference: %.4f%% equal weights, error %.5g vs "
                "%.5g\n",
                bits, 100.0 * double(same) / double(kRows * kCols), errGptq, errRef);
    EXPECT_GE(double(same), 0.99 * double(kRows * kCols));
    EXPECT_NEAR(errGptq, errRef, 0.01 * errRef);
  }
}

TEST(GPTQ, BlockSizeOnlyChangesRounding) {
  // Lazy batch updates reorder float sums but not the algorithm (groups aligned to blocks).
  IntGroupFormat format{4, 128, false};
  std::vector<float> a = layer().w, b = layer().w;
  GPTQOptions wide, narrow;
  narrow.blockSize = 32;
  wide.blockSize = 128;
  llvm::Expected<GPTQResult> ra = gptqQuantize(format, a.data(), kRows, kCols, layer().h.data(), wide);
  llvm::Expected<GPTQResult> rb =
      gptqQuantize(format, b.data(), kRows, kCols, layer().h.data(), narrow);
  ASSERT_TRUE(ra && rb);
  int64_t same = 0;
  for (int64_t i = 0; i < kRows * kCols; ++i)
    same += ra->codes[i] == rb->codes[i];
  EXPECT_GE(double(same), 0.99 * double(kRows * kCols));
}

TEST(GPTQ, DeadColumnsAreZeroed) {
  std::vector<double> h = layer().h;
  for (int64_t j = 0; j < kCols; ++j) {
    h[5 * kCols + j] = 0.0;
    h[j * kCols + 5] = 0.0;
  }
  std::vector<float> q = layer().w;
  llvm::Expected<GPTQResult> result =
      gptqQuantize({4, 128, false}, q.data(), kRows, kCols, h.data());
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  for (int64_t r = 0; r < kRows; ++r)
    EXPECT_EQ(q[r * kCols + 5], 0.0f);
}

TEST(GPTQ, RefusesBadInput) {
  std::vector<float> q = layer().w;
  llvm::Expected<GPTQResult> badFormat =
      gptqQuantize({4, 100, false}, q.data(), kRows, kCols, layer().h.data());
  EXPECT_FALSE(bool(badFormat));
  llvm::consumeError(badFormat.takeError());
  std::vector<double> negative(kCols * kCols, 0.0);
  for (int64_t i = 0; i < kCols; ++i)
    negative[i * kCols + i] = i == 3 ? -5.0 : 1.0;
  llvm::Expected<GPTQResult> notDefinite =
      gptqQuantize({4, 128, false}, q.data(), kRows, kCols, negative.data());
  EXPECT_FALSE(bool(notDefinite));
  llvm::consumeError(notDefinite.takeError());
}

} // namespace
