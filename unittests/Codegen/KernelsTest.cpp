//===- KernelsTest.cpp - AOT Halide kernels against the rt:: reference kernels ===//
//
// Weights are random Gaussians quantized with qcc's own quantizers (quantizeRows for the ggml
// formats, quantizeMatrixRTN for #qllm.int), so the kernels read exactly the bytes the compiler
// will embed. Tolerance: the kernels sum in a different order than rt::linear (per-lane partial
// sums, then a tree), so results agree to float rounding: |y − ref| ≤ 1e-5 · max|ref| over the
// whole output. Every multiplication inside a weight's dequantization is done in the same order
// as the reference, so a decoding bug shows up as an O(1) relative error, far above that.
//
// The -O0..-O2 variants (OptLevel tests) run the same checks: only the schedule differs.
//
//===----------------------------------------------------------------------===//
#include "qcc/Runtime/Kernels.h"

#include "qcc_test_embed_bf16.h"
#include "qcc_test_embed_f16.h"
#include "qcc_test_embed_f32.h"
#include "qcc_test_embed_int2_g16_asym.h"
#include "qcc_test_embed_int2_g64_asym.h"
#include "qcc_test_embed_int3_g128_asym.h"
#include "qcc_test_embed_int4_g0_sym.h"
#include "qcc_test_embed_int4_g128_asym.h"
#include "qcc_test_embed_int4_g128_sym.h"
#include "qcc_test_embed_int5_g32_sym.h"
#include "qcc_test_embed_int6_g0_asym.h"
#include "qcc_test_embed_int7_g16_sym.h"
#include "qcc_test_embed_int8_g0_sym.h"
#include "qcc_test_embed_iq4_nl.h"
#include "qcc_test_embed_q2_k.h"
#include "qcc_test_embed_q3_k.h"
#include "qcc_test_embed_q4_0.h"
#include "qcc_test_embed_q4_1.h"
#include "qcc_test_embed_q4_k.h"
#include "qcc_test_embed_q5_0.h"
#include "qcc_test_embed_q5_1.h"
#include "qcc_test_embed_q5_k.h"
#include "qcc_test_embed_q6_k.h"
#include "qcc_test_embed_q8_0.h"
#include "qcc_test_gemv_int3_g128_asym_4096.h"
#include "qcc_test_gemv_int4_g128_asym_4096.h"
#include "qcc_test_gemv_q3_k_4096.h"
#include "qcc_test_gemv_q4_0_4096.h"
#include "qcc_test_gemv_q4_k_4096.h"
#include "qcc_test_gemv_w8a8_4096.h"
#include "qcc_test_matmul_bf16.h"
#include "qcc_test_matmul_f16.h"
#include "qcc_test_matmul_f32.h"
#include "qcc_test_matmul_int2_g16_asym.h"
#include "qcc_test_matmul_int2_g64_asym.h"
#include "qcc_test_matmul_int3_g128_asym.h"
#include "qcc_test_matmul_int4_g0_sym.h"
#include "qcc_test_matmul_int4_g128_asym.h"
#include "qcc_test_matmul_int4_g128_sym.h"
#include "qcc_test_matmul_int5_g32_sym.h"
#include "qcc_test_matmul_int6_g0_asym.h"
#include "qcc_test_matmul_int7_g16_sym.h"
#include "qcc_test_matmul_int8_g0_sym.h"
#include "qcc_test_matmul_iq4_nl.h"
#include "qcc_test_matmul_q2_k.h"
#include "qcc_test_matmul_q3_k.h"
#include "qcc_test_matmul_q4_0.h"
#include "qcc_test_matmul_q4_1.h"
#include "qcc_test_matmul_q4_k.h"
#include "qcc_test_matmul_q5_0.h"
#include "qcc_test_matmul_q5_1.h"
#include "qcc_test_matmul_q5_k.h"
#include "qcc_test_matmul_q6_k.h"
#include "qcc_test_matmul_q8_0.h"
#include "qcc_test_matmul_q8_0_b4.h"
#include "qcc_test_matmul_w8a8.h"
#include "qcc_test_matmul_w8a8_b4.h"
#include "qcc_test_rms_norm.h"
// The same kernels at lower -O levels (opt=0..2; lib/Codegen/Kernels/OptLevel.h).
#include "qcc_test_embed_q4_k_o0.h"
#include "qcc_test_gemv_q4_0_4096_o0.h"
#include "qcc_test_gemv_q4_0_4096_o1.h"
#include "qcc_test_gemv_q4_0_4096_o2.h"
#include "qcc_test_gemv_q4_k_4096_o2.h"
#include "qcc_test_matmul_f32_o0.h"
#include "qcc_test_matmul_int3_g128_asym_o0.h"
#include "qcc_test_matmul_int3_g128_asym_o2.h"
#include "qcc_test_matmul_q4_0_o0.h"
#include "qcc_test_matmul_q4_k_o0.h"
#include "qcc_test_matmul_q4_k_o1.h"
#include "qcc_test_matmul_q6_k_o0.h"
#include "qcc_test_matmul_q8_0_b4_o1.h"
#include "qcc_test_matmul_w8a8_b4_o1.h"
#include "qcc_test_matmul_w8a8_o0.h"
#include "qcc_test_rms_norm_o0.h"
#include "qcc_test_rms_norm_o1.h"
#include "qcc_test_swiglu_o0.h"
#include "qcc_test_swiglu.h"

#include "KernelTestUtil.h"

#include "HalideBuffer.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

using namespace qcc;
using namespace qcc::kerneltest;
using Halide::Runtime::Buffer;

namespace {

/// The weight buffer qcc_matmul / qcc_embed take (WeightDecoders.h, as qcc_rt.c builds it): f32
/// rows as float32, f16 / bf16 rows as uint16 bits, every other format as the row bytes.
Buffer<> weightBuffer(QuantWeight &q, int64_t rows) {
  halide_type_t t(halide_type_uint, 8);
  if (q.view.type == GGMLType::F32)
    t = halide_type_t(halide_type_float, 32);
  else if (q.view.type == GGMLType::F16 || q.view.type == GGMLType::BF16)
    t = halide_type_t(halide_type_uint, 16);
  return Buffer<>(t, q.bytes.data(), int(q.view.rowBytes / (t.bits / 8)), int(rows));
}

void checkMatMul(const Case &c, int64_t rows, int64_t cols, int64_t n, unsigned seed) {
  QuantWeight q = quantize(c, rows, cols, seed);
  std::vector<float> x = gaussian(size_t(n * cols), seed + 1);
  std::vector<float> ref(size_t(n * rows)), got(size_t(n * rows), -1.0f);
  rt::linear(x.data(), n, q.view, ref.data());

  Buffer<float> xb(x.data(), int(cols), int(n));
  Buffer<> wb = weightBuffer(q, rows);
  Buffer<float> yb(got.data(), int(rows), int(n));
  ASSERT_EQ(c.fn(xb, wb, yb), 0) << c.name;
  expectClose(got, ref, 1e-5,
              c.name + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                  " n=" + std::to_string(n));
}

std::vector<Case> dynamicCases() {
  return {
      {"f32", qcc_test_matmul_f32, GGMLType::F32, std::nullopt, qcc_test_embed_f32},
      {"f16", qcc_test_matmul_f16, GGMLType::F16, std::nullopt, qcc_test_embed_f16},
      {"bf16", qcc_test_matmul_bf16, GGMLType::BF16, std::nullopt, qcc_test_embed_bf16},
      {"q8_0", qcc_test_matmul_q8_0, GGMLType::Q8_0, std::nullopt, qcc_test_embed_q8_0},
      {"q4_0", qcc_test_matmul_q4_0, GGMLType::Q4_0, std::nullopt, qcc_test_embed_q4_0},
      {"q4_1", qcc_test_matmul_q4_1, GGMLType::Q4_1, std::nullopt, qcc_test_embed_q4_1},
      {"q5_0", qcc_test_matmul_q5_0, GGMLType::Q5_0, std::nullopt, qcc_test_embed_q5_0},
      {"q5_1", qcc_test_matmul_q5_1, GGMLType::Q5_1, std::nullopt, qcc_test_embed_q5_1},
      {"q2_K", qcc_test_matmul_q2_k, GGMLType::Q2_K, std::nullopt, qcc_test_embed_q2_k},
      {"q3_K", qcc_test_matmul_q3_k, GGMLType::Q3_K, std::nullopt, qcc_test_embed_q3_k},
      {"q4_K", qcc_test_matmul_q4_k, GGMLType::Q4_K, std::nullopt, qcc_test_embed_q4_k},
      {"q5_K", qcc_test_matmul_q5_k, GGMLType::Q5_K, std::nullopt, qcc_test_embed_q5_k},
      {"q6_K", qcc_test_matmul_q6_k, GGMLType::Q6_K, std::nullopt, qcc_test_embed_q6_k},
      {"iq4_nl", qcc_test_matmul_iq4_nl, GGMLType::IQ4_NL, std::nullopt, qcc_test_embed_iq4_nl},
      {"int4_g128_asym", qcc_test_matmul_int4_g128_asym, GGMLType::I8, intFormat(4, 128, false), qcc_test_embed_int4_g128_asym},
      {"int4_g128_sym", qcc_test_matmul_int4_g128_sym, GGMLType::I8, intFormat(4, 128, true), qcc_test_embed_int4_g128_sym},
      {"int8_g0_sym", qcc_test_matmul_int8_g0_sym, GGMLType::I8, intFormat(8, 0, true), qcc_test_embed_int8_g0_sym},
      {"int2_g64_asym", qcc_test_matmul_int2_g64_asym, GGMLType::I8, intFormat(2, 64, false), qcc_test_embed_int2_g64_asym},
      {"int3_g128_asym", qcc_test_matmul_int3_g128_asym, GGMLType::I8, intFormat(3, 128, false), qcc_test_embed_int3_g128_asym},
      {"int5_g32_sym", qcc_test_matmul_int5_g32_sym, GGMLType::I8, intFormat(5, 32, true), qcc_test_embed_int5_g32_sym},
      {"int6_g0_asym", qcc_test_matmul_int6_g0_asym, GGMLType::I8, intFormat(6, 0, false), qcc_test_embed_int6_g0_asym},
      {"int7_g16_sym", qcc_test_matmul_int7_g16_sym, GGMLType::I8, intFormat(7, 16, true), qcc_test_embed_int7_g16_sym},
      {"int2_g16_asym", qcc_test_matmul_int2_g16_asym, GGMLType::I8, intFormat(2, 16, false), qcc_test_embed_int2_g16_asym},
      {"int4_g0_sym", qcc_test_matmul_int4_g0_sym, GGMLType::I8, intFormat(4, 0, true), qcc_test_embed_int4_g0_sym},
  };
}

class DynamicMatMul : public ::testing::TestWithParam<Case> {};

/// Formats whose rows may have any length (a scalar tail after the whole steps): per-channel
/// integer groups and the float formats.
bool anyRowLength(const Case &c) {
  if (c.intFormat)
    return c.intFormat->groupSize == 0;
  return c.type == GGMLType::F32 || c.type == GGMLType::F16 || c.type == GGMLType::BF16;
}

// Shapes: a row count that is not a multiple of the 16-row tile, single rows, and batches (below
// and above the prefill GEMM's 32 tokens).
TEST_P(DynamicMatMul, MatchesReferenceLinear) {
  const Case &c = GetParam();
  checkMatMul(c, 37, 512, 1, 11);
  checkMatMul(c, 1, 256, 1, 12);
  checkMatMul(c, 64, 768, 3, 13);
  checkMatMul(c, 20, 1024, 9, 14);
  // From 32 tokens on: the prefill GEMM over dequantized row tiles (tails of rows and tokens).
  checkMatMul(c, 37, 512, 40, 18);
  checkMatMul(c, 16, 256, 32, 19);
  // Per-channel and float rows of any length: a scalar tail after the whole steps.
  const bool anyLength = anyRowLength(c);
  if (anyLength) {
    checkMatMul(c, 19, 172, 2, 15);
    checkMatMul(c, 19, 172, 33, 20);
    checkMatMul(c, 5, 44, 1, 16);
    checkMatMul(c, 3, 8, 1, 17);
  }
}

// qcc_embed: rows of the table dequantized bit for bit as rt::embed (tolerance 0).
TEST_P(DynamicMatMul, EmbedMatchesReferenceExactly) {
  const Case &c = GetParam();
  const int64_t vocab = 11;
  const bool anyLength = anyRowLength(c);
  for (int64_t cols : {int64_t(512), int64_t(anyLength ? 172 : 256)}) {
    QuantWeight q = quantize(c, vocab, cols, 61);
    std::vector<int32_t> tokens = {3, 0, 10, 3, 7};
    const int64_t n = int64_t(tokens.size());
    std::vector<float> ref(size_t(n * cols)), got(size_t(n * cols), -1.0f);
    rt::embed(tokens.data(), n, q.view, ref.data());
    Buffer<int32_t> tb(tokens.data(), int(n));
    Buffer<> wb = weightBuffer(q, vocab);
    Buffer<float> yb(got.data(), int(cols), int(n));
    ASSERT_EQ(c.embed(tb, wb, yb), 0) << c.name;
    for (size_t k = 0; k < ref.size(); ++k)
      ASSERT_EQ(got[k], ref[k]) << c.name << " cols=" << cols << " at " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, DynamicMatMul, ::testing::ValuesIn(dynamicCases()),
                         [](const auto &info) { return info.param.name; });

// Lower -O levels: the same algorithm with scalar (O0), vectorised (O1) or vectorised and
// parallel (O2) schedules; the DynamicMatMul shapes, plus the row tails of f32.
std::vector<Case> optLevelCases() {
  return {
      {"f32/O0", qcc_test_matmul_f32_o0, GGMLType::F32, std::nullopt},
      {"q4_0/O0", qcc_test_matmul_q4_0_o0, GGMLType::Q4_0, std::nullopt},
      {"q4_K/O0", qcc_test_matmul_q4_k_o0, GGMLType::Q4_K, std::nullopt},
      {"q6_K/O0", qcc_test_matmul_q6_k_o0, GGMLType::Q6_K, std::nullopt},
      {"int3_g128_asym/O0", qcc_test_matmul_int3_g128_asym_o0, GGMLType::I8,
       intFormat(3, 128, false)},
      {"q4_K/O1", qcc_test_matmul_q4_k_o1, GGMLType::Q4_K, std::nullopt},
      {"int3_g128_asym/O2", qcc_test_matmul_int3_g128_asym_o2, GGMLType::I8,
       intFormat(3, 128, false)},
  };
}

TEST(OptLevels, MatMulMatchesReferenceAtEveryLevel) {
  for (const Case &c : optLevelCases()) {
    checkMatMul(c, 37, 512, 1, 11);
    checkMatMul(c, 1, 256, 1, 12);
    checkMatMul(c, 64, 768, 3, 13);
    checkMatMul(c, 20, 1024, 9, 14);
    if (anyRowLength(c)) {
      checkMatMul(c, 19, 172, 2, 15);
      checkMatMul(c, 3, 8, 1, 17);
    }
  }
  checkMatMul({"q8_0/b4/O1", qcc_test_matmul_q8_0_b4_o1, GGMLType::Q8_0, std::nullopt}, 53, 512,
              4, 31);
  for (auto [name, fn] : {std::pair<const char *, MatMulFn>{"q4_0/4096/O0", qcc_test_gemv_q4_0_4096_o0},
                          {"q4_0/4096/O1", qcc_test_gemv_q4_0_4096_o1},
                          {"q4_0/4096/O2", qcc_test_gemv_q4_0_4096_o2}})
    checkMatMul({name, fn, GGMLType::Q4_0, std::nullopt}, 4096, 4096, 1, 21);
  checkMatMul({"q4_K/4096/O2", qcc_test_gemv_q4_k_4096_o2, GGMLType::Q4_K, std::nullopt}, 4096,
              4096, 1, 23);
}

// Every level gives the same embedding bits (value() is per column, schedules only reorder).
TEST(OptLevels, EmbedO0MatchesReferenceExactly) {
  Case c{"q4_K/O0", nullptr, GGMLType::Q4_K, std::nullopt};
  QuantWeight q = quantize(c, 11, 512, 61);
  std::vector<int32_t> tokens = {3, 0, 10, 3, 7};
  std::vector<float> ref(5 * 512), got(5 * 512, -1.0f);
  rt::embed(tokens.data(), 5, q.view, ref.data());
  Buffer<int32_t> tb(tokens.data(), 5);
  Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), 11);
  Buffer<float> yb(got.data(), 512, 5);
  ASSERT_EQ(qcc_test_embed_q4_k_o0(tb, wb, yb), 0);
  EXPECT_EQ(got, ref);
}

// The fixed-shape decode kernels the benchmark times (rows = cols = 4096, batch 1).
TEST(FixedMatMul, Gemv4096MatchesReference) {
  checkMatMul({"q4_0/4096", qcc_test_gemv_q4_0_4096, GGMLType::Q4_0, std::nullopt}, 4096, 4096,
              1, 21);
  checkMatMul({"int4_g128_asym/4096", qcc_test_gemv_int4_g128_asym_4096, GGMLType::I8,
               intFormat(4, 128, false)},
              4096, 4096, 1, 22);
  checkMatMul({"q4_K/4096", qcc_test_gemv_q4_k_4096, GGMLType::Q4_K, std::nullopt}, 4096, 4096,
              1, 23);
  checkMatMul({"q3_K/4096", qcc_test_gemv_q3_k_4096, GGMLType::Q3_K, std::nullopt}, 4096, 4096,
              1, 24);
  checkMatMul({"int3_g128_asym/4096", qcc_test_gemv_int3_g128_asym_4096, GGMLType::I8,
               intFormat(3, 128, false)},
              4096, 4096, 1, 25);
}

// W8A8: x fake-quantized per token (rt::fakeQuantizeInt8PerRow), then the f32 linear; the
// kernel's int32 dot products are exact, so only the final scaling rounds: 1e-5 relative.
void checkW8A8(MatMulFn fn, int64_t rows, int64_t cols, int64_t n, unsigned seed) {
  Case c{"int8_g0_sym", nullptr, GGMLType::I8, intFormat(8, 0, true)};
  QuantWeight q = quantize(c, rows, cols, seed);
  std::vector<float> x = gaussian(size_t(n * cols), seed + 1);
  x[0] = 0.5f * x[1]; // ties are rounded to even by both
  std::vector<float> xq = x;
  rt::fakeQuantizeInt8PerRow(xq.data(), n, cols);
  std::vector<float> ref(size_t(n * rows)), got(size_t(n * rows), -1.0f);
  rt::linear(xq.data(), n, q.view, ref.data());
  Buffer<float> xb(x.data(), int(cols), int(n));
  Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), int(rows));
  Buffer<float> yb(got.data(), int(rows), int(n));
  ASSERT_EQ(fn(xb, wb, yb), 0);
  expectClose(got, ref, 1e-5,
              "w8a8 rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                  " n=" + std::to_string(n));
}

TEST(W8A8, MatchesFakeQuantizedReference) {
  checkW8A8(qcc_test_matmul_w8a8, 37, 512, 1, 71);
  checkW8A8(qcc_test_matmul_w8a8, 64, 1000, 5, 72); // 1000 = 15 steps of 64 + a tail of 40
  checkW8A8(qcc_test_matmul_w8a8, 3, 20, 2, 73);   // tail only
  checkW8A8(qcc_test_matmul_w8a8_b4, 53, 768, 4, 74);
  checkW8A8(qcc_test_gemv_w8a8_4096, 4096, 4096, 1, 75);
}

TEST(OptLevels, W8A8MatchesFakeQuantizedReference) {
  checkW8A8(qcc_test_matmul_w8a8_o0, 37, 512, 1, 71);
  checkW8A8(qcc_test_matmul_w8a8_o0, 64, 1000, 5, 72);
  checkW8A8(qcc_test_matmul_w8a8_o0, 3, 20, 2, 73);
  checkW8A8(qcc_test_matmul_w8a8_b4_o1, 53, 768, 4, 74);
}

TEST(W8A8, AllZeroTokenUsesMinimumScale) {
  Case c{"int8_g0_sym", nullptr, GGMLType::I8, intFormat(8, 0, true)};
  QuantWeight q = quantize(c, 16, 128, 81);
  std::vector<float> x(256, 0.0f);
  x[128 + 5] = 3e-6f; // below the 1e-5 floor: quantizes to round(3e-6 / (1e-5 / 127)) = 38
  std::vector<float> xq = x;
  rt::fakeQuantizeInt8PerRow(xq.data(), 2, 128);
  std::vector<float> ref(32), got(32, -1.0f);
  rt::linear(xq.data(), 2, q.view, ref.data());
  Buffer<float> xb(x.data(), 128, 2);
  Buffer<uint8_t> wb(q.bytes.data(), int(q.view.rowBytes), 16);
  Buffer<float> yb(got.data(), 16, 2);
  ASSERT_EQ(qcc_test_matmul_w8a8(xb, wb, yb), 0);
  expectClose(got, ref, 1e-5, "w8a8 tiny");
}

std::string lastHalideError;
void recordHalideError(void *, const char *message) { lastHalideError = message; }

TEST(FixedMatMul, FixedShapeRejectsOtherShapes) {
  // Halide's default error handler aborts; record the message instead.
  halide_set_error_handler(recordHalideError);
  std::vector<float> x(4096 * 2), y(4096 * 2);
  std::vector<uint8_t> w(size_t(rowBytes(GGMLType::Q4_0, 4096)) * 4096);
  Buffer<float> xb(x.data(), 4096, 2); // batch 2 for a batch-1 kernel
  Buffer<uint8_t> wb(w.data(), int(rowBytes(GGMLType::Q4_0, 4096)), 4096);
  Buffer<float> yb(y.data(), 4096, 2);
  EXPECT_NE(qcc_test_gemv_q4_0_4096(xb, wb, yb), 0);
  EXPECT_NE(lastHalideError.find("x.extent.1"), std::string::npos) << lastHalideError;
  halide_set_error_handler(nullptr);
}

// batch = 4 fixed: the decode-once, reuse-for-the-batch schedule.
TEST(FixedMatMul, SmallBatchQ8_0) {
  Case c{"q8_0/b4", qcc_test_matmul_q8_0_b4, GGMLType::Q8_0, std::nullopt};
  checkMatMul(c, 53, 512, 4, 31);
  checkMatMul(c, 128, 2048, 4, 32);
}

using RmsNormFn = int (*)(halide_buffer_t *, halide_buffer_t *, float, halide_buffer_t *);

TEST(Elementwise, RmsNormMatchesReference) {
  for (auto [level, fn] : {std::pair<const char *, RmsNormFn>{"O3", qcc_test_rms_norm},
                           {"O1", qcc_test_rms_norm_o1},
                           {"O0", qcc_test_rms_norm_o0}})
  for (int64_t d : {4096, 100, 7}) {
    const int64_t n = 3;
    std::vector<float> x = gaussian(size_t(n * d), 41), gamma = gaussian(size_t(d), 42);
    std::vector<float> ref(x.size()), got(x.size());
    const float eps = 1e-5f;
    rt::rmsNorm(x.data(), n, d, gamma.data(), eps, ref.data());
    Buffer<float> xb(x.data(), int(d), int(n)), gb(gamma.data(), int(d)), yb(got.data(), int(d),
                                                                              int(n));
    ASSERT_EQ(fn(xb, gb, eps, yb), 0);
    expectClose(got, ref, 1e-6, std::string("rms_norm ") + level + " d=" + std::to_string(d));
  }
}

TEST(Elementwise, SwiGluMatchesReference) {
  for (auto fn : {qcc_test_swiglu, qcc_test_swiglu_o0})
  for (int64_t n : {10000, 5}) {
    std::vector<float> g = gaussian(size_t(n), 51, 4.0f), u = gaussian(size_t(n), 52);
    std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    rt::swiglu(g.data(), u.data(), ref.data(), n);
    Buffer<float> gb(g.data(), int(n)), ub(u.data(), int(n)), yb(got.data(), int(n));
    ASSERT_EQ(fn(gb, ub, yb), 0);
    for (int64_t k = 0; k < n; ++k)
      ASSERT_NEAR(got[k], ref[k], 1e-6f * std::max(1.0f, std::fabs(ref[k]))) << k;
  }
}

} // namespace
