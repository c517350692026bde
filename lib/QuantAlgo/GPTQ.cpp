//===- GPTQ.cpp - GPTQ after IST-DASLab/gptq fasterquant ------------------===//

#include "qcc/QuantAlgo/GPTQ.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qcc::quantalgo;

// In-place lower Cholesky of the symmetric matrix a [n, n] (row-major, lower triangle read and
// written; the upper triangle is zeroed). Column by column, each entry a dot product of two
// row prefixes, so every access is contiguous. Fails when a pivot is not positive.
static bool choleskyLower(std::vector<double> &a, int64_t n) {
  auto dot = [&](int64_t i, int64_t j, int64_t len) {
    const double *x = a.data() + i * n, *y = a.data() + j * n;
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t k = 0; k < len; ++k)
      sum += x[k] * y[k];
    return sum;
  };
  for (int64_t j = 0; j < n; ++j) {
    const double pivot = a[j * n + j] - dot(j, j, j);
    if (!(pivot > 0.0) || !std::isfinite(pivot))
      return false;
    const double ljj = std::sqrt(pivot);
    a[j * n + j] = ljj;
#pragma omp parallel for schedule(static) if ((n - j) * j > 65536)
    for (int64_t i = j + 1; i < n; ++i)
      a[i * n + j] = (a[i * n + j] - dot(i, j, j)) / ljj;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      a[i * n + j] = 0.0;
  return true;
}

// torch.cholesky_inverse(L): (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, full symmetric result.
static std::vector<double> choleskyInverse(const std::vector<double> &l, int64_t n) {
  // t = (L⁻¹)ᵀ, upper triangular, so that row i of t is column i of L⁻¹.
  std::vector<double> t(n * n, 0.0);
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t j = 0; j < n; ++j) {
    t[j * n + j] = 1.0 / l[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t k = j; k < i; ++k)
        sum += l[i * n + k] * t[j * n + k];
      t[j * n + i] = -sum / l[i * n + i];
    }
  }
  std::vector<double> inv(n * n, 0.0);
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t k = i; k < n; ++k)
        sum += t[i * n + k] * t[j * n + k];
      inv[i * n + j] = sum;
      inv[j * n + i] = sum;
    }
  return inv;
}

bool GPTQResult::isContiguousGrouping() const {
  const int64_t length = numGroups > 0 ? cols / numGroups : cols;
  for (int64_t c = 0; c < cols; ++c)
    if (groupIndex[c] != c / length)
      return false;
  return true;
}

std::vector<float> GPTQResult::dequantize() const {
  std::vector<float> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] =
          dequantizeCode(params[r * numGroups + groupIndex[c]], codes[r * cols + c]);
  return out;
}

llvm::Expected<std::vector<uint8_t>>
GPTQResult::packRows(const IntGroupFormat &format) const {
  if (format.numGroups(cols) != numGroups)
    return llvm::createStringError("GPTQ result: format has %lld groups per row, result %lld",
                                   (long long)format.numGroups(cols), (long long)numGroups);
  if (!isContiguousGrouping())
    return llvm::createStringError(
        "GPTQ result: act-order groups (g_idx) are not contiguous column ranges; quantize with "
        "staticGroups to pack into the integer group layout");
  const int64_t bytes = rowBytes(format, cols);
  std::vector<uint8_t> out(rows * bytes);
  for (int64_t r = 0; r < rows; ++r)
    packRow(format, codes.data() + r * cols, params.data() + r * numGroups,
            out.data() + r * bytes, cols);
  return out;
}

llvm::Expected<GPTQResult> qcc::quantalgo::gptqQuantize(const IntGroupFormat &format, float *w,
                                                        int64_t rows, int64_t cols,
                                                        const double *hessian,
                                                        const GPTQOptions &options) {
  if (llvm::Error err = format.validate(cols))
    return std::move(err);
  if (options.blockSize <= 0 || !(options.percdamp >= 0.0))
    return llvm::createStringError("GPTQ: block size must be positive and percdamp ≥ 0");
  const int64_t groupSize = format.groupSize; // 0: one set of params per row
  const int64_t groups = format.numGroups(cols);

  // Dead inputs never reach the layer: any value works, the reference picks 0.
  std::vector<double> h(hessian, hessian + cols * cols);
  std::vector<bool> dead(cols, false);
  for (int64_t c = 0; c < cols; ++c)
    if (h[c * cols + c] == 0.0) {
      dead[c] = true;
      h[c * cols + c] = 1.0;
    }

  std::vector<int32_t> perm(cols);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.actOrder)
    std::sort(perm.begin(), perm.end(), [&](int32_t a, int32_t b) {
      const double da = h[a * cols + a], db = h[b * cols + b];
      return da > db || (da == db && a < b); // ties keep column order
    });
  std::vector<double> hp(cols * cols);
  double diagMean = 0.0;
  for (int64_t i = 0; i < cols; ++i) {
    for (int64_t j = 0; j < cols; ++j)
      hp[i * cols + j] = h[int64_t(perm[i]) * cols + perm[j]];
    diagMean += hp[i * cols + i];
  }
  diagMean /= double(cols);
  for (int64_t i = 0; i < cols; ++i)
    hp[i * cols + i] += options.percdamp * diagMean;

  // Hinv = chol(H⁻¹, upper): kept as float, the precision the reference updates W with.
  if (!choleskyLower(hp, cols))
    return llvm::createStringError("GPTQ: the damped Hessian is not positive definite");
  std::vector<double> hInv = choleskyInverse(hp, cols);
  if (!choleskyLower(hInv, cols))
    return llvm::createStringError("GPTQ: the inverse Hessian is not positive definite");
  std::vector<float> u(cols * cols);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      u[i * cols + j] = float(hInv[j * cols + i]);
  hInv.clear();
  hInv.shrink_to_fit();

  GPTQResult result;
  result.rows = rows;
  result.cols = cols;
  result.numGroups = groups;
  result.codes.assign(rows * cols, 0);
  result.params.assign(rows * groups, GroupParams());
  result.permutation = perm;
  result.groupIndex.assign(cols, 0);
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t original = perm[j];
    if (groupSize == 0)
      result.groupIndex[original] = 0;
    else if (options.actOrder && !options.staticGroups)
      result.groupIndex[original] = int32_t(j / groupSize);
    else
      result.groupIndex[original] = int32_t(original / groupSize);
  }

  const int maxCode = format.maxCode();
  const int64_t blockSize = options.blockSize;
  // Rows go in tiles so that each row of Hinv, once loaded, serves the whole tile; within a
  // row the arithmetic and its order are the reference's.
  constexpr int64_t kTile = 16;
  const int64_t tiles = (rows + kTile - 1) / kTile;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t r0 = tile * kTile, tileRows = std::min(kTile, rows - r0);
    std::vector<float> wp(tileRows * cols), block(tileRows * blockSize), err(tileRows * blockSize);
    std::vector<GroupParams> current(tileRows);
    for (int64_t t = 0; t < tileRows; ++t) {
      float *row = w + (r0 + t) * cols;
      GroupParams *rowParams = result.params.data() + (r0 + t) * groups;
      // Per channel: the reference's quantizer is fitted before dead columns are zeroed.
      if (groupSize == 0)
        rowParams[0] = findGroupParams(format, row, cols);
      for (int64_t c = 0; c < cols; ++c)
        if (dead[c])
          row[c] = 0.0f;
      if (groupSize != 0 && options.staticGroups)
        for (int64_t g = 0; g < groups; ++g)
          rowParams[g] = findGroupParams(format, row + g * groupSize, groupSize);
      for (int64_t j = 0; j < cols; ++j)
        wp[t * cols + j] = row[perm[j]];
      current[t] = rowParams[0];
    }
    for (int64_t i1 = 0; i1 < cols; i1 += blockSize) {
      const int64_t i2 = std::min(i1 + blockSize, cols), count = i2 - i1;
      for (int64_t t = 0; t < tileRows; ++t)
        std::copy(wp.begin() + t * cols + i1, wp.begin() + t * cols + i2,
                  block.begin() + t * blockSize);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t col = i1 + i, original = perm[col];
        const float *uRow = u.data() + col * cols;
        for (int64_t t = 0; t < tileRows; ++t) {
          const int64_t r = r0 + t;
          float *wpRow = wp.data() + t * cols, *blockRow = block.data() + t * blockSize;
          if (groupSize != 0) {
            GroupParams *rowParams = result.params.data() + r * groups;
            if (options.staticGroups) {
              current[t] = rowParams[original / groupSize];
            } else if (col % groupSize == 0) {
              // From the global working row: in-block updates are not in it yet (reference).
              current[t] = findGroupParams(format, wpRow + col, groupSize);
              rowParams[col / groupSize] = current[t];
            }
          }
          const float x = blockRow[i];
          const uint8_t code = quantizeCode(current[t], x, maxCode);
          const float q = dequantizeCode(current[t], code);
          result.codes[r * cols + original] = code;
          w[r * cols + original] = q;
          const float e = (x - q) / uRow[col];
          for (int64_t j = i; j < count; ++j)
            blockRow[j] -= e * uRow[i1 + j];
          err[t * blockSize + i] = e;
        }
      }
      // Lazy batch update of everything right of the block.
      for (int64_t i = 0; i < count; ++i) {
        const float *uRow = u.data() + (i1 + i) * cols;
        for (int64_t t = 0; t < tileRows; ++t) {
          const float e = err[t * blockSize + i];
          float *wpRow = wp.data() + t * cols;
          for (int64_t j = i2; j < cols; ++j)
            wpRow[j] -= e * uRow[j];
        }
      }
    }
  }
  return result;
}
