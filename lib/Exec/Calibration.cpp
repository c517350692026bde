//===- Calibration.cpp - per-linear input statistics ------------------------===//
#include "qcc/Exec/Calibration.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>
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
  if (opts.collectXtX) {
    // Upper triangle per token, mirrored at the end of run(); rows of H are independent.
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

Expected<std::unique_ptr<Calibration>> Calibration::run(ReferenceExecutor &ex,
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
  std::unique_ptr<Calibration> cal(new Calibration());
  DenseMap<Value, size_t> byInput;
  ex.setLinearObserver([&](Operation *op, const float *x, int64_t n, int64_t cols) {
    auto lin = cast<LinearOp>(op);
    auto [it, inserted] = byInput.try_emplace(lin.getInput(), cal->stats_.size());
    if (inserted)
      cal->stats_.emplace_back();
    if (auto w = lin.getWeight().getDefiningOp<WeightOp>())
      cal->byWeight_[w.getName()] = it->second;
    accumulate(cal->stats_[it->second], x, n, cols, opts);
  });

  // GPTQ's loader: random window starts in [0, len - seqlen - 1].
  std::mt19937 rng(uint32_t(opts.seed));
  std::uniform_int_distribution<int64_t> start(0, int64_t(tokens.size()) - opts.seqlen - 1);
  const int64_t batch = std::max<int64_t>(1, std::min(opts.batch, opts.samples));
  ex.setCacheLength(opts.seqlen);
  std::vector<int32_t> buf;
  std::vector<float> logits;
  Error err = ex.reset(batch);
  for (int64_t s = 0; !err && s < opts.samples; s += batch) {
    const int64_t B = std::min(batch, opts.samples - s);
    buf.clear();
    for (int64_t b = 0; b < B; ++b) {
      int64_t o = start(rng);
      buf.insert(buf.end(), tokens.begin() + o, tokens.begin() + o + opts.seqlen);
    }
    err = ex.forward(buf, B, opts.seqlen, 0, logits);
    cal->tokensSeen_ += B * opts.seqlen;
  }
  ex.setLinearObserver(nullptr);
  if (err)
    return std::move(err);
  for (LinearInputStats &st : cal->stats_)
    if (!st.xtx.empty())
      for (int64_t a = 0; a < st.cols; ++a)
        for (int64_t b = 0; b < a; ++b)
          st.xtx[a * st.cols + b] = st.xtx[b * st.cols + a];
  return std::move(cal);
}

const LinearInputStats *Calibration::forWeight(StringRef weightName) const {
  auto it = byWeight_.find(weightName);
  return it == byWeight_.end() ? nullptr : &stats_[it->second];
}

} // namespace qcc
