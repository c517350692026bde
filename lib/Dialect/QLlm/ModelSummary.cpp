//===- ModelSummary.cpp - weight statistics of a qllm module --------------===//
#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace qcc::qllm;

double FormatSummary::bitsPerWeight() const {
  return numElements == 0 ? 0.0 : 8.0 * double(storageBytes) / double(numElements);
}

SmallVector<StringRef> WeightSummary::getFormatNames() const {
  SmallVector<StringRef> names;
  for (const auto &entry : perFormat)
    names.push_back(entry.first());
  llvm::sort(names);
  return names;
}

WeightSummary qcc::qllm::summarizeWeights(ModuleOp module) {
  WeightSummary summary;
  llvm::StringSet<> seen;
  module.walk([&](WeightOp op) {
    if (!seen.insert(op.getName()).second)
      return;
    WeightType type = op.getType();
    int64_t elements = type.getNumElements(), bytes = type.getStorageBytes();
    for (FormatSummary *s : {static_cast<FormatSummary *>(&summary),
                             &summary.perFormat[type.getFormatInterface().getFormatName()]}) {
      s->numTensors += 1;
      s->numElements += elements;
      s->storageBytes += bytes;
    }
  });
  return summary;
}

template <typename AttrT>
static FailureOr<AttrT> getModuleAttr(ModuleOp module, StringRef name, StringRef kind) {
  if (auto attr = module->getAttrOfType<AttrT>(name))
    return attr;
  return module.emitError("expected a ") << kind << " in module attribute '" << name << "'";
}

FailureOr<ModelConfigAttr> qcc::qllm::getModelConfig(ModuleOp module) {
  return getModuleAttr<ModelConfigAttr>(module, QLlmDialect::kConfigAttrName, "#qllm.config");
}

FailureOr<WeightFileAttr> qcc::qllm::getWeightFile(ModuleOp module) {
  return getModuleAttr<WeightFileAttr>(module, QLlmDialect::kWeightsAttrName, "#qllm.weight_file");
}

FailureOr<TokenizerAttr> qcc::qllm::getTokenizer(ModuleOp module) {
  return getModuleAttr<TokenizerAttr>(module, QLlmDialect::kTokenizerAttrName, "#qllm.tokenizer");
}

llvm::json::Object qcc::qllm::summaryToJSON(ModelConfigAttr config, const WeightSummary &ws) {
  llvm::json::Object formats;
  for (llvm::StringRef name : ws.getFormatNames()) {
    const FormatSummary &f = ws.perFormat.find(name)->second;
    formats[name] = llvm::json::Object{
        {"tensors", f.numTensors}, {"elements", f.numElements}, {"bytes", f.storageBytes}};
  }
  return llvm::json::Object{{"name", config.getName()},
                            {"dim", config.getDim()},
                            {"ffn_dim", config.getFfnDim()},
                            {"n_layers", config.getNLayers()},
                            {"n_heads", config.getNHeads()},
                            {"n_kv_heads", config.getNKvHeads()},
                            {"head_dim", config.getHeadDim()},
                            {"vocab_size", config.getVocabSize()},
                            {"max_seq_len", config.getMaxSeqLen()},
                            {"rope_theta", config.getRopeTheta().convertToDouble()},
                            {"rope_style", stringifyRopeStyle(config.getRopeStyle())},
                            {"norm_eps", config.getNormEps().convertToDouble()},
                            {"tied_embeddings", config.getTiedEmbeddings()},
                            {"tensors", ws.numTensors},
                            {"parameters", ws.numElements},
                            {"weight_bytes", ws.storageBytes},
                            {"bits_per_weight", ws.bitsPerWeight()},
                            {"formats", std::move(formats)}};
}
