//===- GPTQ.h - GPTQ (Frantar et al. 2022) over the integer group format ---===//
//
// The reference is IST-DASLab/gptq `GPTQ.fasterquant`, followed step by step:
//   - dead inputs: H_ii == 0 → H_ii = 1 and column i of W = 0;
//   - act order: columns visited by decreasing H_ii (stable sort), W and H permuted;
//   - damping: H += percdamp · mean(diag H) · I; Hinv = chol(H⁻¹) upper (Cholesky, inverse and
//     Cholesky again, in double);
//   - blocks of blockSize columns with lazy updates: within a block each column is quantized,
//     err = (w − q) / U_ii is spread over the rest of the block, and the block's errors update
//     the columns right of it at the block end;
//   - groups (groupSize > 0): without staticGroups a group's params are computed when the visit
//     reaches a column index that is a multiple of groupSize, from the *global* working W over
//     the next groupSize visited columns (which, as in the reference, has not yet received the
//     in-block updates of the current block); with staticGroups they are computed up front
//     from W (dead columns zeroed) over original column groups [g·G, (g+1)·G).
// Group index of a column (g_idx): without act order, or with staticGroups, it is
// column / groupSize — the layout IntGroup.h packs. With act order and dynamic groups it is
// (visit position) / groupSize, as GPTQ-for-LLaMA/AutoGPTQ's g_idx: a group then collects
// non-contiguous columns and the result cannot be packed into the IntGroup row layout
// (GPTQResult::packRows refuses); use staticGroups for packable act-order results.
//
// Rows are independent given Hinv, so the work is split over rows (OpenMP); the arithmetic of
// each row is the reference's, in float, in the reference's order of blocks.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTALGO_GPTQ_H
#define QCC_QUANTALGO_GPTQ_H

#include "qcc/QuantAlgo/IntGroup.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qcc::quantalgo {

struct GPTQOptions {
  double percdamp = 0.01;
  int64_t blockSize = 128;
  bool actOrder = false;
  bool staticGroups = false;
};

struct GPTQResult {
  int64_t rows = 0, cols = 0, numGroups = 0;
  std::vector<uint8_t> codes;       ///< [rows, cols], original column order, unsigned codes
  std::vector<GroupParams> params;  ///< [rows, numGroups]
  std::vector<int32_t> groupIndex;  ///< [cols]: g_idx, the group each original column uses
  std::vector<int32_t> permutation; ///< [cols]: visit order (identity without act order)

  /// True when groupIndex[c] == c / groupLength for all c (the IntGroup row layout).
  bool isContiguousGrouping() const;
  /// The dequantized weights [rows, cols] from codes, params and groupIndex (any grouping).
  std::vector<float> dequantize() const;
  /// rows · rowBytes(format, cols) bytes in the IntGroup layout; fails for g_idx groupings.
  llvm::Expected<std::vector<uint8_t>> packRows(const IntGroupFormat &format) const;
};

/// Quantizes W [rows, cols] in place: on success W holds the dequantized weights. H [cols, cols]
/// is Σ xᵀx over calibration tokens (any positive factor, e.g. GPTQ's 2/n, gives the same
/// result up to rounding). Fails on an invalid format/options or a Hessian that is not positive
/// definite after damping.
llvm::Expected<GPTQResult> gptqQuantize(const IntGroupFormat &format, float *w, int64_t rows,
                                        int64_t cols, const double *hessian,
                                        const GPTQOptions &options = {});

} // namespace qcc::quantalgo

#endif // QCC_QUANTALGO_GPTQ_H
