//===- ReferenceExecutor.h - float32 interpreter for qllm modules -----------===//
//
// Runs `func.func @forward` of a qllm module op by op with the float32 kernels of qcc/Runtime:
// the oracle for codegen and the engine for calibration. Weights are resolved once, by name,
// from the module's weight file (mapped, size and fingerprint checked); any GGML format is
// dequantized row by row on the fly. Intermediate buffers are freed after their last use.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EXEC_REFERENCEEXECUTOR_H
#define QCC_EXEC_REFERENCEEXECUTOR_H

#include "qcc/Eval/LanguageModel.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Runtime/Kernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <memory>

namespace qcc {

class Tokenizer;

/// A parsed module together with its opened weight file and tokenizer.
struct LoadedModel {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<ModelSource> weights;
  std::unique_ptr<Tokenizer> tokenizer; ///< Null when the module names none.
  ~LoadedModel();
  LoadedModel();
  LoadedModel(LoadedModel &&);
};

/// Parses and verifies `path`, opens the weight file (relative paths resolve against the
/// module's folder) and, if `withTokenizer`, the tokenizer. Errors are one line.
llvm::Expected<LoadedModel> loadModel(llvm::StringRef path, bool withTokenizer = true);

class ReferenceExecutor : public eval::LanguageModel {
public:
  /// Binds every qllm.weight of @forward to the weight file and checks formats and shapes.
  static llvm::Expected<std::unique_ptr<ReferenceExecutor>> create(mlir::ModuleOp module,
                                                                   const ModelSource &weights);
  ~ReferenceExecutor() override;

  int64_t vocabSize() const override { return vocab_; }
  int64_t maxSeqLen() const override { return maxSeq_; }
  llvm::Error reset(int64_t batch) override;
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                      std::vector<float> &logits) override;

  /// Limits the KV cache to `n` positions (default: the model's max_seq_len), to save memory.
  void setCacheLength(int64_t n) { cacheLen_ = n; }
  uint64_t kvCacheBytes() const { return cache_.bytes(); }

  /// Called with the input of every qllm.linear as it runs: x is [n, cols] row-major. Used by
  /// calibration; null (the default) costs nothing.
  using LinearObserver =
      std::function<void(mlir::Operation *linear, const float *x, int64_t n, int64_t cols)>;
  void setLinearObserver(LinearObserver observer) { observer_ = std::move(observer); }

  /// Runs tensor `name` (a 2-D weight used by embed/linear ops) from `view` instead of the weight
  /// file until restoreWeight(name); `view` must have the tensor's shape. Used to measure how
  /// sensitive the model is to each tensor's format.
  llvm::Error overrideWeight(llvm::StringRef name, const rt::WeightView &view);
  void restoreWeight(llvm::StringRef name);

private:
  ReferenceExecutor() = default;
  struct Step;
  mlir::func::FuncOp forward_;
  std::vector<Step> steps_;
  llvm::DenseMap<mlir::Value, unsigned> weightIndex_;
  std::vector<rt::WeightView> weights_, original_;
  llvm::StringMap<std::vector<unsigned>> weightsByName_;
  int64_t vocab_ = 0, maxSeq_ = 0, layers_ = 0, kvHeads_ = 0, headDim_ = 0, cacheLen_ = 0;
  rt::KVCache cache_;
  LinearObserver observer_;
};

} // namespace qcc

#endif // QCC_EXEC_REFERENCEEXECUTOR_H
