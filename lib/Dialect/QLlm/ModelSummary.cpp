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
