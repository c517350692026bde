//===- BenchTest.cpp - bench() over a fake model -------------------------------===//
//
// Checks what bench() asks of a model (the reset / forward sequence a compiled model will see) and
// how it counts, with a fake whose logits make greedy decoding predictable.
//
//===----------------------------------------------------------------------===//
#include "qcc/Driver/Bench.h"

#include <gtest/gtest.h>

using namespace qcc;
using namespace qcc::driver;

namespace {

struct Call {
  int64_t B, T, pos;
};

/// Logits favour (token + 1) % vocab, so greedy decoding counts upwards.
class FakeInstance : public ModelInstance {
public:
  FakeInstance(std::vector<Call> &calls, std::vector<int64_t> &resets, std::vector<int32_t> &fed)
      : calls_(calls), resets_(resets), fed_(fed) {}
  int64_t vocabSize() const override { return 16; }
  int64_t maxSeqLen() const override { return 64; }
  llvm::Error reset(int64_t batch) override {
    resets_.push_back(batch);
    batch_ = batch;
    return llvm::Error::success();
  }
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                      std::vector<float> &logits) override {
    EXPECT_EQ(int64_t(tokens.size()), B * T);
    EXPECT_LE(B, batch_);
    EXPECT_LE(pos + T, cacheLen_);
    calls_.push_back({B, T, pos});
    if (pos > 0)
      for (int32_t t : tokens)
        fed_.push_back(t);
    logits.assign(size_t(B * T * 16), 0.0f);
    for (int64_t i = 0; i < B * T; ++i)
      logits[size_t(i * 16 + (tokens[size_t(i)] + 1) % 16)] = 1.0f;
    return llvm::Error::success();
  }
  void setCacheLength(int64_t positions) override { cacheLen_ = positions; }
  uint64_t kvCacheBytes() const override { return uint64_t(batch_ * cacheLen_ * 100); }

private:
  std::vector<Call> &calls_;
  std::vector<int64_t> &resets_;
  std::vector<int32_t> &fed_; ///< Tokens of the decode steps (pos > 0), in order.
  int64_t batch_ = 0, cacheLen_ = 0;
};

class FakeModel : public DriverModel {
public:
  std::string name() const override { return "fake"; }
  const Tokenizer *tokenizer() const override { return nullptr; }
  uint64_t weightsBytes() const override { return 1234; }
  uint64_t fileBytes() const override { return 5678; }
  void setThreads(int) override {}
  int numThreads() const override { return 3; }
  llvm::Expected<std::unique_ptr<ModelInstance>> open() override {
    return std::make_unique<FakeInstance>(calls, resets, fed);
  }
  std::vector<Call> calls;
  std::vector<int64_t> resets;
  std::vector<int32_t> fed;
};

TEST(Bench, CallSequenceAndCounts) {
  FakeModel m;
  BenchOptions o;
  o.promptTokens = 5;
  o.genTokens = 3;
  o.repeat = 2;
  o.warmup = 1;
  o.batches = {2};
  llvm::Expected<BenchResult> r = bench(m, "fake.mlir", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // 3 rounds at batch 1, then 3 at batch 2; each: prefill [B, 5] at 0, then 3 steps [B, 1].
  EXPECT_EQ(m.resets, (std::vector<int64_t>{1, 1, 1, 2, 2, 2}));
  ASSERT_EQ(m.calls.size(), 6u * 4u);
  for (size_t round = 0; round < 6; ++round) {
    int64_t B = round < 3 ? 1 : 2;
    const Call *c = &m.calls[round * 4];
    EXPECT_EQ(c[0].B, B);
    EXPECT_EQ(c[0].T, 5);
    EXPECT_EQ(c[0].pos, 0);
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(c[1 + i].B, B);
      EXPECT_EQ(c[1 + i].T, 1);
      EXPECT_EQ(c[1 + i].pos, 5 + i);
    }
  }
  EXPECT_EQ(r->model, "fake.mlir");
  EXPECT_EQ(r->name, "fake");
  EXPECT_EQ(r->threads, 3);
  EXPECT_EQ(r->promptSource, "random");
  EXPECT_EQ(r->decodeLatencyMs.count, 6u);
  EXPECT_EQ(r->ttftMs.count, 2u);
  EXPECT_GT(r->prefillTokS, 0);
  EXPECT_GT(r->decodeTokS, 0);
  EXPECT_LE(r->decodeLatencyMs.p50, r->decodeLatencyMs.p95);
  EXPECT_LE(r->decodeLatencyMs.p95, r->decodeLatencyMs.p99);
  EXPECT_EQ(r->weightsBytes, 1234u);
  EXPECT_EQ(r->fileBytes, 5678u);
  EXPECT_EQ(r->kvCacheBytes, 1u * 8u * 100u);
  ASSERT_EQ(r->batched.size(), 1u);
  EXPECT_EQ(r->batched[0].batch, 2);
  EXPECT_EQ(r->batched[0].kvCacheBytes, 2u * 8u * 100u);
  EXPECT_EQ(r->batched[0].stepLatencyMs.count, 6u);
  EXPECT_GT(r->peakRssBytes, 0u);

  llvm::json::Object j = r->toJSON();
  for (const char *key : {"prefill_tok_s", "decode_tok_s", "decode_latency_ms", "ttft_ms",
                          "weights_bytes", "file_bytes", "kv_cache_bytes", "peak_rss_bytes",
                          "batched", "prompt_tokens", "gen_tokens", "threads"})
    EXPECT_TRUE(j.get(key)) << key;
  const llvm::json::Object *lat = j.getObject("decode_latency_ms");
  ASSERT_TRUE(lat);
  for (const char *key : {"mean", "p50", "p95", "p99", "min", "max", "stddev", "samples"})
    EXPECT_TRUE(lat->get(key)) << key;
}

TEST(Bench, GreedyDecodingFeedsSampledTokensBack) {
  FakeModel m;
  BenchOptions o;
  o.textTokens = {7, 3, 9, 4};
  o.textFile = "t.txt";
  o.promptTokens = 3;
  o.genTokens = 4;
  o.repeat = 1;
  o.warmup = 0;
  llvm::Expected<BenchResult> r = bench(m, "fake", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ(r->promptSource, "text");
  // The prompt is 7 3 9: the first choice is 10, and each step feeds back its predecessor + 1.
  EXPECT_EQ(m.fed, (std::vector<int32_t>{10, 11, 12, 13}));
}

TEST(Bench, DefaultsFitTheContext) {
  FakeModel m;
  BenchOptions o;
  o.repeat = 1;
  o.warmup = 0;
  llvm::Expected<BenchResult> r = bench(m, "fake", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ(r->promptTokens, 32); // context 64 / 2
  EXPECT_EQ(r->genTokens, 16);    // context 64 / 4
}

TEST(Bench, Errors) {
  FakeModel m;
  BenchOptions o;
  o.promptTokens = 60;
  o.genTokens = 5;
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()),
            "--prompt 60 + --gen 5 exceeds the model's maximum sequence length 64");
  o.promptTokens = 8;
  o.textTokens = {1, 2, 3};
  o.textFile = "short.txt";
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()),
            "short.txt: 3 tokens, fewer than --prompt 8");
  o.textTokens.clear();
  o.batches = {2, 0};
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()), "--batch sizes must be positive");
}

} // namespace
