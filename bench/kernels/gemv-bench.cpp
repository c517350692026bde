//===- gemv-bench.cpp - cold-cache 4-bit GEMV bandwidth (a benchmark, not a test) ===//
//
// Times the AOT Halide decode GEMVs y[4096] = W[4096, 4096] · x for f32, f16, bf16, q4_0, q4_K,
// q3_K, qcc's int4 and int3 g128 asymmetric rows and W8A8 (int8_g0_sym weights, int8 per-token
// activations) (the fixed-shape kernels built in lib/Codegen/Kernels) with a cold cache: each
// call reads one of enough copies of the weights to fill 600 MB, in turn, so every call streams
// them from memory as a decode step does (as gemv-shape-harness.cpp; a 256 MB buffer written
// before each call did not evict them here: bf16 then read 180 % of the read bandwidth).
// Reports GB/s of weight bytes read and its ratio to a STREAM-like read bandwidth measured in
// the same process right before and after the row (the higher of the two; a parallel sum over
// a separate 256 MB array, one thread per core, like Halide's thread pool). q4_0 is also timed
// at the generators' lower -O levels (opt=0: scalar serial, 1: vectorised, 2: + parallel), q4_K
// at O2 (no unrolled steps); the other rows are O3. Usage: gemv-bench [reps]
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/GGMLFormats.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include "qcc_test_gemv_bf16_4096.h"
#include "qcc_test_gemv_f16_4096.h"
#include "qcc_test_gemv_f32_4096.h"
#include "qcc_test_gemv_int3_g128_asym_4096.h"
#include "qcc_test_gemv_int4_g128_asym_4096.h"
#include "qcc_test_gemv_q3_k_4096.h"
#include "qcc_test_gemv_q4_0_4096.h"
#include "qcc_test_gemv_q4_0_4096_o0.h"
#include "qcc_test_gemv_q4_0_4096_o1.h"
#include "qcc_test_gemv_q4_0_4096_o2.h"
#include "qcc_test_gemv_q4_k_4096.h"
#include "qcc_test_gemv_q4_k_4096_o2.h"
#include "qcc_test_gemv_w8a8_4096.h"
#include "qcc_test_gemv_int4_g128_asym_4096_q8.h"
#include "qcc_test_gemv_int4_g128_sym_4096_q8.h"
#include "qcc_test_gemv_q4_0_4096_q8.h"
#include "qcc_test_gemv_q4_k_4096_q8.h"
#include "qcc_test_gemv_q6_k_4096.h"
#include "qcc_test_gemv_q6_k_4096_q8.h"

#include "HalideBuffer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using Halide::Runtime::Buffer;

namespace {

constexpr int kDim = 4096;
constexpr size_t kReadBytes = size_t(256) << 20;
constexpr double kColdBytes = 600e6; ///< The copies of a kernel's weights fill this much.

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// STREAM-like read: parallel sum of a 256 MB array of uint64, best of `reps` runs, in GB/s.
double readBandwidth(int reps) {
  const size_t n = kReadBytes / sizeof(uint64_t);
  std::vector<uint64_t> data(n);
  for (size_t k = 0; k < n; ++k)
    data[k] = k;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<uint64_t> sums(threads);
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t k = lo;
        for (; k + 8 <= hi; k += 8)
          for (int j = 0; j < 8; ++j)
            acc[j] += data[k + j];
        for (; k < hi; ++k)
          acc[0] += data[k];
        uint64_t s = 0;
        for (uint64_t a : acc)
          s += a;
        sums[t] = s;
      });
    for (std::thread &th : pool)
      th.join();
    best = std::min(best, seconds(t0, Clock::now()));
  }
  uint64_t check = 0;
  for (uint64_t s : sums)
    check += s;
  if (check != uint64_t(n) * (n - 1) / 2)
    std::fprintf(stderr, "read check failed\n");
  return double(kReadBytes) / best / 1e9;
}

struct Result {
  double medianGBs, bestGBs;
};

using GemvFn = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

/// `elemBits`: the weight buffer's element (WeightDecoders.h): 8 (the bytes), 32 (f32 as
/// float32) or 16 (f16 / bf16 as uint16 bits).
Result timeGemv(GemvFn fn, const std::vector<uint8_t> &weights, int64_t rowBytes, int elemBits,
                int reps) {
  std::vector<float> x(kDim), y(kDim);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (float &v : x)
    v = dist(rng);
  Buffer<float> xb(x.data(), kDim, 1), yb(y.data(), kDim, 1);
  halide_type_t t(elemBits == 32 ? halide_type_float : halide_type_uint, uint8_t(elemBits));
  const int copies = std::max(2, int(kColdBytes / double(weights.size())) + 1);
  std::vector<std::vector<uint8_t>> data(size_t(copies), weights);
  std::vector<Buffer<>> wb;
  for (std::vector<uint8_t> &d : data)
    wb.emplace_back(t, d.data(), int(rowBytes * 8 / elemBits), kDim);
  if (fn(xb, wb[0], yb) != 0) // warm-up: starts Halide's thread pool
    std::exit(1);
  std::vector<double> times;
  for (int rep = 0; rep < reps; ++rep) {
    // Copy 1, 2, ...: the oldest written first (the last ones written may still be cached).
    Buffer<> &w = wb[size_t(1 + rep % (copies - 1))];
    auto t0 = Clock::now();
    fn(xb, w, yb);
    times.push_back(seconds(t0, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  const double bytes = double(weights.size());
  return {bytes / times[times.size() / 2] / 1e9, bytes / times.front() / 1e9};
}

} // namespace

int main(int argc, char **argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
  std::vector<float> w(size_t(kDim) * kDim);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  for (float &v : w)
    v = dist(rng);

  struct Weights {
    std::vector<uint8_t> bytes;
    int64_t rowBytes = 0;
    int elemBits = 8;
  };
  auto ggml = [&](qcc::GGMLType type) {
    Weights q;
    q.rowBytes = qcc::rowBytes(type, kDim);
    q.elemBits = type == qcc::GGMLType::F32                                   ? 32
                 : type == qcc::GGMLType::F16 || type == qcc::GGMLType::BF16 ? 16
                                                                              : 8;
    q.bytes.resize(size_t(q.rowBytes) * kDim);
    if (auto err = qcc::quantizeRows(type, w.data(), q.bytes.data(), kDim, kDim)) {
      llvm::consumeError(std::move(err));
      std::exit(1);
    }
    return q;
  };
  auto intGroups = [&](int bits, int64_t group, bool symmetric) {
    qcc::quantalgo::IntGroupFormat f;
    f.bits = bits;
    f.groupSize = group;
    f.symmetric = symmetric;
    Weights q;
    q.rowBytes = qcc::quantalgo::rowBytes(f, kDim);
    q.bytes.resize(size_t(q.rowBytes) * kDim);
    qcc::quantalgo::quantizeMatrixRTN(f, w.data(), kDim, kDim, q.bytes.data());
    return q;
  };
  Weights f32w = ggml(qcc::GGMLType::F32), f16w = ggml(qcc::GGMLType::F16),
          bf16w = ggml(qcc::GGMLType::BF16);
  Weights q4 = ggml(qcc::GGMLType::Q4_0), q4k = ggml(qcc::GGMLType::Q4_K),
          q3k = ggml(qcc::GGMLType::Q3_K), q6k = ggml(qcc::GGMLType::Q6_K);
  Weights int4 = intGroups(4, 128, false), int3 = intGroups(3, 128, false),
          int8 = intGroups(8, 0, true), int4s = intGroups(4, 128, true);

  const double stream = readBandwidth(5);
  std::printf("threads: %u, STREAM-like read (256 MB, best of 5): %.2f GB/s\n",
              std::max(1u, std::thread::hardware_concurrency()), stream);
  struct {
    const char *name;
    GemvFn fn;
    Weights *weights;
  } cases[] = {{"f32", qcc_test_gemv_f32_4096, &f32w},
               {"f16", qcc_test_gemv_f16_4096, &f16w},
               {"bf16", qcc_test_gemv_bf16_4096, &bf16w},
               {"q4_0 -O0", qcc_test_gemv_q4_0_4096_o0, &q4},
               {"q4_0 -O1", qcc_test_gemv_q4_0_4096_o1, &q4},
               {"q4_0 -O2", qcc_test_gemv_q4_0_4096_o2, &q4},
               {"q4_0", qcc_test_gemv_q4_0_4096, &q4},
               {"q4_K -O2", qcc_test_gemv_q4_k_4096_o2, &q4k},
               {"q4_0 q8act", qcc_test_gemv_q4_0_4096_q8, &q4},
               {"q4_K", qcc_test_gemv_q4_k_4096, &q4k},
               {"q4_K q8act", qcc_test_gemv_q4_k_4096_q8, &q4k},
               {"q3_K", qcc_test_gemv_q3_k_4096, &q3k},
               {"q6_K", qcc_test_gemv_q6_k_4096, &q6k},
               {"q6_K q8act", qcc_test_gemv_q6_k_4096_q8, &q6k},
               {"int4_g128_asym", qcc_test_gemv_int4_g128_asym_4096, &int4},
               {"int4_g128a q8act", qcc_test_gemv_int4_g128_asym_4096_q8, &int4},
               {"int4_g128s q8act", qcc_test_gemv_int4_g128_sym_4096_q8, &int4s},
               {"int3_g128_asym", qcc_test_gemv_int3_g128_asym_4096, &int3},
               {"w8a8 (int8_g0)", qcc_test_gemv_w8a8_4096, &int8}};
  // The read bandwidth of this machine can change within seconds (a shared host): each row is
  // compared with the higher of the reads right before and right after it.
  double before = stream;
  for (auto &c : cases) {
    Result r = timeGemv(c.fn, c.weights->bytes, c.weights->rowBytes, c.weights->elemBits, reps);
    const double after = readBandwidth(3), bw = std::max(before, after);
    std::printf("%-17s 4096x4096 cold, %5.2f MB weights: median %.2f GB/s (%.0f%% of read bw), "
                "best %.2f GB/s (%.0f%%); read bw before/after %.1f/%.1f GB/s%s\n",
                c.name, double(c.weights->bytes.size()) / 1e6, r.medianGBs,
                100 * r.medianGBs / bw, r.bestGBs, 100 * r.bestGBs / bw, before, after,
                std::max(before, after) > 1.25 * std::min(before, after) ? " (changed)" : "");
    before = after;
  }
  return 0;
}
