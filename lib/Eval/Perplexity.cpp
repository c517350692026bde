//===- Perplexity.cpp - llama.cpp and GPTQ perplexity protocols -------------===//
#include "qcc/Eval/Perplexity.h"

#include "llvm/ADT/Twine.h"

#include <chrono>
#include <cmath>

using namespace llvm;

namespace qcc::eval {

LanguageModel::~LanguageModel() = default;

StringRef protocolName(PPLProtocol p) { return p == PPLProtocol::LlamaCpp ? "llama.cpp" : "gptq"; }

std::optional<PPLProtocol> parseProtocol(StringRef s) {
  if (s == "llama.cpp" || s == "llamacpp") return PPLProtocol::LlamaCpp;
  if (s == "gptq") return PPLProtocol::GPTQ;
  return std::nullopt;
}

double logProb(const float *logits, int64_t vocab, int32_t target) {
  float mx = logits[0];
  for (int64_t i = 1; i < vocab; ++i)
    mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += std::exp(double(logits[i]) - double(mx));
  return double(logits[target]) - double(mx) - std::log(sum);
}

json::Object PerplexityResult::toJSON() const {
  return json::Object{{"protocol", protocol},       {"ctx", ctx},
                      {"chunks", chunks},           {"tokens_total", tokensTotal},
                      {"tokens_scored", tokensScored}, {"nll", nll},
                      {"ppl", ppl},                 {"ppl_stderr", pplStderr},
                      {"seconds", seconds}};
}

Expected<PerplexityResult> perplexity(LanguageModel &model, ArrayRef<int32_t> tokens,
                                      const PerplexityOptions &opts) {
  const int64_t n = opts.ctx, V = model.vocabSize();
  auto fail = [](const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); };
  if (n < 4)
    return fail("context " + Twine(n) + " is too small (need at least 4)");
  if (n > model.maxSeqLen())
    return fail("context " + Twine(n) + " exceeds the model's maximum sequence length " +
                Twine(model.maxSeqLen()));
  const bool llama = opts.protocol == PPLProtocol::LlamaCpp;
  if (llama && int64_t(tokens.size()) < 2 * n)
    return fail("the text has " + Twine(tokens.size()) + " tokens; the llama.cpp protocol needs "
                "at least 2 × ctx = " + Twine(2 * n));
  int64_t chunks = int64_t(tokens.size()) / n;
  if (chunks == 0)
    return fail("the text has " + Twine(tokens.size()) + " tokens, fewer than one window of " +
                Twine(n));
  if (opts.maxChunks > 0)
    chunks = std::min(chunks, opts.maxChunks);
  // llama.cpp scores predictions made at positions first .. n-2 (of tokens first+1 .. n-1).
  const int64_t first = llama ? n / 2 : 0;
  const int64_t batch = std::max<int64_t>(1, std::min(opts.batch, chunks));

  auto start = std::chrono::steady_clock::now();
  double sum = 0, sum2 = 0;
  int64_t count = 0;
  std::vector<int32_t> buf;
  std::vector<float> logits;
  if (Error e = model.reset(batch))
    return std::move(e);
  for (int64_t c0 = 0; c0 < chunks; c0 += batch) {
    const int64_t B = std::min(batch, chunks - c0);
    buf.assign(tokens.begin() + c0 * n, tokens.begin() + (c0 + B) * n);
    if (llama)
      for (int64_t b = 0; b < B; ++b)
        buf[b * n] = opts.bosId;
    if (Error e = model.forward(buf, B, n, /*pos=*/0, logits))
      return std::move(e);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = first; j < n - 1; ++j) {
        const double nll = -logProb(&logits[(b * n + j) * V], V, tokens[(c0 + b) * n + j + 1]);
        sum += nll;
        sum2 += nll * nll;
        ++count;
      }
  }
  PerplexityResult r;
  r.protocol = protocolName(opts.protocol).str();
  r.ctx = n;
  r.chunks = chunks;
  r.tokensTotal = int64_t(tokens.size());
  r.tokensScored = count;
  r.nll = sum / double(count);
  r.ppl = std::exp(r.nll);
  const double var = sum2 / double(count) - r.nll * r.nll;
  r.pplStderr = var > 0 && count > 1 ? r.ppl * std::sqrt(var / double(count - 1)) : 0.0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

} // namespace qcc::eval
