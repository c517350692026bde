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

def QLlmQuantize : Pass<"qllm-quantize", "::mlir::ModuleOp"> {
  let summary = "Quantize the model's weights into a new GGUF and retarget the module to it";
  let description = [{
    The pass form of `qcc-quantize`: reads the weight file named by `qllm.weights` (size and
    fingerprint checked), chooses formats (`mix=`, `method=` with `bits/group/asym`, or
    `budget=`), calibrates on `calib=` text when the choice needs it (imatrix, GPTQ, AWQ,
    SmoothQuant, budget sensitivities), writes `weights-out=` (a GGUF with llama.cpp's names,
    types and metadata; atomic) and rewrites every `qllm.weight` to its new name and format and
    the module's `qllm.weights`/`qllm.tokenizer` to the new file. See docs/Quantization.md.

    ```
    qcc-opt model.mlir --qllm-quantize="mix=q4_k_m weights-out=model-q4km.gguf" -o model-q4km.mlir
    ```

    Writing a file is this pass's purpose; it refuses to overwrite the module's own weight file.
  }];
  let options = [
    Option<"mix", "mix", "std::string", "\"\"", "llama.cpp mix (q4_k_m, q8_0, ...)">,
    Option<"method", "method", "std::string", "\"\"", "rtn | gptq | awq | smoothquant">,
    Option<"bits", "bits", "int", "4", "Method: bits per weight (2..8)">,
    Option<"group", "group", "int64_t", "128", "Method: group size (0 = per channel)">,
    Option<"asym", "asym", "bool", "false", "Method: asymmetric groups">,
    Option<"budget", "budget", "double", "0", "Bits-per-weight budget for the solver">,
    Option<"imatrix", "imatrix", "bool", "false", "Weight the quantizers by calibration importance">,
    Option<"calib", "calib", "std::string", "\"\"", "Calibration text file">,
    Option<"calibSamples", "calib-samples", "int64_t", "128", "Calibration windows">,
    Option<"calibSeqlen", "calib-seqlen", "int64_t", "256", "Calibration window length">,
    Option<"weightsOut", "weights-out", "std::string", "\"\"", "The GGUF to write (required)">
  ];
}

#endif // QCC_TRANSFORMS_PASSES_TD
