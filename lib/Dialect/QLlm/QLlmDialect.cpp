//===- QLlmDialect.cpp - qllm dialect registration and module attributes --===//
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace qcc::qllm;

#include "qcc/Dialect/QLlm/QLlmDialect.cpp.inc"

void QLlmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qcc/Dialect/QLlm/QLlmOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

/// The dialect's discardable attributes describe a whole model, so they live on the module.
LogicalResult QLlmDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  auto expect = [&](bool ok, StringRef what) -> LogicalResult {
    if (!isa<ModuleOp>(op))
      return op->emitOpError("'") << name
                                  << "' is a module attribute; only builtin.module may "
                                     "carry it";
    if (!ok)
      return op->emitOpError("'") << name << "' must be a " << what << ", got " << attr.getValue();
    return success();
  };
  if (name == kConfigAttrName)
    return expect(isa<ModelConfigAttr>(attr.getValue()), "#qllm.config");
  if (name == kWeightsAttrName)
    return expect(isa<WeightFileAttr>(attr.getValue()), "#qllm.weight_file");
  if (name == kTokenizerAttrName)
    return expect(isa<TokenizerAttr>(attr.getValue()), "#qllm.tokenizer");
  if (name == kCalibrationAttrName)
    return expect(isa<CalibrationFileAttr>(attr.getValue()), "#qllm.calibration");
  if (name == kFoldedAttrName) {
    auto str = dyn_cast<StringAttr>(attr.getValue());
    return expect(str && llvm::is_contained({"awq", "smoothquant"}, str.getValue()),
                  "string \"awq\" or \"smoothquant\"");
  }
  return op->emitOpError("has unknown qllm attribute '")
         << name << "' (known: " << kConfigAttrName << ", " << kWeightsAttrName << ", "
         << kTokenizerAttrName << ", " << kCalibrationAttrName << ", " << kFoldedAttrName << ")";
}
