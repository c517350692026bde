//===- PassUtils.h - what the quantization passes share ---------------------===//
//
// Opening the module's weight file, tokenizer and calibration statistics from its attributes,
// writing a new weight file and pointing the module at it, and reporting library errors as
// diagnostics on the op they concern. Convention: paths in the module's attributes are
// absolute (qcc-import and these passes write them so), since a pass does not know the
// module's own path.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_TRANSFORMS_PASSUTILS_H
#define QCC_LIB_TRANSFORMS_PASSUTILS_H

#include "qcc/Exec/Calibration.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "mlir/IR/BuiltinOps.h"

namespace qcc {

/// The module's weights, tokenizer (null without qllm.tokenizer) and calibration statistics
/// (null without qllm.calibration).
struct ModuleInputs {
  std::unique_ptr<ModelSource> weights;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Calibration> calibration;
  int64_t calibrationSeqlen = 0; ///< The window length the statistics were measured with.
};

/// Opens what the module's attributes name, checking sizes and fingerprints, and that the
/// statistics were measured on these weights. Emits a diagnostic and fails otherwise.
mlir::FailureOr<ModuleInputs> openModuleInputs(mlir::ModuleOp module);

/// Reports `err` on the module, or, for a TensorError, on the first qllm.weight naming the
/// tensor: `'qllm.weight' op <tensor>: <reason>`.
void emitError(mlir::ModuleOp module, llvm::Error err);

/// `path` made absolute; fails (with a diagnostic) if empty or if it is the module's own
/// weight file or statistics file.
mlir::FailureOr<std::string> outputPath(mlir::ModuleOp module, llvm::StringRef option,
                                        llvm::StringRef path);

/// Statistics for a method: the module's recorded ones if it has them (with the window length
/// they were measured with, which AWQ's attention loss needs), else calibration on `text`.
void useCalibration(QuantizeOptions &opts, const ModuleInputs &in, llvm::StringRef text,
                    int64_t samples, int64_t seqlen);

/// Runs quantizeModel into opts.ggufPath and retargets the module to the written file.
mlir::FailureOr<QuantizeReport> quantizeAndRetarget(mlir::ModuleOp module,
                                                    const ModuleInputs &in,
                                                    const QuantizeOptions &opts);

} // namespace qcc

#endif // QCC_LIB_TRANSFORMS_PASSUTILS_H
