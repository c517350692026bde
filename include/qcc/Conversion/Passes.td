//===- Passes.td - qcc conversion passes -------------------*- tablegen -*-===//
#ifndef QCC_CONVERSION_PASSES_TD
#define QCC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQLlmToLLVM : Pass<"convert-qllm-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Lower a qllm model's @forward to LLVM glue calling the generated kernels";
  let description = [{
    Turns the module's `func.func @forward` into the glue of an executable
    (`include/qcc/Codegen/qcc_rt.h` is the ABI): one
    `llvm.func @qcc_forward(%ctx: !llvm.ptr, %tokens: !llvm.ptr, %logits: !llvm.ptr) -> i32`
    that calls, in program order, the C runtime's entries (`qcc_rt_embed`, `qcc_rt_matmul`,
    `qcc_rt_rms_norm`, `qcc_rt_rope`, `qcc_rt_attention`, `qcc_rt_swiglu`, `qcc_rt_add`),
    each with the address of its Halide kernel (named by `codegen::KernelKey::functionName`
    for the target, exactly the kernels `qcc --list-kernels` lists: a linear passes its
    decode kernel (batch 1) and its prefill kernel (dynamic batch)), plus the model's
    constant tables:

    | symbol | contents |
    |---|---|
    | `qcc_model_info` | i64 facts indexed by `enum qcc_info_index` |
    | `qcc_model_strings` | name, qcc target, Halide target, tokenizer path and kind |
    | `qcc_weight_table` | per weight: file, offset, bytes, ggml type, elements |
    | `qcc_weight_names`, `qcc_weight_formats` | per weight: name, format (`q4_K`, `int4_g128_sym`) |
    | `qcc_file_paths`, `qcc_file_sizes` | weight files |
    | `qcc_slot_widths` | floats per token of each activation slot |

    Activations live in slots: each value of @forward gets a slot of its feature width when
    it is produced and gives it back after its last use (an op's result never shares a slot
    with its operands); the returned logits are written straight into `%logits`. Weights are
    resolved here, by name, in the module's weight file (`qllm.weights`, opened and checked
    like every pass does): the table holds each tensor's offset and size in that file, so the
    executable maps the file and reads no container format. With `embed-weights` the offsets
    are instead into one blob (the used tensors in first-use order, each aligned to 64 bytes)
    that `qcc --embed-weights` links in as `qcc_weight_blob`. RoPE frequency factors
    (`rope_freqs` weights, llama3 or linear scaling) are computed here and emitted as constant
    arrays. The `qllm.*` module attributes are dropped: the result is plain LLVM dialect, ready
    for `mlir-translate --mlir-to-llvmir`.

    Errors: a module without `@forward`, an op with no kernel lowering, a weight format with no
    kernel, or a weight missing from (or of another size in) the weight file are diagnostics on
    the op concerned.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"x86-64\"",
           "qcc target: x86-64, x86-64-avx2, x86-64-avx512, aarch64 or cuda">,
    Option<"embedWeights", "embed-weights", "bool", /*default=*/"false",
           "Offsets into an embedded weight blob instead of the weight file">,
    Option<"actQuant", "act-quant", "std::string", /*default=*/"\"none\"",
           "Decode GEMV activations: none (float) or q8 (int8 per 32 columns, integer dot "
           "products, for the formats that have such a kernel; KernelKey::q8Activations); "
           "q8-all: q8, and prefill matmuls run through the q8 kernels too">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // QCC_CONVERSION_PASSES_TD
