//===- AWQ.cpp - AWQ scale and clip search after mit-han-lab/llm-awq ------===//

#include "qcc/QuantAlgo/AWQ.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qcc::quantalgo;

std::vector<float> qcc::quantalgo::awqScalesForRatio(llvm::ArrayRef<float> xMean, float ratio) {
  std::vector<float> s(xMean.size());
  float lo = std::numeric_limits<float>::infinity(), hi = 0.0f;
  for (size_t c = 0; c < xMean.size(); ++c) {
    s[c] = std::max(std::pow(xMean[c], ratio), 1e-4f);
    lo = std::min(lo, s[c]);
    hi = std::max(hi, s[c]);
  }
  const float norm = std::sqrt(hi * lo);
  for (float &v : s)
    v /= norm;
  return s;
}

std::vector<float> qcc::quantalgo::awqScaledFakeQuant(const IntGroupFormat &format,
                                                      const float *w, int64_t rows,
                                                      int64_t cols,
                                                      llvm::ArrayRef<float> scales) {
  std::vector<float> scaled(rows * cols), out(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      scaled[r * cols + c] = w[r * cols + c] * scales[c];
  fakeQuantizeMatrixRTN(format, scaled.data(), rows, cols, out.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] /= scales[c];
  return out;
}

double qcc::quantalgo::awqScaleLoss(const IntGroupFormat &format,
                                    llvm::ArrayRef<WeightRef> linears, const float *x,
                                    int64_t n, int64_t cols, llvm::ArrayRef<float> scales) {
  double total = 0.0;
  int64_t outputs = 0;
  for (const WeightRef &linear : linears) {
    std::vector<float> wq = awqScaledFakeQuant(format, linear.data, linear.rows, cols, scales);
    total += outputError(x, n, cols, linear.data, wq.data(), linear.rows);
    outputs += n * linear.rows;
  }
  return outputs > 0 ? total / double(outputs) : 0.0;
}

// Σ over rows of dᵀ·G·d, d = w − ŵ row by row, G symmetric [len, len]: the squared output error
// Σ_t (x_t·d)² of inputs whose Gram matrix is G.
static double quadraticError(const double *g, int64_t len, const float *w, const float *wHat) {
  std::vector<double> d(len);
  for (int64_t k = 0; k < len; ++k)
    d[k] = double(w[k]) - double(wHat[k]);
  double total = 0.0;
  for (int64_t i = 0; i < len; ++i) {
    const double *gi = g + i * len;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < len; ++j)
      acc += gi[j] * d[j];
    total += d[i] * acc;
  }
  return total;
}

// awqScaleLoss through H = XᵀX: cols² per row instead of n·cols.
static double scaleLossGram(const IntGroupFormat &format, llvm::ArrayRef<WeightRef> linears,
                            const std::vector<double> &h, int64_t n, int64_t cols,
                            llvm::ArrayRef<float> scales) {
  double total = 0.0;
  int64_t outputs = 0;
  for (const WeightRef &linear : linears) {
    std::vector<float> wq = awqScaledFakeQuant(format, linear.data, linear.rows, cols, scales);
    double sum = 0.0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
    for (int64_t r = 0; r < linear.rows; ++r)
      sum += quadraticError(h.data(), cols, linear.data + r * cols, wq.data() + r * cols);
    total += sum;
    outputs += n * linear.rows;
  }
  return outputs > 0 ? total / double(outputs) : 0.0;
}

std::vector<float> qcc::quantalgo::awqSearchClip(const IntGroupFormat &format, const float *w,
                                                 int64_t rows, int64_t cols, const float *x,
                                                 int64_t n, const AWQOptions &options) {
  const int64_t length = format.groupLength(cols), groups = format.numGroups(cols);
  const int64_t stride = std::max<int64_t>(1, n / std::max<int64_t>(1, options.maxClipTokens));
  std::vector<int64_t> tokens;
  for (int64_t t = 0; t < n; t += stride)
    tokens.push_back(t);
  // Per group, the Gram matrix of the sampled tokens' inputs: the error of a candidate is then
  // dᵀ·G·d / tokens, the mean over tokens of (Σ_k x_k (q_k − w_k))², without the tokens.
  std::vector<double> gram(size_t(groups * length * length), 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t gk = 0; gk < groups * length; ++gk) {
    const int64_t g = gk / length, k = gk % length;
    double *row = gram.data() + gk * length;
    for (int64_t t : tokens) {
      const float *xg = x + t * cols + g * length;
      const double xk = xg[k];
      for (int64_t l = 0; l < length; ++l)
        row[l] += xk * double(xg[l]);
    }
  }
  const int steps = int(options.maxShrink * options.clipGrid);
  std::vector<float> best(rows * groups);
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> clamped(length), q(length);
    for (int64_t g = 0; g < groups; ++g) {
      const float *wg = w + r * cols + g * length;
      const double *gg = gram.data() + g * length * length;
      float orgMax = 0.0f;
      for (int64_t k = 0; k < length; ++k)
        orgMax = std::max(orgMax, std::fabs(wg[k]));
      double minErr = std::numeric_limits<double>::infinity();
      float bestMax = orgMax;
      for (int i = 0; i < steps; ++i) {
        const float maxVal = orgMax * (1.0f - float(i) / float(options.clipGrid));
        for (int64_t k = 0; k < length; ++k)
          clamped[k] = std::clamp(wg[k], -maxVal, maxVal);
        const GroupParams params = findGroupParams(format, clamped.data(), length);
        for (int64_t k = 0; k < length; ++k)
          q[k] = dequantizeCode(params, quantizeCode(params, clamped[k], format.maxCode()));
        const double err = quadraticError(gg, length, wg, q.data()) / double(tokens.size());
        if (err < minErr) {
          minErr = err;
          bestMax = maxVal;
        }
      }
      best[r * groups + g] = bestMax;
    }
  }
  return best;
}

void qcc::quantalgo::awqApply(const IntGroupFormat &format, float *w, int64_t rows, int64_t cols,
                              llvm::ArrayRef<float> scales, llvm::ArrayRef<float> maxVal) {
  const int64_t length = format.groupLength(cols), groups = format.numGroups(cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float &v = w[r * cols + c];
      if (!scales.empty())
        v *= scales[c];
      if (!maxVal.empty()) {
        const float m = maxVal[r * groups + c / length];
        v = std::clamp(v, -m, m);
      }
    }
}

llvm::Expected<AWQResult> qcc::quantalgo::awqSearch(const IntGroupFormat &format,
                                                    llvm::ArrayRef<WeightRef> linears,
                                                    const float *x, int64_t n, int64_t cols,
                                                    const AWQOptions &options,
                                                    AWQBlockFn block) {
  if (llvm::Error err = format.validate(cols))
    return std::move(err);
  if (linears.empty() || n <= 0 || options.nGrid <= 0)
    return llvm::createStringError("AWQ: needs at least one linear, one token and one ratio");
  const std::vector<float> xMean = columnAbsMean(x, n, cols);
  // The loss of one candidate s: on the block output when there is a block, else on the
  // linears' own outputs through XᵀX.
  std::vector<float> orgOut, out;
  std::vector<double> h;
  if (block) {
    std::vector<const float *> ws;
    for (const WeightRef &linear : linears)
      ws.push_back(linear.data);
    block(ws, orgOut);
  } else {
    h = accumulateHessian(x, n, cols);
  }
  auto lossOf = [&](llvm::ArrayRef<float> s) {
    if (!block)
      return scaleLossGram(format, linears, h, n, cols, s);
    std::vector<std::vector<float>> wq;
    std::vector<const float *> ws;
    for (const WeightRef &linear : linears) {
      wq.push_back(awqScaledFakeQuant(format, linear.data, linear.rows, cols, s));
      ws.push_back(wq.back().data());
    }
    block(ws, out);
    if (out.size() != orgOut.size() || out.empty())
      return std::numeric_limits<double>::infinity();
    return squaredError(orgOut.data(), out.data(), int64_t(out.size())) / double(out.size());
  };
  AWQResult result;
  result.bestLoss = std::numeric_limits<double>::infinity();
  for (int i = 0; i < options.nGrid; ++i) {
    const float ratio = float(i) / float(options.nGrid);
    std::vector<float> s = awqScalesForRatio(xMean, ratio);
    const double loss = lossOf(s);
    result.lossPerRatio.push_back(loss);
    if (loss < result.bestLoss) {
      result.bestLoss = loss;
      result.bestRatio = ratio;
      result.scales = std::move(s);
    }
  }
  if (result.scales.empty())
    return llvm::createStringError("AWQ: every ratio gave a non-finite loss");
  if (!options.searchClip)
    return result;

  // Clipping is searched on the scaled problem, as auto_clip runs after apply_scale.
  std::vector<float> xs(x, x + n * cols);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < cols; ++c)
      xs[t * cols + c] /= result.scales[c];
  for (size_t i = 0; i < linears.size(); ++i) {
    const WeightRef &linear = linears[i];
    if (i < options.skipClip.size() && options.skipClip[i]) {
      result.clipMaxVal.emplace_back();
      continue;
    }
    std::vector<float> ws(linear.data, linear.data + linear.rows * cols);
    awqApply(format, ws.data(), linear.rows, cols, result.scales, {});
    result.clipMaxVal.push_back(
        awqSearchClip(format, ws.data(), linear.rows, cols, xs.data(), n, options));
  }
  return result;
}
