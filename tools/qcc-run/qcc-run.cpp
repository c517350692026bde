//===- qcc-run.cpp - run a qllm module with the reference executor ----------===//
//
//   qcc-run model.mlir summary [--json]
//   qcc-run model.mlir ppl --text FILE --ctx N --protocol llama.cpp|gptq [--threads N] [--json]
//   qcc-run model.mlir logits --tokens FILE.i32 --batch B --out FILE.f32
//   qcc-run model.mlir generate --prompt TEXT -n N [--temp T] [--top-p P] [--seed S] [--json]
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Eval/Generate.h"
#include "qcc/Eval/Perplexity.h"
#include "qcc/Exec/ReferenceExecutor.h"
#include "qcc/Runtime/Kernels.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;
using namespace qcc;

// Commands are LLVM subcommands (own options and --help each); `qcc-run model.mlir ppl ...` is
// accepted by moving the command word first before parsing. Subcommands also keep our option
// names (e.g. --threads) apart from same-named options that libLLVM/libMLIR register globally.
static cl::SubCommand summaryCmd("summary", "Print hyper-parameters, formats and bits/weight");
static cl::SubCommand pplCmd("ppl", "Perplexity of a text file");
static cl::SubCommand logitsCmd("logits", "Logits for a token file");
static cl::SubCommand generateCmd("generate", "Generate text from a prompt");
static cl::OptionCategory cat("qcc-run options");

static cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.mlir>"),
                                      cl::sub(summaryCmd), cl::sub(pplCmd), cl::sub(logitsCmd),
                                      cl::sub(generateCmd), cl::cat(cat));
static cl::opt<std::string> textFile("text", cl::desc("Text file to score"), cl::Required,
                                     cl::sub(pplCmd), cl::cat(cat));
static cl::opt<int64_t> ctx("ctx", cl::desc("Context / window length"), cl::init(512),
                            cl::sub(pplCmd), cl::cat(cat));
static cl::opt<std::string> protocol("protocol", cl::desc("llama.cpp or gptq"),
                                     cl::init("llama.cpp"), cl::sub(pplCmd), cl::cat(cat));
static cl::opt<int64_t> chunks("chunks", cl::desc("Score at most N chunks (0 = all)"),
                               cl::init(0), cl::sub(pplCmd), cl::cat(cat));
static cl::opt<int64_t> batch("batch", cl::desc("ppl: chunks per forward; logits: rows"),
                              cl::init(4), cl::sub(pplCmd), cl::sub(logitsCmd), cl::cat(cat));
static cl::opt<int> threads("threads", cl::desc("Threads (default: all cores)"), cl::init(0),
                            cl::sub(pplCmd), cl::sub(logitsCmd), cl::sub(generateCmd),
                            cl::cat(cat));
static cl::opt<bool> asJSON("json", cl::desc("Print one JSON object on stdout"),
                            cl::sub(summaryCmd), cl::sub(pplCmd), cl::sub(generateCmd),
                            cl::cat(cat));
static cl::opt<std::string> tokensFile("tokens", cl::desc("int32 token file"), cl::Required,
                                       cl::sub(logitsCmd), cl::cat(cat));
static cl::opt<std::string> outFile("out", cl::desc("Output float32 file"), cl::Required,
                                    cl::sub(logitsCmd), cl::cat(cat));
static cl::opt<std::string> prompt("prompt", cl::desc("Prompt text"), cl::sub(generateCmd),
                                   cl::cat(cat));
static cl::opt<int64_t> numTokens("n", cl::desc("Tokens to generate"), cl::init(64),
                                  cl::sub(generateCmd), cl::cat(cat));
static cl::opt<float> temperature("temp", cl::desc("Temperature (0 = greedy)"), cl::init(0.0f),
                                  cl::sub(generateCmd), cl::cat(cat));
static cl::opt<float> topP("top-p", cl::desc("Nucleus threshold"), cl::init(1.0f),
                           cl::sub(generateCmd), cl::cat(cat));
static cl::opt<uint64_t> seed("seed", cl::desc("Sampling seed"), cl::init(0),
                              cl::sub(generateCmd), cl::cat(cat));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "qcc-run") << msg << "\n";
  exit(1);
}
template <typename T> static T check(Expected<T> v) {
  if (!v)
    die(toString(v.takeError()));
  return std::move(*v);
}
static void check(Error e) {
  if (e)
    die(toString(std::move(e)));
}

static int runSummary(LoadedModel &m) {
  qllm::WeightSummary ws = qllm::summarizeWeights(*m.module);
  auto config = (*m.module)->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
  if (!config)
    die(modelPath + ": module has no qllm.config");
  json::Object formats;
  for (StringRef name : ws.getFormatNames()) {
    const qllm::FormatSummary &f = ws.perFormat.find(name)->second;
    formats[name] = json::Object{
        {"tensors", f.numTensors}, {"elements", f.numElements}, {"bytes", f.storageBytes}};
  }
  json::Object obj{{"name", config.getName()},
                   {"dim", config.getDim()},
                   {"ffn_dim", config.getFfnDim()},
                   {"n_layers", config.getNLayers()},
                   {"n_heads", config.getNHeads()},
                   {"n_kv_heads", config.getNKvHeads()},
                   {"head_dim", config.getHeadDim()},
                   {"vocab_size", config.getVocabSize()},
                   {"max_seq_len", config.getMaxSeqLen()},
                   {"rope_theta", config.getRopeTheta().convertToDouble()},
                   {"rope_style", qllm::stringifyRopeStyle(config.getRopeStyle())},
                   {"norm_eps", config.getNormEps().convertToDouble()},
                   {"tied_embeddings", config.getTiedEmbeddings()},
                   {"tensors", ws.numTensors},
                   {"parameters", ws.numElements},
                   {"weight_bytes", ws.storageBytes},
                   {"bits_per_weight", ws.bitsPerWeight()},
                   {"formats", std::move(formats)},
                   {"weight_file", m.weights->path}};
  if (asJSON) {
    outs() << formatv("{0:2}", json::Value(std::move(obj))) << "\n";
    return 0;
  }
  outs() << formatv("model       {0} ({1})\n", config.getName(), m.weights->path);
  outs() << formatv("shape       dim {0}, ffn {1}, {2} layers, {3} heads / {4} kv heads "
                    "(head dim {5}), vocab {6}, context {7}\n",
                    config.getDim(), config.getFfnDim(), config.getNLayers(), config.getNHeads(),
                    config.getNKvHeads(), config.getHeadDim(), config.getVocabSize(),
                    config.getMaxSeqLen());
  outs() << "rope        " << qllm::stringifyRopeStyle(config.getRopeStyle())
         << format(", theta %g; rmsnorm eps %g; ", config.getRopeTheta().convertToDouble(),
                   config.getNormEps().convertToDouble())
         << (config.getTiedEmbeddings() ? "tied" : "separate output") << " embeddings\n";
  outs() << formatv("weights     {0} tensors, {1} parameters, {2} bytes, {3:F3} bits/weight\n",
                    ws.numTensors, ws.numElements, ws.storageBytes, ws.bitsPerWeight());
  for (StringRef name : ws.getFormatNames()) {
    const qllm::FormatSummary &f = ws.perFormat.find(name)->second;
    outs() << formatv("  {0,-8} {1,4} tensors {2,12} elements {3,12} bytes\n", name,
                      f.numTensors, f.numElements, f.storageBytes);
  }
  return 0;
}

static int runPerplexity(LoadedModel &m, ReferenceExecutor &ex) {
  if (!m.tokenizer)
    die(modelPath + ": the module records no tokenizer (import with --tokenizer)");
  std::optional<eval::PPLProtocol> proto = eval::parseProtocol(protocol);
  if (!proto)
    die("unknown --protocol '" + protocol + "' (llama.cpp or gptq)");
  auto buf = MemoryBuffer::getFile(textFile);
  if (!buf)
    die(textFile + ": " + buf.getError().message());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> tokens =
      m.tokenizer->encode((*buf)->getBuffer(), m.tokenizer->addBosByDefault());
  double tokSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  eval::PerplexityOptions opts;
  opts.ctx = ctx;
  opts.protocol = *proto;
  opts.batch = batch;
  opts.maxChunks = chunks;
  opts.bosId = m.tokenizer->bosId();
  ex.setCacheLength(std::min<int64_t>(ex.maxSeqLen(), ctx));
  eval::PerplexityResult r = check(eval::perplexity(ex, tokens, opts));
  if (asJSON) {
    json::Object o = r.toJSON();
    o["model"] = modelPath.getValue();
    o["text"] = textFile.getValue();
    o["tokenize_seconds"] = tokSeconds;
    o["threads"] = rt::numThreads();
    outs() << formatv("{0:2}", json::Value(std::move(o))) << "\n";
    return 0;
  }
  outs() << formatv("perplexity ({0} protocol, ctx {1}): {2:F4} +/- {3:F5}\n", r.protocol, r.ctx,
                    r.ppl, r.pplStderr);
  outs() << formatv("  {0} chunks, {1} tokens scored of {2}; {3:F2} s ({4:F0} tokens/s), "
                    "{5} threads\n",
                    r.chunks, r.tokensScored, r.tokensTotal, r.seconds,
                    double(r.chunks * r.ctx) / r.seconds, rt::numThreads());
  return 0;
}

static int runLogits(ReferenceExecutor &ex) {
  auto buf = MemoryBuffer::getFile(tokensFile, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buf)
    die(tokensFile + ": " + buf.getError().message());
  StringRef bytes = (*buf)->getBuffer();
  if (bytes.size() % 4 != 0 || bytes.empty())
    die(tokensFile + ": size " + Twine(bytes.size()) + " is not a positive multiple of 4");
  std::vector<int32_t> tokens(bytes.size() / 4);
  std::memcpy(tokens.data(), bytes.data(), bytes.size());
  if (batch <= 0 || tokens.size() % size_t(batch) != 0)
    die(tokensFile + ": " + Twine(tokens.size()) + " tokens do not split into " + Twine(batch) +
        " rows");
  const int64_t T = int64_t(tokens.size()) / batch;
  ex.setCacheLength(std::min<int64_t>(ex.maxSeqLen(), T));
  check(ex.reset(batch));
  std::vector<float> logits;
  check(ex.forward(tokens, batch, T, 0, logits));
  check(writeFileAtomically(outFile, [&](raw_ostream &os) {
    os.write(reinterpret_cast<const char *>(logits.data()), logits.size() * sizeof(float));
    return Error::success();
  }));
  return 0;
}

static int runGenerate(LoadedModel &m, ReferenceExecutor &ex) {
  if (!m.tokenizer)
    die(modelPath + ": the module records no tokenizer (import with --tokenizer)");
  std::vector<int32_t> ids = m.tokenizer->encode(prompt, m.tokenizer->addBosByDefault());
  if (numTokens <= 0)
    die("-n must be positive");
  ex.setCacheLength(std::min<int64_t>(ex.maxSeqLen(), int64_t(ids.size()) + numTokens));
  eval::Sampler sampler({temperature, topP, seed});
  std::string text;
  bool stream = !asJSON;
  if (stream)
    outs() << prompt;
  // Stream by decoding everything so far and printing what is new: SentencePiece's leading-space
  // rule and multi-byte characters split over byte tokens then come out right.
  std::vector<int32_t> all = ids;
  size_t printed = m.tokenizer->decode(all).size();
  eval::GenerateResult r = check(eval::generate(
      ex, ids, numTokens, sampler, m.tokenizer->eosId(), [&](int32_t t) {
        if (m.tokenizer->isEndOfGeneration(t))
          return;
        all.push_back(t);
        std::string now = m.tokenizer->decode(all);
        if (now.size() <= printed)
          return;
        std::string piece = now.substr(printed);
        printed = now.size();
        text += piece;
        if (stream) {
          outs() << piece;
          outs().flush();
        }
      }));
  if (!asJSON) {
    outs() << "\n";
    outs().flush();
    errs() << formatv("[{0} prompt tokens, {1} generated; prefill {2:F3} s, decode {3:F1} tok/s]\n",
                      ids.size(), r.tokens.size(), r.prefillSeconds,
                      r.decodeSeconds > 0 ? double(r.tokens.size()) / r.decodeSeconds : 0.0);
    return 0;
  }
  json::Array toks;
  for (int32_t t : r.tokens)
    toks.push_back(t);
  json::Object o{{"prompt", prompt.getValue()},
                 {"text", text},
                 {"prompt_tokens", int64_t(ids.size())},
                 {"tokens", std::move(toks)},
                 {"prefill_seconds", r.prefillSeconds},
                 {"decode_seconds", r.decodeSeconds}};
  outs() << formatv("{0:2}", json::Value(std::move(o))) << "\n";
  return 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Accept the documented order `qcc-run model.mlir CMD ...`.
  const StringRef commands[] = {"summary", "ppl", "logits", "generate"};
  if (argc >= 3 && argv[1][0] != '-' && !is_contained(commands, StringRef(argv[1])))
    std::swap(argv[1], argv[2]);
  if (argc >= 2 && argv[1][0] != '-' && !is_contained(commands, StringRef(argv[1])))
    die("unknown command '" + Twine(argv[1]) + "' (summary, ppl, logits, generate)");
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc-run: run a qllm module (reference executor)\n");
  if (!summaryCmd && !pplCmd && !logitsCmd && !generateCmd)
    die("usage: qcc-run model.mlir summary|ppl|logits|generate [options] (see --help)");
  if (threads < 0)
    die("--threads must be positive");
  rt::setThreads(threads);
  LoadedModel m = check(loadModel(modelPath, /*withTokenizer=*/pplCmd || generateCmd));
  if (summaryCmd)
    return runSummary(m);
  std::unique_ptr<ReferenceExecutor> ex =
      check(ReferenceExecutor::create(*m.module, *m.weights));
  if (pplCmd)
    return runPerplexity(m, *ex);
  if (logitsCmd)
    return runLogits(*ex);
  return runGenerate(m, *ex);
}
