//===- SmoothQuant.cpp - smoothing scales and W8A8 reference kernels ------===//

#include "qcc/QuantAlgo/SmoothQuant.h"

#include <algorithm>
#include <cmath>

using namespace qcc::quantalgo;

std::vector<float> qcc::quantalgo::smoothQuantScales(llvm::ArrayRef<float> actAbsMax,
                                                     llvm::ArrayRef<WeightRef> linears,
                                                     int64_t cols, float alpha) {
  std::vector<float> wMax(cols, 0.0f);
  for (const WeightRef &linear : linears)
    for (int64_t r = 0; r < linear.rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        wMax[c] = std::max(wMax[c], std::fabs(linear.data[r * cols + c]));
  std::vector<float> s(cols);
  for (int64_t c = 0; c < cols; ++c) {
    const float w = std::max(wMax[c], 1e-5f);
    s[c] = std::max(std::pow(actAbsMax[c], alpha) / std::pow(w, 1.0f - alpha), 1e-5f);
  }
  return s;
}

void qcc::quantalgo::smoothWeights(float *w, int64_t rows, int64_t cols,
                                   llvm::ArrayRef<float> scales) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      w[r * cols + c] *= scales[c];
}

void qcc::quantalgo::smoothActivations(float *x, int64_t n, int64_t cols,
                                       llvm::ArrayRef<float> scales) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < cols; ++c)
      x[t * cols + c] /= scales[c];
}

// One row to int8, symmetric, scale = clamp(absmax, 1e-5) / 127 (smoothquant's fake_quant).
static float quantizeRowInt8(const float *v, int64_t cols, int8_t *q) {
  float amax = 0.0f;
  for (int64_t c = 0; c < cols; ++c)
    amax = std::max(amax, std::fabs(v[c]));
  const float scale = std::max(amax, 1e-5f) / 127.0f;
  for (int64_t c = 0; c < cols; ++c)
    q[c] = int8_t(std::clamp(std::nearbyint(v[c] / scale), -127.0f, 127.0f));
  return scale;
}

void qcc::quantalgo::quantizeW8PerChannel(const float *w, int64_t rows, int64_t cols,
                                          int8_t *wq, float *wScale) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    wScale[r] = quantizeRowInt8(w + r * cols, cols, wq + r * cols);
}

void qcc::quantalgo::quantizeA8PerToken(const float *x, int64_t n, int64_t cols, int8_t *xq,
                                        float *xScale) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t)
    xScale[t] = quantizeRowInt8(x + t * cols, cols, xq + t * cols);
}

void qcc::quantalgo::w8a8Linear(const float *x, int64_t n, int64_t cols, const int8_t *wq,
                                const float *wScale, int64_t rows, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t) {
    std::vector<int8_t> xq(cols);
    const float xScale = quantizeRowInt8(x + t * cols, cols, xq.data());
    for (int64_t r = 0; r < rows; ++r) {
      int32_t acc = 0;
      const int8_t *wRow = wq + r * cols;
      for (int64_t c = 0; c < cols; ++c)
        acc += int32_t(xq[c]) * int32_t(wRow[c]);
      y[t * rows + r] = float(acc) * xScale * wScale[r];
    }
  }
}
