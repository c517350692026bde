//===- Quantize.cpp - qllm-quantize: quantize weights, retarget the module --===//
//
// The pass form of qcc-quantize (lib/Quantize does the work; PassUtils opens the inputs).
//
//===----------------------------------------------------------------------===//
#include "PassUtils.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

#include "llvm/ADT/StringExtras.h"

#define DEBUG_TYPE "qllm-quantize"

namespace qcc {
#define GEN_PASS_DEF_QLLMQUANTIZE
#include "qcc/Transforms/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;

namespace {
struct QLlmQuantizePass : public qcc::impl::QLlmQuantizeBase<QLlmQuantizePass> {
  using QLlmQuantizeBase::QLlmQuantizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &msg) {
      module.emitError(msg);
      signalPassFailure();
    };
    int modes = !mix.empty() + !method.empty() + (budget != 0);
    if (modes > 1)
      return fail("qllm-quantize takes at most one of mix=, method=, budget= (none: carry out "
                  "the quantize_to formats of qllm-choose-bits)");
    if (budget < 0)
      return fail("budget=" + llvm::formatv("{0}", budget.getValue()).str() + " must be positive bits per weight");
    if (!mix.empty() && !isNamedMix(llvm::StringRef(mix).lower()))
      return fail("unknown mix '" + mix + "' (known: " + llvm::join(namedMixes(), ", ") + ")");
    FailureOr<std::string> out = outputPath(module, "weights-out", weightsOut);
    if (failed(out))
      return signalPassFailure();
    FailureOr<ModuleInputs> in = openModuleInputs(module);
    if (failed(in))
      return signalPassFailure();
    QuantizeOptions opts;
    opts.mix = llvm::StringRef(mix).lower();
    opts.method = method;
    opts.format = {bits, group, !asym};
    if (method == "smoothquant")
      opts.format = {8, 0, true};
    opts.gptq.actOrder = actOrder;
    opts.budget = budget;
    opts.imatrix = imatrix;
    useCalibration(opts, *in, calib, calibSamples, calibSeqlen);
    if (auto folded = module->getAttrOfType<StringAttr>(qllm::QLlmDialect::kFoldedAttrName))
      opts.scalesFolded = folded.getValue() == method;
    opts.ggufPath = *out;
    if (failed(quantizeAndRetarget(module, *in, opts)))
      return signalPassFailure();
  }
};
} // namespace
