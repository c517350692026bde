//===- KernelsTest.cpp - reference kernels against naive formulas -----------===//
#include "qcc/Quant/Float16.h"
#include "qcc/Runtime/Kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace qcc;
using namespace qcc::rt;

namespace {

std::vector<float> randomVec(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (float &x : v)
    x = d(g);
  return v;
}

TEST(Kernels, LinearF32AndF16MatchNaive) {
  const int64_t n = 3, k = 40, m = 7;
  auto x = randomVec(n * k, 1), w = randomVec(m * k, 2);
  std::vector<uint16_t> w16(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w16[i] = fp32ToFp16(w[i]);
    w[i] = fp16ToFp32(w16[i]);
  }
  WeightView v32{GGMLType::F32, m, k, reinterpret_cast<const uint8_t *>(w.data()), uint64_t(k * 4)};
  WeightView v16{GGMLType::F16, m, k, reinterpret_cast<const uint8_t *>(w16.data()), uint64_t(k * 2)};
  std::vector<float> y32(n * m), y16(n * m);
  linear(x.data(), n, v32, y32.data());
  linear(x.data(), n, v16, y16.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < m; ++r) {
      double ref = 0;
      for (int64_t j = 0; j < k; ++j)
        ref += double(x[i * k + j]) * w[r * k + j];
      EXPECT_NEAR(y32[i * m + r], ref, 1e-4);
      EXPECT_EQ(y32[i * m + r], y16[i * m + r]); // same values, same order
    }
}

TEST(Kernels, RmsNorm) {
  std::vector<float> x = {1, 2, 3, 4}, g = {1, 1, 2, 0.5f}, y(4);
  rmsNorm(x.data(), 1, 4, g.data(), 1e-5f, y.data());
  double s = 1 / std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-5);
  EXPECT_NEAR(y[0], 1 * s, 1e-6);
  EXPECT_NEAR(y[2], 6 * s, 1e-6);
  EXPECT_NEAR(y[3], 2 * s, 1e-6);
}

TEST(Kernels, RopeStylesAgreeUnderThePermutation) {
  // HF's rotate-half on rows permuted (i -> pairs (2i, 2i+1) to (i, i + d/2)) equals interleaved.
  const int64_t hd = 8, heads = 2, d = hd * heads, T = 5;
  auto x = randomVec(T * d, 3);
  std::vector<float> perm(x.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        perm[t * d + h * hd + i] = x[t * d + h * hd + 2 * i];
        perm[t * d + h * hd + i + hd / 2] = x[t * d + h * hd + 2 * i + 1];
      }
  RopeParams a{hd, 10000.0, RopeStyle::Interleaved, {}};
  RopeParams b{hd, 10000.0, RopeStyle::RotateHalf, {}};
  rope(x.data(), 1, T, d, 3, a);
  rope(perm.data(), 1, T, d, 3, b);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        EXPECT_EQ(perm[t * d + h * hd + i], x[t * d + h * hd + 2 * i]);
        EXPECT_EQ(perm[t * d + h * hd + i + hd / 2], x[t * d + h * hd + 2 * i + 1]);
      }
}

TEST(Kernels, RopeRotatesByPositionTimesFrequency) {
  std::vector<float> x = {1, 0, 1, 0};
  RopeParams p{4, 100.0, RopeStyle::Interleaved, {}};
  rope(x.data(), 1, 1, 4, 7, p);
  EXPECT_NEAR(x[0], std::cos(7.0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(7.0), 1e-6);
  EXPECT_NEAR(x[2], std::cos(7.0 / 10.0), 1e-6); // theta^(-2/4) = 1/10
  EXPECT_NEAR(x[3], std::sin(7.0 / 10.0), 1e-6);
}

TEST(Kernels, Llama3FactorsMatchTransformers) {
  // Llama-3.1 8B: factor 8, low 1, high 4, original 8192, theta 500000, head dim 128.
  std::vector<float> f = llama3RopeFactors(128, 500000.0, 8.0, 1.0, 4.0, 8192);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);  // high frequency: unchanged
  EXPECT_FLOAT_EQ(f[63], 8.0f); // low frequency: divided by the factor
  for (size_t i = 1; i < f.size(); ++i)
    EXPECT_GE(f[i], f[i - 1]); // smooth, monotone in between
}

TEST(Kernels, ScaledRopeFactorsCombineStoredFactorsAndScaling) {
  // None keeps the stored factors (or none); linear multiplies them, ones where none are stored.
  EXPECT_EQ(*scaledRopeFactors({2.0f, 3.0f}, 4, 1e4, RopeScale::None, 8.0, 1.0, 4.0, 8192),
            (std::vector<float>{2.0f, 3.0f}));
  EXPECT_TRUE(scaledRopeFactors({}, 4, 1e4, RopeScale::None, 8.0, 1.0, 4.0, 8192)->empty());
  EXPECT_EQ(*scaledRopeFactors({2.0f, 3.0f}, 4, 1e4, RopeScale::Linear, 4.0, 1.0, 4.0, 8192),
            (std::vector<float>{8.0f, 12.0f}));
  EXPECT_EQ(*scaledRopeFactors({}, 4, 1e4, RopeScale::Linear, 4.0, 1.0, 4.0, 8192),
            (std::vector<float>{4.0f, 4.0f}));
  // Llama-3 computes them; with stored factors too it refuses (they describe the same thing).
  EXPECT_EQ(*scaledRopeFactors({}, 128, 500000.0, RopeScale::Llama3, 8.0, 1.0, 4.0, 8192),
            llama3RopeFactors(128, 500000.0, 8.0, 1.0, 4.0, 8192));
  EXPECT_FALSE(
      scaledRopeFactors({1.0f, 1.0f}, 4, 1e4, RopeScale::Llama3, 8.0, 1.0, 4.0, 8192).has_value());
}

TEST(Kernels, AttentionMatchesNaiveWithGQAAndCache) {
  const int64_t hd = 4, nH = 4, kvH = 2, B = 2, S = 16;
  KVCache cache(1, B, kvH, S, hd);
  // Two calls: a prefill of 3 tokens then one decode token; compare the decode output.
  auto q1 = randomVec(B * 3 * nH * hd, 4), k1 = randomVec(B * 3 * kvH * hd, 5),
       v1 = randomVec(B * 3 * kvH * hd, 6);
  std::vector<float> out1(B * 3 * nH * hd);
  attention(q1.data(), k1.data(), v1.data(), B, 3, 0, nH, cache, 0, out1.data());
  auto q2 = randomVec(B * nH * hd, 7), k2 = randomVec(B * kvH * hd, 8), v2 = randomVec(B * kvH * hd, 9);
  std::vector<float> out2(B * nH * hd);
  attention(q2.data(), k2.data(), v2.data(), B, 1, 3, nH, cache, 0, out2.data());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < nH; ++h) {
      const int64_t g = h / (nH / kvH);
      auto K = [&](int64_t s, int64_t j) {
        return s < 3 ? k1[((b * 3 + s) * kvH + g) * hd + j] : k2[(b * kvH + g) * hd + j];
      };
      auto V = [&](int64_t s, int64_t j) {
        return s < 3 ? v1[((b * 3 + s) * kvH + g) * hd + j] : v2[(b * kvH + g) * hd + j];
      };
      double w[4], z = 0;
      for (int64_t s = 0; s < 4; ++s) {
        double dot = 0;
        for (int64_t j = 0; j < hd; ++j)
          dot += q2[(b * nH + h) * hd + j] * K(s, j);
        w[s] = std::exp(dot / 2.0);
        z += w[s];
      }
      for (int64_t j = 0; j < hd; ++j) {
        double ref = 0;
        for (int64_t s = 0; s < 4; ++s)
          ref += w[s] / z * V(s, j);
        EXPECT_NEAR(out2[(b * nH + h) * hd + j], ref, 1e-5);
      }
    }
}

TEST(Kernels, DotIsIndependentOfThreads) {
  auto x = randomVec(4 * 300, 10), w = randomVec(50 * 300, 11);
  WeightView v{GGMLType::F32, 50, 300, reinterpret_cast<const uint8_t *>(w.data()), 1200};
  std::vector<float> a(4 * 50), b(4 * 50);
  setThreads(1);
  linear(x.data(), 4, v, a.data());
  setThreads(2);
  linear(x.data(), 4, v, b.data());
  EXPECT_EQ(a, b);
}

} // namespace
