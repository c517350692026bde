//===- BitBudget.cpp - per-tensor formats under a bits-per-weight budget ----===//
//
// Sensitivities are sums over rows: each row is quantized and dequantized on its own (as ggml
// does), so rows are split into chunks that are independent work items; per-chunk sums are
// added in chunk order afterwards so the result never depends on the thread schedule.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/BitBudget.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace llvm;

namespace qcc {

static Error budgetError(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

/// Checks that t is well formed and f can store its rows.
static Expected<const FormatInfo *> checkCandidate(const BudgetTensor &t, GGMLType type) {
  if (t.rows < 0 || t.cols < 0)
    return budgetError("tensor '" + t.name + "': negative shape");
  if (!t.weights && t.rows * t.cols > 0)
    return budgetError("tensor '" + t.name + "': no weights");
  const FormatInfo *f = lookupFormat(type);
  if (!f)
    return budgetError("tensor '" + t.name + "': unknown GGML type id " +
                       Twine(uint32_t(type)));
  if (t.cols % f->blockSize != 0)
    return budgetError("tensor '" + t.name + "': candidate " + f->name + " (block " +
                       Twine(f->blockSize) + ") does not divide its " + Twine(t.cols) +
                       " columns");
  return f;
}

namespace {
/// Rows [rowBegin, rowEnd) of one tensor in one format: one unit of parallel work.
struct ErrorChunk {
  const BudgetTensor *tensor;
  const FormatInfo *format;
  int64_t rowBegin, rowEnd;
};
} // namespace

/// Σ importance_c · (w − deq(q(w)))² over the chunk's rows; the quantizer sees the same
/// importance (null = its non-imatrix path, weight 1).
static double chunkError(const ErrorChunk &c) {
  const BudgetTensor &t = *c.tensor;
  const int64_t cols = t.cols;
  std::vector<uint8_t> packed(static_cast<size_t>(rowBytes(c.format->type, cols)));
  std::vector<float> restored(static_cast<size_t>(cols));
  double sum = 0;
  for (int64_t r = c.rowBegin; r < c.rowEnd; ++r) {
    const float *w = t.weights + r * cols;
    c.format->quantizeRow(w, packed.data(), cols, t.importance);
    c.format->dequantizeRow(packed.data(), restored.data(), cols);
    double rowSum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double d = double(w[j]) - double(restored[size_t(j)]);
      rowSum += (t.importance ? double(t.importance[j]) : 1.0) * d * d;
    }
    sum += rowSum;
  }
  return sum;
}

/// Splits a tensor's rows into chunks of about 64K values.
static void appendChunks(const BudgetTensor &t, const FormatInfo *f,
                         std::vector<ErrorChunk> &chunks) {
  const int64_t perChunk = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, t.cols));
  for (int64_t r = 0; r < t.rows; r += perChunk)
    chunks.push_back({&t, f, r, std::min(t.rows, r + perChunk)});
}

static std::vector<double> chunkErrors(ArrayRef<ErrorChunk> chunks) {
  std::vector<double> out(chunks.size());
  parallelFor(0, chunks.size(), [&](size_t i) { out[i] = chunkError(chunks[i]); });
  return out;
}

Expected<double> formatError(const BudgetTensor &t, GGMLType type) {
  Expected<const FormatInfo *> f = checkCandidate(t, type);
  if (!f)
    return f.takeError();
  std::vector<ErrorChunk> chunks;
  appendChunks(t, *f, chunks);
  std::vector<double> errors = chunkErrors(chunks);
  return std::accumulate(errors.begin(), errors.end(), 0.0);
}

Expected<std::vector<std::vector<BudgetChoice>>>
computeBudgetTable(ArrayRef<BudgetTensor> tensors) {
  std::vector<std::vector<BudgetChoice>> table(tensors.size());
  std::vector<ErrorChunk> chunks;
  // chunkOwner[i] = (tensor, candidate) whose error chunk i adds to.
  std::vector<std::pair<size_t, size_t>> chunkOwner;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const BudgetTensor &tensor = tensors[t];
    if (tensor.candidates.empty())
      return budgetError("tensor '" + tensor.name + "': no candidate formats");
    for (size_t k = 0; k < tensor.candidates.size(); ++k) {
      Expected<const FormatInfo *> f = checkCandidate(tensor, tensor.candidates[k]);
      if (!f)
        return f.takeError();
      table[t].push_back({tensor.candidates[k], 0.0,
                          uint64_t(tensor.rows) * uint64_t(rowBytes((*f)->type, tensor.cols))});
      appendChunks(tensor, *f, chunks);
      chunkOwner.resize(chunks.size(), {t, k});
    }
  }
  std::vector<double> errors = chunkErrors(chunks);
  for (size_t i = 0; i < chunks.size(); ++i)
    table[chunkOwner[i].first][chunkOwner[i].second].error += errors[i];
  return table;
}

namespace {
/// Multiple-choice knapsack by DP over integer weights: minimises Σ error[t][choice[t]] subject
/// to Σ units[t][choice[t]] ≤ capacity. Candidates heavier than capacity are never taken.
struct KnapsackDP {
  const std::vector<std::vector<BudgetChoice>> &table;
  const std::vector<std::vector<uint64_t>> &units;
  uint64_t capacity;

  /// The choices, or an empty vector when nothing fits (cannot happen for capacity ≥ 0 when
  /// every tensor has a zero-unit candidate, which the caller guarantees).
  std::vector<size_t> solve() const {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const size_t width = size_t(capacity) + 1;
    std::vector<double> best(width, inf), next(width);
    best[0] = 0;
    // pick[t * width + c]: the candidate of tensor t on the best path reaching total c.
    std::vector<uint16_t> pick(table.size() * width, 0);
    for (size_t t = 0; t < table.size(); ++t) {
      std::fill(next.begin(), next.end(), inf);
      uint16_t *row = pick.data() + t * width;
      for (size_t k = 0; k < table[t].size(); ++k) {
        const uint64_t w = units[t][k];
        if (w >= width)
          continue;
        const double e = table[t][k].error;
        for (size_t c = size_t(w); c < width; ++c) {
          const double v = best[c - size_t(w)] + e;
          if (v < next[c]) {
            next[c] = v;
            row[c] = uint16_t(k);
          }
        }
      }
      best.swap(next);
    }
    size_t end = size_t(std::min_element(best.begin(), best.end()) - best.begin());
    if (best[end] == inf)
      return {};
    std::vector<size_t> choice(table.size());
    for (size_t t = table.size(); t-- > 0;) {
      choice[t] = pick[t * width + end];
      end -= size_t(units[t][choice[t]]);
    }
    return choice;
  }
};
} // namespace

Expected<BudgetResult> solveBitBudgetTable(std::vector<std::vector<BudgetChoice>> table,
                                           ArrayRef<uint64_t> elements, double budget,
                                           uint64_t fixedBytes, uint64_t fixedElements,
                                           uint64_t maxCells) {
  if (elements.size() != table.size())
    return budgetError("bit budget: " + Twine(table.size()) + " tensors but " +
                       Twine(elements.size()) + " element counts");
  uint64_t totalElements = fixedElements;
  uint64_t minTotal = fixedBytes;
  std::vector<uint64_t> minBytes(table.size());
  for (size_t t = 0; t < table.size(); ++t) {
    if (table[t].empty())
      return budgetError("bit budget: tensor " + Twine(t) + " has no candidate formats");
    if (table[t].size() > std::numeric_limits<uint16_t>::max())
      return budgetError("bit budget: tensor " + Twine(t) + " has too many candidates");
    totalElements += elements[t];
    minBytes[t] = std::min_element(table[t].begin(), table[t].end(),
                                   [](const BudgetChoice &a, const BudgetChoice &b) {
                                     return a.bytes < b.bytes;
                                   })->bytes;
    minTotal += minBytes[t];
  }
  if (totalElements == 0)
    return budgetError("bit budget: no elements to count bits per weight over");
  if (!(budget >= 0) || !std::isfinite(budget))
    return budgetError("bit budget: budget must be a finite non-negative number");

  auto bitsPerWeight = [&](uint64_t bytes) {
    return 8.0 * double(bytes) / double(totalElements);
  };
  // The largest file size (bytes) whose bits per weight, computed as reported, is ≤ budget.
  const double approx = std::floor(budget * double(totalElements) / 8.0);
  constexpr uint64_t hugeBytes = uint64_t(1) << 62;
  uint64_t allowed = approx >= double(hugeBytes) ? hugeBytes : uint64_t(approx);
  if (allowed < hugeBytes) {
    // floor() of a rounded product can be off by one either way; stepping down is what keeps
    // the budget, stepping up only recovers a byte or two.
    while (allowed > 0 && bitsPerWeight(allowed) > budget)
      --allowed;
    for (int i = 0; i < 4 && bitsPerWeight(allowed + 1) <= budget; ++i)
      ++allowed;
  }
  if (allowed < minTotal || bitsPerWeight(minTotal) > budget) {
    std::string msg;
    raw_string_ostream os(msg);
    os << "budget " << format("%.4f", budget) << " bits/weight is below the smallest achievable "
       << format("%.4f", bitsPerWeight(minTotal));
    return budgetError(msg);
  }

  // Bytes above each tensor's smallest candidate; slack = what the budget leaves for them.
  uint64_t maxExtra = 0, unitBytes = 0;
  std::vector<std::vector<uint64_t>> extra(table.size());
  for (size_t t = 0; t < table.size(); ++t) {
    uint64_t tensorMax = 0;
    for (const BudgetChoice &c : table[t]) {
      extra[t].push_back(c.bytes - minBytes[t]);
      tensorMax = std::max(tensorMax, c.bytes - minBytes[t]);
      unitBytes = std::gcd(unitBytes, c.bytes - minBytes[t]);
    }
    maxExtra += tensorMax;
  }
  const uint64_t slack = std::min(allowed - minTotal, maxExtra);
  if (unitBytes == 0)
    unitBytes = 1;

  // Byte units: the gcd when the table fits (exact), else a multiple of it.
  const uint64_t n = std::max<uint64_t>(1, table.size());
  const uint64_t maxUnits = std::max<uint64_t>(maxCells, 2 * n) / n - 1;
  const uint64_t slackUnits = slack / unitBytes;
  const uint64_t scale = slackUnits <= maxUnits ? 1 : slackUnits / (maxUnits + 1) + 1;
  const uint64_t granule = unitBytes * scale;
  const bool exact = scale == 1;

  // Rounding byte sizes up keeps every DP-feasible choice within the real budget.
  std::vector<std::vector<uint64_t>> upUnits(table.size()), downUnits(table.size());
  for (size_t t = 0; t < table.size(); ++t)
    for (uint64_t e : extra[t]) {
      upUnits[t].push_back((e + granule - 1) / granule);
      downUnits[t].push_back(e / granule);
    }
  std::vector<size_t> choice = KnapsackDP{table, upUnits, slack / granule}.solve();
  if (choice.size() != table.size())
    return budgetError("bit budget: internal error: no feasible choice");

  uint64_t chosenBytes = 0;
  for (size_t t = 0; t < table.size(); ++t)
    chosenBytes += table[t][choice[t]].bytes;

  double lowerBound = 0;
  if (!exact) {
    // Rounded up the DP may leave bytes unused: take single upgrades that fit, best first.
    for (;;) {
      double bestGain = 0;
      size_t bestT = 0, bestK = 0;
      for (size_t t = 0; t < table.size(); ++t)
        for (size_t k = 0; k < table[t].size(); ++k) {
          const BudgetChoice &cur = table[t][choice[t]], &cand = table[t][k];
          const double gain = cur.error - cand.error;
          if (gain > bestGain &&
              chosenBytes - cur.bytes + cand.bytes <= allowed - fixedBytes) {
            bestGain = gain;
            bestT = t;
            bestK = k;
          }
        }
      if (bestGain <= 0)
        break;
      chosenBytes = chosenBytes - table[bestT][choice[bestT]].bytes + table[bestT][bestK].bytes;
      choice[bestT] = bestK;
    }
    // Rounded down, every truly feasible choice stays DP-feasible: a relaxation, so a bound.
    std::vector<size_t> relaxed = KnapsackDP{table, downUnits, slack / granule}.solve();
    for (size_t t = 0; t < relaxed.size(); ++t)
      lowerBound += table[t][relaxed[t]].error;
  }

  BudgetResult result;
  result.bytes = chosenBytes;
  for (size_t t = 0; t < table.size(); ++t) {
    result.types.push_back(table[t][choice[t]].type);
    result.predictedError += table[t][choice[t]].error;
  }
  result.lowerBound = exact ? result.predictedError : std::min(lowerBound, result.predictedError);
  result.bitsPerWeight = bitsPerWeight(chosenBytes + fixedBytes);
  result.table = std::move(table);
  return result;
}

Expected<BudgetResult> solveBitBudget(ArrayRef<BudgetTensor> tensors, double budget,
                                      uint64_t fixedBytes, uint64_t fixedElements) {
  Expected<std::vector<std::vector<BudgetChoice>>> table = computeBudgetTable(tensors);
  if (!table)
    return table.takeError();
  std::vector<uint64_t> elements;
  for (const BudgetTensor &t : tensors)
    elements.push_back(uint64_t(t.rows) * uint64_t(t.cols));
  return solveBitBudgetTable(std::move(*table), elements, budget, fixedBytes, fixedElements);
}

} // namespace qcc
