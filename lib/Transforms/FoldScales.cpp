//===- FoldScales.cpp - qllm-fold-scales: AWQ/SmoothQuant scales folded -----===//
//
// quantizeModel's fold-only mode (scales searched and folded, no clipping, no rounding, f32
// storage), as a pass of its own so pipelines can inspect or verify the folded model before
// quantizing it.
//
//===----------------------------------------------------------------------===//
#include "PassUtils.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "qllm-fold-scales"

namespace qcc {
#define GEN_PASS_DEF_QLLMFOLDSCALES
#include "qcc/Transforms/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;

namespace {
struct QLlmFoldScalesPass : public qcc::impl::QLlmFoldScalesBase<QLlmFoldScalesPass> {
  using QLlmFoldScalesBase::QLlmFoldScalesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &msg) {
      module.emitError(msg);
      signalPassFailure();
    };
    if (method != "awq" && method != "smoothquant")
      return fail("qllm-fold-scales needs method=awq or method=smoothquant, got '" + method +
                  "'");
    if (module->hasAttr(qllm::QLlmDialect::kFoldedAttrName))
      return fail("the module's scales are already folded (qllm.scales_folded)");
    if (alpha < 0 || alpha > 1)
      return fail("alpha=" + llvm::formatv("{0}", alpha.getValue()).str() + " must lie in [0, 1]");
    FailureOr<std::string> out = outputPath(module, "weights-out", weightsOut);
    if (failed(out))
      return signalPassFailure();
    FailureOr<ModuleInputs> in = openModuleInputs(module);
    if (failed(in))
      return signalPassFailure();
    if (!in->calibration && calib.empty())
      return fail("qllm-fold-scales needs calibration statistics: run qllm-calibrate "
                  "(sample-rows=N for AWQ) or give calib=FILE");
    QuantizeOptions opts;
    opts.method = method;
    opts.format = method == "awq" ? quantalgo::IntGroupFormat{bits, group, !asym}
                                  : quantalgo::IntGroupFormat{8, 0, true};
    opts.smoothAlpha = float(alpha);
    opts.simulate = opts.foldOnly = true;
    useCalibration(opts, *in, calib, calibSamples, calibSeqlen);
    opts.ggufPath = *out;
    if (failed(quantizeAndRetarget(module, *in, opts)))
      return signalPassFailure();
  }
};
} // namespace
