//===- AWQLayer.cpp - AWQ over one decoder layer, scales folded -------------===//
#include "QuantizeInternal.h"
#include "qcc/QuantAlgo/AWQ.h"

using namespace llvm;

namespace qcc {

/// The f32 weights of `name` in the source.
std::vector<float> loadF32(const ModelSource &src, StringRef name) {
  const TensorRef *t = src.find(name);
  const int64_t cols = t->shape.back(), rows = t->numElements() / cols;
  std::vector<float> w(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    cantFail(src.dequantizeRow(*t, r, w.data() + r * cols)); // formats checked on import
  return w;
}

/// AWQ for one decoder layer, as llm-awq's auto_scale/auto_clip: for each set of linears sharing
/// an input, search s and the clip values, multiply the linears' columns by s and fold 1/s into the
/// op producing the input — the RMSNorm weight (q/k/v, gate/up), the rows of v (o; only without
/// GQA, where every o column maps to one v row, as the reference skips o otherwise), the rows of
/// up (down). The scaled, clipped f32 weights go to `scaled` (rounded afterwards like RTN); the
/// folded norm weights go to `out`.
Error awqLayer(const ModelSource &src, const LayerTensors &l,
               const quantalgo::IntGroupFormat &fmt, const Calibration *cal, bool clip,
               std::map<std::string, std::vector<float>> &scaled,
               StringMap<std::vector<float>> &out) {
  using namespace quantalgo;
  auto rowsOf = [&](StringRef n) { const TensorRef *t = src.find(n); return t->shape[0]; };
  auto colsOf = [&](StringRef n) { return src.find(n)->shape.back(); };
  for (const std::string *n : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown})
    scaled[*n] = loadF32(src, *n);
  std::vector<float> attnNorm = loadF32(src, l.attnNorm), ffnNorm = loadF32(src, l.ffnNorm);
  const bool gqa = rowsOf(l.wv) != colsOf(l.wo);
  struct Site {
    std::vector<std::string> linears;
    std::vector<float> *norm;  ///< fold 1/s here (columns), or
    std::string prevLinear;    ///< fold 1/s into these rows
    bool scale;
  };
  std::vector<Site> sites = {{{l.wq, l.wk, l.wv}, &attnNorm, "", true},
                             {{l.wo}, nullptr, l.wv, !gqa},
                             {{l.wGate, l.wUp}, &ffnNorm, "", true},
                             {{l.wDown}, nullptr, l.wUp, true}};
  for (Site &site : sites) {
    const LinearInputStats *st = cal ? cal->forWeight(site.linears[0]) : nullptr;
    if (!st || st->sampleRows == 0)
      return createStringError(inconvertibleErrorCode(), "no calibration samples for '%s'",
                               site.linears[0].c_str());
    const int64_t cols = colsOf(site.linears[0]);
    std::vector<WeightRef> refs;
    for (const std::string &n : site.linears)
      refs.push_back({scaled[n].data(), rowsOf(n)});
    AWQOptions opts;
    opts.searchClip = clip;
    if (!site.scale)
      opts.nGrid = 1; // ratio 0 only: s = 1, clipping still searched
    auto res = awqSearch(fmt, refs, st->samples.data(), st->sampleRows, cols, opts);
    if (!res)
      return res.takeError();
    for (size_t i = 0; i < site.linears.size(); ++i)
      awqApply(fmt, scaled[site.linears[i]].data(), rowsOf(site.linears[i]), cols, res->scales,
               res->clipMaxVal.empty() ? ArrayRef<float>()
                                       : ArrayRef<float>(res->clipMaxVal[i]));
    if (site.norm)
      for (int64_t j = 0; j < cols; ++j)
        (*site.norm)[j] /= res->scales[j];
    else if (site.scale) { // row j of the previous linear feeds input channel j
      std::vector<float> &prev = scaled[site.prevLinear];
      const int64_t pcols = colsOf(site.prevLinear);
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t c = 0; c < pcols; ++c)
          prev[j * pcols + c] /= res->scales[j];
    }
  }
  out[l.attnNorm] = std::move(attnNorm);
  out[l.ffnNorm] = std::move(ffnNorm);
  return Error::success();
}

} // namespace qcc
