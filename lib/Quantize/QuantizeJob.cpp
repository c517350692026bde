//===- QuantizeJob.cpp - what qcc-quantize does, for the tool and for Python ===//
#include "qcc/Quantize/QuantizeModel.h"

#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Quant/GGMLFormats.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Support/MappedFile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"

using namespace llvm;

namespace qcc {
namespace {

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }

} // namespace

Expected<QuantizeOptions> checkQuantizeJob(const QuantizeJob &job, OptionSpelling spell) {
  const int modes = !job.mix.empty() + !job.method.empty() + (job.budget != 0);
  if (modes != 1)
    return fail("give exactly one of " + spell("mix") + " NAME, " + spell("method") + " M " +
                spell("bits") + " B, " + spell("budget") + " BPW");
  if (job.budget < 0)
    return fail(spell("budget") + " must be positive bits per weight");
  const std::string mix = StringRef(job.mix).lower();
  if (!mix.empty() && !is_contained(namedMixes(), StringRef(mix)))
    return fail("unknown mix '" + job.mix + "' (known: " + join(namedMixes(), ", ") + ")");
  const std::string &method = job.method;
  if (!method.empty() && method != "rtn" && method != "gptq" && method != "awq" &&
      method != "smoothquant")
    return fail("unknown " + spell("method") + " '" + method + "' (rtn, gptq, awq, smoothquant)");
  if (!method.empty() && (job.bits < 2 || job.bits > 8))
    return fail(spell("bits") + " " + Twine(job.bits) + " is out of range (2..8)");
  if (!method.empty() && job.group != 0 && (job.group < 16 || !isPowerOf2_64(job.group)))
    return fail(spell("group") + " must be 0 (per channel) or a power of two >= 16, got " +
                Twine(job.group));
  if ((method == "gptq" || method == "awq" || method == "smoothquant") && job.calib.empty())
    return fail(spell("method") + " " + method + " needs " + spell("calib") + " FILE");
  if (job.imatrix && job.calib.empty())
    return fail(spell("imatrix") + " needs " + spell("calib") + " FILE");
  if (job.foldOnly && method != "awq" && method != "smoothquant")
    return fail(spell("fold-only") + " applies to " + spell("method") + " awq and smoothquant");
  if (job.output.empty())
    return fail("no output path given");
  std::optional<GGMLType> outputType;
  if (!job.outputType.empty()) {
    if (job.budget != 0)
      return fail(spell("output-type") + " applies to " + spell("mix") + " and " +
                  spell("method") + " (the budget chooses every tensor)");
    const FormatInfo *f = lookupFormat(StringRef(job.outputType));
    const bool plain = f && (f->type == GGMLType::F32 || f->type == GGMLType::F16 ||
                             f->type == GGMLType::BF16);
    if (!f || (!plain && !f->quantizeRow))
      return fail("unknown " + spell("output-type") + " '" + job.outputType +
                  "' (a llama.cpp type qcc can write: f16, q8_0, q6_K, q4_K, ...)");
    outputType = f->type;
  }

  QuantizeOptions opts;
  opts.mix = mix;
  opts.budget = job.budget;
  opts.sensitivityTokens = job.sensitivityTokens;
  opts.method = method;
  opts.outputType = outputType;
  opts.format = {job.bits, job.group, !job.asym};
  opts.gptq.actOrder = job.actOrder;
  opts.smoothAlpha = job.alpha;
  if (method == "smoothquant") // W8A8: int8 symmetric per output channel
    opts.format = {8, 0, true};
  opts.simulate = job.simulate || job.foldOnly;
  opts.foldOnly = job.foldOnly;
  opts.imatrix = job.imatrix;
  opts.calibText = job.calib;
  opts.calib.samples = job.calibSamples;
  opts.calib.seqlen = job.calibSeqlen;
  StringRef out(job.output);
  opts.ggufPath = job.gguf.empty()
                      ? (out.ends_with(".mlir") ? out.drop_back(5) : out).str() + ".gguf"
                      : job.gguf;
  return opts;
}

Expected<QuantizeReport> runQuantizeJob(const QuantizeJob &job, OptionSpelling spell) {
  Expected<QuantizeOptions> checked = checkQuantizeJob(job, spell);
  if (!checked)
    return checked.takeError();
  QuantizeOptions &opts = *checked;
  auto loaded = loadModel(job.input, /*withTokenizer=*/true);
  if (!loaded)
    return loaded.takeError();
  LoadedModel &m = *loaded;
  for (const std::string &o : {absolutePath(job.output), absolutePath(opts.ggufPath)})
    if (o == absolutePath(job.input) || o == absolutePath(m.weights->path))
      return fail("refusing to overwrite the input " + o);
  if (absolutePath(job.output) == absolutePath(opts.ggufPath))
    return fail("the module and the weight file must be different files");
  // A module whose scales were folded (--fold-only, qllm-fold-scales) only rounds (SmoothQuant)
  // or searches the clipping (AWQ).
  if (auto folded =
          (*m.module)->getAttrOfType<mlir::StringAttr>(qllm::QLlmDialect::kFoldedAttrName))
    opts.scalesFolded = folded.getValue() == opts.method;

  auto report = quantizeModel(m, opts);
  if (!report)
    return fail(describeQuantizeError(*m.module, report.takeError()));
  // From here on the weight file exists: any error removes it.
  auto cleanup = [&](const Twine &msg) -> Error {
    sys::fs::remove(opts.ggufPath);
    return fail(msg);
  };
  auto written = readGGUFModel(opts.ggufPath);
  if (!written)
    return cleanup(toString(written.takeError()));
  (*written)->path = absolutePath(opts.ggufPath);
  if (Error e = retargetModule(*m.module, *report, **written))
    return cleanup(toString(std::move(e)));
  {
    std::string firstError;
    mlir::ScopedDiagnosticHandler handler(m.module->getContext(), [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error && firstError.empty())
        firstError = d.str();
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*m.module)))
      return cleanup("the quantized module does not verify: " +
                     (firstError.empty() ? std::string("unknown reason") : firstError));
  }
  if (!job.report.empty())
    if (Error e = report->writeJSON(job.report))
      return cleanup(toString(std::move(e)));
  if (Error e = writeFileAtomically(job.output, [&](raw_ostream &os) {
        m.module->print(os);
        os << "\n";
        return Error::success();
      }))
    return cleanup(toString(std::move(e)));
  return std::move(*report);
}

} // namespace qcc
