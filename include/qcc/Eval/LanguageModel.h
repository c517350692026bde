//===- LanguageModel.h - what evaluation needs from an executable model -----===//
//
// The evaluation driver (perplexity, generation, later tasks and benchmarks) talks to models only
// through this interface, so the reference executor and the compiled executables are measured by
// the same code.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EVAL_LANGUAGEMODEL_H
#define QCC_EVAL_LANGUAGEMODEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qcc::eval {

class LanguageModel {
public:
  virtual ~LanguageModel();
  virtual int64_t vocabSize() const = 0;
  virtual int64_t maxSeqLen() const = 0;
  /// Starts `batch` empty sequences (clears the KV cache).
  virtual llvm::Error reset(int64_t batch) = 0;
  /// Runs tokens [B, T] (row-major) at positions pos..pos+T-1 of sequences 0..B-1 (B ≤ the batch
  /// given to reset) and stores logits [B, T, vocab] into `logits` (resized as needed).
  virtual llvm::Error forward(llvm::ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                              std::vector<float> &logits) = 0;
};

} // namespace qcc::eval

#endif // QCC_EVAL_LANGUAGEMODEL_H
