//===- Passes.td - qcc passes ------------------------------*- tablegen -*-===//
#ifndef QCC_TRANSFORMS_PASSES_TD
#define QCC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QLlmSummary : Pass<"qllm-summary", "::mlir::ModuleOp"> {
  let summary = "Report the size and bits per weight of a qllm model";
  let description = [{
    Emits one remark on the module:

    ```
    model <name>: <n> tensors, <elements> weights, <bytes> bytes, <bpw> bits/weight;
    <format>: <n> tensors, <elements> weights, <bytes> bytes, <bpw> bits/weight; ...
    ```

    with the formats sorted by name. Counts are over distinct tensor names of `qllm.weight`
    ops (a tied embedding counts once), norms and embeddings included, and bits per weight is
    8 × bytes / elements, as llama-quantize reports it. The model name comes from the module's
    `qllm.config`; a module without one is an error.

    With `json-file=PATH` the same summary is also written to PATH as JSON (through a temporary
    file renamed into place, so readers never see a partial file):

    ```json
    {"model": "...", "tensors": 12, "weights": 1024, "bytes": 4096, "bits_per_weight": 32.0,
     "formats": {"f32": {"tensors": 12, "weights": 1024, "bytes": 4096,
                         "bits_per_weight": 32.0}}}
    ```

    The IR is not changed.
  }];
  let options = [
    Option<"jsonFile", "json-file", "std::string", /*default=*/"\"\"",
           "Also write the summary as JSON to this file">
  ];
}

def QLlmCalibrate : Pass<"qllm-calibrate", "::mlir::ModuleOp"> {
  let summary = "Measure per-linear input statistics on calibration text";
  let description = [{
    Runs the model (reference executor) over `calib-samples` windows of `calib-seqlen` tokens at
    seeded random offsets of `calib=` text (GPTQ's loader) and records, for the input of every
    `qllm.linear`: Σx² and the token count (the importance matrix), Σ|x| and max|x| per channel,
    with `xtx=true` XᵀX (GPTQ's Hessian), with `sample-rows=N` the first N input rows (AWQ's
    search data). Writes them to `stats-out=` (a GGUF that llama.cpp also reads as an imatrix;
    layout in `qcc/Exec/CalibrationFile.h`) and records the file in the module attribute
    `qllm.calibration`, which `qllm-choose-bits`, `qllm-fold-scales` and `qllm-quantize` use
    instead of calibrating again:

    ```
    qcc-opt m.mlir --qllm-calibrate="calib=train.txt xtx=true stats-out=m.calib.gguf" \
                   --qllm-quantize="method=gptq bits=3 weights-out=m-gptq.gguf"
    ```

    The statistics name the weight file they were measured on; passes that change the weights
    drop the attribute.
  }];
  let options = [
    Option<"calib", "calib", "std::string", "\"\"", "Calibration text file">,
    Option<"calibSamples", "calib-samples", "int64_t", "128", "Calibration windows">,
    Option<"calibSeqlen", "calib-seqlen", "int64_t", "256", "Calibration window length">,
    Option<"seed", "seed", "uint64_t", "0", "Window-offset seed">,
    Option<"xtx", "xtx", "bool", "false", "Also record XᵀX (cols² per input)">,
    Option<"sampleRows", "sample-rows", "int64_t", "0", "Also record this many input rows">,
    Option<"statsOut", "stats-out", "std::string", "\"\"", "The statistics file to write (required)">
  ];
}

def QLlmFoldScales : Pass<"qllm-fold-scales", "::mlir::ModuleOp"> {
  let summary = "Fold AWQ or SmoothQuant per-channel scales into the previous ops";
  let description = [{
    Computes per-input-channel scales s for the decoder's linears from the calibration
    statistics (`qllm.calibration`, else `calib=` text) and rewrites the weights without changing
    the function: the linears' columns × s, and 1/s folded into the op that produces their input —
    the RMSNorm weight before q/k/v and gate/up, the rows of v before o (without GQA), the rows of
    up before down (AWQ). `method=awq` searches s per the AWQ paper for the integer format
    `bits/group/asym` it will be quantized to; `method=smoothquant` uses
    s = max|x|^α / max|w|^(1−α) (before q/k/v and gate/up). The changed tensors are stored f32 in
    `weights-out=`; the module is retargeted, marked `qllm.scales_folded = "<method>"`, and its
    calibration statistics dropped (they describe the old inputs).

    Function-preserving (tests compare logits to 1e-5). A later `qllm-quantize` with the same
    method only rounds (SmoothQuant) or searches the clipping and rounds (AWQ).
  }];
  let options = [
    Option<"method", "method", "std::string", "\"\"", "awq | smoothquant">,
    Option<"bits", "bits", "int", "4", "AWQ: bits of the target format">,
    Option<"group", "group", "int64_t", "128", "AWQ: group size of the target format">,
    Option<"asym", "asym", "bool", "false", "AWQ: asymmetric target format">,
    Option<"alpha", "alpha", "double", "0.5", "SmoothQuant: migration strength">,
    Option<"calib", "calib", "std::string", "\"\"", "Calibration text file">,
    Option<"calibSamples", "calib-samples", "int64_t", "128", "Calibration windows">,
    Option<"calibSeqlen", "calib-seqlen", "int64_t", "256", "Calibration window length">,
    Option<"weightsOut", "weights-out", "std::string", "\"\"", "The GGUF to write (required)">
  ];
}

def QLlmChooseBits : Pass<"qllm-choose-bits", "::mlir::ModuleOp"> {
  let summary = "Choose every weight's format: a bits-per-weight budget or a llama.cpp mix";
  let description = [{
    Plans, without writing weights: sets `quantize_to` on every `qllm.weight` that changes
    format; `qllm-quantize` (no mode) then carries the plan out.

    `budget=<bpw>`: each 2-D weight gets one llama.cpp format (k-quants where the row is a
    multiple of 256, else the 32-blocks) so that the model's bits per weight (8 × bytes /
    elements, norms and embeddings included, as llama-quantize counts) is at most the budget and
    the summed sensitivity is least (exact multiple-choice knapsack). Sensitivity of a tensor to
    a format: the mean KL divergence of the next-token distribution when only that tensor is
    quantized, over `sensitivity-tokens` tokens of `calib=` text; without text, the weight error
    weighted by the importance matrix of `qllm.calibration` if present. The formats are quantized
    with that importance matrix when there is one. Emits a remark with the predicted (Σ
    per-tensor KL) and measured (whole mix, same tokens) KL and the resulting size.

    `mix=<name>`: llama-quantize's per-tensor rules for that mix (q4_k_m, q3_k_s, ...).
  }];
  let options = [
    Option<"budget", "budget", "double", "0", "Bits-per-weight budget">,
    Option<"mix", "mix", "std::string", "\"\"", "llama.cpp mix (q4_k_m, q8_0, ...)">,
    Option<"sensitivityTokens", "sensitivity-tokens", "int64_t", "512",
           "Calibration tokens per sensitivity measurement">,
    Option<"calib", "calib", "std::string", "\"\"", "Calibration text file">,
    Option<"calibSamples", "calib-samples", "int64_t", "128", "Calibration windows">,
    Option<"calibSeqlen", "calib-seqlen", "int64_t", "256", "Calibration window length">,
    Option<"reportFile", "report", "std::string", "\"\"", "Also write the choice as JSON here">
  ];
}

def QLlmQuantize : Pass<"qllm-quantize", "::mlir::ModuleOp"> {
  let summary = "Quantize the model's weights into a new GGUF and retarget the module to it";
  let description = [{
    The pass form of `qcc-quantize`: reads the weight file named by `qllm.weights` (size and
    fingerprint checked), chooses formats (`mix=`, `method=` with `bits/group/asym`, or
    `budget=`; with none of them, the `quantize_to` formats `qllm-choose-bits` planned),
    calibrates when the choice needs it (imatrix, GPTQ, AWQ, SmoothQuant, budget sensitivities)
    — from `qllm.calibration` if the module has it, else on `calib=` text — writes
    `weights-out=` (a GGUF with llama.cpp's names, types and metadata; atomic) and rewrites every
    `qllm.weight` to its new name and format and the module's `qllm.weights`/`qllm.tokenizer` to
    the new file. See docs/Quantization.md.

    ```
    qcc-opt model.mlir --qllm-quantize="mix=q4_k_m weights-out=model-q4km.gguf" -o model-q4km.mlir
    ```

    Writing a file is this pass's purpose; it refuses to overwrite the module's own weight file.
    Errors about one tensor (a group that does not divide its rows, bits out of range) are
    reported on its `qllm.weight`.
  }];
  let options = [
    Option<"mix", "mix", "std::string", "\"\"", "llama.cpp mix (q4_k_m, q8_0, ...)">,
    Option<"method", "method", "std::string", "\"\"", "rtn | gptq | awq | smoothquant">,
    Option<"bits", "bits", "int", "4", "Method: bits per weight (2..8)">,
    Option<"group", "group", "int64_t", "128", "Method: group size (0 = per channel)">,
    Option<"asym", "asym", "bool", "false", "Method: asymmetric groups">,
    Option<"actOrder", "act-order", "bool", "false", "GPTQ: columns by decreasing H_ii">,
    Option<"budget", "budget", "double", "0", "Bits-per-weight budget for the solver">,
    Option<"imatrix", "imatrix", "bool", "false", "Weight the quantizers by calibration importance">,
    Option<"calib", "calib", "std::string", "\"\"", "Calibration text file">,
    Option<"calibSamples", "calib-samples", "int64_t", "128", "Calibration windows">,
    Option<"calibSeqlen", "calib-seqlen", "int64_t", "256", "Calibration window length">,
    Option<"weightsOut", "weights-out", "std::string", "\"\"", "The GGUF to write (required)">
  ];
}

#endif // QCC_TRANSFORMS_PASSES_TD
