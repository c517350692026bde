//===- Calibration.cpp - per-linear input statistics ------------------------===//
#include "qcc/Exec/Calibration.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace llvm;
using mlir::Operation;
using mlir::Value;
using namespace qcc::qllm;

namespace qcc {

std::vector<float> LinearInputStats::importance() const {
  std::vector<float> out(size_t(cols), 0.0f);
  if (tokens > 0)
    for (int64_t j = 0; j < cols; ++j)
      out[j] = float(sumSq[j] / double(tokens));
  return out;
}

static void accumulate(LinearInputStats &st, const float *x, int64_t n, int64_t cols,
                       const CalibrationOptions &opts) {
  if (st.cols == 0) {
    st.cols = cols;
    st.sumSq.assign(size_t(cols), 0.0);
    st.sumAbs.assign(size_t(cols), 0.0);
    st.absMax.assign(size_t(cols), 0.0f);
    if (opts.collectXtX)
      st.xtx.assign(size_t(cols * cols), 0.0);
  }
  for (int64_t i = 0; i < n; ++i) {
    const float *r = x + i * cols;
    for (int64_t j = 0; j < cols; ++j) {
      st.sumSq[j] += double(r[j]) * double(r[j]);
      st.sumAbs[j] += std::fabs(double(r[j]));
      st.absMax[j] = std::max(st.absMax[j], std::fabs(r[j]));
    }
  }
  // Empty after releaseXtX: an input read again in a later stage gets no new matrix.
  if (opts.collectXtX && !st.xtx.empty()) {
    // Upper triangle per token, mirrored when the record is complete; rows of H are independent.
    double *h = st.xtx.data();
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t a = 0; a < cols; ++a)
      for (int64_t i = 0; i < n; ++i) {
        const float *r = x + i * cols;
        const double xa = r[a];
        if (xa == 0)
          continue;
        double *row = h + a * cols;
        for (int64_t b = a; b < cols; ++b)
          row[b] += xa * double(r[b]);
      }
  }
  for (int64_t i = 0; i < n && st.sampleRows < opts.maxSampleRows; ++i, ++st.sampleRows)
    st.samples.insert(st.samples.end(), x + i * cols, x + (i + 1) * cols);
  st.tokens += n;
}

static void mirrorXtX(LinearInputStats &st) {
  if (!st.xtx.empty())
    for (int64_t a = 0; a < st.cols; ++a)
      for (int64_t b = 0; b < a; ++b)
        st.xtx[a * st.cols + b] = st.xtx[b * st.cols + a];
}

void Calibration::observe(Operation *op, const float *x, int64_t n, int64_t cols,
                          const CalibrationOptions &opts) {
  auto lin = cast<LinearOp>(op);
  auto [it, inserted] = byInput_.try_emplace(lin.getInput(), stats_.size());
  if (inserted)
    stats_.emplace_back();
  if (auto w = lin.getWeight().getDefiningOp<WeightOp>())
    byWeight_[w.getName()] = it->second;
  if (llvm::find(stageRecords_, it->second) == stageRecords_.end())
    stageRecords_.push_back(it->second);
  auto [seen, first] = recordedThisCall_.try_emplace(it->second, x);
  if (!first && seen->second == x)
    return;
  seen->second = x;
  accumulate(stats_[it->second], x, n, cols, opts);
}

/// Checks the options and draws the windows as GPTQ's loader does: random starts in
/// [0, len - seqlen - 1], samples × seqlen tokens in draw order.
static Expected<std::vector<int32_t>> drawWindows(const ReferenceExecutor &ex,
                                                  ArrayRef<int32_t> tokens,
                                                  const CalibrationOptions &opts) {
  auto fail = [](const Twine &m) { return createStringError(inconvertibleErrorCode(), m); };
  if (opts.samples <= 0 || opts.seqlen <= 1)
    return fail("calibration needs at least one window of 2 or more tokens");
  if (opts.seqlen > ex.maxSeqLen())
    return fail("calibration seqlen " + Twine(opts.seqlen) + " exceeds the model's context " +
                Twine(ex.maxSeqLen()));
  if (int64_t(tokens.size()) <= opts.seqlen)
    return fail("calibration text has " + Twine(tokens.size()) + " tokens, fewer than seqlen " +
                Twine(opts.seqlen) + " + 1");
  std::mt19937 rng(uint32_t(opts.seed));
  std::uniform_int_distribution<int64_t> start(0, int64_t(tokens.size()) - opts.seqlen - 1);
  std::vector<int32_t> windows;
  windows.reserve(size_t(opts.samples * opts.seqlen));
  for (int64_t s = 0; s < opts.samples; ++s) {
    int64_t o = start(rng);
    windows.insert(windows.end(), tokens.begin() + o, tokens.begin() + o + opts.seqlen);
  }
  return windows;
}

Expected<std::unique_ptr<Calibration>> Calibration::run(ReferenceExecutor &ex,
                                                        ArrayRef<int32_t> tokens,
                                                        const CalibrationOptions &opts) {
  auto windows = drawWindows(ex, tokens, opts);
  if (!windows)
    return windows.takeError();
  std::unique_ptr<Calibration> cal(new Calibration());
  ex.setLinearObserver([&](Operation *op, const float *x, int64_t n, int64_t cols) {
    cal->observe(op, x, n, cols, opts);
  });
  const int64_t T = opts.seqlen;
  const int64_t batch = std::max<int64_t>(1, std::min(opts.batch, opts.samples));
  ex.setCacheLength(T);
  std::vector<float> logits;
  Error err = ex.reset(batch);
  for (int64_t s = 0; !err && s < opts.samples; s += batch) {
    const int64_t B = std::min(batch, opts.samples - s);
    cal->recordedThisCall_.clear();
    err = ex.forward(ArrayRef<int32_t>(*windows).slice(s * T, B * T), B, T, 0, logits);
    cal->tokensSeen_ += B * T;
  }
  ex.setLinearObserver(nullptr);
  if (err)
    return std::move(err);
  for (LinearInputStats &st : cal->stats_)
    mirrorXtX(st);
  cal->stageRecords_.clear();
  cal->peakBytes_ = cal->statsBytes();
  return std::move(cal);
}

Expected<std::unique_ptr<Calibration>>
Calibration::runStreaming(ReferenceExecutor &ex, ArrayRef<int32_t> tokens,
                          const CalibrationOptions &opts, StageCallback onStage) {
  auto windows = drawWindows(ex, tokens, opts);
  if (!windows)
    return windows.takeError();
  std::unique_ptr<Calibration> cal(new Calibration());
  const int64_t S = opts.samples, T = opts.seqlen;
  const int64_t batch = std::max<int64_t>(1, std::min(opts.batch, S));
  ex.setCacheLength(T);
  if (Error e = ex.reset(batch))
    return std::move(e);
  // `in`: every window's input of the current stage; `out`: its output, kept apart from `in`
  // while a callback may still ask for the stage to be re-run from `in`.
  std::vector<float> in, out, h;
  int64_t inDim = 0, outDim = 0;
  const size_t stages = ex.numStages();
  auto pass = [&](size_t stage) -> Error {
    const bool last = stage + 1 == stages;
    for (int64_t s = 0; s < S; s += batch) {
      const int64_t B = std::min(batch, S - s);
      h.assign(in.begin() + s * T * inDim, in.begin() + (s + B) * T * inDim);
      cal->recordedThisCall_.clear();
      if (Error e = ex.runStage(stage, ArrayRef<int32_t>(*windows).slice(s * T, B * T), B, T, h))
        return e;
      if (last) // the logits: nothing reads them
        continue;
      if (out.empty()) {
        outDim = int64_t(h.size()) / (B * T);
        out.resize(size_t(S * T * outDim));
      }
      std::memcpy(out.data() + s * T * outDim, h.data(), h.size() * sizeof(float));
    }
    return Error::success();
  };
  Error err = Error::success();
  for (size_t stage = 0; stage < stages && !err; ++stage) {
    cal->stageRecords_.clear();
    cal->stageWeights_.clear();
    for (Operation *op : ex.stageLinears(stage))
      if (auto w = cast<LinearOp>(op).getWeight().getDefiningOp<WeightOp>())
        cal->stageWeights_.push_back(w.getName().str());
    ex.setLinearObserver([&](Operation *op, const float *x, int64_t n, int64_t cols) {
      cal->observe(op, x, n, cols, opts);
    });
    err = pass(stage);
    ex.setLinearObserver(nullptr);
    if (err)
      break;
    for (size_t r : cal->stageRecords_)
      mirrorXtX(cal->stats_[r]);
    cal->peakBytes_ = std::max<uint64_t>(
        cal->peakBytes_, cal->statsBytes() + (in.capacity() + out.capacity()) * sizeof(float));
    cal->rerun_ = false;
    if (onStage && (err = onStage(stage, *cal)))
      break;
    if (cal->rerun_ && stage + 1 < stages) {
      out.clear(); // keeps its capacity
      err = pass(stage);
    }
    in.swap(out);
    inDim = outDim;
    std::vector<float>().swap(out);
  }
  ex.setLinearObserver(nullptr);
  cal->stageRecords_.clear();
  cal->stageWeights_.clear();
  if (err)
    return std::move(err);
  cal->tokensSeen_ = S * T;
  return std::move(cal);
}

void Calibration::releaseXtX(StringRef weightName) {
  auto it = byWeight_.find(weightName);
  if (it == byWeight_.end())
    return;
  released_[weightName] = true;
  for (const auto &e : byWeight_)
    if (e.second == it->second && !released_.lookup(e.getKey()))
      return; // another weight still reads this record's XᵀX
  std::vector<double>().swap(stats_[it->second].xtx);
}

uint64_t Calibration::statsBytes() const {
  uint64_t b = 0;
  for (const LinearInputStats &st : stats_)
    b += (st.sumSq.capacity() + st.sumAbs.capacity() + st.xtx.capacity()) * sizeof(double) +
         (st.absMax.capacity() + st.samples.capacity()) * sizeof(float);
  return b;
}

const LinearInputStats *Calibration::forWeight(StringRef weightName) const {
  auto it = byWeight_.find(weightName);
  return it == byWeight_.end() ? nullptr : &stats_[it->second];
}

} // namespace qcc
