//===- Kernels.cpp - float32 reference kernels ------------------------------===//
#include "qcc/Runtime/Kernels.h"

#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace qcc::rt {

void setThreads(int n) {
  if (n > 0)
    omp_set_num_threads(n);
}
int numThreads() { return omp_get_max_threads(); }

float dot(const float *a, const float *b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += a[i + j] * b[i + j];
  for (int j = 0; i < n; ++i, ++j)
    acc[j] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static void dequantRow(const WeightView &w, int64_t r, float *out) {
  if (w.intFormat) {
    quantalgo::dequantizeRow(*w.intFormat, w.row(r), out, w.cols);
    return;
  }
  // Formats were validated when the weight was bound; this cannot fail here.
  llvm::cantFail(dequantizeRow(w.type, w.row(r), out, w.cols));
}

void linear(const float *x, int64_t n, const WeightView &w, float *y) {
  const int64_t rows = w.rows, cols = w.cols;
  const bool direct = w.type == GGMLType::F32 && !w.intFormat;
#pragma omp parallel
  {
    std::vector<float> buf(direct ? 0 : cols);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float *wr = reinterpret_cast<const float *>(w.row(r));
      if (!direct) {
        dequantRow(w, r, buf.data());
        wr = buf.data();
      }
      for (int64_t i = 0; i < n; ++i)
        y[i * rows + r] = dot(x + i * cols, wr, cols);
    }
  }
}

void embed(const int32_t *tokens, int64_t n, const WeightView &table, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    if (table.type == GGMLType::F32 && !table.intFormat)
      std::memcpy(y + i * table.cols, table.row(tokens[i]), table.cols * sizeof(float));
    else
      dequantRow(table, tokens[i], y + i * table.cols);
  }
}

std::vector<float> dequantizeAll(const WeightView &w) {
  std::vector<float> out(size_t(w.rows * w.cols));
  for (int64_t r = 0; r < w.rows; ++r)
    dequantRow(w, r, out.data() + r * w.cols);
  return out;
}

void rmsNorm(const float *x, int64_t n, int64_t d, const float *gamma, float eps, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float *xi = x + i * d;
    double ss = 0;
    for (int64_t j = 0; j < d; ++j)
      ss += double(xi[j]) * double(xi[j]);
    const float scale = float(1.0 / std::sqrt(ss / double(d) + double(eps)));
    for (int64_t j = 0; j < d; ++j)
      y[i * d + j] = xi[j] * scale * gamma[j];
  }
}

std::vector<double> ropeInvFreqs(const RopeParams &p) {
  const int64_t half = p.headDim / 2;
  std::vector<double> inv(half);
  for (int64_t i = 0; i < half; ++i) {
    inv[i] = std::pow(p.theta, -double(2 * i) / double(p.headDim));
    if (!p.freqFactors.empty())
      inv[i] /= double(p.freqFactors[i]);
  }
  return inv;
}

std::vector<float> llama3RopeFactors(int64_t headDim, double theta, double factor,
                                     double lowFreqFactor, double highFreqFactor,
                                     int64_t originalMaxPosition) {
  const double lowWavelen = double(originalMaxPosition) / lowFreqFactor;
  const double highWavelen = double(originalMaxPosition) / highFreqFactor;
  std::vector<float> divisors(headDim / 2);
  for (int64_t i = 0; i < headDim / 2; ++i) {
    const double inv = std::pow(theta, -double(2 * i) / double(headDim));
    const double wavelen = 2 * M_PI / inv;
    double scaled;
    if (wavelen < highWavelen)
      scaled = inv;
    else if (wavelen > lowWavelen)
      scaled = inv / factor;
    else {
      const double smooth = (double(originalMaxPosition) / wavelen - lowFreqFactor) /
                            (highFreqFactor - lowFreqFactor);
      scaled = (1 - smooth) * inv / factor + smooth * inv;
    }
    divisors[i] = float(inv / scaled);
  }
  return divisors;
}

std::optional<std::vector<float>> scaledRopeFactors(std::vector<float> stored, int64_t headDim,
                                                    double theta, RopeScale kind, double factor,
                                                    double lowFreqFactor, double highFreqFactor,
                                                    int64_t originalMaxPosition) {
  switch (kind) {
  case RopeScale::None:
    return stored;
  case RopeScale::Linear:
    if (stored.empty())
      stored.assign(size_t(headDim / 2), 1.0f);
    for (float &x : stored)
      x *= float(factor);
    return stored;
  case RopeScale::Llama3:
    if (!stored.empty())
      return std::nullopt;
    return llama3RopeFactors(headDim, theta, factor, lowFreqFactor, highFreqFactor,
                             originalMaxPosition);
  }
  return std::nullopt;
}

void rope(float *x, int64_t B, int64_t T, int64_t d, int64_t pos, const RopeParams &p) {
  const int64_t hd = p.headDim, half = hd / 2, heads = d / hd;
  const std::vector<double> inv = ropeInvFreqs(p);
  // cos/sin per (t, i), shared by every batch row and head.
  std::vector<float> cs(size_t(T * half)), sn(size_t(T * half));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double a = double(pos + t) * inv[i];
      cs[t * half + i] = float(std::cos(a));
      sn[t * half + i] = float(std::sin(a));
    }
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const float *c = &cs[t * half], *s = &sn[t * half];
      for (int64_t h = 0; h < heads; ++h) {
        float *v = x + ((b * T + t) * d) + h * hd;
        for (int64_t i = 0; i < half; ++i) {
          // interleaved: pair (2i, 2i+1); rotate-half: pair (i, i + half).
          const int64_t i0 = p.style == RopeStyle::Interleaved ? 2 * i : i;
          const int64_t i1 = p.style == RopeStyle::Interleaved ? 2 * i + 1 : i + half;
          const float x0 = v[i0], x1 = v[i1];
          v[i0] = x0 * c[i] - x1 * s[i];
          v[i1] = x0 * s[i] + x1 * c[i];
        }
      }
    }
}

void fakeQuantizeInt8PerRow(float *x, int64_t n, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float *r = x + i * cols;
    float amax = 0;
    for (int64_t j = 0; j < cols; ++j)
      amax = std::max(amax, std::fabs(r[j]));
    const float s = std::max(amax, 1e-5f) / 127.0f;
    for (int64_t j = 0; j < cols; ++j)
      r[j] = std::min(127.0f, std::max(-127.0f, std::nearbyint(r[j] / s))) * s;
  }
}

void swiglu(const float *gate, const float *up, float *y, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    y[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add(const float *a, const float *b, float *y, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = a[i] + b[i];
}

KVCache::KVCache(int64_t layers, int64_t batch, int64_t kvHeads, int64_t maxSeq, int64_t headDim)
    : layers_(layers), batch_(batch), kvHeads_(kvHeads), maxSeq_(maxSeq), headDim_(headDim),
      k_(size_t(layers * batch * kvHeads * maxSeq * headDim)),
      v_(size_t(layers * batch * kvHeads * maxSeq * headDim)) {}

void attention(const float *q, const float *k, const float *v, int64_t B, int64_t T, int64_t pos,
               int64_t nHeads, KVCache &cache, int64_t layer, float *out) {
  const int64_t hd = cache.headDim(), kvh = cache.kvHeads(), group = nHeads / kvh;
  const int64_t kvDim = kvh * hd, qDim = nHeads * hd;
  assert(B <= cache.batch() && pos + T <= cache.maxSeq());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < kvh; ++h) {
        std::memcpy(cache.k(layer, b, h, pos + t), k + (b * T + t) * kvDim + h * hd, hd * 4);
        std::memcpy(cache.v(layer, b, h, pos + t), v + (b * T + t) * kvDim + h * hd, hd * 4);
      }
  const float scale = 1.0f / std::sqrt(float(hd));
#pragma omp parallel
  {
    std::vector<float> scores(size_t(pos + T));
    std::vector<float> acc(static_cast<size_t>(hd));
#pragma omp for collapse(3) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < nHeads; ++h)
        for (int64_t t = 0; t < T; ++t) {
          const float *qv = q + (b * T + t) * qDim + h * hd;
          const int64_t kvHead = h / group, n = pos + t + 1;
          const float *K = cache.k(layer, b, kvHead, 0), *V = cache.v(layer, b, kvHead, 0);
          float mx = -INFINITY;
          for (int64_t s = 0; s < n; ++s) {
            scores[s] = dot(qv, K + s * hd, hd) * scale;
            mx = std::max(mx, scores[s]);
          }
          float sum = 0;
          for (int64_t s = 0; s < n; ++s) {
            scores[s] = std::exp(scores[s] - mx);
            sum += scores[s];
          }
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int64_t s = 0; s < n; ++s) {
            const float w = scores[s];
            const float *vs = V + s * hd;
            for (int64_t j = 0; j < hd; ++j)
              acc[j] += w * vs[j];
          }
          float *o = out + (b * T + t) * qDim + h * hd;
          const float invSum = 1.0f / sum;
          for (int64_t j = 0; j < hd; ++j)
            o[j] = acc[j] * invSum;
        }
  }
}

} // namespace qcc::rt
