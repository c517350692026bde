//===- RandomData.h - seeded synthetic matrices for the QuantAlgo tests ---===//
#ifndef QCC_UNITTESTS_QUANTALGO_RANDOMDATA_H
#define QCC_UNITTESTS_QUANTALGO_RANDOMDATA_H

#include <cstdint>
#include <random>
#include <vector>

namespace qcc::quantalgo::testdata {

inline std::vector<float> gaussian(int64_t count, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> out(count);
  for (float &v : out)
    v = dist(rng);
  return out;
}

/// C [n, m] = A [n, k] · B [k, m].
inline std::vector<float> matmul(const std::vector<float> &a, const std::vector<float> &b,
                                 int64_t n, int64_t k, int64_t m) {
  std::vector<float> c(n * m, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const float aip = a[i * k + p];
      for (int64_t j = 0; j < m; ++j)
        c[i * m + j] += aip * b[p * m + j];
    }
  return c;
}

} // namespace qcc::quantalgo::testdata

#endif
