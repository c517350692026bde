//===- SmoothQuantTest.cpp - smoothing scales and the W8A8 reference GEMM --===//

#include "qcc/QuantAlgo/SmoothQuant.h"

#include "RandomData.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>

using namespace qcc::quantalgo;

namespace {

constexpr int64_t kSamples = 256, kCols = 512, kRows = 128;

std::vector<float> withOutliers(std::vector<float> x) {
  for (int64_t t = 0; t < kSamples; ++t)
    for (int64_t c : {3, 50, 77, 300, 301, 480})
      x[t * kCols + c] *= 60.0f;
  return x;
}

double relativeError(const std::vector<float> &ref, const std::vector<float> &got) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (double(ref[i]) - got[i]) * (double(ref[i]) - got[i]);
    den += double(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

std::vector<float> floatLinear(const std::vector<float> &x, const std::vector<float> &w) {
  std::vector<float> y(kSamples * kRows);
  linearForward(x.data(), kSamples, kCols, w.data(), kRows, y.data());
  return y;
}

std::vector<float> w8a8(const std::vector<float> &x, const std::vector<float> &w) {
  std::vector<int8_t> wq(kRows * kCols);
  std::vector<float> wScale(kRows), y(kSamples * kRows);
  quantizeW8PerChannel(w.data(), kRows, kCols, wq.data(), wScale.data());
  w8a8Linear(x.data(), kSamples, kCols, wq.data(), wScale.data(), kRows, y.data());
  return y;
}

TEST(SmoothQuant, ScalesFollowTheReferenceFormula) {
  std::vector<float> x = withOutliers(testdata::gaussian(kSamples * kCols, 31));
  std::vector<float> w = testdata::gaussian(kRows * kCols, 32, 0.05f);
  std::vector<float> w2 = testdata::gaussian(kRows * kCols, 33, 0.02f);
  std::vector<float> act = columnAbsMax(x.data(), kSamples, kCols);
  act[9] = 0.0f; // a channel that never fires: clamped to 1e-5
  std::vector<float> s = smoothQuantScales(act, {WeightRef{w.data(), kRows},
                                                 WeightRef{w2.data(), kRows}},
                                           kCols, 0.5f);
  for (int64_t c = 0; c < kCols; ++c) {
    float wMax = 0.0f;
    for (int64_t r = 0; r < kRows; ++r)
      wMax = std::max({wMax, std::fabs(w[r * kCols + c]), std::fabs(w2[r * kCols + c])});
    const float expected = std::max(std::sqrt(act[c]) / std::sqrt(std::max(wMax, 1e-5f)), 1e-5f);
    EXPECT_NEAR(s[c], expected, 1e-5f * expected) << c;
  }
  EXPECT_EQ(s[9], 1e-5f);
}

TEST(SmoothQuant, SmoothingPreservesTheProduct) {
  std::vector<float> x = withOutliers(testdata::gaussian(kSamples * kCols, 34));
  std::vector<float> w = testdata::gaussian(kRows * kCols, 35, 0.05f);
  const std::vector<float> ref = floatLinear(x, w);
  std::vector<float> s =
      smoothQuantScales(columnAbsMax(x.data(), kSamples, kCols), {WeightRef{w.data(), kRows}},
                        kCols, 0.5f);
  smoothActivations(x.data(), kSamples, kCols, s);
  smoothWeights(w.data(), kRows, kCols, s);
  EXPECT_LT(relativeError(ref, floatLinear(x, w)), 1e-5);
}

TEST(SmoothQuant, W8A8IsCloseOnGaussianData) {
  std::vector<float> x = testdata::gaussian(kSamples * kCols, 36);
  std::vector<float> w = testdata::gaussian(kRows * kCols, 37, 0.05f);
  const double err = relativeError(floatLinear(x, w), w8a8(x, w));
  // Rounding noise model: each operand gets uniform noise of variance step²/12, so
  // relerr² ≈ E[step_x²] / (12 σ_x²) + E[step_w²] / (12 σ_w²). With 512 Gaussian channels the
  // row max is ≈ 3.2 σ and this is ≈ 1.0e-2: the int8 floor, not a kernel defect.
  std::vector<int8_t> wq(kRows * kCols), xq(kSamples * kCols);
  std::vector<float> wScale(kRows), xScale(kSamples);
  quantizeW8PerChannel(w.data(), kRows, kCols, wq.data(), wScale.data());
  quantizeA8PerToken(x.data(), kSamples, kCols, xq.data(), xScale.data());
  double xStep2 = 0.0, wStep2 = 0.0;
  for (float v : xScale)
    xStep2 += double(v) * v / kSamples;
  for (float v : wScale)
    wStep2 += double(v) * v / kRows;
  const double predicted = std::sqrt(xStep2 / 12.0 + wStep2 / (12.0 * 0.05 * 0.05));
  std::printf("W8A8 gaussian: relative error %.3g (noise model %.3g)\n", err, predicted);
  EXPECT_NEAR(err, predicted, 0.1 * predicted);
  EXPECT_LT(err, 1.5e-2);
}

TEST(SmoothQuant, SmoothingRescuesW8A8FromOutlierChannels) {
  std::vector<float> x = withOutliers(testdata::gaussian(kSamples * kCols, 38));
  std::vector<float> w = testdata::gaussian(kRows * kCols, 39, 0.05f);
  const std::vector<float> ref = floatLinear(x, w);
  const double plain = relativeError(ref, w8a8(x, w));
  std::vector<float> s =
      smoothQuantScales(columnAbsMax(x.data(), kSamples, kCols), {WeightRef{w.data(), kRows}},
                        kCols, 0.5f);
  smoothActivations(x.data(), kSamples, kCols, s);
  smoothWeights(w.data(), kRows, kCols, s);
  const double smoothed = relativeError(ref, w8a8(x, w));
  std::printf("W8A8 outliers: relative error %.3g plain, %.3g smoothed\n", plain, smoothed);
  EXPECT_LT(smoothed, 0.5 * plain);
  EXPECT_LT(smoothed, 2e-2);
}

TEST(SmoothQuant, W8A8AccumulatesExactlyInInt32) {
  std::vector<float> x = testdata::gaussian(4 * kCols, 40);
  std::vector<float> w = testdata::gaussian(3 * kCols, 41);
  std::vector<int8_t> wq(3 * kCols), xq(4 * kCols);
  std::vector<float> wScale(3), xScale(4), y(4 * 3);
  quantizeW8PerChannel(w.data(), 3, kCols, wq.data(), wScale.data());
  quantizeA8PerToken(x.data(), 4, kCols, xq.data(), xScale.data());
  w8a8Linear(x.data(), 4, kCols, wq.data(), wScale.data(), 3, y.data());
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t r = 0; r < 3; ++r) {
      int64_t acc = 0;
      for (int64_t c = 0; c < kCols; ++c)
        acc += int64_t(xq[t * kCols + c]) * wq[r * kCols + c];
      EXPECT_EQ(y[t * 3 + r], float(acc) * xScale[t] * wScale[r]);
    }
  // Per-channel weight codes span ±127 with the row's max on ±127.
  for (int64_t r = 0; r < 3; ++r) {
    int maxCode = 0;
    for (int64_t c = 0; c < kCols; ++c)
      maxCode = std::max(maxCode, std::abs(int(wq[r * kCols + c])));
    EXPECT_EQ(maxCode, 127);
  }
}

} // namespace
