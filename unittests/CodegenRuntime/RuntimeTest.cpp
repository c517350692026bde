//===- RuntimeTest.cpp - the C runtime of qcc's executables (qcc_rt.c) --------===//
//
// Over a tiny two-layer model whose glue (FakeGlue.c) calls the real AOT test kernels: weight
// files checked and mapped (missing file, wrong size), embedded weights, f16/bf16 vectors
// converted at open, reset/forward bounds, kernel errors carried into the context's message, the
// CUDA check of --target=cuda executables, and whole forward passes (prefill, decode, growing
// activation slots, B of a larger reset) against the float reference kernels (rt::).
//
//===----------------------------------------------------------------------===//
#include "FakeModel.h"

#include "qcc/Codegen/qcc_rt.h"
#include "qcc/Runtime/Kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace qcc;

namespace {

std::string weightsPath() {
  return (::testing::TempDir() + "qcc_rt_test_" + std::to_string(getpid()) + ".weights");
}

/// Restores the tables each test may change, and writes the weight file.
class Runtime : public ::testing::Test {
protected:
  void SetUp() override {
    path_ = weightsPath();
    ASSERT_EQ(qcc_fake_setup(path_.c_str(), 0), 0) << path_;
    qcc_fake_set_info(QCC_INFO_ABI_VERSION, QCC_ABI_VERSION);
    qcc_fake_set_info(QCC_INFO_USES_GPU, 0);
    qcc_fake_set_info(QCC_INFO_PREFILL_Q8, 0);
    qcc_fake_mode = 0;
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    qcc_fake_mode = 0;
  }
  /// Opens the model or fails the test with the message.
  qcc_model *open(int threads = 0) {
    char err[1024];
    qcc_model *m = qcc_model_open(threads, err, sizeof err);
    EXPECT_NE(m, nullptr) << err;
    return m;
  }
  std::string openError() {
    char err[1024] = "unset";
    qcc_model *m = qcc_model_open(0, err, sizeof err);
    EXPECT_EQ(m, nullptr);
    if (m)
      qcc_model_close(m);
    return err;
  }
  std::string path_;
};

TEST_F(Runtime, MissingWeightFileIsNamed) {
  qcc_fake_set_file("/nonexistent/qcc/w.gguf", qcc_file_sizes[0]);
  EXPECT_EQ(openError(), "model weights /nonexistent/qcc/w.gguf: No such file or directory");
}

TEST_F(Runtime, WeightFileOfAnotherSizeIsRefused) {
  const int64_t size = qcc_file_sizes[0];
  qcc_fake_set_file(path_.c_str(), size + 3);
  EXPECT_EQ(openError(), "model weights " + path_ + ": size " + std::to_string(size) +
                             " differs from the " + std::to_string(size + 3) +
                             " bytes this executable was built for");
}

TEST_F(Runtime, GlueOfAnotherAbiIsRefused) {
  qcc_fake_set_info(QCC_INFO_ABI_VERSION, QCC_ABI_VERSION + 1);
  EXPECT_NE(openError().find("ABI version"), std::string::npos);
}

TEST_F(Runtime, CudaTargetNeedsADriver) {
  qcc_fake_set_info(QCC_INFO_USES_GPU, 1);
  if (void *h = dlopen("libcuda.so.1", RTLD_NOW)) {
    dlclose(h);
    GTEST_SKIP() << "a CUDA driver is installed here";
  }
  EXPECT_EQ(openError(), "this executable was built for --target=cuda and needs an NVIDIA GPU: "
                         "libcuda.so.1 not found");
}

TEST_F(Runtime, ModelFactsAndThreads) {
  qcc_model *m = open(3);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(qcc_model_threads(m), 3);
  EXPECT_EQ(qcc_model_set_threads(m, 2), 2);
  EXPECT_EQ(qcc_model_threads(m), 2);
  EXPECT_GE(qcc_model_set_threads(m, 0), 1); // the default: all cores
  EXPECT_EQ(qcc_model_weights_bytes(m), uint64_t(qcc_model_info[QCC_INFO_WEIGHTS_BYTES]));
  struct stat exe, w;
  ASSERT_EQ(stat("/proc/self/exe", &exe), 0);
  ASSERT_EQ(stat(path_.c_str(), &w), 0);
  EXPECT_EQ(qcc_model_file_bytes(m), uint64_t(exe.st_size + w.st_size));
  EXPECT_STREQ(qcc_model_string(0), "fake");
  EXPECT_STREQ(qcc_model_string(2), "host");
  EXPECT_STREQ(qcc_model_string(3), "");
  qcc_model_close(m);
}

/// The weight `w` of the fake model as the reference kernels see it.
rt::WeightView weightView(int64_t w, int64_t cols) {
  size_t size;
  const uint8_t *bytes = qcc_fake_bytes(&size);
  const int64_t *e = &qcc_weight_table[5 * w];
  rt::WeightView v;
  v.type = GGMLType(e[3]);
  v.cols = cols;
  v.rows = e[4] / cols;
  v.rowBytes = uint64_t(e[2] / v.rows);
  v.data = bytes + e[1];
  return v;
}

TEST_F(Runtime, HalfPrecisionVectorsAreConvertedAtOpen) {
  qcc_model *m = open();
  ASSERT_NE(m, nullptr);
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_NE(c, nullptr);
  const int64_t f16Norm = 1 + FAKE_L_ATTN_NORM, bf16Norm = 1 + FAKE_PER_LAYER + FAKE_L_ATTN_NORM;
  ASSERT_EQ(qcc_weight_table[5 * f16Norm + 3], 1);
  ASSERT_EQ(qcc_weight_table[5 * bf16Norm + 3], 30);
  for (int64_t w : {f16Norm, bf16Norm, int64_t(FAKE_W_OUT_NORM), int64_t(FAKE_W_ROPE_FREQS)}) {
    const int64_t n = qcc_weight_table[5 * w + 4];
    std::vector<float> ref = rt::dequantizeAll(weightView(w, n));
    const float *got = qcc_rt_weight_f32(c, w);
    ASSERT_NE(got, nullptr) << qcc_ctx_error(c);
    EXPECT_EQ(std::vector<float>(got, got + n), ref) << "weight " << w;
  }
  // Some values are negative and not all 1: the conversion is not trivially right.
  const float *g = qcc_rt_weight_f32(c, f16Norm);
  EXPECT_LT(g[4], 0.0f);
  EXPECT_NE(g[1], 1.0f);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

TEST_F(Runtime, ResetAndForwardCheckTheirBounds) {
  qcc_model *m = open();
  ASSERT_NE(m, nullptr);
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_NE(c, nullptr);
  std::vector<int32_t> tokens(16, 1);
  std::vector<float> logits(16 * FAKE_VOCAB);
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 1, 1, 0, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "forward before reset (no KV cache)");
  EXPECT_NE(qcc_ctx_reset(c, 0, 4), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "batch 0: must be at least 1");
  EXPECT_NE(qcc_ctx_reset(c, 1, FAKE_MAX_SEQ + 1), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "KV cache of 17 positions: must be 1..16 (the model's context)");
  EXPECT_NE(qcc_ctx_reset(c, 1, 0), 0);
  ASSERT_EQ(qcc_ctx_reset(c, 2, 4), 0) << qcc_ctx_error(c);
  EXPECT_STREQ(qcc_ctx_error(c), "");
  EXPECT_EQ(qcc_ctx_kv_bytes(c),
            uint64_t(2 * FAKE_LAYERS * 2 * FAKE_KV_HEADS * 4 * FAKE_HEAD_DIM * sizeof(float)));
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 3, 1, 0, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "batch 3: must be 1..2 (the batch of the last reset)");
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 1, 3, 2, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "positions 2..4: outside the KV cache's 4 positions");
  tokens[5] = FAKE_VOCAB;
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 2, 3, 0, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "token id 32 at [1, 2] is outside the vocabulary [0, 32)");
  tokens[5] = -1;
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 2, 3, 0, logits.data()), 0);
  tokens[5] = 0;
  EXPECT_EQ(qcc_ctx_forward(c, tokens.data(), 2, 3, 0, logits.data()), 0) << qcc_ctx_error(c);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

TEST_F(Runtime, KernelErrorsReachTheContext) {
  qcc_model *m = open();
  ASSERT_NE(m, nullptr);
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_EQ(qcc_ctx_reset(c, 1, 8), 0);
  std::vector<int32_t> tokens(1, 3);
  std::vector<float> logits(FAKE_VOCAB);
  qcc_fake_mode = 1;
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 1, 1, 0, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "kernel add failed (Halide error -27): Input buffer a is "
                                 "accessed at 99, which is beyond the max (9)");
  qcc_fake_mode = 2;
  EXPECT_NE(qcc_ctx_forward(c, tokens.data(), 1, 1, 0, logits.data()), 0);
  EXPECT_STREQ(qcc_ctx_error(c), "matmul: weight output.weight has 32 rows of 32, not 33");
  qcc_fake_mode = 0; // the next call starts clean
  EXPECT_EQ(qcc_ctx_forward(c, tokens.data(), 1, 1, 0, logits.data()), 0) << qcc_ctx_error(c);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

/// The fake model on the reference kernels, with its own KV cache.
class Reference {
public:
  Reference(int64_t batch, int64_t positions)
      : cache_(FAKE_LAYERS, batch, FAKE_KV_HEADS, positions, FAKE_HEAD_DIM) {
    rope_.headDim = FAKE_HEAD_DIM;
    rope_.theta = FAKE_THETA;
    rope_.style = rt::RopeStyle::RotateHalf;
    rope_.freqFactors = rt::dequantizeAll(weightView(FAKE_W_ROPE_FREQS, FAKE_HEAD_DIM / 2));
  }
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t B, int64_t T,
                             int64_t pos) {
    const int64_t n = B * T, D = FAKE_DIM;
    std::vector<float> x(n * D), h(n * D), q(n * D), k(n * FAKE_KV_DIM), v(n * FAKE_KV_DIM),
        att(n * D), o(n * D), g(n * FAKE_FFN), u(n * FAKE_FFN), s(n * FAKE_FFN),
        logits(n * FAKE_VOCAB);
    rt::embed(tokens.data(), n, weightView(FAKE_W_EMBD, D), x.data());
    for (int64_t l = 0; l < FAKE_LAYERS; ++l) {
      const int64_t w = 1 + FAKE_PER_LAYER * l;
      norm(x, w + FAKE_L_ATTN_NORM, n, h);
      rt::linear(h.data(), n, weightView(w + FAKE_L_WQ, D), q.data());
      rt::linear(h.data(), n, weightView(w + FAKE_L_WK, D), k.data());
      rt::linear(h.data(), n, weightView(w + FAKE_L_WV, D), v.data());
      rt::rope(q.data(), B, T, D, pos, rope_);
      rt::rope(k.data(), B, T, FAKE_KV_DIM, pos, rope_);
      rt::attention(q.data(), k.data(), v.data(), B, T, pos, FAKE_HEADS, cache_, l, att.data());
      rt::linear(att.data(), n, weightView(w + FAKE_L_WO, D), o.data());
      rt::add(x.data(), o.data(), x.data(), n * D);
      norm(x, w + FAKE_L_FFN_NORM, n, h);
      rt::linear(h.data(), n, weightView(w + FAKE_L_GATE, D), g.data());
      rt::linear(h.data(), n, weightView(w + FAKE_L_UP, D), u.data());
      rt::swiglu(g.data(), u.data(), s.data(), n * FAKE_FFN);
      rt::linear(s.data(), n, weightView(w + FAKE_L_DOWN, FAKE_FFN), o.data());
      rt::add(x.data(), o.data(), x.data(), n * D);
    }
    norm(x, FAKE_W_OUT_NORM, n, h);
    rt::linear(h.data(), n, weightView(FAKE_W_OUTPUT, D), logits.data());
    return logits;
  }

private:
  void norm(const std::vector<float> &x, int64_t w, int64_t n, std::vector<float> &y) {
    std::vector<float> gamma = rt::dequantizeAll(weightView(w, FAKE_DIM));
    rt::rmsNorm(x.data(), n, FAKE_DIM, gamma.data(), float(FAKE_EPS), y.data());
  }
  rt::KVCache cache_;
  rt::RopeParams rope_;
};

void expectClose(const std::vector<float> &got, const std::vector<float> &ref,
                 const std::string &what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  double maxRef = 0, maxErr = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    maxRef = std::max(maxRef, double(std::fabs(ref[i])));
    double e = std::fabs(double(got[i]) - double(ref[i]));
    if (!(e <= maxErr))
      maxErr = e; // NaN too
  }
  EXPECT_GT(maxRef, 0.1) << what;
  EXPECT_LE(maxErr, 1e-4 * maxRef) << what;
}

/// Prefill, decode, then a longer call (the activation slots grow), with B = 2 of a batch-3
/// cache; returns the logits of every call.
std::vector<std::vector<float>> runCalls(qcc_model *m, bool compare) {
  std::vector<std::vector<float>> all;
  qcc_ctx *c = qcc_ctx_new(m);
  EXPECT_NE(c, nullptr);
  if (!c)
    return all;
  const int64_t B = 2, positions = 12;
  EXPECT_EQ(qcc_ctx_reset(c, 3, positions), 0) << qcc_ctx_error(c);
  Reference ref(3, positions);
  int64_t pos = 0;
  unsigned seed = 7;
  for (int64_t T : {3, 1, 6}) {
    std::vector<int32_t> tokens(size_t(B * T));
    for (int32_t &t : tokens)
      t = int32_t((seed = seed * 1103515245u + 12345u) >> 16) % FAKE_VOCAB;
    std::vector<float> logits(size_t(B * T * FAKE_VOCAB), -1.0f);
    EXPECT_EQ(qcc_ctx_forward(c, tokens.data(), B, T, pos, logits.data()), 0)
        << qcc_ctx_error(c);
    if (compare)
      expectClose(logits, ref.forward(tokens, B, T, pos),
                  "T=" + std::to_string(T) + " pos=" + std::to_string(pos));
    all.push_back(logits);
    pos += T;
  }
  qcc_ctx_free(c);
  return all;
}

TEST_F(Runtime, ForwardMatchesTheReferenceKernels) {
  qcc_model *m = open(2);
  ASSERT_NE(m, nullptr);
  runCalls(m, /*compare=*/true);
  qcc_model_close(m);
}

TEST_F(Runtime, EmbeddedWeightsGiveTheSameLogits) {
  qcc_model *m = open();
  ASSERT_NE(m, nullptr);
  std::vector<std::vector<float>> fromFile = runCalls(m, false);
  qcc_model_close(m);
  ASSERT_EQ(qcc_fake_setup(nullptr, 1), 0);
  qcc_fake_set_file("/nonexistent/never/read", 1); // not opened: the weights are embedded
  m = open();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(runCalls(m, false), fromFile);
  qcc_model_close(m);
}

// A decode step of several sequences (T == 1, B > 1) runs each matmul in chunks of 4, 2 and 1
// tokens through the decode4, decode2 and decode kernels; one token the decode kernel; several
// tokens per sequence (prefill) the prefill kernel, or with QCC_INFO_PREFILL_Q8 chunks too. The
// logits stay the reference's.
TEST_F(Runtime, BatchedDecodeStepsRunInChunks) {
  qcc_model *m = open();
  ASSERT_NE(m, nullptr);
  qcc_fake_mode = 3;
  runCalls(m, /*compare=*/true); // B = 2: prefill, a decode step (one decode2 chunk), prefill
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_NE(c, nullptr);
  const int64_t matmuls = FAKE_LAYERS * 7 + 1;
  std::vector<float> logits(size_t(8 * 3 * FAKE_VOCAB));
  std::vector<int32_t> tokens(24, 5);
  for (int64_t B : {1, 2, 3, 4, 7}) {
    SCOPED_TRACE("B=" + std::to_string(B));
    ASSERT_EQ(qcc_ctx_reset(c, 8, 4), 0) << qcc_ctx_error(c);
    std::memset(qcc_fake_matmul_calls, 0, sizeof qcc_fake_matmul_calls);
    ASSERT_EQ(qcc_ctx_forward(c, tokens.data(), B, 1, 0, logits.data()), 0) << qcc_ctx_error(c);
    const int64_t fours = B / 4, twos = (B % 4) / 2, ones = B % 2;
    EXPECT_EQ(qcc_fake_matmul_calls[3][4], fours * matmuls);
    EXPECT_EQ(qcc_fake_matmul_calls[2][2], twos * matmuls);
    EXPECT_EQ(qcc_fake_matmul_calls[0][1], ones * matmuls);
    int64_t total = 0;
    for (const auto &row : qcc_fake_matmul_calls)
      for (int64_t n : row)
        total += n;
    EXPECT_EQ(total, (fours + twos + ones) * matmuls); // nothing else was called
  }
  // Prefill of 2 sequences x 3 tokens: one prefill call of 6 rows per matmul.
  ASSERT_EQ(qcc_ctx_reset(c, 2, 4), 0) << qcc_ctx_error(c);
  std::memset(qcc_fake_matmul_calls, 0, sizeof qcc_fake_matmul_calls);
  ASSERT_EQ(qcc_ctx_forward(c, tokens.data(), 2, 3, 0, logits.data()), 0) << qcc_ctx_error(c);
  EXPECT_EQ(qcc_fake_matmul_calls[1][0], matmuls);
  EXPECT_EQ(qcc_fake_matmul_calls[0][1] + qcc_fake_matmul_calls[2][2] +
                qcc_fake_matmul_calls[3][4],
            0);
  // Built with --act-quant=q8-all (QCC_INFO_PREFILL_Q8): the 6 rows run as chunks of 4 and 2.
  qcc_fake_set_info(QCC_INFO_PREFILL_Q8, 1);
  ASSERT_EQ(qcc_ctx_reset(c, 2, 4), 0) << qcc_ctx_error(c);
  std::memset(qcc_fake_matmul_calls, 0, sizeof qcc_fake_matmul_calls);
  ASSERT_EQ(qcc_ctx_forward(c, tokens.data(), 2, 3, 0, logits.data()), 0) << qcc_ctx_error(c);
  EXPECT_EQ(qcc_fake_matmul_calls[3][4], matmuls);
  EXPECT_EQ(qcc_fake_matmul_calls[2][2], matmuls);
  EXPECT_EQ(qcc_fake_matmul_calls[1][0] + qcc_fake_matmul_calls[0][1], 0);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

// qcc_model_read_streamed reads what the forward calls' matmuls read whole: nothing before the
// first call, then every matmul weight (7 per layer and the output head), not the embedding
// table, the norms or the rope factors.
TEST_F(Runtime, ReadStreamedCoversTheMatmulWeights) {
  qcc_model *m = open(2);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(qcc_model_read_streamed(m), 0u);
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(qcc_ctx_reset(c, 1, 4), 0) << qcc_ctx_error(c);
  std::vector<float> logits(FAKE_VOCAB);
  const int32_t token = 3;
  ASSERT_EQ(qcc_ctx_forward(c, &token, 1, 1, 0, logits.data()), 0) << qcc_ctx_error(c);
  uint64_t expected = uint64_t(qcc_weight_table[5 * FAKE_W_OUTPUT + 2]);
  for (int64_t l = 0; l < FAKE_LAYERS; ++l)
    for (int64_t k : {FAKE_L_WQ, FAKE_L_WK, FAKE_L_WV, FAKE_L_WO, FAKE_L_GATE, FAKE_L_UP,
                      FAKE_L_DOWN})
      expected += uint64_t(qcc_weight_table[5 * (1 + FAKE_PER_LAYER * l + k) + 2]);
  EXPECT_EQ(qcc_model_read_streamed(m), expected);
  qcc_model_set_threads(m, 1); // one share, and again with 2: the same bytes
  EXPECT_EQ(qcc_model_read_streamed(m), expected);
  qcc_model_set_threads(m, 2);
  EXPECT_EQ(qcc_model_read_streamed(m), expected);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

TEST_F(Runtime, ProfileCountsEveryKernelCall) {
  qcc_model *m = open(2);
  ASSERT_NE(m, nullptr);
  qcc_ctx *c = qcc_ctx_new(m);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(qcc_ctx_reset(c, 1, 8), 0) << qcc_ctx_error(c);
  std::vector<float> logits(3 * FAKE_VOCAB);
  const int32_t tokens[3] = {3, 1, 4};
  std::vector<qcc_profile_row> rows(FAKE_N_WEIGHTS + 16);
  auto take = [&] { return qcc_model_profile_take(m, rows.data(), int64_t(rows.size())); };

  // Off (the default): nothing is counted.
  ASSERT_EQ(qcc_ctx_forward(c, tokens, 1, 1, 0, logits.data()), 0) << qcc_ctx_error(c);
  EXPECT_EQ(take(), 0);

  // On: a prefill of 3 tokens and a decode step; per forward call, the fake glue's kernel calls.
  qcc_model_profile(m, 1);
  ASSERT_EQ(qcc_ctx_forward(c, tokens, 1, 3, 0, logits.data()), 0) << qcc_ctx_error(c);
  ASSERT_EQ(qcc_ctx_forward(c, tokens, 1, 1, 3, logits.data()), 0) << qcc_ctx_error(c);
  const int64_t n = take();
  ASSERT_LE(n, int64_t(rows.size()));
  std::map<std::string, uint64_t> opCalls;
  std::map<int64_t, qcc_profile_row> perWeight;
  uint64_t ns = 0;
  for (int64_t i = 0; i < n; ++i) {
    const qcc_profile_row &r = rows[size_t(i)];
    ns += r.ns;
    if (std::string(r.op) == "matmul") {
      EXPECT_GE(r.weight, 0);
      perWeight[r.weight] = r;
    } else {
      EXPECT_EQ(r.weight, -1) << r.op;
      EXPECT_EQ(r.bytes, 0u) << r.op;
      opCalls[r.op] = r.calls;
    }
  }
  const uint64_t L = FAKE_LAYERS;
  EXPECT_EQ(opCalls, (std::map<std::string, uint64_t>{{"add", 2 * 2 * L},
                                                      {"attention", 2 * L},
                                                      {"embed", 2},
                                                      {"rms_norm", 2 * (2 * L + 1)},
                                                      {"rope", 2 * 2 * L},
                                                      {"swiglu", 2 * L}}));
  ASSERT_EQ(perWeight.size(), 7 * L + 1);
  for (int64_t l = 0; l < FAKE_LAYERS; ++l)
    for (int64_t k : {FAKE_L_WQ, FAKE_L_WK, FAKE_L_WV, FAKE_L_WO, FAKE_L_GATE, FAKE_L_UP,
                      FAKE_L_DOWN})
      ASSERT_TRUE(perWeight.count(1 + FAKE_PER_LAYER * l + k)) << l << " " << k;
  ASSERT_TRUE(perWeight.count(FAKE_W_OUTPUT));
  for (const auto &[w, r] : perWeight) {
    EXPECT_EQ(r.calls, 2u) << w; // one prefill call, one decode call
    EXPECT_EQ(r.bytes, 2 * uint64_t(qcc_weight_table[5 * w + 2])) << w;
  }
  EXPECT_GT(ns, 0u);
  EXPECT_STREQ(qcc_model_weight_name(m, FAKE_W_OUTPUT), "output.weight");
  EXPECT_STREQ(qcc_model_weight_format(m, FAKE_W_OUTPUT), "f32");
  EXPECT_STREQ(qcc_model_weight_format(m, 1 + FAKE_L_ATTN_NORM), "f16");
  EXPECT_STREQ(qcc_model_weight_name(m, FAKE_N_WEIGHTS), "");

  // A take clears the counts; a short buffer gets the first rows and the full count.
  EXPECT_EQ(take(), 0);
  ASSERT_EQ(qcc_ctx_forward(c, tokens, 1, 1, 4, logits.data()), 0) << qcc_ctx_error(c);
  EXPECT_EQ(qcc_model_profile_take(m, rows.data(), 2), n);
  EXPECT_EQ(take(), 0);

  // Off again: not counted; on again: the counts start from zero.
  qcc_model_profile(m, 0);
  ASSERT_EQ(qcc_ctx_forward(c, tokens, 1, 1, 5, logits.data()), 0) << qcc_ctx_error(c);
  EXPECT_EQ(take(), 0);
  qcc_ctx_free(c);
  qcc_model_close(m);
}

} // namespace
