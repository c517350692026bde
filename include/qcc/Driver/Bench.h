//===- Bench.h - latency and throughput of a model ---------------------------===//
//
// The `bench` command's measurement, usable without the command line. One run:
//   1. latency (batch 1): for each of warmup + repeat rounds, reset(1), prefill the prompt in one
//      forward call, sample the first token greedily (time to first token), then `gen` decode
//      steps of one token each, every step (forward + greedy sampling) timed on its own; warmup
//      rounds are discarded;
//   2. throughput, per batch size B given: the same with B sequences (each the same prompt)
//      prefilled in one call and decoded in lock step, one forward call of B tokens per step;
//   3. serving, per concurrency C given: N requests (each its own prompt of `promptTokens`
//      tokens, then greedy generation) all arrive at once and are served C at a time by static
//      batching: waves of C requests, each wave prefilled in one call and decoded in lock step
//      until all its requests are done, the next wave after it. The model interface runs a batch
//      at one shared position, so requests of a wave have equal prompt lengths and there is no
//      continuous batching (a finished request's slot is not refilled mid-wave).
//   4. with `roofline`: in the latency rounds, after each decode step (not timed with it), one
//      read of the weights that step streamed, timed on its own (RooflineResult).
//   5. with `profile`: the latency rounds' kernel calls counted and timed by the model
//      (DriverModel::setProfiling / takeProfile, taken outside the timed spans), per decode
//      step and per prefill call (ProfileResult).
// Sampling is greedy so runs are deterministic; docs/Driver.md defines every reported number.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DRIVER_BENCH_H
#define QCC_DRIVER_BENCH_H

#include "qcc/Driver/Driver.h"
#include "qcc/Driver/Stats.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <optional>

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
  std::vector<int64_t> concurrency; ///< Concurrency levels for the serving part (may be empty).
  /// Requests per concurrency level; 0: C × repeat (`repeat` full waves).
  int64_t requests = 0;
  /// Read roofline: after every decode step of the latency rounds (outside its timing), one
  /// timed read of the bytes that step streamed (DriverModel::readStreamedWeights), so that
  /// each step is compared with the memory's read rate of the same moment.
  bool roofline = false;
  /// Kernel profile of the latency rounds (DriverModel::setProfiling).
  bool profile = false;
  /// Seconds from any fixed origin; empty: std::chrono::steady_clock. Tests inject a fake clock.
  std::function<double()> clock;
};

struct BatchResult {
  int64_t batch = 0;
  double prefillTokS = 0, decodeTokS = 0;
  Summary stepLatencyMs;           ///< One decode step of the whole batch.
  uint64_t kvCacheBytes = 0;
};

/// N requests served C at a time. Times count from the moment all N requests arrive (the start
/// of the first wave), so a request of a later wave includes its wait for the earlier ones.
struct ConcurrencyResult {
  int64_t concurrency = 0, requests = 0, waves = 0;
  int64_t tokensPerRequest = 0;     ///< Generated: the first token and one per decode step.
  int64_t generatedTokens = 0;      ///< requests × tokensPerRequest.
  int64_t totalTokens = 0;          ///< generatedTokens + requests × prompt tokens.
  double seconds = 0;               ///< Arrival to the last request's last token.
  double requestsPerS = 0, tokensPerS = 0, totalTokensPerS = 0;
  Summary requestLatencyMs;         ///< Arrival to the request's last token.
  Summary requestTtftMs;            ///< Arrival to the request's first token.
  uint64_t kvCacheBytes = 0;        ///< At batch C.
};

/// bench --roofline: decode steps against read passes over the bytes they stream, paired step
/// by step (a machine's read bandwidth can change within seconds).
struct RooflineResult {
  uint64_t streamedBytes = 0; ///< Bytes one read pass (one decode step's weights) reads.
  Summary readGBs;            ///< GB/s of each read pass.
  Summary stepFraction;       ///< Per decode step: its read pass's time / the step's time.
  double fraction = 0;        ///< Σ read times / Σ step times: decode tok/s ÷ rooflineTokS.
  double rooflineTokS = 0;    ///< Read passes per second: the decode rate memory allows.
  double decodeGBs = 0;       ///< streamedBytes × decode tok/s.
};
/// One row of a kernel profile: an op, for matmuls per weight role and format, per sample.
struct ProfileRow {
  std::string op;      ///< "matmul", "attention", "rms_norm", "rope", "swiglu", "add", "embed"
  /// Matmul: the weights' role, their name without "blk.<n>." and ".weight" ("ffn_down",
  /// "output"); else empty.
  std::string weights;
  std::string format;  ///< Matmul: the weights' format when the host knows it; else empty.
  int64_t tensors = 0; ///< Distinct weights in the row (matmul; e.g. one per layer).
  double calls = 0, ms = 0, bytes = 0; ///< Per sample (bytes: matmul weight bytes read).
  double fraction = 0; ///< ms ÷ the sample's time.
  double gbS = 0;      ///< bytes ÷ time (matmul), GB = 1e9 bytes.
};
/// The profile of one kind of sample (decode step or prefill call) over the measured rounds.
struct ProfilePart {
  int64_t samples = 0;
  double ms = 0;       ///< Mean time of a sample (as the latency figures time it).
  double kernelMs = 0; ///< Σ rows' ms: the rest is the glue, sampling and the profile itself.
  std::vector<ProfileRow> rows; ///< Most time first.
};
struct ProfileResult {
  ProfilePart decode, prefill;
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
  std::vector<ConcurrencyResult> concurrent;
  std::optional<RooflineResult> roofline; ///< With BenchOptions::roofline.
  std::optional<ProfileResult> profile;   ///< With BenchOptions::profile.
  double seconds = 0;              ///< Wall time of the whole measurement.

  llvm::json::Object toJSON() const;
  void print(llvm::raw_ostream &os) const; ///< The human table.
};

/// The rows of `taken` (kernel counts of `samples` samples taking `seconds` in all) grouped by
/// op, weight role and format, per sample.
ProfilePart summarizeProfile(llvm::ArrayRef<KernelProfileRow> taken, int64_t samples,
                             double seconds);
llvm::json::Object profileJSON(const ProfileResult &p);
void printProfile(llvm::raw_ostream &os, const ProfileResult &p);

/// Runs the benchmark on a fresh instance of `model`; `modelLabel` names it in the report.
llvm::Expected<BenchResult> bench(DriverModel &model, llvm::StringRef modelLabel,
                                  const BenchOptions &opts);

} // namespace qcc::driver

#endif // QCC_DRIVER_BENCH_H
