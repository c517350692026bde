//===- qcc-run.cpp - run a qllm module with the reference executor ----------===//
//
//   qcc-run model.mlir summary [--json]
//   qcc-run model.mlir ppl --text FILE --ctx N --protocol llama.cpp|gptq [--threads N] [--json]
//   qcc-run model.mlir logits --tokens FILE.i32 --batch B --out FILE.f32 [--json]
//   qcc-run model.mlir generate --prompt TEXT -n N [--temp T] [--top-p P] [--seed S] [--json]
//   qcc-run model.mlir bench [--prompt N --gen N --batch B,... --repeat R] [--json]
//   qcc-run model.mlir tasks --task NAME --data FILE_OR_DIR [--shots K --limit N --batch B] [--json]
//
// summary is qcc-run's own (it reads the IR); the other commands are the evaluation driver's
// (lib/Driver, docs/Driver.md), run here on the reference executor, exactly as executables
// emitted by qcc run them on compiled code.
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Driver/Driver.h"
#include "qcc/Exec/ReferenceDriverModel.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qcc;

namespace {

cl::SubCommand summaryCmd("summary", "Print hyper-parameters, formats and bits/weight");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.mlir>"),
                               cl::sub(summaryCmd), cl::cat(driver::optionCategory()));
cl::opt<bool> summaryJSON("json", cl::desc("Print one JSON object on stdout"),
                          cl::sub(summaryCmd), cl::cat(driver::optionCategory()));

[[noreturn]] void die(const Twine &msg) {
  WithColor::error(errs(), "qcc-run") << msg << "\n";
  exit(1);
}

int runSummary(LoadedModel &m) {
  qllm::WeightSummary ws = qllm::summarizeWeights(*m.module);
  auto config = (*m.module)->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
  if (!config)
    die(modelPath + ": module has no qllm.config");
  json::Object obj = qllm::summaryToJSON(config, ws);
  obj["weight_file"] = m.weights->path;
  if (summaryJSON) {
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


class ReferenceFactory : public driver::DriverModelFactory {
public:
  Expected<std::unique_ptr<driver::DriverModel>> load(StringRef path,
                                                      bool withTokenizer) override {
    auto m = loadReferenceDriverModel(path, withTokenizer);
    if (!m)
      return m.takeError();
    return std::unique_ptr<driver::DriverModel>(std::move(*m));
  }
};

} // namespace

int main(int argc, char **argv) {
  ReferenceFactory factory;
  driver::DriverOptions opts;
  opts.toolName = "qcc-run";
  opts.overview = "qcc-run: run a qllm module (reference executor)\n";
  opts.takesModelPath = true;
  opts.hostCommands.push_back({&summaryCmd, [] {
                                 Expected<LoadedModel> m =
                                     loadModel(modelPath, /*withTokenizer=*/false);
                                 if (!m)
                                   die(toString(m.takeError()));
                                 return runSummary(*m);
                               }});
  return driver::runDriver(argc, argv, factory, opts);
}
