//===- Matrix.h - small reference linear-algebra helpers for calibration ---===//
//
// Row-major float matrices; a linear layer computes y = x · Wᵀ with W [rows, cols] and
// x [n, cols]. Accumulation is in double so that error measurements are not swamped by the
// reference's own rounding.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTALGO_MATRIX_H
#define QCC_QUANTALGO_MATRIX_H

#include <cstdint>
#include <vector>

namespace qcc::quantalgo {

/// A weight W [rows, cols] that is only read.
struct WeightRef {
  const float *data;
  int64_t rows;
};

/// y [n, rows] = x [n, cols] · Wᵀ.
void linearForward(const float *x, int64_t n, int64_t cols, const float *w, int64_t rows,
                   float *y);
/// Σ (a - b)² over n values.
double squaredError(const float *a, const float *b, int64_t n);
/// ||x·Wᵀ − x·Ŵᵀ||² summed over all outputs.
double outputError(const float *x, int64_t n, int64_t cols, const float *w, const float *wHat,
                   int64_t rows);
/// H [cols, cols] = Σ_t x_tᵀ x_t over the n rows of x (GPTQ's Hessian up to its 2/n factor).
std::vector<double> accumulateHessian(const float *x, int64_t n, int64_t cols);
/// Per column: max |x| (SmoothQuant's act scales) and mean |x| (AWQ's x_mean).
std::vector<float> columnAbsMax(const float *x, int64_t n, int64_t cols);
std::vector<float> columnAbsMean(const float *x, int64_t n, int64_t cols);

} // namespace qcc::quantalgo

#endif // QCC_QUANTALGO_MATRIX_H
