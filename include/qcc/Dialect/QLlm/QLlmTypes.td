//===- QLlmTypes.td - qllm types ---------------------------*- tablegen -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMTYPES_TD
#define QCC_DIALECT_QLLM_QLLMTYPES_TD

include "qcc/Dialect/QLlm/QLlmBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def QLlm_WeightType : TypeDef<QLlm_Dialect, "Weight"> {
  let mnemonic = "weight";
  let summary = "a weight tensor in its storage format";
  let description = [{
    ```mlir
    !qllm.weight<64, f32>          // a norm's gain vector
    !qllm.weight<768x256, q4_K>    // a matrix [out_features, in_features]
    !qllm.weight<768x256, #qllm.int<bits = 3, group = 128, sym = false>>   // GPTQ-style
    ```

    `shape` is the logical row-major shape, static, rank 1 (norms, RoPE factors) or 2
    (`[out_features, in_features]`, PyTorch order). `format` is any attribute implementing
    `WeightFormatAttrInterface`; a `#qllm.ggml<...>` format is written as its bare keyword.
    The row length (last dimension) must be a multiple of the format's block size (for
    `#qllm.int`, its group; any length for a per-channel `group = 0`).
  }];
  let parameters = (ins ArrayRefParameter<"int64_t", "logical shape, last dim the row">:$shape,
                        AttrOrTypeParameter<"::mlir::Attribute",
                                            "a WeightFormatAttrInterface attribute">:$format);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The format as the interface every weight format implements.
    WeightFormatAttrInterface getFormatInterface() const {
      return ::mlir::cast<WeightFormatAttrInterface>(getFormat());
    }
    int64_t getRank() const { return getShape().size(); }
    /// Number of rows: the product of all dimensions but the last (1 for a vector).
    int64_t getNumRows() const;
    /// Length of the contiguous row: the last dimension.
    int64_t getRowLength() const { return getShape().back(); }
    int64_t getNumElements() const;
    /// Bytes the tensor takes in its format (rows × row_len/block × block_bytes).
    int64_t getStorageBytes() const;
  }];
}

def QLlm_KVCacheType : TypeDef<QLlm_Dialect, "KVCache"> {
  let mnemonic = "kv_cache";
  let summary = "the key/value cache of every layer";
  let description = [{
    ```mlir
    !qllm.kv_cache<5x4x512x8, f32>   // layers × kv_heads × max_seq × head_dim, element type
    ```

    Holds keys and values (both of this shape) for every batch row; the batch size is a
    property of the runtime instance, not of the type. The element type is `f32` or `f16`.
    `qllm.attention` reads and writes it.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t",
                                          "layers x kv_heads x max_seq x head_dim">:$shape,
                        AttrOrTypeParameter<"::mlir::Type", "f32 or f16">:$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumLayers() const { return getShape()[0]; }
    int64_t getNumKVHeads() const { return getShape()[1]; }
    int64_t getMaxSeqLen() const { return getShape()[2]; }
    int64_t getHeadDim() const { return getShape()[3]; }
  }];
}

#endif // QCC_DIALECT_QLLM_QLLMTYPES_TD
