//===- Calibrate.cpp - qllm-calibrate: per-linear input statistics to a file ===//
#include "PassUtils.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Exec/CalibrationFile.h"
#include "qcc/Transforms/Passes.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

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
    // Streaming, stage by stage. XᵀX (cols² per input) is what does not fit for big models: each
    // stage's matrices go to a spill file as soon as they are complete, so memory holds one
    // stage's at a time, and are copied into the statistics file at the end.
    CalibrationFileInfo info;
    info.weightsFingerprint = in->weights->fingerprint;
    info.dataset = calib;
    info.samples = calibSamples;
    info.seqlen = calibSeqlen;
    std::unique_ptr<llvm::raw_fd_ostream> spill;
    uint64_t spilled = 0;
    if (xtx) {
      info.xtxSpillPath = *out + ".xtx.tmp";
      std::error_code ec;
      spill = std::make_unique<llvm::raw_fd_ostream>(info.xtxSpillPath, ec);
      if (ec)
        return fail(info.xtxSpillPath + ": " + ec.message());
    }
    auto removeSpill = llvm::make_scope_exit([&] {
      spill.reset();
      if (!info.xtxSpillPath.empty())
        llvm::sys::fs::remove(info.xtxSpillPath);
    });
    auto onStage = [&](size_t, Calibration &c) -> llvm::Error {
      if (!spill)
        return llvm::Error::success();
      for (const std::string &w : c.stageLinearWeights()) {
        const size_t rec = c.recordOfWeight().lookup(w);
        const LinearInputStats &st = c.records()[rec];
        if (!st.xtx.empty() && !info.xtxSpillOffset.count(rec)) {
          info.xtxSpillOffset[rec] = spilled;
          for (double v : st.xtx) {
            float f = float(v);
            spill->write(reinterpret_cast<const char *>(&f), sizeof f);
          }
          spilled += st.xtx.size() * sizeof(float);
        }
        c.releaseXtX(w); // freed once every weight reading the record has released it
      }
      spill->flush();
      return spill->has_error() ? llvm::createStringError(spill->error(), "writing %s",
                                                          info.xtxSpillPath.c_str())
                                : llvm::Error::success();
    };
    auto cal = Calibration::runStreaming(**ex, tokens, co, onStage);
    if (!cal)
      return emitError(module, cal.takeError()), signalPassFailure();
    if (spill)
      spill->close();
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
