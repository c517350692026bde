//===- Generate.cpp - autoregressive generation -----------------------------===//
#include "qcc/Eval/Generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

using namespace llvm;

namespace qcc::eval {

int32_t Sampler::sample(const float *logits, int64_t vocab) {
  if (opts_.temperature <= 0.0f)
    return int32_t(std::max_element(logits, logits + vocab) - logits);
  std::vector<double> p(static_cast<size_t>(vocab));
  const float mx = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += p[i] = std::exp((double(logits[i]) - mx) / opts_.temperature);
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  // Nucleus: the smallest set of most likely tokens whose mass reaches top_p.
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  double kept = 0;
  size_t cut = 0;
  while (cut < order.size()) {
    kept += p[order[cut++]] / sum;
    if (kept >= opts_.topP)
      break;
  }
  double total = 0;
  for (size_t i = 0; i < cut; ++i)
    total += p[order[i]];
  double r = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (size_t i = 0; i < cut; ++i) {
    r -= p[order[i]];
    if (r <= 0)
      return order[i];
  }
  return order[cut - 1];
}

Expected<GenerateResult> generate(LanguageModel &model, ArrayRef<int32_t> prompt, int64_t n,
                                  Sampler &sampler, int32_t stopId,
                                  function_ref<void(int32_t)> onToken) {
  if (prompt.empty())
    return createStringError(inconvertibleErrorCode(), "empty prompt");
  if (int64_t(prompt.size()) >= model.maxSeqLen())
    return createStringError(inconvertibleErrorCode(),
                             "prompt of %zu tokens does not fit the model's context of %lld",
                             prompt.size(), (long long)model.maxSeqLen());
  GenerateResult r;
  std::vector<float> logits;
  const int64_t V = model.vocabSize();
  if (Error e = model.reset(1))
    return std::move(e);
  auto t0 = std::chrono::steady_clock::now();
  if (Error e = model.forward(prompt, 1, int64_t(prompt.size()), 0, logits))
    return std::move(e);
  auto t1 = std::chrono::steady_clock::now();
  r.prefillSeconds = std::chrono::duration<double>(t1 - t0).count();
  int64_t pos = int64_t(prompt.size());
  int32_t next = sampler.sample(&logits[(pos - 1) * V], V);
  for (int64_t i = 0; i < n; ++i) {
    r.tokens.push_back(next);
    onToken(next);
    if (next == stopId || pos >= model.maxSeqLen() || i + 1 == n)
      break;
    if (Error e = model.forward({next}, 1, 1, pos, logits))
      return std::move(e);
    ++pos;
    next = sampler.sample(logits.data(), V);
  }
  r.decodeSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return r;
}

} // namespace qcc::eval
