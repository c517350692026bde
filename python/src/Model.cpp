//===- Model.cpp - the reference executor for Python (what qcc-run runs) ----===//
//
// Python is a third host of the evaluation driver (docs/Driver.md), next to qcc-run and the
// executables qcc emits: Model holds the same driver::DriverModel over the reference executor
// as qcc-run (qcc/Exec/ReferenceDriverModel.h), and each command computes and reports exactly what the driver's command does
// (same options, same tokenization, same JSON keys), so numbers agree with `qcc-run ... --json`.
//
//===----------------------------------------------------------------------===//
#include "Core.h"
#include "Internal.h"

#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Driver/Bench.h"
#include "qcc/Driver/Driver.h"
#include "qcc/Eval/Generate.h"
#include "qcc/Eval/Perplexity.h"
#include "qcc/Exec/ReferenceDriverModel.h"
#include "qcc/Runtime/Kernels.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <chrono>
#include <mutex>

using namespace llvm;
using namespace qcc;

namespace qcc::python {

struct Model::Impl {
  std::unique_ptr<ReferenceDriverModel> model;
  std::mutex mu;

  /// The tokenizer, or an error naming the model (as the driver says it).
  const Tokenizer *tokenizer(std::string &err) {
    if (!model->tokenizer())
      err = model->path() + ": the module records no tokenizer (import with --tokenizer)";
    return model->tokenizer();
  }
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string &path, std::string &err) {
  auto m = loadReferenceDriverModel(path, /*withTokenizer=*/true);
  if (!m) {
    fail(err, m.takeError());
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(*m);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

std::string Model::name() { return impl_->model->name(); }
std::string Model::path() { return impl_->model->path(); }
bool Model::hasTokenizer() { return impl_->model->tokenizer() != nullptr; }

int64_t Model::vocabSize() {
  auto config = impl_->model->module()->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
  return config ? config.getVocabSize() : 0;
}

int64_t Model::maxSeqLen() {
  auto config = impl_->model->module()->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
  return config ? config.getMaxSeqLen() : 0;
}

static bool readText(const std::string &path, std::string &text, std::string &err) {
  auto buf = MemoryBuffer::getFile(path);
  if (!buf)
    return err = path + ": " + buf.getError().message(), false;
  text = (*buf)->getBuffer().str();
  return true;
}

bool Model::perplexity(const PerplexityOptions &o, std::string &json, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ReferenceDriverModel &m = *impl_->model;
  const Tokenizer *tok = impl_->tokenizer(err);
  if (!tok)
    return false;
  std::optional<eval::PPLProtocol> proto = eval::parseProtocol(o.protocol);
  if (!proto)
    return err = "unknown protocol '" + o.protocol + "' (llama.cpp or gptq)", false;
  if (o.threads < 0)
    return err = "threads must be positive", false;
  std::string text;
  if (!readText(o.text, text, err))
    return false;
  m.setThreads(o.threads);
  // As the driver's ppl command (lib/Driver/Driver.cpp): tokenize with BOS as the tokenizer
  // says, size the cache for one chunk, score.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> tokens = tok->encode(text, tok->addBosByDefault());
  double tokSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  eval::PerplexityOptions opts;
  opts.ctx = o.ctx;
  opts.protocol = *proto;
  opts.batch = o.batch;
  opts.maxChunks = o.chunks;
  opts.bosId = tok->bosId();
  auto inst = m.open();
  if (!inst)
    return fail(err, inst.takeError());
  (*inst)->setCacheLength(std::min<int64_t>((*inst)->maxSeqLen(), o.ctx));
  auto r = eval::perplexity(**inst, tokens, opts);
  if (!r)
    return fail(err, r.takeError());
  json::Object obj = r->toJSON();
  obj["model"] = m.path();
  obj["text"] = o.text;
  obj["tokenize_seconds"] = tokSeconds;
  obj["threads"] = m.numThreads();
  json = toJSONText(std::move(obj));
  return true;
}

bool Model::logits(const std::vector<int32_t> &tokens, int64_t B, int64_t T, int threads,
                   std::vector<float> &out, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (B <= 0 || T <= 0 || int64_t(tokens.size()) != B * T)
    return err = "tokens must be B rows of T > 0 tokens", false;
  if (threads < 0)
    return err = "threads must be positive", false;
  ReferenceDriverModel &m = *impl_->model;
  m.setThreads(threads);
  auto inst = m.open();
  if (!inst)
    return fail(err, inst.takeError());
  (*inst)->setCacheLength(std::min<int64_t>((*inst)->maxSeqLen(), T));
  if (Error e = (*inst)->reset(B))
    return fail(err, std::move(e));
  if (Error e = (*inst)->forward(tokens, B, T, 0, out))
    return fail(err, std::move(e));
  return true;
}

bool Model::bench(const BenchOptions &b, std::string &json, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ReferenceDriverModel &m = *impl_->model;
  if (b.prompt < 0)
    return err = "prompt must be positive", false;
  if (b.gen < 0)
    return err = "gen must be positive", false;
  if (b.threads < 0)
    return err = "threads must be positive", false;
  m.setThreads(b.threads);
  driver::BenchOptions o;
  o.promptTokens = b.prompt;
  o.genTokens = b.gen;
  o.batches = b.batches;
  o.repeat = b.repeat;
  o.warmup = b.warmup;
  o.seed = b.seed;
  if (!b.text.empty()) {
    const Tokenizer *tok = impl_->tokenizer(err);
    if (!tok)
      return false;
    std::string text;
    if (!readText(b.text, text, err))
      return false;
    o.textTokens = tok->encode(text, tok->addBosByDefault());
    o.textFile = b.text;
  }
  auto r = driver::bench(m, m.path(), o);
  if (!r)
    return fail(err, r.takeError());
  json = toJSONText(r->toJSON());
  return true;
}

bool Model::generate(const GenerateOptions &g, std::string &json, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ReferenceDriverModel &m = *impl_->model;
  const Tokenizer *tok = impl_->tokenizer(err);
  if (!tok)
    return false;
  if (g.n <= 0)
    return err = "n must be positive", false;
  if (g.threads < 0)
    return err = "threads must be positive", false;
  m.setThreads(g.threads);
  std::vector<int32_t> ids = tok->encode(g.prompt, tok->addBosByDefault());
  auto inst = m.open();
  if (!inst)
    return fail(err, inst.takeError());
  (*inst)->setCacheLength(std::min<int64_t>((*inst)->maxSeqLen(), int64_t(ids.size()) + g.n));
  eval::Sampler sampler({g.temperature, g.topP, g.seed});
  // The generated text: what decoding everything so far adds (as the driver streams it).
  std::vector<int32_t> all = ids;
  size_t printed = tok->decode(all).size();
  std::string text;
  auto r = eval::generate(**inst, ids, g.n, sampler, tok->eosId(), [&](int32_t t) {
    if (tok->isEndOfGeneration(t))
      return;
    all.push_back(t);
    std::string now = tok->decode(all);
    if (now.size() <= printed)
      return;
    text += now.substr(printed);
    printed = now.size();
  });
  if (!r)
    return fail(err, r.takeError());
  json::Array toks;
  for (int32_t t : r->tokens)
    toks.push_back(t);
  json = toJSONText(json::Object{{"prompt", g.prompt},
                                 {"text", text},
                                 {"prompt_tokens", int64_t(ids.size())},
                                 {"tokens", std::move(toks)},
                                 {"prefill_seconds", r->prefillSeconds},
                                 {"decode_seconds", r->decodeSeconds}});
  return true;
}

bool Model::encode(const std::string &text, bool bos, std::vector<int32_t> &ids,
                   std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const Tokenizer *tok = impl_->tokenizer(err);
  if (!tok)
    return false;
  ids = tok->encode(text, bos);
  return true;
}

bool Model::decode(const std::vector<int32_t> &ids, std::string &text, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const Tokenizer *tok = impl_->tokenizer(err);
  if (!tok)
    return false;
  for (int32_t id : ids)
    if (id < 0 || id >= tok->vocabSize())
      return err = "token id " + std::to_string(id) + " is out of the vocabulary", false;
  text = tok->decode(ids);
  return true;
}

} // namespace qcc::python
