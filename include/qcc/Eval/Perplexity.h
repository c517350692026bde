//===- Perplexity.h - perplexity under llama.cpp's and GPTQ's protocols -----===//
//
// llama.cpp (examples/perplexity): the text is tokenized once with BOS; it is cut into
// non-overlapping chunks of n tokens (n_chunk = tokens / n, at least 2n tokens needed); each
// chunk's first token is replaced by BOS; only predictions of chunk tokens n/2+1 … n-1 are scored.
// GPTQ (datautils/eval): non-overlapping windows of seqlen tokens of the same token stream,
// unmodified, every next-token prediction in a window scored.
// Both report exp(mean NLL) and llama.cpp's uncertainty: ppl · sqrt((E[nll²] − E[nll]²)/(N−1)).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EVAL_PERPLEXITY_H
#define QCC_EVAL_PERPLEXITY_H

#include "qcc/Eval/LanguageModel.h"

#include "llvm/Support/JSON.h"

#include <string>

namespace qcc::eval {

enum class PPLProtocol { LlamaCpp, GPTQ };
llvm::StringRef protocolName(PPLProtocol p);
std::optional<PPLProtocol> parseProtocol(llvm::StringRef s);

struct PerplexityOptions {
  int64_t ctx = 512;
  PPLProtocol protocol = PPLProtocol::LlamaCpp;
  int64_t batch = 4;     ///< Chunks evaluated per forward call.
  int64_t maxChunks = 0; ///< 0 = all.
  int32_t bosId = 1;
};

struct PerplexityResult {
  std::string protocol;
  int64_t ctx = 0, chunks = 0, tokensTotal = 0, tokensScored = 0;
  double nll = 0, ppl = 0, pplStderr = 0, seconds = 0;
  llvm::json::Object toJSON() const;
};

/// Scores `tokens` (the whole text, tokenized with BOS as the model's tokenizer says).
llvm::Expected<PerplexityResult> perplexity(LanguageModel &model, llvm::ArrayRef<int32_t> tokens,
                                            const PerplexityOptions &opts);

/// log p(target | logits) computed stably in double.
double logProb(const float *logits, int64_t vocab, int32_t target);

} // namespace qcc::eval

#endif // QCC_EVAL_PERPLEXITY_H
