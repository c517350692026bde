//===- AWQTest.cpp - AWQ scale/clip search on inputs with outlier channels -===//

#include "qcc/QuantAlgo/AWQ.h"

#include "RandomData.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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
  // The search evaluates the error through XᵀX; same quantity, other rounding.
  EXPECT_NEAR(result->lossPerRatio[0] * double(2 * kRows * kSamples), rtnError(format),
              1e-9 * rtnError(format));
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

// An MLP-like block over the two linears of block() (think gate/up): out = down(silu(w1·x) ·
// w2·x), down [kCols, kRows] in f32, as llm-awq inspects the whole MLP for gate/up.
struct MLP {
  std::vector<float> down = testdata::gaussian(kCols * kRows, 24, 0.05f);
  void operator()(llvm::ArrayRef<const float *> w, std::vector<float> &out) const {
    const float *x = block().x.data();
    std::vector<float> g(kSamples * kRows), u(kSamples * kRows);
    linearForward(x, kSamples, kCols, w[0], kRows, g.data());
    linearForward(x, kSamples, kCols, w[1], kRows, u.data());
    for (int64_t i = 0; i < kSamples * kRows; ++i)
      g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
    out.resize(kSamples * kCols);
    linearForward(g.data(), kSamples, kRows, down.data(), kCols, out.data());
  }
};

double meanSquaredDiff(const std::vector<float> &a, const std::vector<float> &b) {
  return squaredError(a.data(), b.data(), int64_t(a.size())) / double(a.size());
}

TEST(AWQ, BlockLossAtRatioZeroIsTheRTNBlockError) {
  IntGroupFormat format{3, 128, false};
  MLP mlp;
  AWQOptions options;
  options.searchClip = false;
  llvm::Expected<AWQResult> result = awqSearch(format, block().linears(), block().x.data(),
                                               kSamples, kCols, options, mlp);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  std::vector<float> q1(kRows * kCols), q2(kRows * kCols), org, rtn;
  fakeQuantizeMatrixRTN(format, block().w1.data(), kRows, kCols, q1.data());
  fakeQuantizeMatrixRTN(format, block().w2.data(), kRows, kCols, q2.data());
  mlp({block().w1.data(), block().w2.data()}, org);
  mlp({q1.data(), q2.data()}, rtn);
  EXPECT_DOUBLE_EQ(result->lossPerRatio[0], meanSquaredDiff(org, rtn));
  // The search keeps the grid's minimum, so it never ends worse than RTN on its objective.
  EXPECT_EQ(result->bestLoss,
            *std::min_element(result->lossPerRatio.begin(), result->lossPerRatio.end()));
  EXPECT_LE(result->bestLoss, result->lossPerRatio[0]);
  // And the loss is that of the weights awqApply produces.
  std::vector<float> w1(block().w1), w2(block().w2), out;
  awqApply(format, w1.data(), kRows, kCols, result->scales, {});
  awqApply(format, w2.data(), kRows, kCols, result->scales, {});
  fakeQuantizeMatrixRTN(format, w1.data(), kRows, kCols, q1.data());
  fakeQuantizeMatrixRTN(format, w2.data(), kRows, kCols, q2.data());
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < kCols; ++c) {
      q1[r * kCols + c] /= result->scales[c];
      q2[r * kCols + c] /= result->scales[c];
    }
  mlp({q1.data(), q2.data()}, out);
  EXPECT_DOUBLE_EQ(result->bestLoss, meanSquaredDiff(org, out));
  std::printf("AWQ MLP-output loss b3 g128 asym: rtn %.4g, alpha %.2f %.4g\n",
              result->lossPerRatio[0], result->bestRatio, result->bestLoss);
}

TEST(AWQ, OwnOutputBlockMatchesTheDefaultLoss) {
  // A block that returns the linears' own outputs is the loss without a block.
  IntGroupFormat format{4, 128, true};
  AWQOptions options;
  options.searchClip = false;
  auto own = [](llvm::ArrayRef<const float *> w, std::vector<float> &out) {
    out.assign(2 * kSamples * kRows, 0.0f);
    for (size_t l = 0; l < w.size(); ++l)
      linearForward(block().x.data(), kSamples, kCols, w[l], kRows,
                    out.data() + l * kSamples * kRows);
  };
  llvm::Expected<AWQResult> a =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols, options);
  llvm::Expected<AWQResult> b =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols, options, own);
  ASSERT_TRUE(bool(a) && bool(b));
  for (size_t i = 0; i < a->lossPerRatio.size(); ++i)
    EXPECT_NEAR(a->lossPerRatio[i], b->lossPerRatio[i], 1e-4 * a->lossPerRatio[i]) << i;
}

TEST(AWQ, SkipClipLeavesThatLinearUnclipped) {
  IntGroupFormat format{3, 128, false};
  AWQOptions options;
  options.skipClip = {true, false};
  llvm::Expected<AWQResult> result =
      awqSearch(format, block().linears(), block().x.data(), kSamples, kCols, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  ASSERT_EQ(result->clipMaxVal.size(), 2u);
  EXPECT_TRUE(result->clipMaxVal[0].empty());
  EXPECT_EQ(result->clipMaxVal[1].size(), size_t(kRows * 2));
}

TEST(AWQ, ClipSearchFindsTheTokenErrorMinimum) {
  // The search scores candidates through per-group Gram matrices; running the sampled tokens
  // through (as auto_clip does) must agree that the chosen max_val is the grid's best.
  IntGroupFormat format{3, 64, false};
  AWQOptions options;
  options.maxClipTokens = 100; // stride 5 over 512 tokens
  const float *w = block().w2.data(), *x = block().x.data();
  std::vector<float> maxVal = awqSearchClip(format, w, kRows, kCols, x, kSamples, options);
  auto tokenError = [&](int64_t r, int64_t g, float m) {
    std::vector<float> c(64), q(64);
    for (int64_t k = 0; k < 64; ++k)
      c[k] = std::clamp(w[r * kCols + g * 64 + k], -m, m);
    fakeQuantizeMatrixRTN(format, c.data(), 1, 64, q.data());
    double err = 0.0;
    int64_t count = 0;
    for (int64_t t = 0; t < kSamples; t += 5, ++count) {
      double acc = 0.0;
      for (int64_t k = 0; k < 64; ++k)
        acc += double(x[t * kCols + g * 64 + k]) * (double(q[k]) - w[r * kCols + g * 64 + k]);
      err += acc * acc;
    }
    return err / double(count);
  };
  for (int64_t r = 0; r < kRows; r += 7)
    for (int64_t g = 0; g < 4; ++g) {
      float orgMax = 0.0f;
      for (int64_t k = 0; k < 64; ++k)
        orgMax = std::max(orgMax, std::fabs(w[r * kCols + g * 64 + k]));
      double best = std::numeric_limits<double>::infinity();
      for (int i = 0; i < 10; ++i)
        best = std::min(best, tokenError(r, g, orgMax * (1.0f - float(i) / 20.0f)));
      EXPECT_NEAR(tokenError(r, g, maxVal[r * 4 + g]), best, 1e-9 * best) << r << " " << g;
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
