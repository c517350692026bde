//===- Calibrate.cpp - qllm-calibrate: per-linear input statistics to a file ===//
#include "PassUtils.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Exec/CalibrationFile.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/Support/MemoryBuffer.h"

#define DEBUG_TYPE "qllm-calibrate"

namespace qcc {
#define GEN_PASS_DEF_QLLMCALIBRATE
#include "qcc/Transforms/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;

namespace {
struct QLlmCalibratePass : public qcc::impl::QLlmCalibrateBase<QLlmCalibratePass> {
  using QLlmCalibrateBase::QLlmCalibrateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](const llvm::Twine &msg) {
      module.emitError(msg);
      signalPassFailure();
    };
    if (calib.empty())
      return fail("qllm-calibrate needs calib=FILE (calibration text)");
    if (sampleRows < 0)
      return fail("sample-rows must not be negative");
    FailureOr<std::string> out = outputPath(module, "stats-out", statsOut);
    if (failed(out))
      return signalPassFailure();
    FailureOr<ModuleInputs> in = openModuleInputs(module);
    if (failed(in))
      return signalPassFailure();
    if (!in->tokenizer)
      return fail("qllm-calibrate needs the model's tokenizer (qllm.tokenizer)");
    auto text = llvm::MemoryBuffer::getFile(calib);
    if (!text)
      return fail(calib + ": " + text.getError().message());
    std::vector<int32_t> tokens = in->tokenizer->encode((*text)->getBuffer(), true);
    auto ex = ReferenceExecutor::create(module, *in->weights);
    if (!ex)
      return emitError(module, ex.takeError()), signalPassFailure();
    CalibrationOptions co;
    co.samples = calibSamples;
    co.seqlen = calibSeqlen;
    co.seed = seed;
    co.collectXtX = xtx;
    co.maxSampleRows = sampleRows;
    auto cal = Calibration::run(**ex, tokens, co);
    if (!cal)
      return emitError(module, cal.takeError()), signalPassFailure();
    CalibrationFileInfo info;
    info.weightsFingerprint = in->weights->fingerprint;
    info.dataset = calib;
    info.samples = calibSamples;
    info.seqlen = calibSeqlen;
    if (llvm::Error e = saveCalibration(**cal, *out, info))
      return emitError(module, std::move(e)), signalPassFailure();
    auto file = MappedFile::open(*out);
    if (!file)
      return emitError(module, file.takeError()), signalPassFailure();
    module->setAttr(qllm::QLlmDialect::kCalibrationAttrName,
                    qllm::CalibrationFileAttr::get(&getContext(), *out, int64_t((*file)->size()),
                                                   fingerprintFile(**file),
                                                   in->weights->fingerprint,
                                                   (*cal)->tokensSeen()));
  }
};
} // namespace
