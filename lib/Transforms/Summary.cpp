//===- Summary.cpp - qllm-summary: weight count, bytes and bits per weight ===//
#define DEBUG_TYPE "qllm-summary"

#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace qcc {
#define GEN_PASS_DEF_QLLMSUMMARY
#include "qcc/Transforms/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;
using namespace qcc::qllm;

namespace {
struct QLlmSummaryPass : public qcc::impl::QLlmSummaryBase<QLlmSummaryPass> {
  using QLlmSummaryBase::QLlmSummaryBase;
  void runOnOperation() override;
};
} // namespace

/// `<n> tensors, <elements> weights, <bytes> bytes, <bpw> bits/weight`, bits per weight as
/// llama-quantize counts them (8 × bytes / elements).
static std::string describe(const FormatSummary &s) {
  return llvm::formatv("{0} tensors, {1} weights, {2} bytes, {3:F3} bits/weight", s.numTensors,
                       s.numElements, s.storageBytes, s.bitsPerWeight());
}

static llvm::json::Object toJSON(const FormatSummary &s) {
  return llvm::json::Object{{"tensors", s.numTensors},
                            {"weights", s.numElements},
                            {"bytes", s.storageBytes},
                            {"bits_per_weight", s.bitsPerWeight()}};
}

void QLlmSummaryPass::runOnOperation() {
  ModuleOp module = getOperation();
  markAllAnalysesPreserved();
  FailureOr<ModelConfigAttr> config = getModelConfig(module);
  if (failed(config))
    return signalPassFailure();
  WeightSummary summary = summarizeWeights(module);

  std::string text = llvm::formatv("model {0}: {1}", config->getName(), describe(summary));
  for (StringRef format : summary.getFormatNames())
    text += llvm::formatv("; {0}: {1}", format, describe(summary.perFormat.lookup(format)));
  module.emitRemark(text);

  if (jsonFile.empty())
    return;
  llvm::json::Object formats;
  for (const auto &entry : summary.perFormat)
    formats[entry.first()] = toJSON(entry.second);
  llvm::json::Object root = toJSON(summary);
  root["model"] = config->getName();
  root["formats"] = std::move(formats);
  // writeToOutput writes a temporary file next to the target and renames it into place.
  llvm::Error err = llvm::writeToOutput(jsonFile, [&](llvm::raw_ostream &os) {
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    return llvm::Error::success();
  });
  if (err) {
    // The error names the file.
    module.emitError("cannot write the summary: ") << llvm::toString(std::move(err));
    signalPassFailure();
  }
}
