//===- Bench.h - latency and throughput of a model ---------------------------===//
//
// The `bench` command's measurement, usable without the command line. One run:
//   1. latency (batch 1): for each of warmup + repeat rounds, reset(1), prefill the prompt in one
//      forward call, sample the first token greedily (time to first token), then `gen` decode
//      steps of one token each, every step (forward + greedy sampling) timed on its own; warmup
//      rounds are discarded;
//   2. throughput, per batch size B given: the same with B sequences (each the same prompt)
//      prefilled in one call and decoded in lock step, one forward call of B tokens per step.
// Sampling is greedy so runs are deterministic; docs/Driver.md defines every reported number.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DRIVER_BENCH_H
#define QCC_DRIVER_BENCH_H

#include "qcc/Driver/Driver.h"
#include "qcc/Driver/Stats.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace qcc::driver {

struct BenchOptions {
  /// 0 picks the defaults: min(128, context / 2) prompt tokens and min(64, context / 4) decode
  /// steps, so that a plain `bench` fits small-context models too.
  int64_t promptTokens = 0;
  int64_t genTokens = 0;           ///< Decode steps after the first token.
  std::vector<int64_t> batches;    ///< Batch sizes for the throughput part (may be empty).
  int64_t repeat = 3;              ///< Measured rounds.
  int64_t warmup = 1;              ///< Discarded rounds before them.
  uint64_t seed = 0;               ///< Random prompt tokens.
  /// Prompt source: the first promptTokens of these (a tokenized text) or, when empty, tokens
  /// drawn uniformly from [0, vocab) with `seed`.
  std::vector<int32_t> textTokens;
  std::string textFile;            ///< Only reported.
};

struct BatchResult {
  int64_t batch = 0;
  double prefillTokS = 0, decodeTokS = 0;
  Summary stepLatencyMs;           ///< One decode step of the whole batch.
  uint64_t kvCacheBytes = 0;
};

struct BenchResult {
  std::string model, name, promptSource, textFile;
  int threads = 0;
  int64_t promptTokens = 0, genTokens = 0, repeat = 0, warmup = 0;
  uint64_t seed = 0;
  double prefillTokS = 0, decodeTokS = 0;
  Summary ttftMs, decodeLatencyMs;
  uint64_t weightsBytes = 0, fileBytes = 0, kvCacheBytes = 0, peakRssBytes = 0;
  std::vector<BatchResult> batched;
  double seconds = 0;              ///< Wall time of the whole measurement.

  llvm::json::Object toJSON() const;
  void print(llvm::raw_ostream &os) const; ///< The human table.
};

/// Runs the benchmark on a fresh instance of `model`; `modelLabel` names it in the report.
llvm::Expected<BenchResult> bench(DriverModel &model, llvm::StringRef modelLabel,
                                  const BenchOptions &opts);

} // namespace qcc::driver

#endif // QCC_DRIVER_BENCH_H
