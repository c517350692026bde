//===- Quantize.cpp - qllm-quantize: quantize weights, retarget the module --===//
//
// The pass form of qcc-quantize (lib/Quantize does the work). Convention: the module's weight
// file path is absolute (qcc-import writes it so), since a pass does not know the module's path.
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Tokenizer/Tokenizer.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

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
    int modes = !mix.empty() + !method.empty() + (budget > 0);
    if (modes != 1)
      return fail("qllm-quantize needs exactly one of mix=, method=, budget=");
    if (weightsOut.empty())
      return fail("qllm-quantize needs weights-out=FILE");
    if (!mix.empty() && !isNamedMix(mix))
      return fail("unknown mix '" + mix + "' (known: " + llvm::join(namedMixes(), ", ") + ")");
    auto wf = module->getAttrOfType<qllm::WeightFileAttr>("qllm.weights");
    auto container = wf ? parseContainerName(wf.getContainer()) : std::nullopt;
    if (!wf || !container)
      return fail("the module has no valid qllm.weights attribute");
    llvm::SmallString<256> out(weightsOut.getValue());
    llvm::sys::fs::make_absolute(out);
    if (out == wf.getPath())
      return fail("weights-out would overwrite the module's weight file " + wf.getPath());
    auto src = openWeightFile(wf.getPath(), *container, uint64_t(wf.getSize()),
                              wf.getFingerprint());
    if (!src)
      return fail(llvm::toString(src.takeError()));
    std::unique_ptr<Tokenizer> tokenizer;
    if (auto tk = module->getAttrOfType<qllm::TokenizerAttr>("qllm.tokenizer")) {
      auto cfg = module->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
      auto tok = Tokenizer::load(tk.getPath(), tk.getKind(), cfg ? cfg.getVocabSize() : 0);
      if (!tok)
        return fail(llvm::toString(tok.takeError()));
      tokenizer = std::move(*tok);
    }
    QuantizeOptions opts;
    opts.mix = llvm::StringRef(mix).lower();
    opts.method = method;
    opts.format = {bits, group, !asym};
    if (method == "smoothquant")
      opts.format = {8, 0, true};
    opts.budget = budget;
    opts.imatrix = imatrix;
    opts.calibText = calib;
    opts.calib.samples = calibSamples;
    opts.calib.seqlen = calibSeqlen;
    opts.ggufPath = out.str().str();
    auto report = quantizeModel(module, **src, tokenizer.get(), opts);
    if (!report)
      return fail(llvm::toString(report.takeError()));
    auto written = readGGUFModel(opts.ggufPath);
    if (!written) {
      llvm::sys::fs::remove(opts.ggufPath);
      return fail(llvm::toString(written.takeError()));
    }
    (*written)->path = opts.ggufPath;
    if (llvm::Error e = retargetModule(module, *report, **written)) {
      llvm::sys::fs::remove(opts.ggufPath);
      return fail(llvm::toString(std::move(e)));
    }
  }
};
} // namespace
