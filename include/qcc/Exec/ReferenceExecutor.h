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

  /// Staged execution (streaming calibration, sequential GPTQ). @forward's steps are cut where
  /// exactly one activation is live (found by liveness over the step list: in a llama these are
  /// the residual adds); a cut is kept only if both sides contain a linear, so the embedding
  /// joins the first block and the final norm the output linear. Stage s maps the live value of
  /// cut s-1 (for stage 0: the tokens) to the live value of cut s (for the last stage: the
  /// logits). Running all stages in order computes exactly what forward(pos = 0) computes.
  size_t numStages() const { return stages_.size(); }
  /// The qllm.linear ops of stage `s`, in execution order.
  llvm::ArrayRef<mlir::Operation *> stageLinears(size_t s) const { return stages_[s].linears; }
  /// Names of every weight tensor the steps of stage `s` read (embeddings, norms, linears, rope
  /// factors), each once, in order of first use.
  llvm::ArrayRef<std::string> stageWeights(size_t s) const { return stages_[s].weights; }
  /// Runs stage `s` for B whole sequences of T tokens from position 0. `hidden` holds the stage's
  /// input ([B·T, features], ignored for stage 0, which reads `tokens`) and receives its output.
  /// Like forward, it needs reset(b) with b >= B and a cache of at least T positions; the
  /// attention of the stage (re)writes its layers' cache positions 0..T-1. The linear observer
  /// sees the stage's linears.
  llvm::Error runStage(size_t s, llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T,
                       std::vector<float> &hidden);

private:
  ReferenceExecutor() = default;
  struct Step;
  struct Stage {
    size_t begin = 0, end = 0; ///< Steps [begin, end).
    unsigned input = ~0u;      ///< Live value id entering (~0u for stage 0).
    int64_t inFeatures = 0;    ///< Its feature dim.
    unsigned output = ~0u;     ///< Live value id leaving (the Return operand for the last).
    std::vector<mlir::Operation *> linears;
    std::vector<std::string> weights;
  };
  llvm::Error checkRun(llvm::StringRef what, llvm::ArrayRef<int32_t> tokens, int64_t B,
                       int64_t T, int64_t pos) const;
  /// Runs steps [begin, end) over value buffers `vals` (freeing values after their last use);
  /// a Return step moves its operand into `result`.
  void runSteps(size_t begin, size_t end, llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T,
                int64_t pos, std::vector<std::vector<float>> &vals, std::vector<float> &result);
  void buildStages(size_t numValues);
  std::vector<Stage> stages_;
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
