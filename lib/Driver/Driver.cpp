//===- Driver.cpp - command line and the ppl / logits / generate commands -----===//
//
// Options are static llvm::cl objects, each bound to the subcommands that use it: subcommands
// give every command its own --help and keep our --threads apart from the global option of that
// name that libLLVM/libMLIR register (a second top-level --threads would abort at start-up).
//
//===----------------------------------------------------------------------===//
#include "qcc/Driver/Driver.h"
#include "qcc/Driver/Bench.h"
#include "qcc/Driver/Tasks.h"
#include "qcc/Eval/Generate.h"
#include "qcc/Eval/Perplexity.h"
#include "qcc/Support/MappedFile.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

using namespace llvm;

namespace qcc::driver {

ModelInstance::~ModelInstance() = default;
DriverModel::~DriverModel() = default;
Expected<uint64_t> DriverModel::readStreamedWeights() {
  return createStringError(inconvertibleErrorCode(),
                           "--roofline needs an executable compiled by qcc (its kernels stream "
                           "the weights; this host does not)");
}
Error DriverModel::setProfiling(bool) {
  return createStringError(inconvertibleErrorCode(),
                           "--profile needs an executable compiled by qcc (it times the "
                           "executable's kernels; this host has none)");
}
Expected<std::vector<KernelProfileRow>> DriverModel::takeProfile() {
  return createStringError(inconvertibleErrorCode(), "this host keeps no kernel profile");
}
DriverModelFactory::~DriverModelFactory() = default;

cl::OptionCategory &optionCategory() {
  // Function-local so that hosts' static options may name it from any translation unit.
  static cl::OptionCategory cat("Options");
  return cat;
}

namespace {

cl::SubCommand pplCmd("ppl", "Perplexity of a text file");
cl::SubCommand logitsCmd("logits", "Logits for a token file");
cl::SubCommand generateCmd("generate", "Generate text from a prompt");
cl::SubCommand benchCmd("bench", "Prefill / decode speed, latency percentiles, concurrent "
                                 "requests and memory");

#define ALL_CMDS                                                                           \
  cl::sub(pplCmd), cl::sub(logitsCmd), cl::sub(generateCmd), cl::sub(benchCmd),             \
      cl::sub(tasksCommand())

// Optional here and checked in runDriver: executables carrying their model take none.
cl::opt<std::string> modelArg(cl::Positional, cl::desc("<model>"), ALL_CMDS,
                              cl::cat(optionCategory()));
cl::opt<int> threads("threads", cl::desc("Threads (default: all cores)"), cl::init(0), ALL_CMDS,
                     cl::cat(optionCategory()));
cl::opt<bool> asJSON("json", cl::desc("Print one JSON object on stdout"), ALL_CMDS,
                     cl::cat(optionCategory()));

// ppl
cl::opt<std::string> textFile("text", cl::desc("Text file to score"), cl::Required,
                              cl::sub(pplCmd), cl::cat(optionCategory()));
cl::opt<int64_t> ctx("ctx", cl::desc("Context / window length"), cl::init(512), cl::sub(pplCmd),
                     cl::cat(optionCategory()));
cl::opt<std::string> protocol("protocol", cl::desc("llama.cpp or gptq"), cl::init("llama.cpp"),
                              cl::sub(pplCmd), cl::cat(optionCategory()));
cl::opt<int64_t> chunks("chunks", cl::desc("Score at most N chunks (0 = all)"), cl::init(0),
                        cl::sub(pplCmd), cl::cat(optionCategory()));
cl::opt<int64_t> batch("batch", cl::desc("ppl: chunks per forward; logits: rows"), cl::init(4),
                       cl::sub(pplCmd), cl::sub(logitsCmd), cl::cat(optionCategory()));

// logits
cl::opt<std::string> tokensFile("tokens", cl::desc("int32 token file"), cl::Required,
                                cl::sub(logitsCmd), cl::cat(optionCategory()));
cl::opt<std::string> outFile("out", cl::desc("Output float32 file"), cl::Required,
                             cl::sub(logitsCmd), cl::cat(optionCategory()));

// generate
cl::opt<std::string> prompt("prompt", cl::desc("Prompt text"), cl::sub(generateCmd),
                            cl::cat(optionCategory()));
cl::opt<int64_t> numTokens("n", cl::desc("Tokens to generate"), cl::init(64),
                           cl::sub(generateCmd), cl::cat(optionCategory()));
cl::opt<float> temperature("temp", cl::desc("Temperature (0 = greedy)"), cl::init(0.0f),
                           cl::sub(generateCmd), cl::cat(optionCategory()));
cl::opt<float> topP("top-p", cl::desc("Nucleus threshold"), cl::init(1.0f), cl::sub(generateCmd),
                    cl::cat(optionCategory()));
cl::opt<uint64_t> seed("seed", cl::desc("Sampling seed (bench: random prompt seed)"),
                       cl::init(0), cl::sub(generateCmd), cl::sub(benchCmd),
                       cl::cat(optionCategory()));

// bench
cl::opt<int64_t> benchPrompt("prompt",
                             cl::desc("Prompt tokens (default: min(128, context / 2))"),
                             cl::init(0), cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<int64_t> benchGen("gen",
                          cl::desc("Decode steps after the first token "
                                   "(default: min(64, context / 4))"),
                          cl::init(0), cl::sub(benchCmd), cl::cat(optionCategory()));
cl::list<int64_t> benchBatches("batch", cl::desc("Batch sizes for batched decode throughput"),
                               cl::CommaSeparated, cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<int64_t> benchRepeat("repeat", cl::desc("Measured rounds"), cl::init(3),
                             cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<int64_t> benchWarmup("warmup", cl::desc("Discarded rounds before them"), cl::init(1),
                             cl::sub(benchCmd), cl::cat(optionCategory()));
cl::list<int64_t> benchConcurrency(
    "concurrency",
    cl::desc("Serve --requests requests C at a time (static batching in waves); "
             "a list gives one run per level"),
    cl::CommaSeparated, cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<int64_t> benchRequests("requests",
                               cl::desc("Requests per --concurrency level (default: C x --repeat)"),
                               cl::init(0), cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<bool> benchRoofline(
    "roofline",
    cl::desc("After each decode step, time a read of the weights it streamed (the read roofline "
             "of the same moment; executables compiled by qcc)"),
    cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<bool> benchProfile(
    "profile",
    cl::desc("Count and time every kernel call of the latency rounds: time per op and per "
             "matmul weight, per decode step and per prefill (executables compiled by qcc)"),
    cl::sub(benchCmd), cl::cat(optionCategory()));
cl::opt<std::string> benchText("text",
                               cl::desc("Take the prompt from this text (default: random tokens)"),
                               cl::sub(benchCmd), cl::cat(optionCategory()));

#undef ALL_CMDS

std::string toolName = "qcc-run";

[[noreturn]] void die(const Twine &msg) {
  WithColor::error(errs(), toolName) << msg << "\n";
  exit(1);
}
template <typename T> T check(Expected<T> v) {
  if (!v)
    die(toString(v.takeError()));
  return std::move(*v);
}
void check(Error e) {
  if (e)
    die(toString(std::move(e)));
}

/// How reports name the model: the path given on the command line, else the model's name.
std::string modelLabel(DriverModel &m) {
  return modelArg.empty() ? m.name() : modelArg.getValue();
}

const Tokenizer &needTokenizer(DriverModel &m) {
  if (!m.tokenizer())
    die(modelLabel(m) + ": the module records no tokenizer (import with --tokenizer)");
  return *m.tokenizer();
}

void printJSON(json::Object o) { outs() << formatv("{0:2}", json::Value(std::move(o))) << "\n"; }

int runPerplexity(DriverModel &m) {
  const Tokenizer &tok = needTokenizer(m);
  std::optional<eval::PPLProtocol> proto = eval::parseProtocol(protocol);
  if (!proto)
    die("unknown --protocol '" + protocol + "' (llama.cpp or gptq)");
  auto buf = MemoryBuffer::getFile(textFile);
  if (!buf)
    die(textFile + ": " + buf.getError().message());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> tokens = tok.encode((*buf)->getBuffer(), tok.addBosByDefault());
  double tokSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  eval::PerplexityOptions opts;
  opts.ctx = ctx;
  opts.protocol = *proto;
  opts.batch = batch;
  opts.maxChunks = chunks;
  opts.bosId = tok.bosId();
  std::unique_ptr<ModelInstance> inst = check(m.open());
  inst->setCacheLength(std::min<int64_t>(inst->maxSeqLen(), ctx));
  eval::PerplexityResult r = check(eval::perplexity(*inst, tokens, opts));
  if (asJSON) {
    json::Object o = r.toJSON();
    o["model"] = modelLabel(m);
    o["text"] = textFile.getValue();
    o["tokenize_seconds"] = tokSeconds;
    o["threads"] = m.numThreads();
    printJSON(std::move(o));
    return 0;
  }
  outs() << formatv("perplexity ({0} protocol, ctx {1}): {2:F4} +/- {3:F5}\n", r.protocol, r.ctx,
                    r.ppl, r.pplStderr);
  outs() << formatv("  {0} chunks, {1} tokens scored of {2}; {3:F2} s ({4:F0} tokens/s), "
                    "{5} threads\n",
                    r.chunks, r.tokensScored, r.tokensTotal, r.seconds,
                    double(r.chunks * r.ctx) / r.seconds, m.numThreads());
  return 0;
}

int runLogits(DriverModel &m) {
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
  std::unique_ptr<ModelInstance> inst = check(m.open());
  inst->setCacheLength(std::min<int64_t>(inst->maxSeqLen(), T));
  check(inst->reset(batch));
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  check(inst->forward(tokens, batch, T, 0, logits));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check(writeFileAtomically(outFile, [&](raw_ostream &os) {
    os.write(reinterpret_cast<const char *>(logits.data()), logits.size() * sizeof(float));
    return Error::success();
  }));
  if (asJSON)
    printJSON(json::Object{{"model", modelLabel(m)},
                           {"tokens", tokensFile.getValue()},
                           {"out", outFile.getValue()},
                           {"batch", int64_t(batch)},
                           {"seq_len", T},
                           {"vocab_size", inst->vocabSize()},
                           {"seconds", seconds},
                           {"threads", m.numThreads()}});
  return 0;
}

int runGenerate(DriverModel &m) {
  const Tokenizer &tok = needTokenizer(m);
  std::vector<int32_t> ids = tok.encode(prompt, tok.addBosByDefault());
  if (numTokens <= 0)
    die("-n must be positive");
  std::unique_ptr<ModelInstance> inst = check(m.open());
  inst->setCacheLength(std::min<int64_t>(inst->maxSeqLen(), int64_t(ids.size()) + numTokens));
  eval::Sampler sampler({temperature, topP, seed});
  std::string text;
  bool stream = !asJSON;
  if (stream)
    outs() << prompt;
  // Stream by decoding everything so far and printing what is new: SentencePiece's leading-space
  // rule and multi-byte characters split over byte tokens then come out right.
  std::vector<int32_t> all = ids;
  size_t printed = tok.decode(all).size();
  eval::GenerateResult r =
      check(eval::generate(*inst, ids, numTokens, sampler, tok.eosId(), [&](int32_t t) {
        if (tok.isEndOfGeneration(t))
          return;
        all.push_back(t);
        std::string now = tok.decode(all);
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
  printJSON(json::Object{{"prompt", prompt.getValue()},
                         {"text", text},
                         {"prompt_tokens", int64_t(ids.size())},
                         {"tokens", std::move(toks)},
                         {"prefill_seconds", r.prefillSeconds},
                         {"decode_seconds", r.decodeSeconds}});
  return 0;
}

int runBench(DriverModel &m) {
  if (benchPrompt.getNumOccurrences() && benchPrompt <= 0)
    die("--prompt must be positive");
  if (benchGen.getNumOccurrences() && benchGen <= 0)
    die("--gen must be positive");
  if (benchRequests.getNumOccurrences() && benchRequests <= 0)
    die("--requests must be positive");
  BenchOptions o;
  o.promptTokens = benchPrompt;
  o.genTokens = benchGen;
  o.batches.assign(benchBatches.begin(), benchBatches.end());
  o.concurrency.assign(benchConcurrency.begin(), benchConcurrency.end());
  o.requests = benchRequests;
  o.repeat = benchRepeat;
  o.warmup = benchWarmup;
  o.seed = seed;
  o.roofline = benchRoofline;
  o.profile = benchProfile;
  if (!benchText.empty()) {
    const Tokenizer &tok = needTokenizer(m);
    auto buf = MemoryBuffer::getFile(benchText);
    if (!buf)
      die(benchText + ": " + buf.getError().message());
    o.textTokens = tok.encode((*buf)->getBuffer(), tok.addBosByDefault());
    o.textFile = benchText;
  }
  BenchResult r = check(bench(m, modelLabel(m), o));
  if (asJSON)
    printJSON(r.toJSON());
  else
    r.print(outs());
  return 0;
}

} // namespace

int runDriver(int argc, char **argv, DriverModelFactory &factory, const DriverOptions &opts) {
  InitLLVM init(argc, argv);
  toolName = opts.toolName;
  std::vector<std::string> names;
  for (const HostCommand &hc : opts.hostCommands)
    names.push_back(hc.command->getName().str());
  for (cl::SubCommand *c : {&pplCmd, &logitsCmd, &generateCmd, &benchCmd, &tasksCommand()})
    names.push_back(c->getName().str());
  auto isCommand = [&](StringRef s) { return is_contained(names, s); };
  // Accept the documented order `TOOL model CMD ...` by moving the command word first.
  if (opts.takesModelPath && argc >= 3 && argv[1][0] != '-' && !isCommand(argv[1]))
    std::swap(argv[1], argv[2]);
  if (argc >= 2 && argv[1][0] != '-' && !isCommand(argv[1]))
    die("unknown command '" + Twine(argv[1]) + "' (" + join(names, ", ") + ")");
  cl::HideUnrelatedOptions(optionCategory());
  cl::ParseCommandLineOptions(argc, argv, opts.overview);
  for (const HostCommand &hc : opts.hostCommands)
    if (*hc.command)
      return hc.run();
  if (!pplCmd && !logitsCmd && !generateCmd && !benchCmd && !tasksCommand())
    die("usage: " + opts.toolName + (opts.takesModelPath ? " model.mlir " : " ") +
        join(names, "|") + "|" + benchCmd.getName() + " [options] (see --help)");
  if (opts.takesModelPath && modelArg.empty())
    die("no model given (" + opts.toolName + " model.mlir COMMAND ...)");
  if (!opts.takesModelPath && !modelArg.empty())
    die("unexpected argument '" + modelArg + "'");
  if (threads < 0)
    die("--threads must be positive");
  const bool withTokenizer =
      pplCmd || generateCmd || tasksCommand() || (benchCmd && !benchText.empty());
  std::unique_ptr<DriverModel> model = check(factory.load(modelArg, withTokenizer));
  model->setThreads(threads);
  if (pplCmd)
    return runPerplexity(*model);
  if (logitsCmd)
    return runLogits(*model);
  if (generateCmd)
    return runGenerate(*model);
  if (tasksCommand()) {
    check(runTasks(*model, modelLabel(*model), asJSON));
    return 0;
  }
  return runBench(*model);
}

} // namespace qcc::driver
