//===- prefill-bench.cpp - dynamic-batch matmul (prefill) throughput -------===//
//
// Times y[n, 4096] = x[n, 4096] · W[4096, 4096]ᵀ with the dynamic-batch qcc_matmul kernels for
// q4_0, q4_K, q6_K and int4 g128 (lib/Codegen/Kernels: qcc_test_matmul_<format>, with the
// register-blocked prefill GEMM from n >= 32 tokens on, and qcc_test_matmul_<format>_nogemm,
// built with prefill_gemm=false: the GEMV-style schedule at every n) for n = 1 .. 512.
// Reports GFLOP/s (2·n·4096² flops), the median of `reps` warm runs. Usage: prefill-bench [reps]
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/GGMLFormats.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include "qcc_test_matmul_int4_g128_asym.h"
#include "qcc_test_matmul_int4_g128_asym_nogemm.h"
#include "qcc_test_matmul_q4_0.h"
#include "qcc_test_matmul_q4_0_nogemm.h"
#include "qcc_test_matmul_q4_k.h"
#include "qcc_test_matmul_q4_k_nogemm.h"
#include "qcc_test_matmul_q6_k.h"
#include "qcc_test_matmul_q6_k_nogemm.h"

#include "HalideBuffer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using Clock = std::chrono::steady_clock;
using Halide::Runtime::Buffer;
using MatMulFn = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

namespace {

constexpr int kDim = 4096;

double medianSeconds(MatMulFn fn, std::vector<float> &x, std::vector<uint8_t> &w, int64_t rowBytes,
                     int n, int reps) {
  std::vector<float> y(size_t(n) * kDim);
  Buffer<float> xb(x.data(), kDim, n), yb(y.data(), kDim, n);
  Buffer<uint8_t> wb(w.data(), int(rowBytes), kDim);
  if (fn(xb, wb, yb) != 0)
    std::exit(1);
  std::vector<double> times;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = Clock::now();
    fn(xb, wb, yb);
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::vector<float> wf(size_t(kDim) * kDim);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  for (float &v : wf)
    v = dist(rng);
  std::vector<float> x(size_t(512) * kDim);
  for (float &v : x)
    v = dist(rng) * 20.0f;

  struct Case {
    const char *name;
    MatMulFn gemm, gemv;
    std::vector<uint8_t> bytes;
    int64_t rowBytes;
  };
  auto ggml = [&](const char *name, MatMulFn a, MatMulFn b, qcc::GGMLType type) {
    Case c{name, a, b, {}, int64_t(qcc::rowBytes(type, kDim))};
    c.bytes.resize(size_t(c.rowBytes) * kDim);
    if (auto err = qcc::quantizeRows(type, wf.data(), c.bytes.data(), kDim, kDim)) {
      llvm::consumeError(std::move(err));
      std::exit(1);
    }
    return c;
  };
  std::vector<Case> cases;
  cases.push_back(ggml("q4_0", qcc_test_matmul_q4_0, qcc_test_matmul_q4_0_nogemm,
                       qcc::GGMLType::Q4_0));
  cases.push_back(ggml("q4_K", qcc_test_matmul_q4_k, qcc_test_matmul_q4_k_nogemm,
                       qcc::GGMLType::Q4_K));
  cases.push_back(ggml("q6_K", qcc_test_matmul_q6_k, qcc_test_matmul_q6_k_nogemm,
                       qcc::GGMLType::Q6_K));
  {
    qcc::quantalgo::IntGroupFormat f;
    f.bits = 4;
    f.groupSize = 128;
    f.symmetric = false;
    Case c{"int4_g128_asym", qcc_test_matmul_int4_g128_asym,
           qcc_test_matmul_int4_g128_asym_nogemm, {}, int64_t(qcc::quantalgo::rowBytes(f, kDim))};
    c.bytes.resize(size_t(c.rowBytes) * kDim);
    qcc::quantalgo::quantizeMatrixRTN(f, wf.data(), kDim, kDim, c.bytes.data());
    cases.push_back(std::move(c));
  }
  std::printf("%-15s %5s  %12s  %12s  %7s\n", "format", "n", "GEMM GFLOP/s", "GEMV GFLOP/s",
              "speedup");
  for (Case &c : cases)
    for (int n : {16, 32, 64, 128, 256, 512}) {
      const double flops = 2.0 * n * double(kDim) * kDim;
      const double a = medianSeconds(c.gemm, x, c.bytes, c.rowBytes, n, reps);
      const double b = medianSeconds(c.gemv, x, c.bytes, c.rowBytes, n, reps);
      std::printf("%-15s %5d  %12.1f  %12.1f  %6.2fx\n", c.name, n, flops / a / 1e9,
                  flops / b / 1e9, b / a);
    }
  return 0;
}
