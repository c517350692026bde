//===- ModelSummary.h - weight statistics and module attribute accessors -*- C++ -*-===//
//
// What a qllm module holds, counted the way llama-quantize reports it: every weight tensor
// (norms and embeddings included) once, its elements and the bytes of its storage format.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DIALECT_QLLM_MODELSUMMARY_H
#define QCC_DIALECT_QLLM_MODELSUMMARY_H

#include "qcc/Dialect/QLlm/QLlmAttrs.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

namespace qcc::qllm {

/// Counts for one weight format.
struct FormatSummary {
  int64_t numTensors = 0;
  int64_t numElements = 0;
  int64_t storageBytes = 0;
  /// 8 × bytes / elements; 0 when there are no elements.
  double bitsPerWeight() const;
};

struct WeightSummary : FormatSummary {
  /// Keyed by WeightFormatAttrInterface::getFormatName(). StringMap iterates in no particular
  /// order: print through getFormatNames().
  llvm::StringMap<FormatSummary> perFormat;

  /// The keys of perFormat, sorted, for deterministic output.
  llvm::SmallVector<llvm::StringRef> getFormatNames() const;
};

/// Summarizes every `qllm.weight` in `module`, counting each distinct tensor name once (tied
/// embeddings and repeated references name the same tensor).
WeightSummary summarizeWeights(mlir::ModuleOp module);

/// The keys of `qcc-run model.mlir summary --json` but `weight_file` (the host adds the path it
/// resolved): the model's shape from `config` and `summary`'s counts, per format too.
llvm::json::Object summaryToJSON(ModelConfigAttr config, const WeightSummary &summary);

/// The module's `qllm.config`, `qllm.weights` and `qllm.tokenizer` attributes. Each emits an
/// error on the module and fails when the attribute is missing.
mlir::FailureOr<ModelConfigAttr> getModelConfig(mlir::ModuleOp module);
mlir::FailureOr<WeightFileAttr> getWeightFile(mlir::ModuleOp module);
mlir::FailureOr<TokenizerAttr> getTokenizer(mlir::ModuleOp module);

} // namespace qcc::qllm

#endif // QCC_DIALECT_QLLM_MODELSUMMARY_H
