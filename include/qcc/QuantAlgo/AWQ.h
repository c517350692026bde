//===- AWQ.h - activation-aware weight quantization (Lin et al. 2023) -----===//
//
// After mit-han-lab/llm-awq awq/quantize/auto_scale.py and auto_clip.py, for one or several
// linears that share one input (q/k/v, gate/up):
//
// Scale search. x_mean_j = mean_t |x_tj|. For ratio α = i / nGrid, i = 0..nGrid-1:
//   s = clamp(x_mean^α, min 1e-4);  s /= sqrt(max(s) · min(s))
//   Ŵ = Q(W·diag s) · diag(1/s) for every searched linear
//   loss(α) = mean over the block output of (block(W) − block(Ŵ))²
// The block is llm-awq's module2inspect: whatever the searched linears feed, run with the other
// weights in f32. The caller passes it as a function of the searched linears' weights (for
// q/k/v the whole self-attention output after o_proj, for gate/up the whole MLP output
// down(silu(gate·x) · up·x)); without one the block is the linears' own outputs concatenated,
// as for v→o and up→down, where the reference inspects the one linear itself. Measuring the
// block output matters: an error in a q or k row that the softmax barely feels, or a gate unit
// that silu nearly closes, costs little there, so the search can trade it for accuracy where
// the block output is sensitive. The best s is kept (first minimum wins; α = 0 gives s = 1,
// plain RTN, so the search never ends worse than RTN on its own objective). The caller folds
// 1/s into the op producing X (norm weight, previous linear) and multiplies W's columns by s.
//
// Clip search (per linear, after scaling: W·diag s and X·diag(1/s)). Per row and group,
// org_max = max |w| over the group; for i = 0 .. maxShrink·clipGrid - 1, max_val = org_max ·
// (1 − i/clipGrid), w clamped to [−max_val, max_val] and fake-quantized; the error is the mean over
// sampled tokens of (Σ_{k∈group} x_k (q_k − w_k))²; the best max_val is kept. Tokens are
// subsampled with stride max(1, n / maxClipTokens), as `input_feat[:, 0::n // 512]`. The
// reference skips q/k clipping (their error reaches the output through q·k products that the
// per-linear error does not see): AWQOptions::skipClip marks such linears.
//
// Both per-linear errors are evaluated as quadratic forms, Σ_t (x_t·d)² = dᵀ(Σ_t x_tᵀx_t)d with
// d the weight error of one row (group), which is the same quantity as running the tokens
// through but costs cols² instead of tokens·cols per row.
//
// Q is this library's IntGroup RTN (not llm-awq's pseudo_quantize_tensor): asymmetric ranges
// always contain 0 and symmetric scales are 2·amax/(2^b − 1); see IntGroup.h.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTALGO_AWQ_H
#define QCC_QUANTALGO_AWQ_H

#include "qcc/QuantAlgo/IntGroup.h"
#include "qcc/QuantAlgo/Matrix.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace qcc::quantalgo {

struct AWQOptions {
  int nGrid = 20;        ///< scale-search ratios α = i / nGrid, i < nGrid
  bool searchClip = true;
  int clipGrid = 20;
  double maxShrink = 0.5;
  int64_t maxClipTokens = 512;
  /// Per linear (same order as the search's linears; missing entries are false): no clip
  /// search, its clipMaxVal entry stays empty (llm-awq skips q and k).
  std::vector<bool> skipClip;
};

/// The block whose output the scale search compares (llm-awq's module2inspect): given the
/// weights of the searched linears (same order and shapes as the search's linears), writes the
/// block output for the calibration rows to `out`, the same length on every call.
using AWQBlockFn =
    llvm::function_ref<void(llvm::ArrayRef<const float *> weights, std::vector<float> &out)>;

struct AWQResult {
  std::vector<float> scales; ///< [cols]: W columns × s, inputs ÷ s
  float bestRatio = 0.0f;
  double bestLoss = 0.0;     ///< mean squared block output error at bestRatio (before clipping)
  std::vector<double> lossPerRatio;
  /// Per linear: [rows, numGroups] clip max values for W·diag(s); none without searchClip,
  /// an empty entry for a skipClip linear.
  std::vector<std::vector<float>> clipMaxVal;
};

/// s for one α (before any search): clamp(x_mean^α, 1e-4), divided by sqrt(max · min).
std::vector<float> awqScalesForRatio(llvm::ArrayRef<float> xMean, float ratio);

/// Q(W·diag s)·diag(1/s): the weights a linear effectively runs with after scaling and rounding.
std::vector<float> awqScaledFakeQuant(const IntGroupFormat &format, const float *w, int64_t rows,
                                      int64_t cols, llvm::ArrayRef<float> scales);

/// Mean squared output error over all linears when W is scaled by s, RTN-quantized, unscaled
/// (the loss without a block function, computed by running x through).
double awqScaleLoss(const IntGroupFormat &format, llvm::ArrayRef<WeightRef> linears,
                    const float *x, int64_t n, int64_t cols, llvm::ArrayRef<float> scales);

/// Clip search for one (already scaled) W against (already scaled) inputs; maxVal [rows, groups].
std::vector<float> awqSearchClip(const IntGroupFormat &format, const float *w, int64_t rows,
                                 int64_t cols, const float *x, int64_t n,
                                 const AWQOptions &options = {});

/// W [rows, cols] ← clamp(W·diag(s), ±maxVal per group). Empty scales/maxVal are skipped.
void awqApply(const IntGroupFormat &format, float *w, int64_t rows, int64_t cols,
              llvm::ArrayRef<float> scales, llvm::ArrayRef<float> maxVal);

/// The scale search, then (with searchClip) the clip search per linear. x: [n, cols], the
/// linears' input (x_mean, clipping, and the loss without `block`). With `block`, the loss is
/// measured on its output instead of the linears' own outputs.
llvm::Expected<AWQResult> awqSearch(const IntGroupFormat &format,
                                    llvm::ArrayRef<WeightRef> linears, const float *x,
                                    int64_t n, int64_t cols, const AWQOptions &options = {},
                                    AWQBlockFn block = {});

} // namespace qcc::quantalgo

#endif // QCC_QUANTALGO_AWQ_H
