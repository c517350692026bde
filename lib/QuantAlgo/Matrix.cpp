//===- Matrix.cpp - reference linear-algebra helpers ----------------------===//

#include "qcc/QuantAlgo/Matrix.h"

#include <algorithm>
#include <cmath>

using namespace qcc::quantalgo;

void qcc::quantalgo::linearForward(const float *x, int64_t n, int64_t cols, const float *w,
                                   int64_t rows, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t c = 0; c < cols; ++c)
        acc += double(x[t * cols + c]) * double(w[r * cols + c]);
      y[t * rows + r] = float(acc);
    }
}

double qcc::quantalgo::squaredError(const float *a, const float *b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(a[i]) - double(b[i]);
    sum += d * d;
  }
  return sum;
}

double qcc::quantalgo::outputError(const float *x, int64_t n, int64_t cols, const float *w,
                                   const float *wHat, int64_t rows) {
  // X·Wᵀ − X·Ŵᵀ = X·(W − Ŵ)ᵀ, computed in double to measure small differences exactly enough.
  std::vector<double> diff(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i)
    diff[i] = double(w[i]) - double(wHat[i]);
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      const double *d = diff.data() + r * cols;
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t c = 0; c < cols; ++c)
        acc += double(x[t * cols + c]) * d[c];
      total += acc * acc;
    }
  return total;
}

std::vector<double> qcc::quantalgo::accumulateHessian(const float *x, int64_t n, int64_t cols) {
  std::vector<double> h(cols * cols, 0.0);
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t t = 0; t < n; ++t) {
      const double xi = x[t * cols + i];
      if (xi == 0.0)
        continue;
      for (int64_t j = 0; j <= i; ++j)
        h[i * cols + j] += xi * double(x[t * cols + j]);
    }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < i; ++j)
      h[j * cols + i] = h[i * cols + j];
  return h;
}

std::vector<float> qcc::quantalgo::columnAbsMax(const float *x, int64_t n, int64_t cols) {
  std::vector<float> out(cols, 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < cols; ++c)
      out[c] = std::max(out[c], std::fabs(x[t * cols + c]));
  return out;
}

std::vector<float> qcc::quantalgo::columnAbsMean(const float *x, int64_t n, int64_t cols) {
  std::vector<double> sum(cols, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < cols; ++c)
      sum[c] += std::fabs(x[t * cols + c]);
  std::vector<float> out(cols);
  for (int64_t c = 0; c < cols; ++c)
    out[c] = float(sum[c] / double(n > 0 ? n : 1));
  return out;
}
