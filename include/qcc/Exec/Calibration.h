//===- Calibration.h - per-linear input statistics from calibration text ----===//
//
// Runs the reference executor over calibration windows and records, for the input of every
// qllm.linear (linears reading the same SSA value share one record, e.g. q/k/v):
//   * Σx² and the token count per input channel: llama.cpp's importance matrix (imatrix),
//   * max|x| and Σ|x| per channel (SmoothQuant, AWQ),
//   * optionally H = Σ xᵀx (cols × cols, double; GPTQ's Hessian up to a factor 2/n),
//   * optionally the first `maxSampleRows` input rows (AWQ's search runs on them).
// Windows follow GPTQ's data loader: `samples` windows of `seqlen` tokens at random offsets of
// the tokenized calibration text (std::mt19937 seeded with `seed`), each scored from position 0.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EXEC_CALIBRATION_H
#define QCC_EXEC_CALIBRATION_H

#include "qcc/Exec/ReferenceExecutor.h"

#include "llvm/ADT/StringMap.h"

namespace qcc {

struct CalibrationOptions {
  int64_t samples = 128; ///< GPTQ's default window count.
  int64_t seqlen = 512;  ///< GPTQ uses 2048; scaled down for small models.
  uint64_t seed = 0;
  bool collectXtX = false;
  int64_t maxSampleRows = 0;
  int64_t batch = 4; ///< Windows per forward call.
};

struct LinearInputStats {
  int64_t cols = 0;
  int64_t tokens = 0;
  std::vector<double> sumSq, sumAbs;
  std::vector<float> absMax;
  std::vector<double> xtx;      ///< cols × cols when collected.
  std::vector<float> samples;   ///< sampleRows × cols.
  int64_t sampleRows = 0;
  /// llama.cpp's imatrix entry for a tensor reading this input: mean of x² per column.
  std::vector<float> importance() const;
};

class Calibration {
public:
  /// Runs `ex` over windows of `tokens`; every qllm.linear's input is recorded.
  static llvm::Expected<std::unique_ptr<Calibration>>
  run(ReferenceExecutor &ex, llvm::ArrayRef<int32_t> tokens, const CalibrationOptions &opts);

  /// The statistics of the input of the linear whose weight tensor is `weightName`; null if no
  /// linear uses that weight (e.g. the embedding table of an untied model).
  const LinearInputStats *forWeight(llvm::StringRef weightName) const;
  int64_t tokensSeen() const { return tokensSeen_; }

  /// Every record, and for each weight tensor name the record of its input (saving/loading).
  const std::vector<LinearInputStats> &records() const { return stats_; }
  const llvm::StringMap<size_t> &recordOfWeight() const { return byWeight_; }
  static std::unique_ptr<Calibration> fromRecords(std::vector<LinearInputStats> records,
                                                  llvm::StringMap<size_t> recordOfWeight,
                                                  int64_t tokensSeen) {
    std::unique_ptr<Calibration> c(new Calibration());
    c->stats_ = std::move(records);
    c->byWeight_ = std::move(recordOfWeight);
    c->tokensSeen_ = tokensSeen;
    return c;
  }

private:
  std::vector<LinearInputStats> stats_;
  llvm::StringMap<size_t> byWeight_;
  int64_t tokensSeen_ = 0;
};

} // namespace qcc

#endif // QCC_EXEC_CALIBRATION_H
