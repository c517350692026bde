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
// Two drivers give the same statistics (bit for bit: same windows, same batches, same kernels,
// same accumulation order per record):
//   * run(): the whole model per batch of windows. Holds every record at once, so with XᵀX
//     it needs Σ cols² · 8 bytes over all linear inputs (≈ 66 GB for a Llama-3-8B shape).
//   * runStreaming(): stage by stage (ReferenceExecutor::numStages): all windows go through
//     stage 0, then stage 1, ..., keeping the live hidden states of all windows (input and
//     output of the current stage: 2 · samples · seqlen · dim floats) and the statistics. XᵀX
//     exists only while its stage is current: a callback after each stage may use it, release
//     it, override weights in the executor and ask for the stage to be re-run so the next stage
//     reads the outputs of the modified stage (GPTQ's sequential quantization).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EXEC_CALIBRATION_H
#define QCC_EXEC_CALIBRATION_H

#include "qcc/Exec/ReferenceExecutor.h"

#include "llvm/ADT/StringMap.h"

#include <functional>

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

  /// Called once per stage when its statistics are complete (XᵀX mirrored); `stage` indexes
  /// ReferenceExecutor's stages. An error stops the run.
  using StageCallback = std::function<llvm::Error(size_t stage, Calibration &cal)>;
  /// The streaming driver (see the file comment). Without a callback, or one that releases
  /// nothing, the result equals run()'s.
  static llvm::Expected<std::unique_ptr<Calibration>>
  runStreaming(ReferenceExecutor &ex, llvm::ArrayRef<int32_t> tokens,
               const CalibrationOptions &opts, StageCallback onStage = nullptr);

  /// During a callback: the weight tensor names of the current stage's linears.
  llvm::ArrayRef<std::string> stageLinearWeights() const { return stageWeights_; }
  /// Weight `weightName` no longer needs its XᵀX; the record's matrix is freed once every
  /// weight reading that input (e.g. q, k and v) has released it.
  void releaseXtX(llvm::StringRef weightName);
  /// During a callback: run the current stage again before the next one, without recording,
  /// with the executor's weights as they are then (e.g. overridden by quantized ones), so the
  /// next stage's inputs come from the modified stage.
  void rerunStage() { rerun_ = true; }

  /// Bytes held by the statistics now (all records, XᵀX and sample rows included).
  uint64_t statsBytes() const;
  /// runStreaming: the most bytes held at once by statistics and hidden states (measured when
  /// a stage's statistics are complete, before its callback). run(): the statistics' bytes.
  uint64_t peakBytes() const { return peakBytes_; }

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
  /// Records x (the input of `linear`) in its input's record.
  void observe(mlir::Operation *linear, const float *x, int64_t n, int64_t cols,
               const CalibrationOptions &opts);
  llvm::DenseMap<mlir::Value, size_t> byInput_;
  /// Per record, the rows recorded during the current forward/stage call: linears reading one
  /// value (q/k/v, gate/up) see the same rows, which count once.
  llvm::DenseMap<size_t, const float *> recordedThisCall_;
  std::vector<size_t> stageRecords_; ///< Records the current stage touched.
  // Streaming state.
  std::vector<std::string> stageWeights_;
  llvm::StringMap<bool> released_; ///< Weights that released their record's XᵀX.
  bool rerun_ = false;
  uint64_t peakBytes_ = 0;
};

} // namespace qcc

#endif // QCC_EXEC_CALIBRATION_H
