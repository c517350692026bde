//===- Bench.cpp - latency and throughput of a model --------------------------===//
#include "qcc/Driver/Bench.h"
#include "qcc/Driver/Memory.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

using namespace llvm;

namespace qcc::driver {

namespace {

using Now = std::function<double()>;

Now steadyClock() {
  return [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }

/// Greedy choice for each of B rows of [B, T, V] logits at time step t (lowest id on ties, as
/// eval::Sampler). Part of every timed step: a real decode loop pays for it too.
void argmaxRows(const std::vector<float> &logits, int64_t B, int64_t T, int64_t t, int64_t V,
                std::vector<int32_t> &out) {
  out.resize(size_t(B));
  for (int64_t b = 0; b < B; ++b) {
    const float *row = &logits[size_t((b * T + t) * V)];
    out[size_t(b)] = int32_t(std::max_element(row, row + V) - row);
  }
}

/// Times of one round with B sequences: prefill forward, prefill + first sampling (time to first
/// token), and each decode step (durations); `first` and `end`: the clock after the first choice
/// and after the last step.
/// `reads`: with a read model, each step's read pass (seconds, `readBytes` each).
/// `prefillKernels`, `decodeKernels`: with a profiled model, the kernel counts of the prefill
/// call and of all decode steps.
struct Round {
  double prefill = 0, ttft = 0, first = 0, end = 0;
  std::vector<double> steps, reads;
  uint64_t readBytes = 0;
  std::vector<KernelProfileRow> prefillKernels, decodeKernels;
};

/// What a latency round does besides its forward calls (each outside the timed spans): the
/// roofline's read pass after each decode step, the profile's takes.
struct RoundHooks {
  DriverModel *read = nullptr, *profile = nullptr;
};

/// Appends the model's kernel counts since the last take to `into`.
Error takeProfileInto(DriverModel &m, std::vector<KernelProfileRow> &into) {
  Expected<std::vector<KernelProfileRow>> rows = m.takeProfile();
  if (!rows)
    return rows.takeError();
  into.insert(into.end(), rows->begin(), rows->end());
  return Error::success();
}

/// One round on `tokens` [B, P] (row-major): reset(B), prefill, `gen` greedy decode steps; with
/// `hooks.read`, each step followed by a timed readStreamedWeights() (then `end` includes them);
/// with `hooks.profile`, the kernel counts taken after the prefill and after each step.
Expected<Round> runRound(ModelInstance &inst, ArrayRef<int32_t> tokens, int64_t B, int64_t gen,
                         const Now &now, RoundHooks hooks = {}) {
  const int64_t P = int64_t(tokens.size()) / B, V = inst.vocabSize();
  std::vector<float> logits;
  std::vector<int32_t> next;
  Round r;
  if (Error e = inst.reset(B))
    return std::move(e);
  const double t0 = now();
  if (Error e = inst.forward(tokens, B, P, 0, logits))
    return std::move(e);
  r.prefill = now() - t0;
  argmaxRows(logits, B, P, P - 1, V, next);
  r.first = now();
  r.ttft = r.first - t0;
  if (hooks.profile)
    if (Error e = takeProfileInto(*hooks.profile, r.prefillKernels))
      return std::move(e);
  r.steps.reserve(size_t(gen));
  for (int64_t i = 0; i < gen; ++i) {
    const double ts = now();
    if (Error e = inst.forward(next, B, 1, P + i, logits))
      return std::move(e);
    argmaxRows(logits, B, 1, 0, V, next);
    r.steps.push_back(now() - ts);
    if (hooks.profile)
      if (Error e = takeProfileInto(*hooks.profile, r.decodeKernels))
        return std::move(e);
    if (hooks.read) {
      const double tr = now();
      Expected<uint64_t> bytes = hooks.read->readStreamedWeights();
      if (!bytes)
        return bytes.takeError();
      r.reads.push_back(now() - tr);
      if (*bytes == 0)
        return fail("--roofline: the decode step streamed no weights from host memory");
      if (r.readBytes != 0 && *bytes != r.readBytes)
        return fail(formatv("--roofline: the decode steps streamed {0} then {1} bytes",
                            r.readBytes, *bytes));
      r.readBytes = *bytes;
    }
  }
  r.end = r.steps.empty() ? r.first : now();
  return r;
}

/// `prompt` repeated for B sequences.
std::vector<int32_t> replicate(ArrayRef<int32_t> prompt, int64_t B) {
  std::vector<int32_t> tokens;
  tokens.reserve(size_t(B) * prompt.size());
  for (int64_t b = 0; b < B; ++b)
    tokens.insert(tokens.end(), prompt.begin(), prompt.end());
  return tokens;
}

/// warmup + repeat rounds; the warmup rounds are dropped.
Expected<std::vector<Round>> runRounds(ModelInstance &inst, ArrayRef<int32_t> prompt, int64_t B,
                                       const BenchOptions &o, RoundHooks hooks = {}) {
  std::vector<Round> rounds;
  const std::vector<int32_t> tokens = replicate(prompt, B);
  for (int64_t i = 0; i < o.warmup + o.repeat; ++i) {
    Expected<Round> r = runRound(inst, tokens, B, o.genTokens, o.clock, hooks);
    if (!r)
      return r.takeError();
    if (i >= o.warmup)
      rounds.push_back(std::move(*r));
  }
  return rounds;
}

std::vector<double> toMs(const std::vector<double> &seconds) {
  std::vector<double> ms;
  ms.reserve(seconds.size());
  for (double s : seconds)
    ms.push_back(s * 1e3);
  return ms;
}

json::Object latencyJSON(const Summary &s) {
  return json::Object{{"mean", s.mean}, {"p50", s.p50},       {"p95", s.p95},
                      {"p99", s.p99},   {"min", s.min},       {"max", s.max},
                      {"stddev", s.stddev}, {"samples", int64_t(s.count)}};
}

/// N = prompts.size() / P requests served C at a time (see ConcurrencyResult): after `warmup`
/// discarded waves of the first C requests, the timed run, one round per wave.
Expected<ConcurrencyResult> serve(ModelInstance &inst, ArrayRef<int32_t> prompts, int64_t P,
                                  int64_t C, const BenchOptions &o) {
  const int64_t N = int64_t(prompts.size()) / P;
  auto round = [&](int64_t first, int64_t B) -> Expected<Round> {
    Expected<Round> r = runRound(inst, prompts.slice(size_t(first * P), size_t(B * P)), B,
                                 o.genTokens, o.clock);
    if (!r)
      return createStringError(inconvertibleErrorCode(), "--concurrency %lld: %s",
                               (long long)C, toString(r.takeError()).c_str());
    return r;
  };
  for (int64_t w = 0; w < o.warmup; ++w)
    if (Expected<Round> r = round(0, C); !r)
      return r.takeError();
  ConcurrencyResult c;
  c.concurrency = C;
  c.requests = N;
  c.tokensPerRequest = 1 + o.genTokens;
  c.generatedTokens = N * c.tokensPerRequest;
  c.totalTokens = c.generatedTokens + N * P;
  std::vector<double> ttft, latency;
  const double t0 = o.clock();
  for (int64_t first = 0; first < N; first += C, ++c.waves) {
    const int64_t B = std::min(C, N - first);
    Expected<Round> r = round(first, B);
    if (!r)
      return r.takeError();
    if (B == C)
      c.kvCacheBytes = inst.kvCacheBytes();
    // The requests of a wave share their first and last token times.
    ttft.insert(ttft.end(), size_t(B), r->first - t0);
    latency.insert(latency.end(), size_t(B), r->end - t0);
  }
  c.seconds = o.clock() - t0;
  c.requestsPerS = double(N) / c.seconds;
  c.tokensPerS = double(c.generatedTokens) / c.seconds;
  c.totalTokensPerS = double(c.totalTokens) / c.seconds;
  c.requestTtftMs = summarize(toMs(ttft));
  c.requestLatencyMs = summarize(toMs(latency));
  return c;
}

json::Object concurrencyJSON(const ConcurrencyResult &c) {
  return json::Object{{"concurrency", c.concurrency},
                      {"requests", c.requests},
                      {"waves", c.waves},
                      {"tokens_per_request", c.tokensPerRequest},
                      {"generated_tokens", c.generatedTokens},
                      {"total_tokens", c.totalTokens},
                      {"seconds", c.seconds},
                      {"requests_per_s", c.requestsPerS},
                      {"tokens_per_s", c.tokensPerS},
                      {"total_tokens_per_s", c.totalTokensPerS},
                      {"request_latency_ms", latencyJSON(c.requestLatencyMs)},
                      {"request_ttft_ms", latencyJSON(c.requestTtftMs)},
                      {"kv_cache_bytes", int64_t(c.kvCacheBytes)}};
}

/// The latency rounds' decode steps against their read passes.
RooflineResult rooflineOf(const std::vector<Round> &rounds, double decodeTokS) {
  RooflineResult f;
  std::vector<double> gbs, fractions;
  double read = 0, step = 0;
  for (const Round &rd : rounds) {
    f.streamedBytes = rd.readBytes;
    for (size_t i = 0; i < rd.reads.size(); ++i) {
      gbs.push_back(double(rd.readBytes) / rd.reads[i] / 1e9);
      fractions.push_back(rd.reads[i] / rd.steps[i]);
      read += rd.reads[i];
      step += rd.steps[i];
    }
  }
  f.readGBs = summarize(gbs);
  f.stepFraction = summarize(fractions);
  f.fraction = read / step;
  f.rooflineTokS = double(fractions.size()) / read;
  f.decodeGBs = double(f.streamedBytes) * decodeTokS / 1e9;
  return f;
}

std::string mib(uint64_t bytes) { return formatv("{0:F2} MiB", double(bytes) / (1 << 20)).str(); }

} // namespace

Expected<BenchResult> bench(DriverModel &model, StringRef modelLabel,
                            const BenchOptions &options) {
  if (options.promptTokens < 0 || options.genTokens < 0)
    return fail("--prompt and --gen must be positive");
  if (options.repeat <= 0 || options.warmup < 0)
    return fail("--repeat must be positive and --warmup not negative");
  for (int64_t b : options.batches)
    if (b <= 0)
      return fail("--batch sizes must be positive");
  for (int64_t c : options.concurrency) {
    if (c <= 0)
      return fail("--concurrency levels must be positive");
    if (options.requests > 0 && c > options.requests)
      return fail(formatv("--concurrency {0} exceeds --requests {1} (no wave would be full)", c,
                          options.requests));
  }
  if (options.requests < 0)
    return fail("--requests must be positive");
  if (options.requests > 0 && options.concurrency.empty())
    return fail("--requests needs --concurrency");
  BenchOptions o = options;
  if (!o.clock)
    o.clock = steadyClock();
  const double start = o.clock();
  Expected<std::unique_ptr<ModelInstance>> instOr = model.open();
  if (!instOr)
    return instOr.takeError();
  ModelInstance &inst = **instOr;
  if (o.promptTokens == 0)
    o.promptTokens = std::max<int64_t>(1, std::min<int64_t>(128, inst.maxSeqLen() / 2));
  if (o.genTokens == 0)
    o.genTokens = std::max<int64_t>(1, std::min<int64_t>(64, inst.maxSeqLen() / 4));
  const int64_t positions = o.promptTokens + o.genTokens;
  if (positions > inst.maxSeqLen())
    return fail(formatv("--prompt {0} + --gen {1} exceeds the model's maximum sequence length {2}",
                        o.promptTokens, o.genTokens, inst.maxSeqLen()));
  inst.setCacheLength(positions);

  BenchResult r;
  r.model = modelLabel.str();
  r.name = model.name();
  r.threads = model.numThreads();
  r.promptTokens = o.promptTokens;
  r.genTokens = o.genTokens;
  r.repeat = o.repeat;
  r.warmup = o.warmup;
  r.seed = o.seed;
  r.textFile = o.textFile;
  r.weightsBytes = model.weightsBytes();
  r.fileBytes = model.fileBytes();

  std::vector<int32_t> prompt;
  if (!o.textTokens.empty()) {
    if (int64_t(o.textTokens.size()) < o.promptTokens)
      return fail(formatv("{0}: {1} tokens, fewer than --prompt {2}", o.textFile,
                          o.textTokens.size(), o.promptTokens));
    prompt.assign(o.textTokens.begin(), o.textTokens.begin() + o.promptTokens);
    r.promptSource = "text";
  } else {
    // Uniform ids: the reference executor and dense kernels cost the same for any token, and a
    // seed makes the prompt (hence greedy decoding) reproducible.
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int32_t> id(0, int32_t(inst.vocabSize() - 1));
    for (int64_t i = 0; i < o.promptTokens; ++i)
      prompt.push_back(id(rng));
    r.promptSource = "random";
  }

  if (o.roofline)
    if (Expected<uint64_t> probe = model.readStreamedWeights(); !probe)
      return probe.takeError(); // this host cannot: say so before the rounds
  RoundHooks hooks;
  hooks.read = o.roofline ? &model : nullptr;
  hooks.profile = o.profile ? &model : nullptr;
  if (o.profile)
    if (Error e = model.setProfiling(true))
      return std::move(e);
  Expected<std::vector<Round>> rounds = runRounds(inst, prompt, 1, o, hooks);
  if (o.profile)
    if (Error e = model.setProfiling(false))
      return rounds ? std::move(e) : joinErrors(rounds.takeError(), std::move(e));
  if (!rounds)
    return rounds.takeError();
  r.kvCacheBytes = inst.kvCacheBytes();
  double prefill = 0, decode = 0;
  std::vector<double> ttft, steps;
  for (const Round &rd : *rounds) {
    prefill += rd.prefill;
    ttft.push_back(rd.ttft);
    for (double s : rd.steps) {
      steps.push_back(s);
      decode += s;
    }
  }
  r.prefillTokS = double(o.promptTokens * o.repeat) / prefill;
  r.decodeTokS = double(steps.size()) / decode;
  r.ttftMs = summarize(toMs(ttft));
  r.decodeLatencyMs = summarize(toMs(steps));
  if (o.roofline)
    r.roofline = rooflineOf(*rounds, r.decodeTokS);
  if (o.profile) {
    std::vector<KernelProfileRow> pre, dec;
    for (const Round &rd : *rounds) {
      pre.insert(pre.end(), rd.prefillKernels.begin(), rd.prefillKernels.end());
      dec.insert(dec.end(), rd.decodeKernels.begin(), rd.decodeKernels.end());
    }
    r.profile = ProfileResult{summarizeProfile(dec, int64_t(steps.size()), decode),
                              summarizeProfile(pre, o.repeat, prefill)};
  }

  for (int64_t B : o.batches) {
    Expected<std::vector<Round>> br = runRounds(inst, prompt, B, o);
    if (!br)
      return br.takeError();
    BatchResult b;
    b.batch = B;
    b.kvCacheBytes = inst.kvCacheBytes();
    double pre = 0, dec = 0;
    std::vector<double> bsteps;
    for (const Round &rd : *br) {
      pre += rd.prefill;
      for (double s : rd.steps) {
        bsteps.push_back(s);
        dec += s;
      }
    }
    b.prefillTokS = double(B * o.promptTokens * o.repeat) / pre;
    b.decodeTokS = double(B * int64_t(bsteps.size())) / dec;
    b.stepLatencyMs = summarize(toMs(bsteps));
    r.batched.push_back(std::move(b));
  }
  for (int64_t C : o.concurrency) {
    // Request i's prompt: the next P random ids (request 0's is the latency part's prompt) or the
    // text's window at i × P, wrapping round.
    const int64_t P = o.promptTokens, N = o.requests > 0 ? o.requests : C * o.repeat;
    std::vector<int32_t> prompts;
    prompts.reserve(size_t(N * P));
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int32_t> id(0, int32_t(inst.vocabSize() - 1));
    const int64_t windows = int64_t(o.textTokens.size()) - P + 1;
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < P; ++j)
        prompts.push_back(o.textTokens.empty() ? id(rng)
                                               : o.textTokens[size_t((i * P) % windows + j)]);
    Expected<ConcurrencyResult> c = serve(inst, prompts, P, C, o);
    if (!c)
      return c.takeError();
    r.concurrent.push_back(std::move(*c));
  }
  r.seconds = o.clock() - start;
  r.peakRssBytes = peakRssBytes();
  return r;
}

json::Object BenchResult::toJSON() const {
  json::Array batchedJSON;
  for (const BatchResult &b : batched)
    batchedJSON.push_back(json::Object{{"batch", b.batch},
                                       {"prefill_tok_s", b.prefillTokS},
                                       {"decode_tok_s", b.decodeTokS},
                                       {"step_latency_ms", latencyJSON(b.stepLatencyMs)},
                                       {"kv_cache_bytes", int64_t(b.kvCacheBytes)}});
  json::Object o{{"model", model},
                 {"name", name},
                 {"threads", threads},
                 {"prompt_tokens", promptTokens},
                 {"gen_tokens", genTokens},
                 {"repeat", repeat},
                 {"warmup", warmup},
                 {"prompt_source", promptSource},
                 {"seed", int64_t(seed)},
                 {"prefill_tok_s", prefillTokS},
                 {"ttft_ms", ttftMs.mean},
                 {"decode_tok_s", decodeTokS},
                 {"decode_latency_ms", latencyJSON(decodeLatencyMs)},
                 {"weights_bytes", int64_t(weightsBytes)},
                 {"file_bytes", int64_t(fileBytes)},
                 {"kv_cache_bytes", int64_t(kvCacheBytes)},
                 {"peak_rss_bytes", int64_t(peakRssBytes)},
                 {"batched", std::move(batchedJSON)},
                 {"seconds", seconds}};
  if (!textFile.empty())
    o["text"] = textFile;
  if (roofline)
    o["roofline"] = json::Object{{"streamed_bytes", int64_t(roofline->streamedBytes)},
                                 {"read_gb_s", latencyJSON(roofline->readGBs)},
                                 {"decode_gb_s", roofline->decodeGBs},
                                 {"fraction", roofline->fraction},
                                 {"step_fraction", latencyJSON(roofline->stepFraction)},
                                 {"roofline_tok_s", roofline->rooflineTokS}};
  if (profile)
    o["profile"] = profileJSON(*profile);
  json::Array concurrentJSON;
  for (const ConcurrencyResult &c : concurrent)
    concurrentJSON.push_back(concurrencyJSON(c));
  o["concurrent"] = std::move(concurrentJSON);
  // The serving figures at the highest concurrency, also at the top level (issue 5's interface:
  // `bench --concurrency C --json` answers `requests_per_s` and `tokens_per_s`).
  if (!concurrent.empty()) {
    const ConcurrencyResult &top = *std::max_element(
        concurrent.begin(), concurrent.end(),
        [](const ConcurrencyResult &a, const ConcurrencyResult &b) {
          return a.concurrency < b.concurrency;
        });
    json::Object t = concurrencyJSON(top);
    for (const char *key : {"concurrency", "requests", "requests_per_s", "tokens_per_s",
                            "total_tokens_per_s", "request_latency_ms", "request_ttft_ms"})
      o[key] = std::move(*t.get(key));
  }
  return o;
}

void BenchResult::print(raw_ostream &os) const {
  os << formatv("bench {0} ({1}): {2} threads; prompt {3} tokens ({4}), {5} decode steps; "
                "{6} rounds after {7} warmup\n",
                name, model, threads, promptTokens,
                promptSource == "text" ? textFile : "random, seed " + std::to_string(seed),
                genTokens, repeat, warmup);
  os << formatv("prefill   {0,10:F1} tok/s   ttft {1:F3} ms\n", prefillTokS, ttftMs.mean);
  os << formatv("decode    {0,10:F1} tok/s   latency ms: mean {1:F3}  p50 {2:F3}  p95 {3:F3}  "
                "p99 {4:F3}\n",
                decodeTokS, decodeLatencyMs.mean, decodeLatencyMs.p50, decodeLatencyMs.p95,
                decodeLatencyMs.p99);
  if (!batched.empty()) {
    os << "batch  prefill tok/s  decode tok/s  step ms p50  step ms p99      KV cache\n";
    for (const BatchResult &b : batched)
      os << formatv("{0,5}  {1,13:F1}  {2,12:F1}  {3,11:F3}  {4,11:F3}  {5,12}\n", b.batch,
                    b.prefillTokS, b.decodeTokS, b.stepLatencyMs.p50, b.stepLatencyMs.p99,
                    mib(b.kvCacheBytes));
  }
  if (!concurrent.empty()) {
    os << "concurrency  requests  waves    req/s  gen tok/s  total tok/s  latency ms p50 / p99  "
          "ttft ms p50 / p99\n";
    for (const ConcurrencyResult &c : concurrent)
      os << formatv("{0,11}  {1,8}  {2,5}  {3,7:F2}  {4,9:F1}  {5,11:F1}  {6,10:F3} / "
                    "{7,-8:F3}  {8,7:F3} / {9:F3}\n",
                    c.concurrency, c.requests, c.waves, c.requestsPerS, c.tokensPerS,
                    c.totalTokensPerS, c.requestLatencyMs.p50, c.requestLatencyMs.p99,
                    c.requestTtftMs.p50, c.requestTtftMs.p99);
  }
  if (roofline)
    os << formatv("roofline  {0:F3} GB streamed per step: read {1:F2} GB/s (p50 of {2} passes), "
                  "decode {3:F2} GB/s = {4:F1}% of the paired reads (per step p50 {5:F1}%, min "
                  "{6:F1}%, max {7:F1}%); {8:F2} tok/s allowed\n",
                  double(roofline->streamedBytes) / 1e9, roofline->readGBs.p50,
                  roofline->readGBs.count, roofline->decodeGBs, 100 * roofline->fraction,
                  100 * roofline->stepFraction.p50, 100 * roofline->stepFraction.min,
                  100 * roofline->stepFraction.max, roofline->rooflineTokS);
  if (profile)
    printProfile(os, *profile);
  os << "memory    weights " << mib(weightsBytes) << ", files " << mib(fileBytes)
     << ", KV cache " << mib(kvCacheBytes) << ", peak RSS " << mib(peakRssBytes) << "\n";
}

} // namespace qcc::driver
