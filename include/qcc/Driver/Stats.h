//===- Stats.h - summary statistics of timing samples -------------------------===//
//
// Percentiles use linear interpolation between closest ranks, numpy.percentile's default
// (Hyndman & Fan type 7): for n sorted samples x[0..n-1] and p in [0, 100], h = (n-1)·p/100 and
// P(p) = x[floor h] + (h - floor h)·(x[floor h + 1] - x[floor h]). So P(0) is the minimum,
// P(100) the maximum, and for 1..100, P(50) = 50.5, P(95) = 95.05, P(99) = 99.01. Interpolation
// rather than nearest rank keeps small sample counts (a 32-token decode) from snapping p99 to
// the maximum and p95 to one neighbouring sample.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DRIVER_STATS_H
#define QCC_DRIVER_STATS_H

#include "llvm/ADT/ArrayRef.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <vector>

namespace qcc::driver {

/// The p-th percentile (0 ≤ p ≤ 100) of `sorted` (ascending, non-empty), as described above.
inline double percentileOfSorted(llvm::ArrayRef<double> sorted, double p) {
  assert(!sorted.empty() && "percentile of no samples");
  assert(p >= 0 && p <= 100 && "percentile out of range");
  const double h = double(sorted.size() - 1) * p / 100.0;
  const size_t lo = size_t(std::floor(h));
  if (lo + 1 >= sorted.size())
    return sorted.back();
  return sorted[lo] + (h - double(lo)) * (sorted[lo + 1] - sorted[lo]);
}

/// The same for samples in any order.
inline double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return percentileOfSorted(samples, p);
}

/// Mean, extremes, spread and percentiles of a set of samples (all 0 for no samples).
struct Summary {
  size_t count = 0;
  double mean = 0, stddev = 0, min = 0, max = 0, p50 = 0, p95 = 0, p99 = 0;
};

/// stddev is the sample standard deviation (divides by n-1; 0 for one sample).
inline Summary summarize(std::vector<double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty())
    return s;
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double x : samples)
    sum += x;
  s.mean = sum / double(s.count);
  double sq = 0;
  for (double x : samples)
    sq += (x - s.mean) * (x - s.mean);
  s.stddev = s.count > 1 ? std::sqrt(sq / double(s.count - 1)) : 0.0;
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = percentileOfSorted(samples, 50);
  s.p95 = percentileOfSorted(samples, 95);
  s.p99 = percentileOfSorted(samples, 99);
  return s;
}

} // namespace qcc::driver

#endif // QCC_DRIVER_STATS_H
