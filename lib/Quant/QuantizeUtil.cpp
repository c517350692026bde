//===- QuantizeUtil.cpp - ggml's shared quantization searches ---------------===//
//
// Conventions kept from ggml-quants.c, because they decide ties and roundings: C's usual
// arithmetic conversions (an int operand becomes float at the operation where ggml's C
// converts it, so `w*x*l` is (w·x)·float(l)), left-to-right evaluation, strict `>` / `<`
// comparisons in the searches (the first best wins), and no FMA contraction.
//
//===----------------------------------------------------------------------===//
#include "QuantizeUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

static inline int clampInt(int lo, int hi, int v) { return std::max(lo, std::min(hi, v)); }

float makeQxQuants(int n, int nmax, const float *x, int8_t *L, int rmseType, const float *qw) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  float iscale = float(-nmax) / max;
  if (rmseType == 0) {
    for (int i = 0; i < n; ++i) {
      const int l = nearestInt(iscale * x[i]);
      L[i] = int8_t(nmax + clampInt(-nmax, nmax - 1, l));
    }
    return 1 / iscale;
  }
  bool returnEarly = false;
  if (rmseType < 0) {
    rmseType = -rmseType;
    returnEarly = true;
  }
  auto weight = [&](int i) -> float {
    if (qw)
      return qw[i];
    switch (rmseType) {
    case 1:
      return x[i] * x[i];
    case 2:
      return 1;
    case 3:
      return std::fabs(x[i]);
    default:
      return std::sqrt(std::fabs(x[i]));
    }
  };
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * x[i]);
    l = clampInt(-nmax, nmax - 1, l);
    L[i] = int8_t(l + nmax);
    const float w = weight(i);
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  if (returnEarly)
    return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0)
      continue;
    iscale = -(float(nmax) + 0.1f * float(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * x[i]);
      l = clampInt(-nmax, nmax - 1, l);
      const float w = weight(i);
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * x[i]);
        L[i] = int8_t(nmax + clampInt(-nmax, nmax - 1, l));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float makeQ3Quants(int n, int nmax, const float *x, int8_t *L, bool doRmse) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  const float iscale = float(-nmax) / max;
  if (doRmse) {
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * x[i]);
      l = clampInt(-nmax, nmax - 1, l);
      L[i] = int8_t(l);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    for (int itry = 0; itry < 5; ++itry) {
      int nChanged = 0;
      for (int i = 0; i < n; ++i) {
        const float w = x[i] * x[i];
        float slx = sumlx - w * x[i] * float(L[i]);
        if (slx > 0) {
          float sl2 = suml2 - w * float(L[i]) * float(L[i]);
          int newL = nearestInt(x[i] * sl2 / slx);
          newL = clampInt(-nmax, nmax - 1, newL);
          if (newL != L[i]) {
            slx += w * x[i] * float(newL);
            sl2 += w * float(newL) * float(newL);
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
              L[i] = int8_t(newL);
              sumlx = slx;
              suml2 = sl2;
              ++nChanged;
            }
          }
        }
      }
      if (!nChanged)
        break;
    }
    for (int i = 0; i < n; ++i)
      L[i] = int8_t(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
  }
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * x[i]);
    l = clampInt(-nmax, nmax - 1, l);
    L[i] = int8_t(l + nmax);
  }
  return 1 / iscale;
}

float makeQkx2Quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                     float *theMin, uint8_t *Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
  float min = x[0];
  float max = x[0];
  float sumW = weights[0];
  float sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min)
      min = x[i];
    if (x[i] > max)
      max = x[i];
    const float w = weights[i];
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0)
    min = 0;
  if (max == min) {
    std::memset(L, 0, size_t(n));
    *theMin = -min;
    return 0.f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float bestError = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearestInt(iscale * (x[i] - min));
    L[i] = uint8_t(clampInt(0, nmax, l));
    float diff = scale * float(L[i]) + min - x[i];
    diff = useMad ? std::fabs(diff) : diff * diff;
    bestError += weights[i] * diff;
  }
  if (nstep < 1) {
    *theMin = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * (x[i] - min));
      l = clampInt(0, nmax, l);
      Laux[i] = uint8_t(l);
      const float w = weights[i];
      sumL += w * float(l);
      sumL2 += w * float(l) * float(l);
      sumXL += w * float(l) * x[i];
    }
    const float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float curError = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * float(Laux[i]) + thisMin - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        curError += weights[i] * diff;
      }
      if (curError < bestError) {
        std::memcpy(L, Laux, size_t(n));
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

float makeQkx3Quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                     float *theMin, uint8_t *Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
  auto weight = [&](int i) { return weights ? weights[i] : x[i] * x[i]; };
  float min = x[0];
  float max = x[0];
  float sumW = weight(0);
  float sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min)
      min = x[i];
    if (x[i] > max)
      max = x[i];
    const float w = weight(i);
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0)
    min = 0;
  if (max <= min) {
    std::memset(L, 0, size_t(n));
    *theMin = -min;
    return 0.f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float bestMad = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearestInt(iscale * (x[i] - min));
    L[i] = uint8_t(clampInt(0, nmax, l));
    float diff = scale * float(L[i]) + min - x[i];
    diff = useMad ? std::fabs(diff) : diff * diff;
    bestMad += weight(i) * diff;
  }
  if (nstep < 1) {
    *theMin = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    // min is the best fit so far (it moves inside this loop), as in ggml.
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      const float v = iscale * (x[i] - min);
      const int l = v > 0 ? nearestInt(std::min(v, float(nmax))) : 0;
      Laux[i] = uint8_t(l);
      const float w = weight(i);
      sumL += w * float(l);
      sumL2 += w * float(l) * float(l);
      sumXL += w * float(l) * x[i];
    }
    const float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float mad = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * float(Laux[i]) + thisMin - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        mad += weight(i) * diff;
      }
      if (mad < bestMad) {
        std::memcpy(L, Laux, size_t(n));
        bestMad = mad;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

float makeQpQuants(int n, int nmax, const float *x, uint8_t *L, const float *quantWeights) {
  float max = 0;
  for (int i = 0; i < n; ++i)
    max = max > x[i] ? max : x[i]; // ggml's MAX(max, x[i])
  if (max < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  float iscale = float(nmax) / max;
  for (int i = 0; i < n; ++i)
    L[i] = uint8_t(nearestInt(iscale * x[i]));
  const float scale = 1 / iscale;
  float bestMse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * float(L[i]);
    bestMse += quantWeights[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0)
      continue;
    const float iscaleIs = (0.1f * float(is) + float(nmax)) / max;
    const float scaleIs = 1 / iscaleIs;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscaleIs * x[i]);
      l = std::min(nmax, l);
      const float diff = x[i] - scaleIs * float(l);
      mse += quantWeights[i] * diff * diff;
    }
    if (mse < bestMse) {
      bestMse = mse;
      iscale = iscaleIs;
    }
  }
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * x[i]);
    l = std::min(nmax, l);
    L[i] = uint8_t(l);
    const float w = quantWeights[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int nChanged = 0;
    for (int i = 0; i < n; ++i) {
      const float w = quantWeights[i];
      float slx = sumlx - w * x[i] * float(L[i]);
      float sl2 = suml2 - w * float(L[i]) * float(L[i]);
      if (slx > 0 && sl2 > 0) {
        int newL = nearestInt(x[i] * sl2 / slx);
        newL = std::min(nmax, newL);
        if (newL != L[i]) {
          slx += w * x[i] * float(newL);
          sl2 += w * float(newL) * float(newL);
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = uint8_t(newL);
            sumlx = slx;
            suml2 = sl2;
            ++nChanged;
          }
        }
      }
    }
    if (!nChanged)
      break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

int bestIndexInt8(int n, const int8_t *val, float x) {
  if (x <= float(val[0]))
    return 0;
  if (x >= float(val[n - 1]))
    return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    const int mav = (ml + mu) / 2;
    if (x < float(val[mav]))
      mu = mav;
    else
      ml = mav;
  }
  return x - float(val[mu - 1]) < float(val[mu]) - x ? mu - 1 : mu;
}

} // namespace qcc::ggml
