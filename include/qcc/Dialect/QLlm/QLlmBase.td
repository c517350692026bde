//===- QLlmBase.td - qllm dialect definition ---------------*- tablegen -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMBASE_TD
#define QCC_DIALECT_QLLM_QLLMBASE_TD

include "mlir/IR/OpBase.td"

def QLlm_Dialect : Dialect {
  let name = "qllm";
  let cppNamespace = "::qcc::qllm";
  let summary = "LLaMA-family decoder models with quantized weights";
  let description = [{
    The `qllm` dialect describes a LLaMA-family decoder (RMSNorm, RoPE, grouped-query attention
    with a KV cache, SwiGLU) at the granularity of whole layers' building blocks, with weights
    kept in their storage format.

    Conventions:

    * Weight shapes are logical row-major `[out_features, in_features]` (PyTorch order; GGUF's
      `ne` order is the reverse). The last dimension is the contiguous row, along which
      quantization blocks run.
    * Activations are `tensor<BxTxDxf32>`: batch, sequence, features. `B` and `T` are usually
      dynamic.
    * A weight's format is any attribute implementing `WeightFormatAttrInterface`; llama.cpp's
      block formats are `#qllm.ggml<...>`. New formats are new attributes, the weight type does
      not change.
    * Weights are never embedded in the IR: `qllm.weight` names a tensor of the module's weight
      file (`qllm.weights` module attribute).

    A model is a module carrying `qllm.config`, `qllm.weights` and (optionally)
    `qllm.tokenizer`, with a function

    ```mlir
    func.func @forward(%tokens: tensor<?x?xi32>, %pos: index,
                       %cache: !qllm.kv_cache<LxHkvxSxDh, f32>) -> tensor<?x?xVxf32>
    ```

    built from the ops below.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Names of the discardable module attributes this dialect defines.
    static constexpr ::llvm::StringLiteral kConfigAttrName = "qllm.config";
    static constexpr ::llvm::StringLiteral kWeightsAttrName = "qllm.weights";
    static constexpr ::llvm::StringLiteral kTokenizerAttrName = "qllm.tokenizer";
    static constexpr ::llvm::StringLiteral kCalibrationAttrName = "qllm.calibration";
    /// "awq" or "smoothquant": that method's scales are already folded into the weights.
    static constexpr ::llvm::StringLiteral kFoldedAttrName = "qllm.scales_folded";

  private:
    // Defined next to the generated storage classes (QLlmAttrs.cpp, QLlmTypes.cpp).
    void registerAttributes();
    void registerTypes();

  public:
  }];
}

class QLlm_Op<string mnemonic, list<Trait> traits = []>
    : Op<QLlm_Dialect, mnemonic, traits>;

#endif // QCC_DIALECT_QLLM_QLLMBASE_TD
