//===- Generate.h - autoregressive generation with greedy / top-p sampling --===//
#ifndef QCC_EVAL_GENERATE_H
#define QCC_EVAL_GENERATE_H

#include "qcc/Eval/LanguageModel.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <random>

namespace qcc::eval {

struct SamplerOptions {
  float temperature = 0.0f; ///< 0 = greedy (argmax, lowest id on ties).
  float topP = 1.0f;        ///< Nucleus sampling threshold, applied after temperature.
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(SamplerOptions opts) : opts_(opts), rng_(opts.seed) {}
  int32_t sample(const float *logits, int64_t vocab);

private:
  SamplerOptions opts_;
  std::mt19937_64 rng_;
};

struct GenerateResult {
  std::vector<int32_t> tokens; ///< Generated tokens only.
  double prefillSeconds = 0, decodeSeconds = 0;
};

/// Feeds `prompt` (one sequence), then samples up to `n` tokens, stopping early at `stopId`
/// (-1 = never) or at the model's maximum length. `onToken` sees each token as it is made.
llvm::Expected<GenerateResult> generate(LanguageModel &model, llvm::ArrayRef<int32_t> prompt,
                                        int64_t n, Sampler &sampler, int32_t stopId,
                                        llvm::function_ref<void(int32_t)> onToken);

} // namespace qcc::eval

#endif // QCC_EVAL_GENERATE_H
