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

#endif // QCC_TRANSFORMS_PASSES_TD
