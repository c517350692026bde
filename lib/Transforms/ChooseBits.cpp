//===- ChooseBits.cpp - qllm-choose-bits: plan every weight's format --------===//
//
// quantizeModel in plan-only mode (no weights written): the chosen formats become quantize_to
// attributes on the qllm.weight ops, which qllm-quantize carries out.
//
//===----------------------------------------------------------------------===//
#include "PassUtils.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

#define DEBUG_TYPE "qllm-choose-bits"

namespace qcc {
#define GEN_PASS_DEF_QLLMCHOOSEBITS
#include "qcc/Transforms/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;

namespace {
struct QLlmChooseBitsPass : public qcc::impl::QLlmChooseBitsBase<QLlmChooseBitsPass> {
  using QLlmChooseBitsBase::QLlmChooseBitsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &msg) {
      module.emitError(msg);
      signalPassFailure();
    };
    if ((budget != 0) == !mix.empty())
      return fail("qllm-choose-bits needs exactly one of budget=BPW and mix=NAME");
    if (budget < 0)
      return fail("budget=" + llvm::formatv("{0}", budget.getValue()).str() +
                  " must be positive bits per weight");
    if (!mix.empty() && !isNamedMix(llvm::StringRef(mix).lower()))
      return fail("unknown mix '" + mix + "' (known: " + llvm::join(namedMixes(), ", ") + ")");
    if (sensitivityTokens <= 0)
      return fail("sensitivity-tokens must be positive");
    FailureOr<ModuleInputs> in = openModuleInputs(module);
    if (failed(in))
      return signalPassFailure();
    QuantizeOptions opts;
    opts.mix = llvm::StringRef(mix).lower();
    opts.budget = budget;
    opts.sensitivityTokens = sensitivityTokens;
    opts.calibText = calib;
    opts.calib.samples = calibSamples;
    opts.calib.seqlen = calibSeqlen;
    opts.calibration = in->calibration.get();
    FailureOr<QuantizeReport> report = quantizeAndRetarget(module, *in, opts); // plan only
    if (failed(report))
      return signalPassFailure();

    llvm::StringMap<const TensorChoice *> bySource;
    for (const TensorChoice &c : report->tensors)
      bySource[c.sourceName] = &c;
    std::map<std::string, int> counts;
    module.walk([&](qllm::WeightOp w) {
      const TensorChoice *c = bySource.lookup(w.getName());
      if (!c)
        return;
      auto fmt = qllm::GGMLFormatAttr::get(&getContext(),
                                           static_cast<qllm::GGMLFormat>(uint32_t(c->to)));
      if (c->to != c->from)
        w.setQuantizeToAttr(fmt);
      else
        w.removeQuantizeToAttr();
    });
    for (const TensorChoice &c : report->tensors)
      ++counts[lookupFormat(c.to)->name];
    std::string formats;
    for (const auto &[name, n] : counts)
      formats += llvm::formatv("{0}{1} ×{2}", formats.empty() ? "" : ", ", name, n).str();
    auto remark = module.emitRemark();
    remark << llvm::formatv("qllm-choose-bits: {0}: {1:F4} bits/weight, {2} bytes; {3}",
                            budget > 0 ? llvm::formatv("budget {0:F4}", budget.getValue()).str()
                                       : "mix " + opts.mix,
                            report->bitsPerWeight(), report->bytes, formats)
                  .str();
    if (budget > 0)
      remark << llvm::formatv("; predicted {0} {1:E3}, measured {2}",
                              calib.empty() ? "weight error" : "KL (sum over tensors)",
                              report->predictedError,
                              report->measuredError >= 0
                                  ? llvm::formatv("KL (whole mix) {0:E3}", report->measuredError)
                                        .str()
                                  : std::string("-"))
                    .str();
    if (!reportFile.empty())
      if (llvm::Error e = report->writeJSON(reportFile))
        return emitError(module, std::move(e)), signalPassFailure();
  }
};
} // namespace
