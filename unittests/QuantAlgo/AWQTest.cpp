//===- AWQTest.cpp - AWQ scale/clip search on inputs with outlier channels -===//

#include "qcc/QuantAlgo/AWQ.h"

#include "RandomData.h"

#include "gtest/gtest.h"

#include <cstdio>

using namespace qcc::quantalgo;

namespace {

constexpr int64_t kSamples = 512, kCols = 256, kRows = 128;

// LLM-like inputs: Gaussian channels plus a few with 30× the magnitude; two linears (think
// gate/up) share them.
struct Block {
  std::vector<float> x, w1, w2;
  Block() {
    x = testdata::gaussian(kSamples * kCols, 21);
    for (int64_t t = 0; t < kSamples; ++t)
      for (int64_t c : {7, 40, 100, 129, 200, 201})
        x[t * kCols + c] *= 30.0f;
    w1 = testdata::gaussian(kRows * kCols, 22, 0.05f);
    w2 = testdata::gaussian(kRows * kCols, 23, 0.05f);
  }
  std::vector<WeightRef> linears() const {
    return {WeightRef{w1.data(), kRows}, WeightRef{w2.data(), kRows}};
  }
};

const Block &block() {
  static Block instance;
  return instance;
}

double rtnError(const IntGroupFormat &format) {
  double total = 0.0;
  for (WeightRef linear : block().linears()) {
    std::vector<float> q(kRows * kCols);
    fakeQuantizeMatrixRTN(format, linear.data, kRows, kCols, q.data());
    total += outputError(block().x.data(), kSamples, kCols, linear.data, q.data(), kRows);
  }
  return total;
}

// The weights the layer runs with after AWQ: Q(clamp(W·s)) / s, inputs unchanged.
double awqError(const IntGroupFormat &format, const AWQResult &result) {
  double total = 0.0;
  const std::vector<WeightRef> linears = block().linears();
  for (size_t l = 0; l < linears.size(); ++l) {
    std::vector<float> w(linears[l].data, linears[l].data + kRows * kCols), q(kRows * kCols);
    awqApply(format, w.data(), kRows, kCols, result.scales,
             result.clipMaxVal.empty() ? llvm::ArrayRef<float>()
                                                      : llvm::ArrayRef<float>(result.clipMaxVal[l]));
    fakeQuantizeMatrixRTN(format, w.data(), kRows, kCols, q.data());
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t c = 0; c < kCols; ++c)
        q[r * kCols + c] /= result.scales[c];
    total += outputError(block().x.data(), kSamples, kCols, linears[l].data, q.data(), kRows);
  }
  return total;
}

class AWQBeatsRTN : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(AWQBeatsRTN, SearchedScalesAndClipsLowerTheOutputError) {
  auto [bits, symmetric] = GetParam();
  IntGroupFormat format{bits, 128, symmetric};
  const double rtn = rtnError(format);

  AWQOptions scaleOnly;
  scaleOnly.searchClip = false;
  llvm::Expected<AWQResult> scaled =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols, scaleOnly);
  ASSERT_TRUE(bool(scaled)) << llvm::toString(scaled.takeError());
  llvm::Expected<AWQResult> full =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols);
  ASSERT_TRUE(bool(full)) << llvm::toString(full.takeError());
  ASSERT_EQ(full->clipMaxVal.size(), 2u);

  const double scaleErr = awqError(format, *scaled), fullErr = awqError(format, *full);
  std::printf("AWQ b%d g128 %s: rtn %.4g, scales (alpha %.2f) %.4g ratio %.3f, +clip %.4g "
              "ratio %.3f\n",
              bits, symmetric ? "sym" : "asym", rtn, scaled->bestRatio, scaleErr,
              scaleErr / rtn, fullErr, fullErr / rtn);
  EXPECT_GT(scaled->bestRatio, 0.0f);
  EXPECT_LE(scaleErr, 0.8 * rtn);
  EXPECT_LE(fullErr, scaleErr * 1.02);
  // The search's own loss is the mean of the same error.
  EXPECT_NEAR(scaled->bestLoss * double(2 * kRows * kSamples), scaleErr, 1e-6 * scaleErr);
}

INSTANTIATE_TEST_SUITE_P(Outliers, AWQBeatsRTN,
                         ::testing::Combine(::testing::Values(3, 4), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<int, bool>> &info) {
                           return "b" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_sym" : "_asym");
                         });

TEST(AWQ, RatioZeroIsRTN) {
  IntGroupFormat format{4, 128, false};
  const std::vector<float> xMean = columnAbsMean(block().x.data(), kSamples, kCols);
  const std::vector<float> s = awqScalesForRatio(xMean, 0.0f);
  for (float v : s)
    ASSERT_EQ(v, 1.0f);
  AWQOptions options;
  options.searchClip = false;
  llvm::Expected<AWQResult> result =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  ASSERT_EQ(result->lossPerRatio.size(), 20u);
  EXPECT_DOUBLE_EQ(result->lossPerRatio[0] * double(2 * kRows * kSamples), rtnError(format));
  AWQResult rtnLike;
  rtnLike.scales = s;
  EXPECT_DOUBLE_EQ(awqError(format, rtnLike), rtnError(format));
}

TEST(AWQ, ScalesAreNormalisedAndFollowTheActivations) {
  const std::vector<float> xMean = columnAbsMean(block().x.data(), kSamples, kCols);
  const std::vector<float> s = awqScalesForRatio(xMean, 0.5f);
  const float hi = *std::max_element(s.begin(), s.end());
  const float lo = *std::min_element(s.begin(), s.end());
  EXPECT_NEAR(hi * lo, 1.0f, 1e-5f);
  EXPECT_EQ(std::max_element(s.begin(), s.end()) - s.begin(),
            std::max_element(xMean.begin(), xMean.end()) - xMean.begin());
}

TEST(AWQ, ClipSearchNeverWorsensAGroup) {
  // Each group's chosen max_val is one of the grid's values and the first (no clip) is a
  // candidate, so the sampled-token error can only go down.
  IntGroupFormat format{3, 64, true};
  const float *w = block().w1.data();
  std::vector<float> maxVal =
      awqSearchClip(format, w, kRows, kCols, block().x.data(), kSamples);
  ASSERT_EQ(maxVal.size(), size_t(kRows * 4));
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t g = 0; g < 4; ++g) {
      float orgMax = 0.0f;
      for (int64_t k = 0; k < 64; ++k)
        orgMax = std::max(orgMax, std::fabs(w[r * kCols + g * 64 + k]));
      const float m = maxVal[r * 4 + g];
      EXPECT_LE(m, orgMax);
      EXPECT_GE(m, orgMax * 0.55f - 1e-6f);
    }
}

TEST(AWQ, RefusesBadInput) {
  llvm::Expected<AWQResult> bad =
      awqSearch({4, 100, false}, block().linears(), block().x.data(), kSamples, kCols);
  EXPECT_FALSE(bool(bad));
  llvm::consumeError(bad.takeError());
  llvm::Expected<AWQResult> none = awqSearch({4, 128, false}, {}, block().x.data(), kSamples,
                                             kCols);
  EXPECT_FALSE(bool(none));
  llvm::consumeError(none.takeError());
}

} // namespace
