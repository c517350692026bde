//===- StatsTest.cpp - percentiles, summaries and peak RSS --------------------===//
#include "qcc/Driver/Memory.h"
#include "qcc/Driver/Stats.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <numeric>
#include <random>

using namespace qcc::driver;

namespace {

std::vector<double> oneToHundred() {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

// numpy.percentile(np.arange(1, 101), [0, 25, 50, 95, 99, 100]) = 1, 25.75, 50.5, 95.05, 99.01, 100
TEST(Stats, PercentilesOfOneToHundredMatchNumpy) {
  std::vector<double> v = oneToHundred();
  EXPECT_DOUBLE_EQ(percentileOfSorted(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentileOfSorted(v, 25), 25.75);
  EXPECT_DOUBLE_EQ(percentileOfSorted(v, 50), 50.5);
  EXPECT_NEAR(percentileOfSorted(v, 95), 95.05, 1e-12);
  EXPECT_NEAR(percentileOfSorted(v, 99), 99.01, 1e-12);
  EXPECT_DOUBLE_EQ(percentileOfSorted(v, 100), 100.0);
}

TEST(Stats, PercentileDoesNotDependOnOrder) {
  std::vector<double> v = oneToHundred();
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  EXPECT_DOUBLE_EQ(percentile(v, 50), 50.5);
  EXPECT_NEAR(percentile(v, 99), 99.01, 1e-12);
}

TEST(Stats, SmallSamples) {
  EXPECT_DOUBLE_EQ(percentile({3.0}, 0), 3.0);
  EXPECT_DOUBLE_EQ(percentile({3.0}, 99), 3.0);
  // Two samples: linear between them, p50 the midpoint.
  EXPECT_DOUBLE_EQ(percentile({10.0, 20.0}, 50), 15.0);
  EXPECT_DOUBLE_EQ(percentile({10.0, 20.0}, 95), 19.5);
  // numpy.percentile([1, 2, 3, 4], 50) = 2.5; [0, 10, 20] at 75 = 15.
  EXPECT_DOUBLE_EQ(percentile({4.0, 1.0, 3.0, 2.0}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({0.0, 10.0, 20.0}, 75), 15.0);
}

TEST(Stats, SummaryOfOneToHundred) {
  Summary s = summarize(oneToHundred());
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 100.0);
  EXPECT_DOUBLE_EQ(s.p50, 50.5);
  EXPECT_NEAR(s.p95, 95.05, 1e-12);
  EXPECT_NEAR(s.p99, 99.01, 1e-12);
  // Sample standard deviation of 1..100: sqrt(100·101/12) = 29.011491975882016.
  EXPECT_NEAR(s.stddev, 29.011491975882016, 1e-9);
  EXPECT_LE(s.p50, s.p95);
  EXPECT_LE(s.p95, s.p99);
}

TEST(Stats, SummaryOfNothingIsZero) {
  Summary s = summarize({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.mean, 0.0);
  EXPECT_EQ(s.p99, 0.0);
}

TEST(Stats, SummaryOfSkewedLatencies) {
  // 98 steps of 1 ms and two 11 ms outliers: the mean moves, p50 does not, p99 sees them.
  std::vector<double> v(98, 1.0);
  v.push_back(11.0);
  v.push_back(11.0);
  Summary s = summarize(v);
  EXPECT_DOUBLE_EQ(s.mean, 1.2);
  EXPECT_DOUBLE_EQ(s.p50, 1.0);
  EXPECT_DOUBLE_EQ(s.p95, 1.0);
  EXPECT_DOUBLE_EQ(s.p99, 11.0); // h = 98.01: between x[98] = 11 and x[99] = 11
}

TEST(Memory, PeakRssGrowsAfterTouching64MiB) {
  const uint64_t before = peakRssBytes();
  ASSERT_GT(before, 0u);
  const size_t size = size_t(64) << 20;
  std::unique_ptr<char[]> buf(new char[size]);
  // Write every page so that it becomes resident; read back so that the writes are not dropped.
  std::memset(buf.get(), 0x5a, size);
  volatile char sink = 0;
  for (size_t i = 0; i < size; i += 4096)
    sink = sink + buf[i];
  (void)sink;
  const uint64_t current = currentRssBytes();
  const uint64_t after = peakRssBytes();
  EXPECT_GE(current, uint64_t(60) << 20);
  // The kernel folds per-thread RSS counters into the high-water mark lazily: allow a few pages.
  EXPECT_GE(after + (uint64_t(1) << 20), current);
  EXPECT_GE(after, before + (uint64_t(60) << 20));
}

} // namespace
