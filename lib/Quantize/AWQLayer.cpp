//===- AWQLayer.cpp - AWQ over one decoder layer, scales folded -------------===//
#include "QuantizeInternal.h"
#include "qcc/QuantAlgo/AWQ.h"
#include "qcc/Runtime/Kernels.h"

#include <algorithm>
#include <cmath>
#include <optional>

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

namespace {

/// y [n, rows] = x [n, cols] · Wᵀ in f32. The scale search runs the blocks 20 times per set
/// over every sample row, so this is most of AWQ's time: W is packed into panels of 8 rows
/// (k-major), and a 4-token × 8-row tile of y is accumulated in registers over k. Each output is
/// summed over k in order by one thread, so results do not depend on the thread count.
void gemm(const float *x, int64_t n, const float *w, int64_t rows, int64_t cols, float *y) {
  constexpr int64_t kR = 8, kT = 4;
  const int64_t panels = (rows + kR - 1) / kR;
  std::vector<float> packed(size_t(panels * cols * kR), 0.0f);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t j = 0; j < kR && p * kR + j < rows; ++j) {
      const float *wr = w + (p * kR + j) * cols;
      float *dst = packed.data() + p * cols * kR + j;
      for (int64_t k = 0; k < cols; ++k)
        dst[k * kR] = wr[k];
    }
#pragma omp parallel for schedule(static)
  for (int64_t t0 = 0; t0 < n; t0 += kT) {
    const int64_t tn = std::min(kT, n - t0);
    const float *xr[kT];
    for (int64_t i = 0; i < kT; ++i)
      xr[i] = x + (t0 + std::min(i, tn - 1)) * cols; // a short tile repeats its last row
    for (int64_t p = 0; p < panels; ++p) {
      const float *pp = packed.data() + p * cols * kR;
      float acc[kT][kR] = {};
      for (int64_t k = 0; k < cols; ++k)
        for (int64_t i = 0; i < kT; ++i) {
          const float xi = xr[i][k];
          for (int64_t j = 0; j < kR; ++j)
            acc[i][j] += xi * pp[k * kR + j];
        }
      const int64_t rn = std::min(kR, rows - p * kR);
      for (int64_t i = 0; i < tn; ++i)
        for (int64_t j = 0; j < rn; ++j)
          y[(t0 + i) * rows + p * kR + j] = acc[i][j];
    }
  }
}

/// RoPE as the reference executor applies it to this model (lib/Exec/ReferenceExecutor.cpp);
/// std::nullopt: rope_freqs and Llama-3 scaling both (the importer refuses such a model too).
std::optional<rt::RopeParams> ropeOf(const ModelSource &src) {
  const ModelConfig &c = src.config;
  rt::RopeParams p;
  p.headDim = c.headDim;
  p.theta = c.ropeTheta;
  p.style = c.ropeStyle == RopeStyle::Interleaved ? rt::RopeStyle::Interleaved
                                                  : rt::RopeStyle::RotateHalf;
  std::vector<float> stored;
  if (!src.ropeFreqs.empty())
    stored = loadF32(src, src.ropeFreqs);
  const RopeScaling &sc = c.ropeScaling;
  static_assert(int(RopeScaling::Kind::Linear) == int(rt::RopeScale::Linear) &&
                int(RopeScaling::Kind::Llama3) == int(rt::RopeScale::Llama3));
  std::optional<std::vector<float>> factors =
      rt::scaledRopeFactors(std::move(stored), p.headDim, p.theta, rt::RopeScale(int(sc.kind)),
                            sc.factor, sc.lowFreqFactor, sc.highFreqFactor, sc.originalMaxPosition);
  if (!factors)
    return std::nullopt;
  p.freqFactors = std::move(*factors);
  return p;
}

/// llm-awq's module2inspect for q/k/v: the self-attention output o_proj(attn(rope(q), rope(k),
/// v)) of `windows` causal sequences of `seqlen` rows of x each, every one starting at position
/// 0 as the calibration windows did; o_proj stays f32.
struct AttentionBlock {
  const ModelSource &src;
  const float *x;
  int64_t windows, seqlen, dim;
  const float *wo;
  rt::RopeParams rope;
  rt::KVCache cache;

  void operator()(ArrayRef<const float *> w, std::vector<float> &out) {
    const ModelConfig &c = src.config;
    const int64_t n = windows * seqlen, qDim = c.nHeads * c.headDim,
                  kvDim = c.nKVHeads * c.headDim;
    std::vector<float> q(n * qDim), k(n * kvDim), v(n * kvDim), att(n * qDim);
    gemm(x, n, w[0], qDim, dim, q.data());
    gemm(x, n, w[1], kvDim, dim, k.data());
    gemm(x, n, w[2], kvDim, dim, v.data());
    rt::rope(q.data(), windows, seqlen, qDim, 0, rope);
    rt::rope(k.data(), windows, seqlen, kvDim, 0, rope);
    rt::attention(q.data(), k.data(), v.data(), windows, seqlen, 0, c.nHeads, cache, 0,
                  att.data());
    out.resize(size_t(n * dim));
    gemm(att.data(), n, wo, dim, qDim, out.data());
  }
};

/// llm-awq's module2inspect for gate/up: the MLP output down(silu(gate·x) · up·x), down f32.
struct MLPBlock {
  const float *x;
  int64_t n, dim, ffn;
  const float *wDown;

  void operator()(ArrayRef<const float *> w, std::vector<float> &out) {
    std::vector<float> gate(n * ffn), up(n * ffn), h(n * ffn);
    gemm(x, n, w[0], ffn, dim, gate.data());
    gemm(x, n, w[1], ffn, dim, up.data());
    rt::swiglu(gate.data(), up.data(), h.data(), n * ffn);
    out.resize(size_t(n * dim));
    gemm(h.data(), n, wDown, dim, ffn, out.data());
  }
};

} // namespace

/// AWQ for one decoder layer, as llm-awq's auto_scale/auto_clip: for each set of linears sharing
/// an input, search s and the clip values, multiply the linears' columns by s and fold 1/s into the
/// op producing the input — the RMSNorm weight (q/k/v, gate/up), the rows of v (o; only without
/// GQA, where every o column maps to one v row, as the reference skips o otherwise), the rows of
/// up (down). The scale search measures what llm-awq's module2inspect measures: the attention
/// output for q/k/v (needs whole calibration windows among the samples: `seqlen` rows each),
/// the MLP output for gate/up, the linear's own output for o and down. q and k are not clipped.
/// Every set is searched on the layer's original weights and the original (f32 model) inputs;
/// the later folds touch other dimensions, and clipping commutes with the row scaling they
/// apply. The scaled, clipped f32 weights go to `scaled` (rounded afterwards like RTN); the
/// folded norm weights go to `out`.
Error awqLayer(const ModelSource &src, const LayerTensors &l,
               const quantalgo::IntGroupFormat &fmt, const Calibration *cal, int64_t seqlen,
               bool searchScales, bool clip, std::map<std::string, std::vector<float>> &scaled,
               StringMap<std::vector<float>> &out) {
  using namespace quantalgo;
  auto rowsOf = [&](StringRef n) { const TensorRef *t = src.find(n); return t->shape[0]; };
  auto colsOf = [&](StringRef n) { return src.find(n)->shape.back(); };
  for (const std::string *n : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown})
    scaled[*n] = loadF32(src, *n);
  // The blocks read o and down as loaded: the searches of their own sets come later.
  const std::vector<float> wo = scaled[l.wo], wDown = scaled[l.wDown];
  std::vector<float> attnNorm = loadF32(src, l.attnNorm), ffnNorm = loadF32(src, l.ffnNorm);
  const bool gqa = rowsOf(l.wv) != colsOf(l.wo);
  enum class Block { Own, Attention, MLP };
  struct Site {
    std::vector<std::string> linears;
    std::vector<float> *norm;  ///< fold 1/s here (columns), or
    std::string prevLinear;    ///< fold 1/s into these rows
    bool scale;
    Block block;
  };
  std::vector<Site> sites = {{{l.wq, l.wk, l.wv}, &attnNorm, "", true, Block::Attention},
                             {{l.wo}, nullptr, l.wv, !gqa, Block::Own},
                             {{l.wGate, l.wUp}, &ffnNorm, "", true, Block::MLP},
                             {{l.wDown}, nullptr, l.wUp, true, Block::Own}};
  for (Site &site : sites) {
    const LinearInputStats *st = cal ? cal->forWeight(site.linears[0]) : nullptr;
    if (!st || st->sampleRows == 0)
      return createStringError(inconvertibleErrorCode(), "no calibration samples for '%s'",
                               site.linears[0].c_str());
    const int64_t cols = colsOf(site.linears[0]);
    int64_t n = st->sampleRows;
    const float *x = st->samples.data();
    std::vector<WeightRef> refs;
    for (const std::string &name : site.linears)
      refs.push_back({scaled[name].data(), rowsOf(name)});
    AWQOptions opts;
    opts.searchClip = clip;
    if (!site.scale || !searchScales)
      opts.nGrid = 1; // ratio 0 only: s = 1, clipping still searched
    std::optional<AttentionBlock> attn;
    std::optional<MLPBlock> mlp;
    // Attention mixes tokens: it needs whole windows. Without one (seqlen unknown or more than
    // the stored rows) the search falls back to the linears' own outputs.
    const int64_t windows = seqlen > 0 ? n / seqlen : 0;
    if (site.block == Block::Attention)
      opts.skipClip = {true, true, false};
    if (site.block == Block::Attention && windows > 0) {
      const ModelConfig &c = src.config;
      std::optional<rt::RopeParams> rope = ropeOf(src);
      if (!rope)
        return createStringError(inconvertibleErrorCode(),
                                 "the model has both rope_freqs factors and llama3 scaling");
      n = windows * seqlen;
      attn.emplace(AttentionBlock{src, x, windows, seqlen, cols, wo.data(), std::move(*rope),
                                  rt::KVCache(1, windows, c.nKVHeads, seqlen, c.headDim)});
    } else if (site.block == Block::MLP) {
      mlp.emplace(MLPBlock{x, n, cols, rowsOf(l.wGate), wDown.data()});
    }
    AWQBlockFn block;
    if (attn)
      block = *attn;
    else if (mlp)
      block = *mlp;
    auto res = awqSearch(fmt, refs, x, n, cols, opts, block);
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
