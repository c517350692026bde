//===- BitBudget.h - per-tensor formats under a bits-per-weight budget ------===//
//
// The solver behind choose-bits{budget=<bits per weight>}: given the weight matrices of a model,
// the ggml formats each may take, and a budget in bits per weight, pick one format per tensor so
// that the summed sensitivity is smallest while the file's bits per weight stay within budget.
//
// Sensitivity (formatError) is the imatrix-weighted squared quantization error
//   Σ_rows Σ_cols importance_c · (w_rc − deq(q(w))_rc)²,
// the expected squared output error of the layer y = W·x when the inputs are independent with
// E[x_c²] = importance_c (llama.cpp's imatrix: per-column mean x² over calibration tokens).
// Quantization itself uses the same importance weights, as llama-quantize --imatrix does.
//
// Bits per weight are counted as llama-quantize prints them: 8 · total bytes ÷ total elements,
// over every tensor of the file, including those not being chosen (fixedBytes/fixedElements).
//
// The choice is a multiple-choice knapsack solved exactly by dynamic programming over bytes in
// units of g bytes (g the gcd of the byte differences, so usually exact). When the table would
// be too large g grows; the byte sizes are then rounded up (the choice still never exceeds the
// budget) and a second, rounded-down DP gives a lower bound on the optimum, so the result is
// provably within (predictedError − lowerBound) of optimal.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANT_BITBUDGET_H
#define QCC_QUANT_BITBUDGET_H

#include "qcc/Quant/GGMLFormats.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qcc {

/// One weight matrix whose format is to be chosen.
struct BudgetTensor {
  std::string name;
  /// Logical [out, in] = [rows, cols]; ggml rows are rows of `cols` values.
  int64_t rows = 0, cols = 0;
  /// f32 [rows, cols], row-major.
  const float *weights = nullptr;
  /// Per-column mean x² from calibration (imatrix), cols values; null = uniform (all 1, and the
  /// quantizers' non-imatrix paths).
  const float *importance = nullptr;
  /// Formats allowed for this tensor; each block size must divide cols.
  std::vector<GGMLType> candidates;
};

/// One candidate format of one tensor, as the solver saw it.
struct BudgetChoice {
  GGMLType type;
  /// formatError of the tensor in this format.
  double error = 0;
  /// Bytes of the tensor in this format (rows · rowBytes).
  uint64_t bytes = 0;
};

struct BudgetResult {
  /// The chosen format of each tensor, in the order given.
  std::vector<GGMLType> types;
  /// Bytes of the chosen tensors (without fixedBytes).
  uint64_t bytes = 0;
  /// Σ error of the chosen formats.
  double predictedError = 0;
  /// 8 · (bytes + fixedBytes) ÷ (elements + fixedElements); never above the budget.
  double bitsPerWeight = 0;
  /// No choice within the budget has a smaller Σ error than this; equals predictedError when
  /// the DP was exact (the usual case).
  double lowerBound = 0;
  /// table[t][k]: candidate k of tensor t (same order as BudgetTensor::candidates).
  std::vector<std::vector<BudgetChoice>> table;
};

/// Sensitivity of tensor t to format f (see the file comment); computed in parallel over rows.
/// Fails for an unknown format, one whose block does not divide cols, or a malformed tensor.
llvm::Expected<double> formatError(const BudgetTensor &t, GGMLType f);

/// The candidate table of every tensor (error and bytes of each candidate), computed in
/// parallel over tensors, candidates and rows. Fails as formatError does, or on an empty list.
llvm::Expected<std::vector<std::vector<BudgetChoice>>>
computeBudgetTable(llvm::ArrayRef<BudgetTensor> tensors);

/// Chooses one candidate per tensor minimising Σ error subject to
///   8 · (Σ bytes of chosen + fixedBytes) ÷ (Σ elements + fixedElements) ≤ budgetBitsPerWeight.
/// Fails on a budget below the smallest achievable, an empty candidate list or a candidate that
/// does not divide cols.
llvm::Expected<BudgetResult> solveBitBudget(llvm::ArrayRef<BudgetTensor> tensors,
                                            double budgetBitsPerWeight, uint64_t fixedBytes = 0,
                                            uint64_t fixedElements = 0);

/// The solver on a precomputed table (table[t] the candidates of tensor t, elements[t] its
/// element count). maxCells bounds the DP table (tensors × byte units); a smaller value forces
/// coarser byte units (used by tests to exercise the rounded path).
llvm::Expected<BudgetResult>
solveBitBudgetTable(std::vector<std::vector<BudgetChoice>> table,
                    llvm::ArrayRef<uint64_t> elements, double budgetBitsPerWeight,
                    uint64_t fixedBytes = 0, uint64_t fixedElements = 0,
                    uint64_t maxCells = 10'000'000);

} // namespace qcc

#endif // QCC_QUANT_BITBUDGET_H
