//===- QLlmOps.td - qllm operations ------------------------*- tablegen -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMOPS_TD
#define QCC_DIALECT_QLLM_QLLMOPS_TD

include "qcc/Dialect/QLlm/QLlmBase.td"
include "qcc/Dialect/QLlm/QLlmAttrs.td"
include "qcc/Dialect/QLlm/QLlmTypes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Activations: f32 tensors whose last dimension is the feature dimension.
defvar QLlm_Activation = RankedTensorOf<[F32]>;
defvar QLlm_Activation3D = 3DTensorOf<[F32]>;

def QLlm_WeightOp : QLlm_Op<"weight", [Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "a tensor of the module's weight file";
  let description = [{
    ```mlir
    %w = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<64x64, f32>
    ```

    Names a tensor of the weight file recorded in the module's `qllm.weights` attribute (as the
    container spells it). The content is never copied into the IR; it is bound when the module
    is loaded, where the format and shape are checked against the file. Several ops may name the
    same tensor (e.g. tied embeddings); it is one tensor.

    The optional `quantize_to` is a plan, not a fact: the format `qllm-choose-bits` chose for
    this tensor, which `qllm-quantize` (run without a mode) then writes and puts into the type:

    ```mlir
    %w = qllm.weight "blk.0.ffn_down.weight" {quantize_to = #qllm.ggml<q6_K>}
           : !qllm.weight<256x768, f32>
    ```

    It must be a weight format (`#qllm.ggml<...>`, `#qllm.int<...>`) valid for the tensor's
    row length.
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<QLlm_WeightFormatAttrInterface>:$quantize_to);
  let results = (outs QLlm_WeightType:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def QLlm_EmbedOp : QLlm_Op<"embed", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    ```mlir
    %x = qllm.embed %table[%tokens] : !qllm.weight<512x64, f32>, tensor<?x?xi32>
           -> tensor<?x?x64xf32>
    ```

    `result[b, t, :] = dequantize(table[tokens[b, t], :])`. `table` is `[vocab, dim]`; token ids
    must lie in `[0, vocab)` (checked at run time).
  }];
  let arguments = (ins QLlm_WeightType:$table, 2DTensorOf<[I32]>:$tokens);
  let results = (outs QLlm_Activation3D:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` qualified(type($table)) `,` type($tokens) `->`
    type($result)
  }];
  let builders = [
    // Result tensor<BxTxDxf32> with B, T from the tokens and D the table's row length.
    OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$tokens)>
  ];
  let hasVerifier = 1;
}

def QLlm_RMSNormOp : QLlm_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalization with a learned gain";
  let description = [{
    ```mlir
    %y = qllm.rms_norm %x, %gamma {eps = 1.0e-05 : f64} : tensor<?x?x64xf32>, !qllm.weight<64, f32>
    ```

    Over the last dimension D: `y = x / sqrt(mean(x²) + eps) * gamma`. `gamma` is a vector of
    length D; `eps` is positive.
  }];
  let arguments = (ins QLlm_Activation:$input, QLlm_WeightType:$gamma, F64Attr:$eps);
  let results = (outs QLlm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $gamma attr-dict `:` type($input) `,` qualified(type($gamma))
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$gamma, "double":$eps), [{
      build($_builder, $_state, input.getType(), input, gamma, $_builder.getF64FloatAttr(eps));
    }]>
  ];
  let hasVerifier = 1;
}

def QLlm_LinearOp : QLlm_Op<"linear", [Pure]> {
  let summary = "matrix product with a weight, y = x · Wᵀ";
  let description = [{
    ```mlir
    %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<172x64, q8_0> -> tensor<?x?x172xf32>
    ```

    `W` is `[out_features, in_features]`; `y[..., o] = Σ_i x[..., i] · W[o, i]`. The last
    dimension of `x` is `in_features`, the last of `y` is `out_features`; leading dimensions are
    the same.

    With `act_quant = "int8_per_token"` (W8A8, SmoothQuant), each row of `x` is first quantized
    dynamically to int8: `s = max(max|x_row|, 1e-5) / 127`, `x ← clamp(round(x / s), −127, 127) · s`
    (round half to even), as smoothquant's fake_quant.py does.
  }];
  let arguments = (ins QLlm_Activation:$input, QLlm_WeightType:$weight,
                       OptionalAttr<StrAttr>:$act_quant);
  let results = (outs QLlm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` qualified(type($weight)) `->` type($result)
  }];
  let builders = [
    // Result: the input's shape with the last dimension replaced by the weight's rows.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight)>,
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input, "::mlir::Value":$weight), [{
      build($_builder, $_state, result, input, weight, ::mlir::StringAttr());
    }]>
  ];
  let hasVerifier = 1;
}

def QLlm_RopeOp : QLlm_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding";
  let description = [{
    ```mlir
    %y = qllm.rope interleaved %x, %pos {head_dim = 8 : i64, theta = 1.0e+04 : f64}
           : tensor<?x?x64xf32>
    %y = qllm.rope rotate_half %x, %pos freq_factors(%ff : !qllm.weight<64, f32>)
           {head_dim = 128 : i64, theta = 5.0e+05 : f64} : tensor<?x?x4096xf32>
    ```

    The feature dimension is split into heads of `head_dim`; token `t` of the batch sits at
    position `p = pos + t` and pair `i` of each head (see `#qllm.rope_style`) is rotated by the
    angle `p · theta^(-2i/head_dim) / f_i`. The factors `f_i` come from the optional
    `freq_factors` vector (`head_dim/2` floats, GGUF's `rope_freqs.weight` for LLaMA-3.1) or
    from `scaling`; both at once are only allowed with linear scaling (the factors multiply).
  }];
  let arguments = (ins QLlm_Activation3D:$input, Index:$pos,
                       Optional<QLlm_WeightType>:$freq_factors,
                       I64Attr:$head_dim, F64Attr:$theta, QLlm_RopeStyleAttr:$style,
                       OptionalAttr<QLlm_RopeScalingAttr>:$scaling);
  let results = (outs QLlm_Activation3D:$result);
  let assemblyFormat = [{
    `` $style $input `,` $pos (`freq_factors` `(` $freq_factors^ `:` qualified(type($freq_factors))
    `)`)? attr-dict `:` type($input)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input, "::mlir::Value":$pos,
                   "::mlir::Value":$freqFactors, "int64_t":$headDim, "double":$theta,
                   "RopeStyle":$style, CArg<"RopeScalingAttr", "{}">:$scaling), [{
      build($_builder, $_state, result, input, pos, freqFactors,
            $_builder.getI64IntegerAttr(headDim), $_builder.getF64FloatAttr(theta),
            RopeStyleAttr::get($_builder.getContext(), style), scaling);
    }]>,
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$pos, "::mlir::Value":$freqFactors,
                   "int64_t":$headDim, "double":$theta, "RopeStyle":$style,
                   CArg<"RopeScalingAttr", "{}">:$scaling), [{
      build($_builder, $_state, input.getType(), input, pos, freqFactors, headDim, theta, style,
            scaling);
    }]>
  ];
  let hasVerifier = 1;
}

def QLlm_AttentionOp : QLlm_Op<"attention", [AllTypesMatch<["q", "result"]>,
                                             AllTypesMatch<["k", "v"]>]> {
  let summary = "causal grouped-query attention through the KV cache";
  let description = [{
    ```mlir
    %o = qllm.attention %q, %k, %v, %cache, %pos
           {head_dim = 8 : i64, layer = 0 : i64, n_heads = 8 : i64, n_kv_heads = 4 : i64}
           : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x512x8, f32>
    ```

    `q` is `tensor<BxTx(n_heads·head_dim)xf32>`, `k` and `v` are
    `tensor<BxTx(n_kv_heads·head_dim)xf32>`, the result has the type of `q`. For each batch row
    `b`:

    1. writes `k[b, t]` and `v[b, t]` into layer `layer` of the cache at position `pos + t`,
       for t in 0..T-1;
    2. for each token t and query head h, attends over cache positions `0 .. pos + t`
       (causal) of kv head `h / (n_heads / n_kv_heads)`:
       `out[b, t, h] = Σ_j softmax_j(q[b, t, h] · K[j] / sqrt(head_dim)) · V[j]`.

    Positions `pos .. pos+T-1` must lie below the cache's `max_seq` (checked at run time).
    The op reads and writes the cache (memory effects on that operand), so it is never folded
    away or reordered with other cache users.
  }];
  let arguments = (ins QLlm_Activation3D:$q, QLlm_Activation3D:$k, QLlm_Activation3D:$v,
                       Arg<QLlm_KVCacheType, "the key/value cache", [MemRead, MemWrite]>:$cache,
                       Index:$pos,
                       I64Attr:$layer, I64Attr:$n_heads, I64Attr:$n_kv_heads, I64Attr:$head_dim);
  let results = (outs QLlm_Activation3D:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $cache `,` $pos attr-dict `:` type($q) `,` type($k) `,`
    qualified(type($cache))
  }];
  let hasVerifier = 1;
}

def QLlm_SwiGLUOp : QLlm_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "gated activation of LLaMA's feed-forward, silu(gate) ⊙ up";
  let description = [{
    ```mlir
    %y = qllm.swiglu %gate, %up : tensor<?x?x172xf32>
    ```

    Elementwise `y = gate · sigmoid(gate) · up`.
  }];
  let arguments = (ins QLlm_Activation:$gate, QLlm_Activation:$up);
  let results = (outs QLlm_Activation:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def QLlm_AddOp : QLlm_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "residual addition";
  let description = [{
    ```mlir
    %y = qllm.add %x, %h : tensor<?x?x64xf32>
    ```

    Elementwise `y = lhs + rhs`.
  }];
  let arguments = (ins QLlm_Activation:$lhs, QLlm_Activation:$rhs);
  let results = (outs QLlm_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

#endif // QCC_DIALECT_QLLM_QLLMOPS_TD
