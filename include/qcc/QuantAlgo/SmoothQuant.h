//===- SmoothQuant.h - activation smoothing and W8A8 reference kernels ----===//
//
// SmoothQuant (Xiao et al. 2023), after mit-han-lab/smoothquant smoothquant/smooth.py
// `smooth_ln_fcs`: for linears sharing one input,
//   w_max_j = clamp(max over linears and rows |W_ij|, min 1e-5)
//   s_j     = clamp(act_max_j^α / w_max_j^(1−α), min 1e-5)
// and then X ← X·diag(1/s) (folded into the previous norm), W ← W·diag(s).
//
// W8A8 (smoothquant/fake_quant.py conventions): weights int8 symmetric per output channel,
// scale = clamp(max|w_row|, 1e-5) / 127, q = clamp(round(w / scale), −127, 127); activations
// int8 per token, dynamically, with the same rule on each row of x. The GEMM accumulates
// int8 × int8 in int32 and rescales by x_scale · w_scale. Rounding is half to even.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTALGO_SMOOTHQUANT_H
#define QCC_QUANTALGO_SMOOTHQUANT_H

#include "qcc/QuantAlgo/Matrix.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace qcc::quantalgo {

/// s [cols] from per-channel activation abs-max and the weights sharing that input.
std::vector<float> smoothQuantScales(llvm::ArrayRef<float> actAbsMax,
                                     llvm::ArrayRef<WeightRef> linears, int64_t cols,
                                     float alpha = 0.5f);
/// W [rows, cols] ← W·diag(s);  X [n, cols] ← X·diag(1/s).
void smoothWeights(float *w, int64_t rows, int64_t cols, llvm::ArrayRef<float> scales);
void smoothActivations(float *x, int64_t n, int64_t cols, llvm::ArrayRef<float> scales);

/// Per-output-channel symmetric int8: wq [rows, cols], wScale [rows].
void quantizeW8PerChannel(const float *w, int64_t rows, int64_t cols, int8_t *wq,
                          float *wScale);
/// Per-token dynamic int8: xq [n, cols], xScale [n].
void quantizeA8PerToken(const float *x, int64_t n, int64_t cols, int8_t *xq, float *xScale);
/// y [n, rows] = dequant(int32 Σ quant(x)·wq), x quantized per token on the fly.
void w8a8Linear(const float *x, int64_t n, int64_t cols, const int8_t *wq, const float *wScale,
                int64_t rows, float *y);

} // namespace qcc::quantalgo

#endif // QCC_QUANTALGO_SMOOTHQUANT_H
