//===- Q8ActTest.cpp - qcc_matmul act_quant=q8_block against a scalar model ===//
//
// The q8 kernels (lib/Codegen/Kernels/MatMulQ8Act.cpp) quantize the activations per token and
// block of 32 columns (d = max|x| / 127, q = round_half_even(x · (d ? 1/d : 0)), x̂ = d · q) and
// compute Σ_k w_k · x̂_k with integer dot products. The model here does the same quantization
// in scalar C++ and the sum in double over the exactly dequantized weights (rt::dequantizeAll);
// every output must agree to 1e-6 of Σ_k |w_k · x̂_k| (float rounding of the per-lane scaling
// and the lane sums). The float kernel's result (no activation quantization) differs from the
// model by ~1e-3 of that, so a kernel that skipped or misplaced the quantization fails.
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "qcc_test_gemv_int4_g128_asym_4096_q8.h"
#include "qcc_test_gemv_int4_g128_sym_4096_q8.h"
#include "qcc_test_gemv_q4_0_4096_q8.h"
#include "qcc_test_gemv_q8_0_4096_q8.h"
#include "qcc_test_gemv_q4_k_4096_q8.h"
#include "qcc_test_gemv_q6_k_4096_q8.h"
#include "qcc_test_matmul_int4_g128_asym_q8.h"
#include "qcc_test_matmul_int4_g128_sym_q8.h"
#include "qcc_test_matmul_int4_g128_asym_q8_generic.h"
#include "qcc_test_matmul_int4_g128_asym_q8_long.h"
#include "qcc_test_matmul_int4_g128_sym_q8_b3.h"
#include "qcc_test_matmul_int4_g128_sym_q8_b3_rb4.h"
#include "qcc_test_matmul_int4_g256_asym_q8.h"
#include "qcc_test_matmul_int4_g32_asym_q8.h"
#include "qcc_test_matmul_int4_g64_sym_q8.h"
#include "qcc_test_matmul_q4_0_q8.h"
#include "qcc_test_matmul_q8_0_q8.h"
#include "qcc_test_matmul_q8_0_q8_generic.h"
#include "qcc_test_matmul_q4_0_q8_generic.h"
#include "qcc_test_matmul_q4_0_q8_o1.h"
#include "qcc_test_matmul_q4_0_q8_rb2.h"
#include "qcc_test_matmul_q4_k.h"
#include "qcc_test_matmul_q4_k_q8.h"
#include "qcc_test_matmul_q4_k_q8_b3.h"
#include "qcc_test_matmul_q4_k_q8_generic.h"
#include "qcc_test_matmul_q4_k_q8_o0.h"
#include "qcc_test_matmul_q4_k_q8_rb4.h"
#include "qcc_test_matmul_q6_k_q8.h"
#include "qcc_test_matmul_q6_k_q8_generic.h"
#include "qcc_test_matmul_q6_k_q8_pairs.h"
#include "qcc_test_matmul_q6_k_q8_rb4.h"

#include "qcc/Codegen/KernelKey.h"
#include "qcc/Codegen/KernelObject.h"

#include "HalideBuffer.h"
#include "TestFiles.h"

#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <string>

using namespace qcc;
using namespace qcc::kerneltest;
using Halide::Runtime::Buffer;

namespace {

/// ggml's quantize_row_q8_0 per block of `block` columns (round half to even, as the kernel's
/// round()), returned dequantized: x̂ = d · q. Blocks of 32 for q4_0 and int4 groups
/// (MatMulQ8Act.cpp), of 256 for q4_K and q6_K (MatMulQ8K.cpp, ggml's q8_K blocks).
std::vector<float> fakeQuantQ8Blocks(const std::vector<float> &x, int64_t cols, int64_t n,
                                     int block = 32) {
  std::vector<float> out(x.size());
  for (int64_t t = 0; t < n; ++t)
    for (int64_t b = 0; b < cols; b += block) {
      const float *v = &x[size_t(t * cols + b)];
      float amax = 0;
      for (int k = 0; k < block; ++k)
        amax = std::max(amax, std::fabs(v[k]));
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      for (int k = 0; k < block; ++k) {
        float q = std::nearbyint(v[k] * id);
        q = std::min(127.0f, std::max(-127.0f, q));
        out[size_t(t * cols + b + k)] = d * q;
      }
    }
  return out;
}

/// Runs `fn` on rows × cols weights of `c` and n tokens and compares every output with the
/// model, to `rel` of Σ|w · x̂| per output. Returns the largest error relative to that sum.
double checkQ8(const Case &c, int64_t rows, int64_t cols, int64_t n, unsigned seed,
               std::vector<float> x = {}, double rel = 1e-6) {
  QuantWeight q = quantize(c, rows, cols, seed);
  if (x.empty())
    x = gaussian(size_t(n * cols), seed + 1);
  const bool kQuant = c.type == GGMLType::Q4_K || c.type == GGMLType::Q6_K;
  std::vector<float> xq = fakeQuantQ8Blocks(x, cols, n, kQuant ? 256 : 32);
  std::vector<float> w = rt::dequantizeAll(q.view);
  std::vector<float> got(size_t(n * rows), -1.0f);
  Buffer<float> xb(x.data(), int(cols), int(n));
  Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), int(rows));
  Buffer<float> yb(got.data(), int(rows), int(n));
  EXPECT_EQ(c.fn(xb, wb, yb), 0) << c.name;
  double worst = 0;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const double p = double(w[size_t(r * cols + k)]) * double(xq[size_t(t * cols + k)]);
        sum += p;
        mag += std::fabs(p);
      }
      const double err = std::fabs(double(got[size_t(t * rows + r)]) - sum);
      const double e = mag > 0 ? err / mag : err;
      if (!(e <= worst)) // NaN too
        worst = e;
      if (!(err <= rel * mag + 1e-30)) {
        ADD_FAILURE() << c.name << " rows=" << rows << " cols=" << cols << " n=" << n
                      << ": output (" << t << ", " << r << ") = " << got[size_t(t * rows + r)]
                      << ", model " << sum << " (Σ|w·x̂| " << mag << ")";
        return worst;
      }
    }
  return worst;
}

Case q8Case(const char *name, MatMulFn fn, GGMLType type,
            std::optional<quantalgo::IntGroupFormat> f = std::nullopt) {
  return {name, fn, type, f};
}

} // namespace

TEST(Q8Act, MatchesScalarModel) {
  const Case q4k = q8Case("q4_K", qcc_test_matmul_q4_k_q8, GGMLType::Q4_K);
  const Case q40 = q8Case("q4_0", qcc_test_matmul_q4_0_q8, GGMLType::Q4_0);
  const Case i4a = q8Case("int4_g128_asym", qcc_test_matmul_int4_g128_asym_q8, GGMLType::I8,
                          intFormat(4, 128, false));
  const Case i4s = q8Case("int4_g128_sym", qcc_test_matmul_int4_g128_sym_q8, GGMLType::I8,
                          intFormat(4, 128, true));
  for (const Case &c : {q4k, q40, i4a, i4s}) {
    const double worst = checkQ8(c, 37, 512, 1, 11); // rows: not a multiple of the 16-row tile
    std::printf("%s: worst |kernel - model| / sum|w*xq| = %.2g\n", c.name.c_str(), worst);
    checkQ8(c, 16, 1536, 1, 12);
    checkQ8(c, 1, 256, 1, 13);
  }
  checkQ8(q40, 20, 384, 1, 14); // 3 steps of 4 blocks
  {
    // q8_0: 8-bit codes (+128, unsigned) × int8 activations, offsets −128 d in the integer sums.
    const Case q80 = q8Case("q8_0", qcc_test_matmul_q8_0_q8, GGMLType::Q8_0);
    const double worst = checkQ8(q80, 37, 512, 1, 41);
    std::printf("q8_0: worst |kernel - model| / sum|w*xq| = %.2g\n", worst);
    checkQ8(q80, 16, 1536, 1, 42);
    checkQ8(q80, 20, 384, 1, 43);
  }
  {
    const Case q6k = q8Case("q6_K", qcc_test_matmul_q6_k_q8, GGMLType::Q6_K);
    const double worst = checkQ8(q6k, 37, 512, 1, 19);
    std::printf("q6_K: worst |kernel - model| / sum|w*xq| = %.2g\n", worst);
    checkQ8(q6k, 5, 1536, 1, 20);
  }
  checkQ8(i4s, 9, 384, 1, 15);
  checkQ8(q8Case("int4_g32_asym", qcc_test_matmul_int4_g32_asym_q8, GGMLType::I8,
                 intFormat(4, 32, false)),
          23, 640, 1, 16);
  checkQ8(q8Case("int4_g64_sym", qcc_test_matmul_int4_g64_sym_q8, GGMLType::I8,
                 intFormat(4, 64, true)),
          23, 384, 1, 17);
  checkQ8(q8Case("int4_g256_asym", qcc_test_matmul_int4_g256_asym_q8, GGMLType::I8,
                 intFormat(4, 256, false)),
          23, 768, 1, 18);
}

TEST(Q8Act, SmallBatchAndLowerOptLevels) {
  checkQ8(q8Case("q4_K b3", qcc_test_matmul_q4_k_q8_b3, GGMLType::Q4_K), 21, 512, 3, 21);
  checkQ8(q8Case("int4_g128_sym b3", qcc_test_matmul_int4_g128_sym_q8_b3, GGMLType::I8,
                 intFormat(4, 128, true)),
          21, 512, 3, 22);
  checkQ8(q8Case("q4_K -O0", qcc_test_matmul_q4_k_q8_o0, GGMLType::Q4_K), 19, 512, 1, 23);
  checkQ8(q8Case("q4_0 -O1 b2", qcc_test_matmul_q4_0_q8_o1, GGMLType::Q4_0), 19, 512, 2, 24);
}

// Row blocks (row_block=): several rows per step share the activations' loads (fixed shapes,
// whole tiles). And a long row (int4 asym, 8448 columns: 66 steps, one row per step).
TEST(Q8Act, RowBlocks) {
  checkQ8(q8Case("q4_K rb4", qcc_test_matmul_q4_k_q8_rb4, GGMLType::Q4_K), 48, 512, 1, 61);
  checkQ8(q8Case("q6_K rb4", qcc_test_matmul_q6_k_q8_rb4, GGMLType::Q6_K), 32, 768, 1, 62);
  checkQ8(q8Case("q4_0 rb2 b2", qcc_test_matmul_q4_0_q8_rb2, GGMLType::Q4_0), 32, 384, 2, 63);
  checkQ8(q8Case("int4_g128_sym rb4 b3", qcc_test_matmul_int4_g128_sym_q8_b3_rb4, GGMLType::I8,
                 intFormat(4, 128, true)),
          48, 640, 3, 64);
  checkQ8(q8Case("int4_g128_asym 8448", qcc_test_matmul_int4_g128_asym_q8_long, GGMLType::I8,
                 intFormat(4, 128, false)),
          32, 8448, 1, 65);
}

// q6_K as x86 without AVX512-VNNI computes it (pmaddubsw pairs, the scales in one pmaddwd
// chain per super-block), built for AVX2 on x86 hosts that have it.
TEST(Q8Act, Q6KPairs) {
  checkQ8(q8Case("q6_K pairs", qcc_test_matmul_q6_k_q8_pairs, GGMLType::Q6_K), 32, 768, 2, 75);
}

// The 4-byte-reduction formulation (arm sdot, AVX512-VNNI) of both kernels, built for baseline
// x86-64 (lib/Codegen/Kernels/CMakeLists.txt), at batch 2.
TEST(Q8Act, FourByteReductions) {
  checkQ8(q8Case("q4_K generic", qcc_test_matmul_q4_k_q8_generic, GGMLType::Q4_K), 32, 768, 2, 71);
  checkQ8(q8Case("q6_K generic", qcc_test_matmul_q6_k_q8_generic, GGMLType::Q6_K), 32, 768, 2, 72);
  checkQ8(q8Case("q4_0 generic", qcc_test_matmul_q4_0_q8_generic, GGMLType::Q4_0), 32, 768, 2, 73);
  checkQ8(q8Case("q8_0 generic", qcc_test_matmul_q8_0_q8_generic, GGMLType::Q8_0), 32, 768, 2, 76);
  checkQ8(q8Case("int4_g128_asym generic", qcc_test_matmul_int4_g128_asym_q8_generic,
                 GGMLType::I8, intFormat(4, 128, false)),
          32, 768, 2, 74);
}

TEST(Q8Act, Gemv4096) {
  checkQ8(q8Case("q4_K 4096", qcc_test_gemv_q4_k_4096_q8, GGMLType::Q4_K), 4096, 4096, 1, 31);
  checkQ8(q8Case("q4_0 4096", qcc_test_gemv_q4_0_4096_q8, GGMLType::Q4_0), 4096, 4096, 1, 32);
  checkQ8(q8Case("q8_0 4096", qcc_test_gemv_q8_0_4096_q8, GGMLType::Q8_0), 4096, 4096, 1, 36);
  checkQ8(q8Case("q6_K 4096", qcc_test_gemv_q6_k_4096_q8, GGMLType::Q6_K), 4096, 4096, 1, 35);
  checkQ8(q8Case("int4a 4096", qcc_test_gemv_int4_g128_asym_4096_q8, GGMLType::I8,
                 intFormat(4, 128, false)),
          4096, 4096, 1, 33);
  checkQ8(q8Case("int4s 4096", qcc_test_gemv_int4_g128_sym_4096_q8, GGMLType::I8,
                 intFormat(4, 128, true)),
          4096, 4096, 1, 34);
}

// Zero blocks (d = 0: every code 0), an outlier that flattens its block, tiny values.
TEST(Q8Act, ZeroBlocksAndOutliers) {
  const int64_t cols = 512;
  std::vector<float> x = gaussian(size_t(2 * cols), 41);
  for (int k = 0; k < 32; ++k)
    x[size_t(64 + k)] = 0.0f; // token 0, block 2
  x[100] = 300.0f;            // token 0, block 3
  for (int k = 0; k < 32; ++k)
    x[size_t(cols + 32 * 5 + k)] *= 1e-30f; // token 1, block 5 (subnormal products)
  for (int b = 0; b < 2; ++b) {
    std::vector<float> xt(x.begin() + b * cols, x.begin() + (b + 1) * cols);
    checkQ8(q8Case("q4_K", qcc_test_matmul_q4_k_q8, GGMLType::Q4_K), 17, cols, 1, 42, xt);
    checkQ8(q8Case("int4_g128_asym", qcc_test_matmul_int4_g128_asym_q8, GGMLType::I8,
                   intFormat(4, 128, false)),
            17, cols, 1, 43, xt);
  }
}

// The model's bound is tight enough to see activation quantization: the float kernel (same
// weights, x not quantized) is far outside it.
TEST(Q8Act, ModelDetectsUnquantizedActivations) {
  const Case floatKernel = q8Case("q4_K float", qcc_test_matmul_q4_k, GGMLType::Q4_K);
  double worst = 0;
  {
    ::testing::ScopedTrace trace(__FILE__, __LINE__, "expected to fail the model's bound");
    QuantWeight q = quantize(floatKernel, 8, 512, 51);
    std::vector<float> x = gaussian(512, 52);
    std::vector<float> xq = fakeQuantQ8Blocks(x, 512, 1);
    std::vector<float> w = rt::dequantizeAll(q.view);
    std::vector<float> got(8);
    Buffer<float> xb(x.data(), 512, 1);
    Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), 8);
    Buffer<float> yb(got.data(), 8, 1);
    ASSERT_EQ(floatKernel.fn(xb, wb, yb), 0);
    for (int r = 0; r < 8; ++r) {
      double sum = 0, mag = 0;
      for (int k = 0; k < 512; ++k) {
        sum += double(w[size_t(r * 512 + k)]) * xq[size_t(k)];
        mag += std::fabs(double(w[size_t(r * 512 + k)]) * xq[size_t(k)]);
      }
      worst = std::max(worst, std::fabs(got[size_t(r)] - sum) / mag);
    }
  }
  EXPECT_GT(worst, 1e-4);
}

#if defined(__x86_64__)
namespace {

/// A decode kernel built exactly as `qcc --target=x86-64` builds it on this machine: the
/// generator's bitcode for qcc's Halide target (KernelKey::generatorCommand, half_extern) and
/// qcc's LLVM compiling it for this CPU (compileKernelBitcode: AVX512-VNNI, F16C where the CPU
/// has them), linked with its runtime into a shared library and loaded. The kernels above are
/// Halide's own objects for the build's test target, which never names avx512_sapphirerapids
/// on CPUs without AVX512-FP16 (Zen 4): the VNNI formulations qcc selects there run only here.
struct QccBuiltKernel {
  MatMulFn fn = nullptr;
  void *handle = nullptr;
  ~QccBuiltKernel() {
    if (handle)
      dlclose(handle);
  }
};

void buildAsQcc(QccBuiltKernel &out, const std::string &format, int64_t rows, int64_t cols) {
  namespace fs = std::filesystem;
  using namespace qcc::codegen;
  const fs::path dir = qcc::test::freshDir("q8host", format + "-" + std::to_string(cols));
  const std::string log = (dir / "log.txt").string();
  KernelKey k;
  k.format = format;
  k.rows = rows;
  k.cols = cols;
  k.batch = 1;
  k.q8Activations = true;
  std::string host = hostKernelTarget(/*ownLlvm=*/true);
  k.target = host == "host" ? "x86-64-linux" : host;
  ASSERT_TRUE(q8ActivationsSupported(format, cols, 1, k.target));
  for (const auto &args : {k.generatorCommand(QCC_KERNEL_GEN, dir.string(), /*bitcode=*/true),
                           runtimeCommand(QCC_KERNEL_GEN, dir.string(),
                                          runtimeTargetForOwnLlvm(k.target))}) {
    const std::string cmd = qcc::test::shellCommand(args);
    ASSERT_EQ(std::system((cmd + "> " + log + " 2>&1").c_str()), 0)
        << cmd << "\n" << qcc::test::readFile(log);
  }
  std::optional<KernelCpu> cpu = kernelCpuFor("x86-64");
  ASSERT_TRUE(cpu.has_value());
  initializeLLVMTargets();
  const fs::path obj = dir / "k.o", lib = dir / "k.so";
  llvm::Error e =
      compileKernelBitcode((dir / (k.functionName() + ".bc")).string(), obj.string(), *cpu);
  ASSERT_FALSE(e) << llvm::toString(std::move(e));
  const std::string link = std::string(QCC_CXX_COMPILER) + " -shared -o " + lib.string() + " " +
                           obj.string() + " " + (dir / kHalideRuntimeLibrary).string() +
                           " -lpthread -ldl > " + log + " 2>&1";
  ASSERT_EQ(std::system(link.c_str()), 0) << link << "\n" << qcc::test::readFile(log);
  out.handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(out.handle, nullptr) << dlerror();
  out.fn = reinterpret_cast<MatMulFn>(dlsym(out.handle, k.functionName().c_str()));
  ASSERT_NE(out.fn, nullptr) << k.functionName();
  std::printf("%s: %s, CPU %s\n", k.functionName().c_str(), k.target.c_str(), cpu->name.c_str());
}

} // namespace

// The q8 decode kernels as qcc compiles them for this machine, against the same scalar model:
// q4_K (on AVX512-VNNI: pmaddubsw pairs into one vpdpwssd chain, permuted scales, pmaddwd
// mins), q6_K (vpdpbusd there), q4_0 and int4 groups (vpdpbusd; q4_0 with software
// prefetch; the groups' f16 scales and zero points read as whole vectors, KernelObject.cpp's
// loadedHalves), rows not a multiple of the row tile, and rows of 8448 columns.
TEST(Q8Act, AsQccBuildsThemForThisMachine) {
  struct Shape {
    const char *format;
    GGMLType type;
    std::optional<quantalgo::IntGroupFormat> f;
    int64_t rows, cols;
  };
  const Shape shapes[] = {
      {"q4_K", GGMLType::Q4_K, std::nullopt, 37, 768},
      {"q4_K", GGMLType::Q4_K, std::nullopt, 32, 8448},
      {"q6_K", GGMLType::Q6_K, std::nullopt, 37, 768},
      {"q4_0", GGMLType::Q4_0, std::nullopt, 37, 512},
      {"q8_0", GGMLType::Q8_0, std::nullopt, 37, 512},
      {"int4_g128_sym", GGMLType::I8, intFormat(4, 128, true), 37, 512},
      {"int4_g128_asym", GGMLType::I8, intFormat(4, 128, false), 32, 8448},
      {"int4_g32_asym", GGMLType::I8, intFormat(4, 32, false), 37, 512},
  };
  unsigned seed = 81;
  for (const Shape &sh : shapes) {
    QccBuiltKernel k;
    buildAsQcc(k, sh.format, sh.rows, sh.cols);
    if (!k.fn)
      return; // buildAsQcc said why
    const double worst =
        checkQ8(q8Case(sh.format, k.fn, sh.type, sh.f), sh.rows, sh.cols, 1, seed++);
    std::printf("  worst |kernel - model| / sum|w*xq| = %.2g\n", worst);
  }
}
#endif
