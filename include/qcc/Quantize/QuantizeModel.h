//===- QuantizeModel.h - quantize a model's weights into a new GGUF ---------===//
//
// The model-level driver behind qcc-quantize: chooses a format per tensor (a llama.cpp named
// mix), optionally weights the k-quants by an importance matrix from calibration, quantizes
// every tensor with the bit-exact llama.cpp quantizers, writes a GGUF with llama.cpp's tensor
// names, types and metadata (loadable by llama.cpp), and retargets the module to it.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTIZE_QUANTIZEMODEL_H
#define QCC_QUANTIZE_QUANTIZEMODEL_H

#include "qcc/Exec/Calibration.h"
#include "qcc/Exec/ReferenceExecutor.h"
#include "qcc/QuantAlgo/GPTQ.h"
#include "qcc/QuantAlgo/IntGroup.h"
#include "qcc/Quantize/QuantizeJob.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include "llvm/Support/JSON.h"

namespace qcc {

struct QuantizeOptions {
  std::string mix;     ///< llama.cpp mix name, lower case (q4_k_m, q8_0, ...).
  /// Or a bits-per-weight budget: each 2-D weight gets the llama.cpp format that minimises the
  /// summed sensitivity under the budget (exact knapsack, include/qcc/Quant/BitBudget.h); norms
  /// stay f32 and count in the budget. Sensitivity of tensor t to format f: the mean KL divergence
  /// of the model's next-token distribution, f32 → t alone quantized to f (with the imatrix), over
  /// `sensitivityTokens` calibration tokens; without calibration text, the weight error
  /// Σ (w − q(w))².
  double budget = 0;
  int64_t sensitivityTokens = 512;
  /// Or a calibration method over the decoder's linear layers (embeddings, output and norms
  /// keep their format): "rtn", "gptq" or "awq" with an integer group format, or "smoothquant"
  /// (W8A8: scales folded into the RMSNorms before q/k/v and gate/up, int8 per-channel weights,
  /// linears marked act_quant = "int8_per_token").
  std::string method;
  /// With a mix or a method: the format of the LM head (an untied output.weight) instead of the
  /// mix's or the method's choice (methods keep it, e.g. f16).
  std::optional<GGMLType> outputType;
  quantalgo::IntGroupFormat format;
  quantalgo::GPTQOptions gptq;
  float smoothAlpha = 0.5f; ///< SmoothQuant's migration strength α.
  /// Simulated quantization: weights are quantized with `method` and stored dequantized (f32),
  /// as the GPTQ/AWQ papers evaluate perplexity. Otherwise RTN and GPTQ results are stored
  /// packed (#qllm.int, I8 rows in the GGUF); AWQ needs its scales folded into the previous
  /// ops, which is not done yet, so AWQ requires simulate.
  bool simulate = false;
  /// AWQ/SmoothQuant only: fold the scales (no clipping, no rounding) and store f32 — the model
  /// must compute the same function; tests check logits to 1e-5.
  bool foldOnly = false;
  bool imatrix = false;  ///< Weight the quantizers by calibration importance (needs calibText).
  std::string calibText; ///< Calibration text file.
  /// Statistics measured before (qllm-calibrate's file): used instead of running calibration.
  /// calibText is then only needed for the budget's KL sensitivities.
  const Calibration *calibration = nullptr;
  /// The method's scales are already folded into the weights (qllm-fold-scales): SmoothQuant
  /// only rounds, AWQ only searches the clipping.
  bool scalesFolded = false;
  CalibrationOptions calib;
  /// The weight file to write (atomically). Empty: plan only — choose the formats (and, for a
  /// budget, measure), write nothing.
  std::string ggufPath;
};
// With none of mix, budget and method set, each qllm.weight's `quantize_to` attribute (set by
// qllm-choose-bits) gives its format; integer formats are rounded to nearest.

/// An error about one tensor: the passes report it on the qllm.weight op naming the tensor.
class TensorError : public llvm::ErrorInfo<TensorError> {
public:
  static char ID;
  TensorError(std::string tensor, std::string message)
      : tensor(std::move(tensor)), message(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << tensor << ": " << message; }
  std::error_code convertToErrorCode() const override { return llvm::inconvertibleErrorCode(); }
  std::string tensor;  ///< The name the module's qllm.weight uses.
  std::string message; ///< The reason, without the tensor name.
};

/// The one-line message of a quantizeModel error: a TensorError names its qllm.weight op and
/// where it is in `module` (`FILE:LINE:COL: 'qllm.weight' op TENSOR: REASON`, as an MLIR
/// diagnostic would); any other error its own message.
std::string describeQuantizeError(mlir::ModuleOp module, llvm::Error err);

struct TensorChoice {
  std::string sourceName; ///< Name in the input weight file.
  std::string name;       ///< llama.cpp's name in the output GGUF.
  GGMLType from = GGMLType::F32, to = GGMLType::F32;
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
  bool importance = false; ///< Quantized with imatrix weights.
  std::string simulated;   ///< Method mode: the integer format the stored f32 values carry.
  std::optional<quantalgo::IntGroupFormat> intFormat; ///< Stored packed in this format.
  uint64_t simulatedBytes = 0; ///< What that format would store.
};

struct QuantizeReport {
  std::string mix, method;
  double budget = 0;
  bool foldOnly = false;
  std::vector<TensorChoice> tensors;
  uint64_t bytes = 0, elements = 0;
  uint64_t simulatedBytes = 0; ///< Method mode: total bytes were the int format stored.
  int64_t calibrationTokens = 0;
  double seconds = 0;
  double predictedError = -1; ///< Budget mode: the solver's Σ error of the chosen mix.
  /// Budget mode with calibration text: mean KL of the whole chosen mix on the same tokens.
  double measuredError = -1;
  /// llama-quantize's count: 8 × bytes of all tensors ÷ their elements, norms included.
  double bitsPerWeight() const { return elements ? 8.0 * double(bytes) / double(elements) : 0; }
  double simulatedBitsPerWeight() const {
    return elements ? 8.0 * double(simulatedBytes) / double(elements) : 0;
  }
  llvm::json::Object toJSON() const;
  /// toJSON() pretty-printed to `path`, atomically (qcc-quantize --report, qllm-choose-bits).
  llvm::Error writeJSON(llvm::StringRef path) const;
};

/// Quantizes the weights of `module` (whose weight file is `weights`; `tokenizer` may be null
/// unless calibration is needed) as `opts` says and writes opts.ggufPath.
llvm::Expected<QuantizeReport> quantizeModel(mlir::ModuleOp module, const ModelSource &weights,
                                             const Tokenizer *tokenizer,
                                             const QuantizeOptions &opts);
inline llvm::Expected<QuantizeReport> quantizeModel(LoadedModel &m, const QuantizeOptions &opts) {
  return quantizeModel(*m.module, *m.weights, m.tokenizer.get(), opts);
}

/// Points `module` at the GGUF written for `report`: each qllm.weight gets its new name and
/// format, qllm.weights/qllm.tokenizer name the new file, and RoPE becomes interleaved where the
/// writer un-permuted HF's q/k rows.
llvm::Error retargetModule(mlir::ModuleOp module, const QuantizeReport &report,
                           const ModelSource &written);

/// How the caller spells an option in messages, given its tool name ("fold-only"): the tool
/// "--fold-only", Python "fold_only".
using OptionSpelling = llvm::function_ref<std::string(llvm::StringRef)>;

/// The options for quantizeModel (ggufPath included), or the first problem with the request:
/// exactly one of mix, method, budget; known mix and method names; bits 2..8; group 0 or a
/// power of two >= 16; calibration text where the method or imatrix needs it; fold-only only
/// for awq and smoothquant; an output path.
llvm::Expected<QuantizeOptions> checkQuantizeJob(const QuantizeJob &job, OptionSpelling spell);

/// checkQuantizeJob, then loads the input, refuses to overwrite it or its weight file,
/// quantizes, writes the weight file, retargets and verifies the module, writes the report and
/// the module (atomically). On error the weight file is removed and nothing else was written.
llvm::Expected<QuantizeReport> runQuantizeJob(const QuantizeJob &job, OptionSpelling spell);

} // namespace qcc

#endif // QCC_QUANTIZE_QUANTIZEMODEL_H
