//===- StagedCalibrationTest.cpp - staged execution, streaming calibration --===//
//
// The staged executor against forward(), the streaming calibration against the whole-model
// one, the per-stage callback's view of XᵀX, and sequential GPTQ against one-shot GPTQ.
//
//===----------------------------------------------------------------------===//
#include "../TestData.h"
#include "../../lib/Quantize/GPTQSequential.h"
#include "qcc/Eval/Perplexity.h"
#include "qcc/Exec/Calibration.h"
#include "qcc/Exec/ReferenceExecutor.h"
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/QuantAlgo/GPTQ.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/MemoryBuffer.h"

#include <chrono>
#include <cmath>
#include <cstring>

using namespace qcc;
using namespace qcc::test;

namespace {

struct Model {
  std::unique_ptr<mlir::MLIRContext> ctx = std::make_unique<mlir::MLIRContext>();
  std::unique_ptr<ModelSource> src;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<ReferenceExecutor> ex;
};

std::unique_ptr<Model> load(const std::string &rel) {
  auto m = std::make_unique<Model>();
  auto src = openModelSource(dataPath(rel));
  if (!src) {
    ADD_FAILURE() << llvm::toString(src.takeError());
    return nullptr;
  }
  m->src = std::move(*src);
  m->module = buildModelModule(*m->ctx, *m->src, m->src->path);
  if (!m->module) {
    ADD_FAILURE() << "module does not verify for " << rel;
    return nullptr;
  }
  auto ex = ReferenceExecutor::create(*m->module, *m->src);
  if (!ex) {
    ADD_FAILURE() << llvm::toString(ex.takeError());
    return nullptr;
  }
  m->ex = std::move(*ex);
  return m;
}

const char *kStories = "models/llama2c/stories260K/stories260K.bin";
const char *kStudent = "models/student4M/student4M-f32.gguf";

std::vector<int32_t> encodeFile(const std::string &model, const std::string &text) {
  auto tok = Tokenizer::load(dataPath(model), "gguf", 512);
  EXPECT_TRUE(bool(tok));
  if (!tok) {
    llvm::consumeError(tok.takeError());
    return {};
  }
  auto buf = llvm::MemoryBuffer::getFile(dataPath(text));
  EXPECT_TRUE(bool(buf));
  return buf ? (*tok)->encode((*buf)->getBuffer(), true) : std::vector<int32_t>{};
}

std::vector<int32_t> calibTokens() {
  return encodeFile(kStudent, "text/tinystories/tinystories_sample.txt");
}

// A llama splits after every residual add: one stage per attention block and per MLP block, the
// embedding joining the first and the final norm the output linear.
TEST(StagedExecutor, StageSplit) {
  for (const char *path : {kStories, kStudent}) {
    auto m = load(path);
    ASSERT_TRUE(m);
    const size_t L = m->src->layers.size();
    EXPECT_EQ(m->ex->numStages(), 2 * L + 1) << path;
    RecordProperty(path, std::to_string(m->ex->numStages()));
    for (size_t s = 0; s < m->ex->numStages(); ++s) {
      size_t want = s + 1 == m->ex->numStages() ? 1 : s % 2 == 0 ? 4 : 3; // qkv+o, gate/up+down
      EXPECT_EQ(m->ex->stageLinears(s).size(), want) << path << " stage " << s;
    }
    llvm::ArrayRef<std::string> first = m->ex->stageWeights(0);
    EXPECT_NE(llvm::find(first, m->src->tokEmbd), first.end());
    EXPECT_NE(llvm::find(first, m->src->layers[0].wq), first.end());
    llvm::ArrayRef<std::string> mlp = m->ex->stageWeights(2 * L - 1);
    EXPECT_NE(llvm::find(mlp, m->src->layers[L - 1].wDown), mlp.end());
  }
}

// Every stage in turn from position 0 computes forward()'s logits, bit for bit.
TEST(StagedExecutor, AllStagesEqualForward) {
  for (const char *model : {"stories260K", "student4M"}) {
    auto tokens = readBinary<int32_t>(dataPath(std::string("reference/logits/") + model +
                                               ".tokens.i32"));
    auto m = load(std::string(model) == "stories260K" ? kStories : kStudent);
    ASSERT_TRUE(m);
    const int64_t B = 4, T = int64_t(tokens.size()) / B;
    ASSERT_FALSE(bool(m->ex->reset(B)));
    std::vector<float> ref, h;
    ASSERT_FALSE(bool(m->ex->forward(tokens, B, T, 0, ref)));
    for (size_t s = 0; s < m->ex->numStages(); ++s) {
      llvm::Error e = m->ex->runStage(s, tokens, B, T, h);
      ASSERT_FALSE(bool(e)) << llvm::toString(std::move(e));
    }
    ASSERT_EQ(h.size(), ref.size());
    EXPECT_EQ(std::memcmp(h.data(), ref.data(), h.size() * sizeof(float)), 0) << model;
    // A wrong-sized input is an error, not a crash.
    std::vector<float> bad(3);
    llvm::Error e = m->ex->runStage(1, tokens, B, T, bad);
    EXPECT_TRUE(bool(e));
    llvm::consumeError(std::move(e));
  }
}

void expectSameStats(const Calibration &a, const Calibration &b, const char *what) {
  ASSERT_EQ(a.records().size(), b.records().size()) << what;
  EXPECT_EQ(a.tokensSeen(), b.tokensSeen());
  ASSERT_EQ(a.recordOfWeight().size(), b.recordOfWeight().size());
  for (const auto &e : a.recordOfWeight())
    EXPECT_EQ(b.recordOfWeight().lookup(e.getKey()), e.second) << e.getKey().str();
  auto rel = [](const auto &x, const auto &y) {
    EXPECT_EQ(x.size(), y.size());
    double err = 0, scale = 0;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      scale = std::max(scale, std::fabs(double(y[i])));
      err = std::max(err, std::fabs(double(x[i]) - double(y[i])));
    }
    return scale > 0 ? err / scale : err;
  };
  for (size_t r = 0; r < a.records().size(); ++r) {
    const LinearInputStats &x = a.records()[r], &y = b.records()[r];
    EXPECT_EQ(x.cols, y.cols);
    EXPECT_EQ(x.tokens, y.tokens);
    EXPECT_EQ(x.sampleRows, y.sampleRows);
    EXPECT_LE(rel(x.sumSq, y.sumSq), 1e-9) << what << " record " << r;
    EXPECT_LE(rel(x.sumAbs, y.sumAbs), 1e-9) << what << " record " << r;
    EXPECT_LE(rel(x.absMax, y.absMax), 1e-9) << what << " record " << r;
    EXPECT_LE(rel(x.xtx, y.xtx), 1e-9) << what << " record " << r;
    EXPECT_LE(rel(x.samples, y.samples), 1e-9) << what << " record " << r;
  }
}

// Same windows, same batches (the last one short), same statistics as the whole-model run.
TEST(StreamingCalibration, EqualsWholeModelRun) {
  std::vector<int32_t> tokens = calibTokens();
  ASSERT_FALSE(tokens.empty());
  for (const char *path : {kStories, kStudent}) {
    auto m = load(path);
    ASSERT_TRUE(m);
    CalibrationOptions co;
    co.samples = 10;
    co.seqlen = 64;
    co.batch = 4;
    co.collectXtX = true;
    co.maxSampleRows = 100;
    auto a = Calibration::run(*m->ex, tokens, co);
    ASSERT_TRUE(bool(a)) << llvm::toString(a.takeError());
    auto b = Calibration::runStreaming(*m->ex, tokens, co);
    ASSERT_TRUE(bool(b)) << llvm::toString(b.takeError());
    expectSameStats(**b, **a, path);
    // A callback that neither releases nor re-runs changes nothing.
    size_t calls = 0;
    auto c = Calibration::runStreaming(*m->ex, tokens, co, [&](size_t, Calibration &) {
      ++calls;
      return llvm::Error::success();
    });
    ASSERT_TRUE(bool(c)) << llvm::toString(c.takeError());
    EXPECT_EQ(calls, m->ex->numStages());
    expectSameStats(**c, **a, path);
  }
}

// The callback holds XᵀX for its own stage's inputs only; released matrices are gone, so the
// peak is one stage's XᵀX plus the hidden states instead of every XᵀX.
TEST(StreamingCalibration, CallbackSeesOnlyItsStage) {
  std::vector<int32_t> tokens = calibTokens();
  auto m = load(kStudent);
  ASSERT_TRUE(m);
  CalibrationOptions co;
  co.samples = 32;
  co.seqlen = 128;
  co.collectXtX = true;
  auto t0 = std::chrono::steady_clock::now();
  auto whole = Calibration::run(*m->ex, tokens, co);
  double tWhole = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(bool(whole));
  uint64_t maxStage = 0;
  t0 = std::chrono::steady_clock::now();
  auto s = Calibration::runStreaming(*m->ex, tokens, co, [&](size_t stage, Calibration &cal) {
    llvm::ArrayRef<std::string> names = cal.stageLinearWeights();
    EXPECT_EQ(names.size(), m->ex->stageLinears(stage).size());
    std::vector<size_t> mine;
    for (const std::string &n : names)
      mine.push_back(cal.recordOfWeight().lookup(n));
    for (size_t r = 0; r < cal.records().size(); ++r) {
      bool own = llvm::is_contained(mine, r);
      const LinearInputStats &st = cal.records()[r];
      EXPECT_EQ(st.xtx.empty(), !own) << "stage " << stage << " record " << r;
      if (own)
        EXPECT_EQ(st.xtx.size(), size_t(st.cols * st.cols));
    }
    uint64_t before = cal.statsBytes();
    // Releasing q (gate) alone keeps the matrix q, k and v (gate and up) share.
    cal.releaseXtX(names[0]);
    if (names.size() > 1 && mine[1] == mine[0])
      EXPECT_FALSE(cal.forWeight(names[0])->xtx.empty()) << "stage " << stage;
    for (const std::string &n : names)
      cal.releaseXtX(n);
    for (const std::string &n : names)
      EXPECT_TRUE(cal.forWeight(n)->xtx.empty());
    maxStage = std::max(maxStage, before - cal.statsBytes());
    return llvm::Error::success();
  });
  double tStream = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(bool(s)) << llvm::toString(s.takeError());
  const int64_t dim = m->src->config.dim;
  const uint64_t hidden = uint64_t(2 * co.samples * co.seqlen * dim) * sizeof(float);
  EXPECT_LE((*s)->peakBytes(), (*s)->statsBytes() + maxStage + hidden);
  EXPECT_LT((*s)->peakBytes(), (*whole)->peakBytes());
  RecordProperty("whole_stats_bytes", std::to_string((*whole)->peakBytes()));
  RecordProperty("streaming_peak_bytes", std::to_string((*s)->peakBytes()));
  std::printf("student4M 32x128 with XtX: whole-model stats %.2f MB in %.2f s; streaming peak "
              "%.2f MB (largest stage XtX %.2f MB, hidden %.2f MB) in %.2f s\n",
              (*whole)->peakBytes() / 1e6, tWhole, (*s)->peakBytes() / 1e6, maxStage / 1e6,
              hidden / 1e6, tStream);
}

double pplWith(Model &m, const llvm::StringMap<std::vector<float>> &weights,
               const llvm::StringMap<std::vector<uint8_t>> &packed = {},
               const quantalgo::IntGroupFormat *fmt = nullptr) {
  auto use = [&](llvm::StringRef name, const rt::WeightView &v) {
    llvm::Error err = m.ex->overrideWeight(name, v);
    EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  };
  for (const auto &e : weights) {
    const TensorRef *t = m.src->find(e.getKey());
    const int64_t cols = t->shape.back(), rows = t->numElements() / cols;
    use(e.getKey(), {GGMLType::F32, rows, cols, reinterpret_cast<const uint8_t *>(e.second.data()),
                     uint64_t(cols) * sizeof(float), std::nullopt});
  }
  for (const auto &e : packed) {
    const TensorRef *t = m.src->find(e.getKey());
    const int64_t cols = t->shape.back(), rows = t->numElements() / cols;
    use(e.getKey(), {GGMLType::I8, rows, cols, e.second.data(),
                     uint64_t(quantalgo::rowBytes(*fmt, cols)), *fmt});
  }
  std::vector<int32_t> ids = encodeFile(kStudent, "text/tinystories/TinyStories-valid.first22.txt");
  eval::PerplexityOptions o;
  o.ctx = 128;
  o.bosId = 1;
  m.ex->setCacheLength(128);
  auto r = eval::perplexity(*m.ex, ids, o);
  EXPECT_TRUE(bool(r));
  for (const auto &e : weights)
    m.ex->restoreWeight(e.getKey());
  for (const auto &e : packed)
    m.ex->restoreWeight(e.getKey());
  return r ? r->ppl : NAN;
}

// student4M, int3 g128 asym, 32 × 128 calibration windows (test/Quantize/methods-student4M).
TEST(GPTQSequential, PerplexityVersusOneShot) {
  std::vector<int32_t> tokens = calibTokens();
  auto m = load(kStudent);
  ASSERT_TRUE(m);
  quantalgo::IntGroupFormat fmt{3, 128, false};
  quantalgo::GPTQOptions go;
  CalibrationOptions co;
  co.samples = 32;
  co.seqlen = 128;
  // One-shot: every Hessian from the f32 model.
  auto t0 = std::chrono::steady_clock::now();
  co.collectXtX = true;
  auto cal = Calibration::run(*m->ex, tokens, co);
  ASSERT_TRUE(bool(cal));
  llvm::StringMap<std::vector<float>> oneShot;
  for (const LayerTensors &l : m->src->layers)
    for (const std::string *n : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown}) {
      const TensorRef *t = m->src->find(*n);
      const int64_t cols = t->shape.back(), rows = t->numElements() / cols;
      std::vector<float> w(size_t(rows * cols));
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_FALSE(bool(m->src->dequantizeRow(*t, r, w.data() + r * cols)));
      auto res = quantalgo::gptqQuantize(fmt, w.data(), rows, cols,
                                         (*cal)->forWeight(*n)->xtx.data(), go);
      ASSERT_TRUE(bool(res));
      oneShot[*n] = std::move(w);
    }
  double tOne = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  llvm::StringMap<std::vector<float>> seq;
  llvm::StringMap<std::vector<uint8_t>> packed;
  int64_t seen = 0;
  uint64_t peak = 0;
  co.collectXtX = false; // implied
  llvm::Error e = gptqSequential(*m->module, *m->src, tokens, co, fmt, go, /*simulate=*/true, seq,
                                 packed, seen, &peak);
  ASSERT_FALSE(bool(e)) << llvm::toString(std::move(e));
  double tSeq = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(seen, 32 * 128);
  EXPECT_EQ(seq.size(), oneShot.size());
  EXPECT_TRUE(packed.empty());
  // Packed: the same layers, stored as IntGroup rows.
  llvm::StringMap<std::vector<float>> none;
  llvm::StringMap<std::vector<uint8_t>> rows;
  e = gptqSequential(*m->module, *m->src, tokens, co, fmt, go, /*simulate=*/false, none, rows,
                     seen);
  ASSERT_FALSE(bool(e)) << llvm::toString(std::move(e));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(rows.size(), oneShot.size());

  double f32 = pplWith(*m, {});
  double one = pplWith(*m, oneShot);
  double sq = pplWith(*m, seq);
  // Stored packed, the sequential model runs to the simulated perplexity (as one-shot GPTQ's
  // packed and simulated models do in test/Quantize/methods-student4M.test).
  double sqPacked = pplWith(*m, {}, rows, &fmt);
  EXPECT_NEAR(sqPacked / sq, 1.0, 1e-9);
  RecordProperty("ppl_f32", std::to_string(f32));
  RecordProperty("ppl_gptq_oneshot", std::to_string(one));
  RecordProperty("ppl_gptq_sequential", std::to_string(sq));
  std::printf("student4M int3 g128 asym ppl: f32 %.4f, GPTQ one-shot %.4f (%.2f s), sequential "
              "%.4f (%.2f s, calibration peak %.2f MB), sequential packed %.4f\n",
              f32, one, tOne, sq, tSeq, peak / 1e6, sqPacked);
  EXPECT_TRUE(std::isfinite(sq));
  EXPECT_GT(sq, f32);
  EXPECT_LT(sq, one * 1.05);
}

} // namespace
