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

// W·diag(s) fake-quantized and scaled back: the weights the layer effectively uses.
static std::vector<float> scaledFakeQuant(const IntGroupFormat &format, const float *w,
                                          int64_t rows, int64_t cols,
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
    std::vector<float> wq = scaledFakeQuant(format, linear.data, linear.rows, cols, scales);
    total += outputError(x, n, cols, linear.data, wq.data(), linear.rows);
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
  const int steps = int(options.maxShrink * options.clipGrid);
  std::vector<float> best(rows * groups);
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> clamped(length), q(length);
    std::vector<double> orgOut(tokens.size());
    for (int64_t g = 0; g < groups; ++g) {
      const float *wg = w + r * cols + g * length;
      float orgMax = 0.0f;
      for (int64_t k = 0; k < length; ++k)
        orgMax = std::max(orgMax, std::fabs(wg[k]));
      for (size_t t = 0; t < tokens.size(); ++t) {
        const float *xg = x + tokens[t] * cols + g * length;
        double acc = 0.0;
        for (int64_t k = 0; k < length; ++k)
          acc += double(xg[k]) * double(wg[k]);
        orgOut[t] = acc;
      }
      double minErr = std::numeric_limits<double>::infinity();
      float bestMax = orgMax;
      for (int i = 0; i < steps; ++i) {
        const float maxVal = orgMax * (1.0f - float(i) / float(options.clipGrid));
        for (int64_t k = 0; k < length; ++k)
          clamped[k] = std::clamp(wg[k], -maxVal, maxVal);
        const GroupParams params = findGroupParams(format, clamped.data(), length);
        for (int64_t k = 0; k < length; ++k)
          q[k] = dequantizeCode(params, quantizeCode(params, clamped[k], format.maxCode()));
        double err = 0.0;
        for (size_t t = 0; t < tokens.size(); ++t) {
          const float *xg = x + tokens[t] * cols + g * length;
          double acc = 0.0;
          for (int64_t k = 0; k < length; ++k)
            acc += double(xg[k]) * double(q[k]);
          err += (acc - orgOut[t]) * (acc - orgOut[t]);
        }
        err /= double(tokens.size());
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
                                                    const AWQOptions &options) {
  if (llvm::Error err = format.validate(cols))
    return std::move(err);
  if (linears.empty() || n <= 0 || options.nGrid <= 0)
    return llvm::createStringError("AWQ: needs at least one linear, one token and one ratio");
  const std::vector<float> xMean = columnAbsMean(x, n, cols);
  AWQResult result;
  result.bestLoss = std::numeric_limits<double>::infinity();
  for (int i = 0; i < options.nGrid; ++i) {
    const float ratio = float(i) / float(options.nGrid);
    std::vector<float> s = awqScalesForRatio(xMean, ratio);
    const double loss = awqScaleLoss(format, linears, x, n, cols, s);
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
  for (const WeightRef &linear : linears) {
    std::vector<float> ws(linear.data, linear.data + linear.rows * cols);
    awqApply(format, ws.data(), linear.rows, cols, result.scales, {});
    result.clipMaxVal.push_back(
        awqSearchClip(format, ws.data(), linear.rows, cols, xs.data(), n, options));
  }
  return result;
}
