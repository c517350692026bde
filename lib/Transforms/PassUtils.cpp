//===- PassUtils.cpp - what the quantization passes share -------------------===//
#include "PassUtils.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Exec/CalibrationFile.h"
#include "qcc/Support/MappedFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace qcc::qllm;

namespace qcc {

void emitError(ModuleOp module, llvm::Error err) {
  llvm::handleAllErrors(
      std::move(err),
      [&](const TensorError &te) {
        WeightOp found;
        module.walk([&](WeightOp w) {
          if (!found && w.getName() == te.tensor)
            found = w;
        });
        if (found)
          found.emitOpError() << te.tensor << ": " << te.message;
        else
          module.emitError() << te.tensor << ": " << te.message;
      },
      [&](const llvm::ErrorInfoBase &e) { module.emitOpError() << e.message(); });
}

FailureOr<ModuleInputs> openModuleInputs(ModuleOp module) {
  ModuleInputs in;
  auto wf = module->getAttrOfType<WeightFileAttr>(QLlmDialect::kWeightsAttrName);
  auto container = wf ? parseContainerName(wf.getContainer()) : std::nullopt;
  if (!wf || !container)
    return module.emitError("the module has no valid qllm.weights attribute");
  auto src = openWeightFile(wf.getPath(), *container, uint64_t(wf.getSize()),
                            wf.getFingerprint());
  if (!src)
    return emitError(module, src.takeError()), failure();
  in.weights = std::move(*src);
  if (auto tk = module->getAttrOfType<TokenizerAttr>(QLlmDialect::kTokenizerAttrName)) {
    auto cfg = module->getAttrOfType<ModelConfigAttr>(QLlmDialect::kConfigAttrName);
    auto tok = Tokenizer::load(tk.getPath(), tk.getKind(), cfg ? cfg.getVocabSize() : 0);
    if (!tok)
      return emitError(module, tok.takeError()), failure();
    in.tokenizer = std::move(*tok);
  }
  if (auto cf = module->getAttrOfType<CalibrationFileAttr>(QLlmDialect::kCalibrationAttrName)) {
    if (cf.getWeights() != wf.getFingerprint())
      return module.emitError("qllm.calibration was measured on other weights (")
             << cf.getWeights() << ", the module's are " << wf.getFingerprint()
             << "): run qllm-calibrate again";
    auto file = MappedFile::open(cf.getPath());
    if (!file)
      return emitError(module, file.takeError()), failure();
    if (int64_t((*file)->size()) != cf.getSize() || fingerprintFile(**file) != cf.getFingerprint())
      return module.emitError("calibration file ")
             << cf.getPath() << " changed since qllm-calibrate wrote it (size or fingerprint)";
    CalibrationFileInfo info;
    auto cal = loadCalibration(cf.getPath(), &info);
    if (!cal)
      return emitError(module, cal.takeError()), failure();
    in.calibration = std::move(*cal);
    in.calibrationSeqlen = info.seqlen;
  }
  return in;
}

FailureOr<std::string> outputPath(ModuleOp module, llvm::StringRef option, llvm::StringRef path) {
  if (path.empty())
    return module.emitError() << "the option " << option << "=FILE is required";
  const std::string out = absolutePath(path);
  for (StringRef attr : {QLlmDialect::kWeightsAttrName, QLlmDialect::kCalibrationAttrName}) {
    Attribute a = module->getAttr(attr);
    StringRef existing = isa_and_nonnull<WeightFileAttr>(a)        ? cast<WeightFileAttr>(a).getPath()
                         : isa_and_nonnull<CalibrationFileAttr>(a) ? cast<CalibrationFileAttr>(a).getPath()
                                                                   : StringRef();
    if (!existing.empty() && out == existing)
      return module.emitError() << option << "=" << path << " would overwrite the module's "
                                << attr << " file";
  }
  return out;
}

void useCalibration(QuantizeOptions &opts, const ModuleInputs &in, llvm::StringRef text,
                    int64_t samples, int64_t seqlen) {
  opts.calibText = text.str();
  opts.calib.samples = samples;
  opts.calib.seqlen = seqlen;
  opts.calibration = in.calibration.get();
  if (opts.calibration)
    opts.calib.seqlen = in.calibrationSeqlen;
}

FailureOr<QuantizeReport> quantizeAndRetarget(ModuleOp module, const ModuleInputs &in,
                                              const QuantizeOptions &opts) {
  auto report = quantizeModel(module, *in.weights, in.tokenizer.get(), opts);
  if (!report)
    return emitError(module, report.takeError()), failure();
  if (opts.ggufPath.empty())
    return std::move(*report);
  auto written = readGGUFModel(opts.ggufPath);
  if (!written) {
    llvm::sys::fs::remove(opts.ggufPath);
    return emitError(module, written.takeError()), failure();
  }
  (*written)->path = opts.ggufPath;
  if (llvm::Error e = retargetModule(module, *report, **written)) {
    llvm::sys::fs::remove(opts.ggufPath);
    return emitError(module, std::move(e)), failure();
  }
  return std::move(*report);
}

} // namespace qcc
