//===- qcc-quantize.cpp - quantize a qllm module's weights ------------------===//
//
//   qcc-quantize model.mlir --mix q4_k_m [--imatrix --calib FILE [--calib-samples N]
//                [--calib-seqlen L]] -o out.mlir [--gguf out.gguf] [--report mix.json]
//
// Writes the quantized weights as a GGUF with llama.cpp's names, types and metadata, and a
// module that references it. Never overwrites its input; all outputs are atomic, and on error
// nothing is left behind.
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Runtime/Kernels.h"

#include "mlir/IR/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace qcc;

static cl::OptionCategory cat("qcc-quantize options");
static cl::opt<std::string> input(cl::Positional, cl::Required, cl::desc("<model.mlir>"),
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::Required, cl::desc("Output module"),
                                   cl::value_desc("out.mlir"), cl::cat(cat));
static cl::opt<std::string> ggufOut("gguf", cl::desc("Output weight file (default: out.gguf)"),
                                    cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> mix("mix", cl::desc("llama.cpp mix: q2_k, q3_k_s/m/l, q4_0, q4_1, "
                                                "q5_0, q5_1, q4_k_s/m, q5_k_s/m, q6_k, q8_0, f16"),
                                cl::cat(cat));
static cl::opt<std::string> method("method", cl::desc("rtn | gptq | awq | smoothquant"),
                                   cl::cat(cat));
static cl::opt<int> bits("bits", cl::desc("Method mode: bits per weight (2..8)"), cl::init(4),
                         cl::cat(cat));
static cl::opt<int64_t> group("group", cl::desc("Method mode: group size (0 = per channel)"),
                              cl::init(128), cl::cat(cat));
static cl::opt<bool> asym("asym", cl::desc("Method mode: asymmetric (zero point) groups"),
                          cl::cat(cat));
static cl::opt<bool> actOrder("act-order", cl::desc("GPTQ: quantize columns by decreasing H_ii"),
                              cl::cat(cat));
static cl::opt<float> alpha("alpha", cl::desc("SmoothQuant migration strength"), cl::init(0.5f),
                            cl::cat(cat));
static cl::opt<bool> simulate("simulate",
                              cl::desc("Method mode: store the quantized weights dequantized (f32)"),
                              cl::cat(cat));
static cl::opt<bool> foldOnly(
    "fold-only", cl::desc("awq/smoothquant: fold the scales, skip clipping and rounding, store f32 "
                          "(to check that folding preserves the function)"),
    cl::cat(cat));
static cl::opt<double> budget("budget", cl::desc("Bits per weight for the budget solver"),
                              cl::init(0), cl::cat(cat));
static cl::opt<int64_t> sensitivityTokens(
    "sensitivity-tokens", cl::desc("Budget: calibration tokens per sensitivity measurement"),
    cl::init(512), cl::cat(cat));
static cl::opt<bool> imatrix("imatrix", cl::desc("Weight the quantizers by calibration importance"),
                             cl::cat(cat));
static cl::opt<std::string> calib("calib", cl::desc("Calibration text"), cl::cat(cat));
static cl::opt<int64_t> calibSamples("calib-samples", cl::desc("Calibration windows"),
                                     cl::init(128), cl::cat(cat));
static cl::opt<int64_t> calibSeqlen("calib-seqlen", cl::desc("Calibration window length"),
                                    cl::init(256), cl::cat(cat));
static cl::opt<std::string> reportPath("report", cl::desc("Write every tensor's format as JSON"),
                                       cl::value_desc("file"), cl::cat(cat));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "qcc-quantize") << msg << "\n";
  exit(1);
}

/// Errors about one tensor name its qllm.weight op and where it is, as an MLIR diagnostic would.
[[noreturn]] static void dieOn(mlir::ModuleOp module, Error err) {
  die(describeQuantizeError(module, std::move(err)));
}

static std::string absolute(StringRef p) {
  SmallString<256> s(p);
  sys::fs::make_absolute(s);
  sys::path::remove_dots(s, true);
  return s.str().str();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc-quantize: quantize a qllm module's weights\n");
  int modes = !mix.empty() + !method.empty() + (budget != 0);
  if (modes != 1)
    die("give exactly one of --mix NAME, --method M --bits B, --budget BPW");
  if (budget < 0)
    die("--budget must be positive bits per weight");
  if (!mix.empty() && !is_contained(namedMixes(), StringRef(mix).lower()))
    die("unknown mix '" + mix + "' (known: " + join(namedMixes(), ", ") + ")");
  if (!method.empty() && method != "rtn" && method != "gptq" && method != "awq" &&
      method != "smoothquant")
    die("unknown --method '" + method + "' (rtn, gptq, awq, smoothquant)");
  if (!method.empty() && (bits < 2 || bits > 8))
    die("--bits " + Twine(bits) + " is out of range (2..8)");
  if (!method.empty() && group != 0 && (group < 16 || !isPowerOf2_64(group)))
    die("--group must be 0 (per channel) or a power of two >= 16, got " + Twine(group));
  if ((method == "gptq" || method == "awq" || method == "smoothquant") && calib.empty())
    die("--method " + method + " needs --calib FILE");
  if (imatrix && calib.empty())
    die("--imatrix needs --calib FILE");

  QuantizeOptions opts;
  opts.mix = StringRef(mix).lower();
  opts.budget = budget;
  opts.sensitivityTokens = sensitivityTokens;
  opts.method = method;
  opts.format = {bits, group, !asym};
  opts.gptq.actOrder = actOrder;
  opts.smoothAlpha = alpha;
  if (method == "smoothquant") // W8A8: int8 symmetric per output channel
    opts.format = {8, 0, true};
  opts.simulate = simulate || foldOnly;
  opts.foldOnly = foldOnly;
  if (foldOnly && method != "awq" && method != "smoothquant")
    die("--fold-only applies to --method awq and smoothquant");
  opts.imatrix = imatrix;
  opts.calibText = calib;
  opts.calib.samples = calibSamples;
  opts.calib.seqlen = calibSeqlen;
  StringRef out(output);
  opts.ggufPath = ggufOut.empty() ? (out.ends_with(".mlir") ? out.drop_back(5) : out).str() + ".gguf"
                                  : ggufOut.getValue();

  auto loaded = loadModel(input, /*withTokenizer=*/true);
  if (!loaded)
    die(toString(loaded.takeError()));
  LoadedModel &m = *loaded;
  for (const std::string &o : {absolute(output), absolute(opts.ggufPath)})
    if (o == absolute(input) || o == absolute(m.weights->path))
      die("refusing to overwrite the input " + o);
  if (absolute(output) == absolute(opts.ggufPath))
    die("the module and the weight file must be different files");

  // A module whose scales were folded (--fold-only, qllm-fold-scales) only rounds (SmoothQuant)
  // or searches the clipping (AWQ).
  if (auto folded = (*m.module)->getAttrOfType<mlir::StringAttr>(
          qllm::QLlmDialect::kFoldedAttrName))
    opts.scalesFolded = folded.getValue() == opts.method;
  auto report = quantizeModel(m, opts);
  if (!report)
    dieOn(*m.module, report.takeError());
  auto cleanup = [&](const Twine &msg) {
    sys::fs::remove(opts.ggufPath);
    die(msg);
  };
  auto written = readGGUFModel(opts.ggufPath);
  if (!written)
    cleanup(toString(written.takeError()));
  (*written)->path = absolute(opts.ggufPath);
  if (Error e = retargetModule(*m.module, *report, **written))
    cleanup(toString(std::move(e)));
  if (failed(mlir::verify(*m.module)))
    cleanup("the quantized module does not verify");
  if (!reportPath.empty())
    if (Error e = report->writeJSON(reportPath))
      cleanup(toString(std::move(e)));
  if (Error e = writeFileAtomically(output, [&](raw_ostream &os) {
        m.module->print(os);
        os << "\n";
        return Error::success();
      }))
    cleanup(toString(std::move(e)));
  if (budget > 0)
    errs() << formatv("qcc-quantize: budget solver: predicted sensitivity {0:E3} ({1})\n",
                      report->predictedError,
                      calib.empty() ? "weight error" : "sum of per-tensor mean KL");
  if (!method.empty() && simulate)
    errs() << formatv("qcc-quantize: {0} int{1} g{2} {3}: simulated {4:F4} bits/weight "
                      "(stored as f32)\n",
                      method, bits, group, asym ? "asym" : "sym",
                      report->simulatedBitsPerWeight());
  errs() << formatv("qcc-quantize: {0}: {1} tensors, {2} bytes, {3:F4} bits/weight{4}, {5:F2} s\n",
                    !opts.mix.empty()      ? opts.mix
                    : !opts.method.empty() ? opts.method
                                           : formatv("budget {0:F4}", budget.getValue()).str(), report->tensors.size(), report->bytes, report->bitsPerWeight(),
                    imatrix ? formatv(", imatrix from {0} tokens", report->calibrationTokens).str()
                            : std::string(),
                    report->seconds);
  return 0;
}
