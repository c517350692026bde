//===- BitBudgetTest.cpp - the choose-bits solver against brute force -------===//
//
// Small instances are solved exhaustively (every combination of candidates) and the solver must
// find the same minimum error without exceeding the budget; larger synthetic tables force the
// rounded DP, whose result must stay within budget and bracket the optimum with its lower bound.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/BitBudget.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace llvm;
using namespace qcc;

namespace {

struct OwnedTensor {
  std::vector<float> weights, importance;
  BudgetTensor tensor;
};

/// A [rows, cols] matrix of N(0, 1) weights; importance null unless given.
OwnedTensor gaussianTensor(std::string name, int64_t rows, int64_t cols, uint32_t seed,
                           std::vector<GGMLType> candidates,
                           std::vector<float> importance = {}) {
  OwnedTensor o;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  o.weights.resize(size_t(rows * cols));
  for (float &w : o.weights)
    w = normal(rng);
  o.importance = std::move(importance);
  o.tensor = {std::move(name),  rows, cols, o.weights.data(),
              o.importance.empty() ? nullptr : o.importance.data(), std::move(candidates)};
  return o;
}

std::vector<BudgetTensor> views(const std::vector<OwnedTensor> &owned) {
  std::vector<BudgetTensor> out;
  for (const OwnedTensor &o : owned)
    out.push_back(o.tensor);
  return out;
}

/// The minimum Σ error over every combination whose bits per weight stay within budget
/// (+inf when none does).
double bruteForce(const std::vector<std::vector<BudgetChoice>> &table, uint64_t totalElements,
                  double budget, uint64_t fixedBytes) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> choice(table.size(), 0);
  for (;;) {
    uint64_t bytes = fixedBytes;
    double error = 0;
    for (size_t t = 0; t < table.size(); ++t) {
      bytes += table[t][choice[t]].bytes;
      error += table[t][choice[t]].error;
    }
    if (8.0 * double(bytes) / double(totalElements) <= budget)
      best = std::min(best, error);
    size_t t = 0;
    while (t < table.size() && ++choice[t] == table[t].size())
      choice[t++] = 0;
    if (t == table.size())
      return best;
  }
}

uint64_t chosenBytes(const BudgetResult &r) {
  uint64_t bytes = 0;
  for (size_t t = 0; t < r.types.size(); ++t)
    for (const BudgetChoice &c : r.table[t])
      if (c.type == r.types[t])
        bytes += c.bytes;
  return bytes;
}

const std::vector<GGMLType> kQuants = {GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_K,
                                       GGMLType::Q8_0};

TEST(BitBudget, FormatErrorOrdersFormats) {
  OwnedTensor o = gaussianTensor("w", 32, 512, 1, {});
  Expected<double> q8 = formatError(o.tensor, GGMLType::Q8_0);
  Expected<double> q4 = formatError(o.tensor, GGMLType::Q4_K);
  Expected<double> q2 = formatError(o.tensor, GGMLType::Q2_K);
  Expected<double> f32 = formatError(o.tensor, GGMLType::F32);
  ASSERT_TRUE(q8 && q4 && q2 && f32);
  EXPECT_EQ(*f32, 0.0);
  EXPECT_GT(*q8, 0.0);
  EXPECT_LT(*q8, *q4);
  EXPECT_LT(*q4, *q2);
  // Relative mean squared error of a 4-bit K-quant on Gaussian weights is about 1%.
  EXPECT_LT(*q4 / (32 * 512), 0.02);

  // Importance scales the error: uniform importance 3 is three times the unweighted error for a
  // format that ignores the imatrix (q8_0).
  OwnedTensor scaled = gaussianTensor("w", 32, 512, 1, {}, std::vector<float>(512, 3.0f));
  Expected<double> q8Scaled = formatError(scaled.tensor, GGMLType::Q8_0);
  ASSERT_TRUE(bool(q8Scaled));
  EXPECT_NEAR(*q8Scaled, 3.0 * *q8, 1e-9 * *q8Scaled);
}

TEST(BitBudget, BruteForceOnRealFormats) {
  std::mt19937 rng(7);
  for (int instance = 0; instance < 4; ++instance) {
    std::vector<OwnedTensor> owned;
    uint64_t elements = 0;
    for (int t = 0; t < 6; ++t) {
      const int64_t rows = 2 + int64_t(rng() % 15), cols = 256 * (1 + int64_t(rng() % 2));
      std::vector<float> importance;
      if (t % 2)
        for (int64_t j = 0; j < cols; ++j)
          importance.push_back(0.1f + float(rng() % 1000) / 100.0f);
      owned.push_back(gaussianTensor("t" + std::to_string(t), rows, cols, rng(), kQuants,
                                     std::move(importance)));
      elements += uint64_t(rows * cols);
    }
    const uint64_t fixedBytes = 4 * 1024, fixedElements = 1024; // f32 norms
    Expected<std::vector<std::vector<BudgetChoice>>> table = computeBudgetTable(views(owned));
    ASSERT_TRUE(bool(table)) << toString(table.takeError());
    for (double budget = 3.0; budget <= 10.0; budget += 0.25) {
      const double best = bruteForce(*table, elements + fixedElements, budget, fixedBytes);
      Expected<BudgetResult> r =
          solveBitBudget(views(owned), budget, fixedBytes, fixedElements);
      if (std::isinf(best)) {
        EXPECT_FALSE(bool(r)) << "budget " << budget;
        consumeError(r.takeError());
        continue;
      }
      ASSERT_TRUE(bool(r)) << toString(r.takeError());
      EXPECT_LE(r->bitsPerWeight, budget);
      EXPECT_EQ(r->bytes, chosenBytes(*r));
      EXPECT_LE(8.0 * double(r->bytes + fixedBytes) / double(elements + fixedElements), budget);
      EXPECT_NEAR(r->predictedError, best, 1e-9 * best) << "budget " << budget;
      EXPECT_EQ(r->lowerBound, r->predictedError);
    }
  }
}

/// Random tables with byte sizes sharing no common factor: the rounded DP (small maxCells)
/// must stay within budget, and its bound must bracket the brute-force optimum.
TEST(BitBudget, BruteForceOnSyntheticTables) {
  std::mt19937_64 rng(11);
  for (int instance = 0; instance < 200; ++instance) {
    const size_t nTensors = 2 + rng() % 5, nCandidates = 1 + rng() % 4;
    std::vector<std::vector<BudgetChoice>> table(nTensors);
    std::vector<uint64_t> elements(nTensors);
    uint64_t total = 0;
    for (size_t t = 0; t < nTensors; ++t) {
      elements[t] = 1000 + rng() % 5000;
      total += elements[t];
      for (size_t k = 0; k < nCandidates; ++k) {
        // Bigger is (usually, not always) better, as with real formats.
        const uint64_t bytes = elements[t] / 8 + rng() % elements[t];
        const double error = 1e6 / double(bytes) * (0.8 + 0.4 * double(rng() % 1000) / 1000);
        table[t].push_back({kQuants[k], error, bytes}); // distinct types name the choice
      }
    }
    const double budget = 1.0 + double(rng() % 8000) / 1000.0;
    const double best = bruteForce(table, total, budget, 0);
    for (uint64_t maxCells : {uint64_t(10'000'000), uint64_t(64)}) {
      Expected<BudgetResult> r = solveBitBudgetTable(table, elements, budget, 0, 0, maxCells);
      if (std::isinf(best)) {
        ASSERT_FALSE(bool(r));
        EXPECT_NE(toString(r.takeError()).find("is below the smallest achievable"),
                  std::string::npos);
        continue;
      }
      ASSERT_TRUE(bool(r)) << toString(r.takeError());
      EXPECT_LE(r->bitsPerWeight, budget);
      EXPECT_EQ(r->bytes, chosenBytes(*r));
      const double tol = 1e-9 * best;
      if (maxCells == 10'000'000) {
        EXPECT_NEAR(r->predictedError, best, tol) << "instance " << instance;
      } else {
        EXPECT_GE(r->predictedError, best - tol);
        EXPECT_LE(r->lowerBound, best + tol) << "instance " << instance;
      }
    }
  }
}

TEST(BitBudget, LargerBudgetNeverWorse) {
  std::vector<OwnedTensor> owned;
  for (int t = 0; t < 8; ++t)
    owned.push_back(gaussianTensor("t" + std::to_string(t), 8 + 4 * t, 512, 100 + t,
                                   {GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_K,
                                    GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::Q8_0}));
  Expected<std::vector<std::vector<BudgetChoice>>> table = computeBudgetTable(views(owned));
  ASSERT_TRUE(bool(table)) << toString(table.takeError());
  std::vector<uint64_t> elements;
  for (const OwnedTensor &o : owned)
    elements.push_back(uint64_t(o.tensor.rows * o.tensor.cols));
  double previous = std::numeric_limits<double>::infinity();
  for (double budget = 2.7; budget <= 8.6; budget += 0.1) {
    Expected<BudgetResult> r = solveBitBudgetTable(*table, elements, budget, 0, 0);
    ASSERT_TRUE(bool(r)) << "budget " << budget << ": " << toString(r.takeError());
    EXPECT_LE(r->bitsPerWeight, budget);
    EXPECT_LE(r->predictedError, previous) << "budget " << budget;
    previous = r->predictedError;
  }
  // The whole budget buys q8_0 everywhere.
  Expected<BudgetResult> all = solveBitBudget(views(owned), 8.5, 0, 0);
  ASSERT_TRUE(bool(all));
  for (GGMLType type : all->types)
    EXPECT_EQ(type, GGMLType::Q8_0);
}

/// Two tensors with the same weights; the one whose inputs matter more gets the bits.
TEST(BitBudget, ImportanceBuysBits) {
  const int64_t rows = 16, cols = 256;
  for (int loud = 0; loud < 2; ++loud) {
    std::vector<OwnedTensor> owned;
    for (int t = 0; t < 2; ++t)
      owned.push_back(gaussianTensor("t" + std::to_string(t), rows, cols, 5,
                                     {GGMLType::Q2_K, GGMLType::Q8_0},
                                     std::vector<float>(cols, t == loud ? 100.0f : 1.0f)));
    // Room for one q8_0 (8.5 bpw) and one q2_K (2.625 bpw), not two q8_0.
    Expected<BudgetResult> r = solveBitBudget(views(owned), (8.5 + 2.625) / 2, 0, 0);
    ASSERT_TRUE(bool(r)) << toString(r.takeError());
    EXPECT_EQ(r->types[size_t(loud)], GGMLType::Q8_0);
    EXPECT_EQ(r->types[size_t(1 - loud)], GGMLType::Q2_K);
    EXPECT_DOUBLE_EQ(r->bitsPerWeight, (8.5 + 2.625) / 2);
  }
}

TEST(BitBudget, Errors) {
  OwnedTensor o = gaussianTensor("blk.0.ffn_down.weight", 4, 256, 3,
                                 {GGMLType::Q4_K, GGMLType::Q8_0});
  Expected<BudgetResult> low = solveBitBudget({o.tensor}, 4.0, 0, 0);
  ASSERT_FALSE(bool(low));
  EXPECT_EQ(toString(low.takeError()),
            "budget 4.0000 bits/weight is below the smallest achievable 4.5000");

  BudgetTensor none = o.tensor;
  none.candidates.clear();
  Expected<BudgetResult> empty = solveBitBudget({none}, 8.0, 0, 0);
  ASSERT_FALSE(bool(empty));
  EXPECT_NE(toString(empty.takeError()).find("no candidate formats"), std::string::npos);

  OwnedTensor narrow = gaussianTensor("narrow", 4, 96, 3, {GGMLType::Q8_0, GGMLType::Q4_K});
  Expected<BudgetResult> undivided = solveBitBudget({narrow.tensor}, 8.5, 0, 0);
  ASSERT_FALSE(bool(undivided));
  EXPECT_EQ(toString(undivided.takeError()),
            "tensor 'narrow': candidate q4_K (block 256) does not divide its 96 columns");
  Expected<double> e = formatError(narrow.tensor, GGMLType::Q4_K);
  ASSERT_FALSE(bool(e));
  consumeError(e.takeError());

  Expected<BudgetResult> noElements = solveBitBudget({}, 4.0, 0, 0);
  ASSERT_FALSE(bool(noElements));
  consumeError(noElements.takeError());
}

/// A student-sized model (≈5M parameters) against 8 formats: the table takes seconds, not minutes.
TEST(BitBudget, FiveMillionParametersTable) {
  std::vector<OwnedTensor> owned;
  for (int t = 0; t < 20; ++t)
    owned.push_back(gaussianTensor("t" + std::to_string(t), 512, 512, 200 + t,
                                   {GGMLType::Q2_K, GGMLType::Q3_K, GGMLType::Q4_0,
                                    GGMLType::Q4_K, GGMLType::Q5_K, GGMLType::Q6_K,
                                    GGMLType::Q8_0, GGMLType::IQ4_NL},
                                   std::vector<float>(512, 1.5f)));
  const auto start = std::chrono::steady_clock::now();
  Expected<BudgetResult> r = solveBitBudget(views(owned), 4.5, 0, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(bool(r)) << toString(r.takeError());
  EXPECT_LE(r->bitsPerWeight, 4.5);
  EXPECT_LT(seconds, 60.0);
  std::printf("5.2M params x 8 formats: %.2f s, %.4f bpw\n", seconds, r->bitsPerWeight);
}

} // namespace
