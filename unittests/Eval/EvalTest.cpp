//===- EvalTest.cpp - perplexity protocols and sampling on known models -----===//
#include "qcc/Eval/Generate.h"
#include "qcc/Eval/Perplexity.h"

#include "gtest/gtest.h"

#include <cmath>
#include <numeric>

using namespace qcc::eval;

namespace {

/// A model whose next-token distribution is known in closed form: logits are 0 except
/// `boost` on token (previous + 1) % V. Records every batch it is given.
class CountingModel : public LanguageModel {
public:
  CountingModel(int64_t V, float boost) : V(V), boost(boost) {}
  int64_t vocabSize() const override { return V; }
  int64_t maxSeqLen() const override { return 1024; }
  llvm::Error reset(int64_t) override { return llvm::Error::success(); }
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t,
                      std::vector<float> &logits) override {
    calls.push_back(tokens.vec());
    logits.assign(size_t(B * T * V), 0.0f);
    for (int64_t i = 0; i < B * T; ++i)
      logits[i * V + (tokens[i] + 1) % V] = boost;
    return llvm::Error::success();
  }
  int64_t V;
  float boost;
  std::vector<std::vector<int32_t>> calls;
};

TEST(LogProb, MatchesClosedForm) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f};
  double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(logProb(l.data(), 3, 1), 2.0 - z, 1e-12);
  std::vector<float> big = {1000.0f, 0.0f};
  EXPECT_NEAR(logProb(big.data(), 2, 0), 0.0, 1e-12); // no overflow
}

TEST(Perplexity, UniformModelHasPerplexityV) {
  CountingModel m(50, 0.0f);
  std::vector<int32_t> toks(1000);
  std::iota(toks.begin(), toks.end(), 0);
  for (int32_t &t : toks)
    t %= 50;
  for (PPLProtocol p : {PPLProtocol::LlamaCpp, PPLProtocol::GPTQ}) {
    PerplexityOptions o;
    o.ctx = 100;
    o.protocol = p;
    auto r = perplexity(m, toks, o);
    ASSERT_TRUE(bool(r));
    EXPECT_NEAR(r->ppl, 50.0, 1e-9);
    EXPECT_NEAR(r->pplStderr, 0.0, 1e-6); // E[x²]-E[x]² cancels to rounding noise
  }
}

TEST(Perplexity, LlamaCppScoresSecondHalfAndReplacesFirstTokenWithBOS) {
  const int64_t V = 10, n = 8;
  CountingModel m(V, std::log(9.0f) + std::log(3.0f)); // p(next) = 27/(27+9) = 0.75
  std::vector<int32_t> toks(40);
  for (size_t i = 0; i < toks.size(); ++i)
    toks[i] = int32_t(i % V);
  PerplexityOptions o;
  o.ctx = n;
  o.batch = 2;
  o.bosId = 7;
  auto r = perplexity(m, toks, o);
  ASSERT_TRUE(bool(r));
  EXPECT_EQ(r->chunks, 5);
  // Predictions of chunk tokens n/2+1 .. n-1: n - 1 - n/2 = 3 per chunk.
  EXPECT_EQ(r->tokensScored, 5 * 3);
  EXPECT_NEAR(r->ppl, 1 / 0.75, 1e-6);
  ASSERT_EQ(m.calls.size(), 3u); // batches of 2, 2, 1 chunks
  EXPECT_EQ(m.calls[0][0], 7);
  EXPECT_EQ(m.calls[0][n], 7);
  EXPECT_EQ(m.calls[0][1], 1);
}

TEST(Perplexity, GPTQScoresEveryPredictionWithoutBOSReplacement) {
  const int64_t V = 10, n = 8;
  CountingModel m(V, 0.0f);
  std::vector<int32_t> toks(20, 3);
  PerplexityOptions o;
  o.ctx = n;
  o.protocol = PPLProtocol::GPTQ;
  auto r = perplexity(m, toks, o);
  ASSERT_TRUE(bool(r));
  EXPECT_EQ(r->chunks, 2);
  EXPECT_EQ(r->tokensScored, 2 * (n - 1));
  EXPECT_EQ(m.calls[0][0], 3);
}

TEST(Perplexity, StderrFollowsLlamaCpp) {
  // Alternating easy/hard predictions: nll takes two values, stderr is closed-form.
  class TwoLevel : public CountingModel {
  public:
    TwoLevel() : CountingModel(4, 0) {}
    llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t,
                        std::vector<float> &logits) override {
      logits.assign(size_t(B * T * V), 0.0f);
      for (int64_t i = 0; i < B * T; ++i)
        logits[i * V + 1] = (i % 2) ? 2.0f : 0.0f;
      return llvm::Error::success();
    }
  } m;
  std::vector<int32_t> toks(64, 1);
  PerplexityOptions o;
  o.ctx = 16;
  o.protocol = PPLProtocol::GPTQ;
  auto r = perplexity(m, toks, o);
  ASSERT_TRUE(bool(r));
  double a = -std::log(0.25), b = -std::log(std::exp(2.0) / (std::exp(2.0) + 3));
  // Per window of 16: predictions at j = 0..14 -> 8 with logit 0 (even j), 7 with logit 2.
  int64_t N = r->tokensScored;
  double mean = (32 * a + 28 * b) / 60.0, mean2 = (32 * a * a + 28 * b * b) / 60.0;
  ASSERT_EQ(N, 60);
  EXPECT_NEAR(r->nll, mean, 1e-12);
  EXPECT_NEAR(r->pplStderr, std::exp(mean) * std::sqrt((mean2 - mean * mean) / (N - 1)), 1e-9);
}

TEST(Perplexity, RejectsShortTextAndBadContext) {
  CountingModel m(10, 0);
  std::vector<int32_t> toks(100, 1);
  PerplexityOptions o;
  o.ctx = 64; // llama.cpp needs 2 × ctx tokens
  auto r = perplexity(m, toks, o);
  ASSERT_FALSE(bool(r));
  EXPECT_NE(llvm::toString(r.takeError()).find("at least 2 × ctx"), std::string::npos);
  o.ctx = 4096;
  auto r2 = perplexity(m, toks, o);
  EXPECT_FALSE(bool(r2));
  llvm::consumeError(r2.takeError());
}

TEST(Sampler, GreedyAndTopP) {
  std::vector<float> l = {0.1f, 3.0f, 2.9f, -1.0f};
  Sampler greedy({0.0f, 1.0f, 0});
  EXPECT_EQ(greedy.sample(l.data(), 4), 1);
  Sampler nucleus({1.0f, 1e-6f, 42}); // top-p this small keeps only the argmax
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(nucleus.sample(l.data(), 4), 1);
  Sampler t({1.0f, 1.0f, 7});
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 20000; ++i)
    counts[t.sample(l.data(), 4)]++;
  double z = std::exp(0.1) + std::exp(3.0) + std::exp(2.9) + std::exp(-1.0);
  EXPECT_NEAR(counts[1] / 20000.0, std::exp(3.0) / z, 0.02);
  EXPECT_NEAR(counts[2] / 20000.0, std::exp(2.9) / z, 0.02);
}

TEST(Generate, StopsAtEOSAndFeedsPositions) {
  CountingModel m(6, 10.0f); // greedy: always previous + 1
  Sampler s({0.0f, 1.0f, 0});
  std::vector<int32_t> seen;
  auto r = generate(m, {1, 2}, 10, s, /*stopId=*/5, [&](int32_t t) { seen.push_back(t); });
  ASSERT_TRUE(bool(r));
  EXPECT_EQ(r->tokens, (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ(seen, r->tokens);
}

} // namespace
