//===- qcc-quantize.cpp - quantize a qllm module's weights ------------------===//
//
//   qcc-quantize model.mlir --mix q4_k_m [--imatrix --calib FILE [--calib-samples N]
//                [--calib-seqlen L]] [--output-type q8_0] -o out.mlir [--gguf out.gguf]
//                [--report mix.json]
//
// Writes the quantized weights as a GGUF with llama.cpp's names, types and metadata, and a
// module that references it. Never overwrites its input; all outputs are atomic, and on error
// nothing is left behind.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quantize/QuantizeModel.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
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
static cl::opt<std::string> outputType(
    "output-type",
    cl::desc("With --mix or --method: the LM head's (output.weight's) llama.cpp type, e.g. "
             "q8_0 or q6_K (llama-quantize's --output-tensor-type); default: the mix's choice, "
             "methods keep its format"),
    cl::value_desc("type"), cl::cat(cat));
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

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc-quantize: quantize a qllm module's weights\n");
  QuantizeJob job;
  job.input = input;
  job.output = output;
  job.gguf = ggufOut;
  job.report = reportPath;
  job.mix = mix;
  job.method = method;
  job.outputType = outputType;
  job.budget = budget;
  job.bits = bits;
  job.group = group;
  job.asym = asym;
  job.actOrder = actOrder;
  job.simulate = simulate;
  job.foldOnly = foldOnly;
  job.imatrix = imatrix;
  job.alpha = alpha;
  job.sensitivityTokens = sensitivityTokens;
  job.calib = calib;
  job.calibSamples = calibSamples;
  job.calibSeqlen = calibSeqlen;
  auto report = runQuantizeJob(job, [](StringRef name) { return ("--" + name).str(); });
  if (!report)
    die(toString(report.takeError()));
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
                    !mix.empty()      ? StringRef(mix).lower()
                    : !method.empty() ? method.getValue()
                                      : formatv("budget {0:F4}", budget.getValue()).str(),
                    report->tensors.size(), report->bytes, report->bitsPerWeight(),
                    imatrix ? formatv(", imatrix from {0} tokens", report->calibrationTokens).str()
                            : std::string(),
                    report->seconds);
  return 0;
}
