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
  std::vector<int32_t> tokens;
};

/// Logits favour (token + 1) % vocab, so greedy decoding counts upwards.
class FakeInstance : public ModelInstance {
public:
  /// A forward call of [B, T] advances `now` by 10 ms + 1 ms per token; reset(B) fails for
  /// B > maxBatch.
  FakeInstance(std::vector<Call> &calls, std::vector<int64_t> &resets, std::vector<int32_t> &fed,
               double &now, int64_t maxBatch)
      : calls_(calls), resets_(resets), fed_(fed), now_(now), maxBatch_(maxBatch) {}
  int64_t vocabSize() const override { return 16; }
  int64_t maxSeqLen() const override { return 64; }
  llvm::Error reset(int64_t batch) override {
    if (batch > maxBatch_)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "batch %lld exceeds the fake's %lld", (long long)batch,
                                     (long long)maxBatch_);
    resets_.push_back(batch);
    batch_ = batch;
    return llvm::Error::success();
  }
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                      std::vector<float> &logits) override {
    EXPECT_EQ(int64_t(tokens.size()), B * T);
    EXPECT_LE(B, batch_);
    EXPECT_LE(pos + T, cacheLen_);
    calls_.push_back({B, T, pos, tokens.vec()});
    now_ += 0.010 + 0.001 * double(B * T);
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
  double &now_;
  int64_t maxBatch_;
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
    return std::make_unique<FakeInstance>(calls, resets, fed, now, maxBatch);
  }
  std::vector<Call> calls;
  std::vector<int64_t> resets;
  std::vector<int32_t> fed;
  double now = 0;        ///< The fake clock (seconds), advanced by forward calls.
  int64_t maxBatch = 64;
};

/// Options for `prompt` tokens, `gen` decode steps, `repeat` measured rounds after `warmup`.
BenchOptions rounds(int64_t prompt, int64_t gen, int64_t repeat, int64_t warmup) {
  BenchOptions o;
  o.promptTokens = prompt;
  o.genTokens = gen;
  o.repeat = repeat;
  o.warmup = warmup;
  return o;
}

TEST(Bench, CallSequenceAndCounts) {
  FakeModel m;
  BenchOptions o = rounds(5, 3, 2, 1);
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

TEST(Bench, ConcurrencyServesWavesInLockStep) {
  FakeModel m;
  BenchOptions o = rounds(5, 3, 1, 1);
  o.concurrency = {4};
  o.requests = 6;
  o.clock = [&m] { return m.now; };
  llvm::Expected<BenchResult> r = bench(m, "fake", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // Latency part: 2 rounds at batch 1. Serving: a warmup wave of 4, then waves of 4 and 2.
  EXPECT_EQ(m.resets, (std::vector<int64_t>{1, 1, 4, 4, 2}));
  ASSERT_EQ(m.calls.size(), 5u * 4u);
  const int64_t batches[] = {1, 1, 4, 4, 2};
  for (size_t w = 0; w < 5; ++w) {
    const Call *c = &m.calls[w * 4];
    EXPECT_EQ(c[0].B, batches[w]);
    EXPECT_EQ(c[0].T, 5);
    EXPECT_EQ(c[0].pos, 0);
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(c[1 + i].B, batches[w]);
      EXPECT_EQ(c[1 + i].T, 1);
      EXPECT_EQ(c[1 + i].pos, 5 + i);
    }
  }
  // Each request has its own prompt; request 0's is the latency part's, and the second wave
  // prefills requests 4 and 5.
  const std::vector<int32_t> &latencyPrompt = m.calls[4].tokens, &wave1 = m.calls[12].tokens,
                             &wave2 = m.calls[16].tokens;
  ASSERT_EQ(wave1.size(), 20u);
  ASSERT_EQ(wave2.size(), 10u);
  EXPECT_EQ(std::vector<int32_t>(wave1.begin(), wave1.begin() + 5), latencyPrompt);
  EXPECT_EQ(m.calls[8].tokens, wave1); // the warmup wave: the first 4 requests
  EXPECT_NE(std::vector<int32_t>(wave1.begin(), wave1.begin() + 5),
            std::vector<int32_t>(wave1.begin() + 5, wave1.begin() + 10));

  // On the fake clock: wave 1 prefill 10 + 20 ms, steps 3 x 14 ms, so its 4 requests have their
  // first token at 30 ms and finish at 72 ms; wave 2: 72 + 20 = 92 ms and 92 + 3 x 12 = 128 ms.
  ASSERT_EQ(r->concurrent.size(), 1u);
  const ConcurrencyResult &c = r->concurrent[0];
  EXPECT_EQ(c.concurrency, 4);
  EXPECT_EQ(c.requests, 6);
  EXPECT_EQ(c.waves, 2);
  EXPECT_EQ(c.tokensPerRequest, 4);
  EXPECT_EQ(c.generatedTokens, 24);
  EXPECT_EQ(c.totalTokens, 24 + 30);
  EXPECT_NEAR(c.seconds, 0.128, 1e-9);
  EXPECT_NEAR(c.requestsPerS, 6 / 0.128, 1e-6);
  EXPECT_NEAR(c.tokensPerS, 24 / 0.128, 1e-6);
  EXPECT_NEAR(c.totalTokensPerS, 54 / 0.128, 1e-6);
  EXPECT_EQ(c.requestLatencyMs.count, 6u);
  EXPECT_NEAR(c.requestLatencyMs.min, 72, 1e-6);
  EXPECT_NEAR(c.requestLatencyMs.p50, 72, 1e-6);
  EXPECT_NEAR(c.requestLatencyMs.max, 128, 1e-6);
  EXPECT_NEAR(c.requestLatencyMs.mean, (4 * 72 + 2 * 128) / 6.0, 1e-6);
  EXPECT_EQ(c.requestTtftMs.count, 6u);
  EXPECT_NEAR(c.requestTtftMs.min, 30, 1e-6);
  EXPECT_NEAR(c.requestTtftMs.max, 92, 1e-6);
  EXPECT_EQ(c.kvCacheBytes, 4u * 8u * 100u);
}

TEST(Bench, ConcurrencyLevelsAndJSON) {
  FakeModel m;
  BenchOptions o = rounds(3, 2, 2, 0);
  o.concurrency = {2, 1};
  o.textTokens = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  o.clock = [&m] { return m.now; };
  llvm::Expected<BenchResult> r = bench(m, "fake", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // Default requests: C x repeat, in full waves. The text's windows are at i x 3 mod 8.
  EXPECT_EQ(m.resets, (std::vector<int64_t>{1, 1, 2, 2, 1, 1}));
  EXPECT_EQ(m.calls[6].tokens, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(m.calls[9].tokens, (std::vector<int32_t>{6, 7, 8, 1, 2, 3}));
  ASSERT_EQ(r->concurrent.size(), 2u);
  EXPECT_EQ(r->concurrent[0].requests, 4);
  EXPECT_EQ(r->concurrent[1].requests, 2);
  EXPECT_EQ(r->concurrent[1].waves, 2);

  llvm::json::Object j = r->toJSON();
  const llvm::json::Array *levels = j.getArray("concurrent");
  ASSERT_TRUE(levels);
  ASSERT_EQ(levels->size(), 2u);
  // The top-level serving figures are the highest level's (2, listed first here).
  EXPECT_EQ(j.getInteger("concurrency"), 2);
  EXPECT_EQ(j.getInteger("requests"), 4);
  EXPECT_EQ(j.getNumber("requests_per_s"), r->concurrent[0].requestsPerS);
  EXPECT_EQ(j.getNumber("tokens_per_s"), r->concurrent[0].tokensPerS);
  EXPECT_EQ(j.getNumber("total_tokens_per_s"), r->concurrent[0].totalTokensPerS);
  for (const char *key : {"request_latency_ms", "request_ttft_ms"})
    EXPECT_TRUE(j.getObject(key)) << key;
  // The batch-1 keys keep their meaning.
  EXPECT_EQ(j.getInteger("kv_cache_bytes"), int64_t(r->kvCacheBytes));
  EXPECT_EQ(j.getNumber("seconds"), r->seconds);
  const llvm::json::Object *first = (*levels)[0].getAsObject();
  ASSERT_TRUE(first);
  for (const char *key : {"concurrency", "requests", "waves", "tokens_per_request",
                          "generated_tokens", "total_tokens", "seconds", "requests_per_s",
                          "tokens_per_s", "total_tokens_per_s", "request_latency_ms",
                          "request_ttft_ms", "kv_cache_bytes"})
    EXPECT_TRUE(first->get(key)) << key;

  // Without --concurrency: an empty list and no top-level serving keys.
  o.concurrency.clear();
  llvm::Expected<BenchResult> plain = bench(m, "fake", o);
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  llvm::json::Object pj = plain->toJSON();
  ASSERT_TRUE(pj.getArray("concurrent"));
  EXPECT_TRUE(pj.getArray("concurrent")->empty());
  EXPECT_FALSE(pj.get("requests_per_s"));
}

TEST(Bench, ConcurrencyErrors) {
  FakeModel m;
  m.maxBatch = 8;
  BenchOptions o = rounds(4, 2, 1, 0);
  o.concurrency = {2, 0};
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()),
            "--concurrency levels must be positive");
  o.concurrency = {4};
  o.requests = 3;
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()),
            "--concurrency 4 exceeds --requests 3 (no wave would be full)");
  o.requests = -1;
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()), "--requests must be positive");
  o.concurrency.clear();
  o.requests = 2;
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()), "--requests needs --concurrency");
  // More than the model can batch: the model's own error, naming the level.
  o.concurrency = {4, 16};
  o.requests = 0;
  EXPECT_EQ(llvm::toString(bench(m, "fake", o).takeError()),
            "--concurrency 16: batch 16 exceeds the fake's 8");
}


/// A model whose read pass advances the fake clock by `readSeconds[i % size]` and returns
/// `bytes[i % size]` on its i-th call (call 0 is bench's up-front probe).
class RooflineModel : public FakeModel {
public:
  llvm::Expected<uint64_t> readStreamedWeights() override {
    const size_t i = reads++;
    now += readSeconds[i % readSeconds.size()];
    return bytes[i % bytes.size()];
  }
  std::vector<double> readSeconds{0.0055, 0.011};
  std::vector<uint64_t> bytes{1000000};
  size_t reads = 0;
};

TEST(Bench, RooflinePairsEachDecodeStepWithAReadPass) {
  RooflineModel m;
  BenchOptions o = rounds(4, 4, 2, 1);
  o.batches = {2};
  o.roofline = true;
  o.clock = [&m] { return m.now; };
  llvm::Expected<BenchResult> r = bench(m, "fake.mlir", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // The probe, then one read after each of the 3 × 4 batch-1 decode steps; none at batch 2.
  EXPECT_EQ(m.reads, 1u + 12u);
  // The reads are not part of the steps: each step is the fake's 11 ms.
  EXPECT_NEAR(r->decodeLatencyMs.max, 11.0, 1e-9);
  EXPECT_NEAR(r->decodeLatencyMs.min, 11.0, 1e-9);
  ASSERT_TRUE(r->roofline.has_value());
  const RooflineResult &f = *r->roofline;
  EXPECT_EQ(f.streamedBytes, 1000000u);
  // Measured reads (after the warmup round's 4): calls 5..12 alternate 11 ms and 5.5 ms.
  EXPECT_EQ(f.readGBs.count, 8u);
  EXPECT_NEAR(f.readGBs.min, 1e6 / 0.011 / 1e9, 1e-12);
  EXPECT_NEAR(f.readGBs.max, 1e6 / 0.0055 / 1e9, 1e-12);
  EXPECT_NEAR(f.stepFraction.min, 0.5, 1e-12);
  EXPECT_NEAR(f.stepFraction.max, 1.0, 1e-12);
  EXPECT_NEAR(f.fraction, (4 * 0.0055 + 4 * 0.011) / (8 * 0.011), 1e-12);
  EXPECT_NEAR(f.rooflineTokS, 8 / (4 * 0.0055 + 4 * 0.011), 1e-9);
  EXPECT_NEAR(f.fraction, r->decodeTokS / f.rooflineTokS, 1e-12);
  EXPECT_NEAR(f.decodeGBs, 1e6 * r->decodeTokS / 1e9, 1e-12);
  llvm::json::Object j = r->toJSON();
  const llvm::json::Object *jr = j.getObject("roofline");
  ASSERT_NE(jr, nullptr);
  EXPECT_EQ(jr->getInteger("streamed_bytes"), 1000000);
  EXPECT_NEAR(*jr->getNumber("fraction"), f.fraction, 1e-12);
  ASSERT_NE(jr->getObject("step_fraction"), nullptr);
  EXPECT_EQ(jr->getObject("read_gb_s")->getInteger("samples"), 8);

  // Without --roofline: no read, no key.
  RooflineModel plain;
  o.roofline = false;
  o.clock = [&plain] { return plain.now; };
  llvm::Expected<BenchResult> p = bench(plain, "fake.mlir", o);
  ASSERT_TRUE(bool(p)) << llvm::toString(p.takeError());
  EXPECT_EQ(plain.reads, 0u);
  EXPECT_FALSE(p->roofline.has_value());
  EXPECT_EQ(p->toJSON().getObject("roofline"), nullptr);
}

TEST(Bench, RooflineErrors) {
  BenchOptions o = rounds(4, 2, 1, 0);
  o.roofline = true;
  auto message = [&](DriverModel &m) {
    llvm::Expected<BenchResult> r = bench(m, "fake.mlir", o);
    return r ? std::string("no error") : llvm::toString(r.takeError());
  };
  // A host that cannot read its weights says so before running anything.
  FakeModel cannot;
  EXPECT_NE(message(cannot).find("--roofline needs an executable compiled by qcc"),
            std::string::npos);
  EXPECT_TRUE(cannot.calls.empty());
  RooflineModel none;
  none.bytes = {0};
  EXPECT_EQ(message(none), "--roofline: the decode step streamed no weights from host memory");
  RooflineModel changing;
  changing.bytes = {7, 7, 9};
  EXPECT_EQ(message(changing), "--roofline: the decode steps streamed 7 then 9 bytes");
}

/// A model that profiles: per forward call since the last take, two ffn_down matmuls (q4_K, 2 ms
/// and 1000 bytes each), the output matmul (q6_K, 3 ms, 500 bytes) and two attention calls (1
/// ms in all). A take advances the clock by 1 ms (it must fall outside the timed spans).
class ProfileModel : public FakeModel {
public:
  llvm::Error setProfiling(bool on) override {
    switches.push_back(on);
    taken = calls.size();
    return llvm::Error::success();
  }
  llvm::Expected<std::vector<KernelProfileRow>> takeProfile() override {
    const uint64_t n = calls.size() - taken;
    taken = calls.size();
    now += 0.001;
    ++takes;
    if (n == 0)
      return std::vector<KernelProfileRow>{};
    return std::vector<KernelProfileRow>{
        {"attention", "", "", 2 * n, 1000000 * n, 0},
        {"matmul", "blk.0.ffn_down.weight", "q4_K", n, 2000000 * n, 1000 * n},
        {"matmul", "blk.1.ffn_down.weight", "q4_K", n, 2000000 * n, 1000 * n},
        {"matmul", "output.weight", "q6_K", n, 3000000 * n, 500 * n}};
  }
  std::vector<bool> switches;
  size_t taken = 0, takes = 0;
};

TEST(Bench, ProfileGroupsKernelsPerStepAndPrefill) {
  ProfileModel m;
  BenchOptions o = rounds(4, 4, 2, 1);
  o.batches = {2};
  o.profile = true;
  o.clock = [&m] { return m.now; };
  llvm::Expected<BenchResult> r = bench(m, "fake.mlir", o);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // On for the latency rounds only; a take after each prefill and each decode step (3 rounds).
  EXPECT_EQ(m.switches, (std::vector<bool>{true, false}));
  EXPECT_EQ(m.takes, 3u * 5u);
  // The takes are not part of the timed spans: steps are the fake's 11 ms, prefill 14 ms.
  EXPECT_NEAR(r->decodeLatencyMs.max, 11.0, 1e-9);
  EXPECT_NEAR(r->ttftMs.max, 14.0, 1e-9);
  ASSERT_TRUE(r->profile.has_value());
  const ProfilePart &d = r->profile->decode, &p = r->profile->prefill;
  EXPECT_EQ(d.samples, 8);
  EXPECT_NEAR(d.ms, 11.0, 1e-9);
  EXPECT_NEAR(d.kernelMs, 8.0, 1e-9);
  ASSERT_EQ(d.rows.size(), 3u);
  // Most time first; the two layers' ffn_down weights are one row.
  EXPECT_EQ(d.rows[0].op, "matmul");
  EXPECT_EQ(d.rows[0].weights, "ffn_down");
  EXPECT_EQ(d.rows[0].format, "q4_K");
  EXPECT_EQ(d.rows[0].tensors, 2);
  EXPECT_NEAR(d.rows[0].calls, 2.0, 1e-12);
  EXPECT_NEAR(d.rows[0].ms, 4.0, 1e-9);
  EXPECT_NEAR(d.rows[0].bytes, 2000.0, 1e-9);
  EXPECT_NEAR(d.rows[0].gbS, 2000.0 / 4e6, 1e-15);
  EXPECT_NEAR(d.rows[0].fraction, 4.0 / 11.0, 1e-12);
  EXPECT_EQ(d.rows[1].weights, "output");
  EXPECT_EQ(d.rows[1].format, "q6_K");
  EXPECT_NEAR(d.rows[1].ms, 3.0, 1e-9);
  EXPECT_EQ(d.rows[2].op, "attention");
  EXPECT_EQ(d.rows[2].weights, "");
  EXPECT_NEAR(d.rows[2].calls, 2.0, 1e-12);
  EXPECT_NEAR(d.rows[2].ms, 1.0, 1e-9);
  EXPECT_EQ(p.samples, 2);
  EXPECT_NEAR(p.ms, 14.0, 1e-9);
  EXPECT_NEAR(p.kernelMs, 8.0, 1e-9);

  llvm::json::Object j = r->toJSON();
  const llvm::json::Object *jp = j.getObject("profile");
  ASSERT_NE(jp, nullptr);
  const llvm::json::Object *jd = jp->getObject("decode");
  ASSERT_NE(jd, nullptr);
  EXPECT_EQ(jd->getInteger("samples"), 8);
  EXPECT_NEAR(*jd->getNumber("kernel_ms"), 8.0, 1e-9);
  const llvm::json::Array *rows = jd->getArray("rows");
  ASSERT_NE(rows, nullptr);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].getAsObject()->getString("weights"), "ffn_down");
  EXPECT_EQ((*rows)[0].getAsObject()->getInteger("tensors"), 2);
  EXPECT_EQ((*rows)[2].getAsObject()->getString("op"), "attention");
  EXPECT_EQ((*rows)[2].getAsObject()->get("weights"), nullptr); // matmul rows only
  EXPECT_NE(jp->getObject("prefill"), nullptr);
  std::string text;
  llvm::raw_string_ostream os(text);
  r->print(os);
  EXPECT_NE(text.find("profile   decode: 11.000 ms per step (8 samples), kernels 8.000 ms (72.7%)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("profile   prefill: 14.000 ms per call (2 samples)"), std::string::npos);

  // A host without a profile says so before running anything.
  FakeModel cannot;
  o.clock = [&cannot] { return cannot.now; };
  llvm::Expected<BenchResult> e = bench(cannot, "fake.mlir", o);
  ASSERT_FALSE(bool(e));
  EXPECT_NE(llvm::toString(e.takeError()).find("--profile needs an executable compiled by qcc"),
            std::string::npos);
  EXPECT_TRUE(cannot.calls.empty());
}

TEST(Bench, ProfileRolesDropTheLayerOnly) {
  const std::vector<KernelProfileRow> rows{
      {"matmul", "blk.7.attn_q.weight", "q8_0", 1, 1000000, 10},
      {"matmul", "blk.12.attn_q.weight", "q8_0", 1, 1000000, 10},
      {"matmul", "blk.x.attn_q.weight", "q8_0", 1, 1000000, 10},
      {"matmul", "output", "f16", 1, 1000000, 10}};
  ProfilePart p = summarizeProfile(rows, 1, 0.004);
  ASSERT_EQ(p.rows.size(), 3u);
  EXPECT_EQ(p.rows[0].weights, "attn_q");
  EXPECT_EQ(p.rows[0].tensors, 2);
  EXPECT_EQ(p.rows[1].weights, "blk.x.attn_q");
  EXPECT_EQ(p.rows[2].weights, "output");
  EXPECT_EQ(summarizeProfile(rows, 0, 0).rows.size(), 0u);
}

} // namespace
