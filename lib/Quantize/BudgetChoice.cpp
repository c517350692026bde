//===- BudgetChoice.cpp - the bit-budget solver's per-tensor formats --------===//
//
// Budget mode: candidates per 2-D weight (k-quants where rows are multiples of 256, else the
// 32-blocks), sensitivities (KL on calibration tokens through the reference executor, or the
// importance-weighted weight error), the exact knapsack under the budget, and the measured KL of
// the chosen mix.
//
//===----------------------------------------------------------------------===//
#include "QuantizeInternal.h"
#include "qcc/Quant/BitBudget.h"
#include "qcc/Quant/GGMLFormats.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace qcc {

/// Mean KL(p_ref ‖ p) over all positions of [n, V] logits.
static double meanKL(const std::vector<float> &ref, const std::vector<float> &q, int64_t V) {
  const int64_t n = int64_t(ref.size()) / V;
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *a = &ref[i * V], *b = &q[i * V];
    float ma = *std::max_element(a, a + V), mb = *std::max_element(b, b + V);
    double za = 0, zb = 0;
    for (int64_t j = 0; j < V; ++j) {
      za += std::exp(double(a[j]) - ma);
      zb += std::exp(double(b[j]) - mb);
    }
    const double la = std::log(za) + ma, lb = std::log(zb) + mb;
    double kl = 0;
    for (int64_t j = 0; j < V; ++j) {
      const double lpa = double(a[j]) - la;
      kl += std::exp(lpa) * (lpa - (double(b[j]) - lb));
    }
    total += kl;
  }
  return total / double(n);
}

Error chooseBudgetTypes(const ModelSource &src, const QuantizeOptions &opts,
                        const Calibration *cal, QuantizeReport &report,
                        std::vector<GGMLType> &types, ReferenceExecutor *ex,
                        ArrayRef<int32_t> calibTokens) {
  std::vector<std::vector<float>> weights, importance;
  std::vector<BudgetTensor> tensors;
  std::vector<size_t> which;
  uint64_t fixedBytes = 0, fixedElements = 0;
  types.assign(report.tensors.size(), GGMLType::F32);
  weights.reserve(report.tensors.size());
  importance.reserve(report.tensors.size());
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    const TensorChoice &c = report.tensors[i];
    const int64_t cols = c.shape.back(), rows = c.shape.size() == 2 ? c.shape[0] : 1;
    if (c.shape.size() != 2) { // norms and vectors stay f32
      fixedBytes += uint64_t(rows * cols * 4);
      fixedElements += uint64_t(rows * cols);
      continue;
    }
    BudgetTensor t;
    t.name = c.name;
    t.rows = rows;
    t.cols = cols;
    std::initializer_list<GGMLType> kquants = {GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_K,
                                               GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::Q8_0};
    std::initializer_list<GGMLType> blocks32 = {GGMLType::IQ4_NL, GGMLType::Q4_0, GGMLType::Q5_0,
                                                GGMLType::Q5_1, GGMLType::Q8_0};
    for (GGMLType f : cols % 256 == 0 ? kquants : blocks32)
      if (cols % lookupFormat(f)->blockSize == 0)
        t.candidates.push_back(f);
    if (t.candidates.empty())
      t.candidates.push_back(GGMLType::F16);
    weights.push_back(loadF32(src, c.sourceName));
    t.weights = weights.back().data();
    if (const LinearInputStats *st = cal ? cal->forWeight(c.sourceName) : nullptr) {
      importance.push_back(st->importance());
      t.importance = importance.back().data();
    }
    tensors.push_back(std::move(t));
    which.push_back(i);
  }
  Expected<BudgetResult> res = createStringError(inconvertibleErrorCode(), "unset");
  if (ex && !calibTokens.empty()) {
    consumeError(res.takeError());
    // Sensitivity by KL on calibration windows: quantize one tensor at a time.
    const int64_t T = std::min<int64_t>(opts.calib.seqlen, ex->maxSeqLen());
    const int64_t B = std::max<int64_t>(1, std::min<int64_t>(opts.sensitivityTokens / T,
                                                             int64_t(calibTokens.size()) / T));
    if (int64_t(calibTokens.size()) < B * T)
      return createStringError(inconvertibleErrorCode(), "calibration text too short");
    std::vector<int32_t> toks(calibTokens.begin(), calibTokens.begin() + B * T);
    ex->setCacheLength(T);
    std::vector<float> ref, logits;
    if (Error e = ex->reset(B))
      return e;
    if (Error e = ex->forward(toks, B, T, 0, ref))
      return e;
    std::vector<std::vector<BudgetChoice>> table;
    std::vector<uint64_t> elements;
    for (size_t k = 0; k < tensors.size(); ++k) {
      const BudgetTensor &t = tensors[k];
      const std::string &source = report.tensors[which[k]].sourceName;
      std::vector<BudgetChoice> row;
      for (GGMLType f : t.candidates) {
        const int64_t rb = rowBytes(f, t.cols);
        std::vector<uint8_t> q(size_t(rb * t.rows));
        if (Error e = quantizeRows(f, t.weights, q.data(), t.rows, t.cols, t.importance))
          return e;
        rt::WeightView view{f, t.rows, t.cols, q.data(), uint64_t(rb), std::nullopt};
        if (Error e = ex->overrideWeight(source, view))
          return e;
        Error fe = ex->reset(B);
        if (!fe)
          fe = ex->forward(toks, B, T, 0, logits);
        ex->restoreWeight(source);
        if (fe)
          return fe;
        row.push_back({f, meanKL(ref, logits, ex->vocabSize()), uint64_t(rb * t.rows)});
      }
      table.push_back(std::move(row));
      elements.push_back(uint64_t(t.rows * t.cols));
    }
    res = solveBitBudgetTable(std::move(table), elements, opts.budget, fixedBytes, fixedElements);
    if (!res)
      return res.takeError();
    // Measured: the whole chosen mix at once on the same tokens (the prediction sums
    // one-tensor-at-a-time KLs, so interactions show up as the difference).
    std::vector<std::vector<uint8_t>> chosen(tensors.size());
    for (size_t k = 0; k < tensors.size(); ++k) {
      const BudgetTensor &t = tensors[k];
      const GGMLType f = res->types[k];
      const int64_t rb = rowBytes(f, t.cols);
      chosen[k].resize(size_t(rb * t.rows));
      if (Error e = quantizeRows(f, t.weights, chosen[k].data(), t.rows, t.cols, t.importance))
        return e;
      rt::WeightView view{f, t.rows, t.cols, chosen[k].data(), uint64_t(rb), std::nullopt};
      if (Error e = ex->overrideWeight(report.tensors[which[k]].sourceName, view))
        return e;
    }
    Error fe = ex->reset(B);
    if (!fe)
      fe = ex->forward(toks, B, T, 0, logits);
    for (size_t k = 0; k < tensors.size(); ++k)
      ex->restoreWeight(report.tensors[which[k]].sourceName);
    if (fe)
      return fe;
    report.measuredError = meanKL(ref, logits, ex->vocabSize());
  } else {
    consumeError(res.takeError());
    res = solveBitBudget(tensors, opts.budget, fixedBytes, fixedElements);
  }
  if (!res)
    return res.takeError();
  for (size_t k = 0; k < which.size(); ++k)
    types[which[k]] = res->types[k];
  report.predictedError = res->predictedError;
  return Error::success();
}

} // namespace qcc
