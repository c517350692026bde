//===- CalibrationFile.h - calibration statistics on disk -------------------===//
//
// qllm-calibrate's output, read back by the passes that need statistics (choose-bits,
// fold-scales, quantize). A GGUF that llama.cpp reads as an importance matrix:
//   general.type = "imatrix", imatrix.chunk_count / imatrix.chunk_size / imatrix.datasets,
//   per weight W that reads a recorded input: W.in_sum2 (f32 [cols], Σx²) and W.counts
//   (f32 [1], tokens) — llama.cpp's imatrix GGUF layout, so `llama-quantize --imatrix` takes it
//   when the weight names are llama.cpp's.
// qcc's own statistics, once per record (linears reading the same value share one, e.g. q/k/v),
// under the first weight name R of the record:
//   R.in_sum_abs (f32 [cols]), R.in_abs_max (f32 [cols]), R.xtx (f32 [cols, cols], when
//   collected), R.samples (f32 [rows, cols], when collected);
//   qcc.calibration.weights (string array) and qcc.calibration.records (int32 array, record of
//   each weight, records numbered by first appearance), qcc.calibration.tokens (u64 per record is
//   not needed: W.counts), qcc.calibration.weights_fingerprint (the weights measured).
// Sums are stored as f32, as llama.cpp does; in memory they are doubles.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EXEC_CALIBRATIONFILE_H
#define QCC_EXEC_CALIBRATIONFILE_H

#include "qcc/Exec/Calibration.h"

#include <map>

namespace qcc {

struct CalibrationFileInfo {
  std::string weightsFingerprint; ///< fingerprint of the weight file measured
  std::string dataset;            ///< calibration text path
  int64_t samples = 0, seqlen = 0;
  /// Saving only: XᵀX matrices already released from memory (streaming calibration) and
  /// spilled as f32 [cols, cols] to this file, at these byte offsets per record.
  std::string xtxSpillPath;
  std::map<size_t, uint64_t> xtxSpillOffset;
};

/// Writes `cal` atomically to `path`.
llvm::Error saveCalibration(const Calibration &cal, llvm::StringRef path,
                            const CalibrationFileInfo &info);

/// Reads a file written by saveCalibration; `info` receives its metadata.
llvm::Expected<std::unique_ptr<Calibration>> loadCalibration(llvm::StringRef path,
                                                             CalibrationFileInfo *info = nullptr);

} // namespace qcc

#endif // QCC_EXEC_CALIBRATIONFILE_H
