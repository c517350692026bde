//===- QLlmAttrs.td - qllm enums and attributes ------------*- tablegen -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMATTRS_TD
#define QCC_DIALECT_QLLM_QLLMATTRS_TD

include "qcc/Dialect/QLlm/QLlmBase.td"
include "qcc/Dialect/QLlm/QLlmInterfaces.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

// A double held as an APFloat; parsed from any float literal, printed so it round-trips.
class QLlm_F64<string desc> : AttrOrTypeParameter<"::llvm::APFloat", desc> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
      double value;
      if ($_parser.parseFloat(value))
        return ::mlir::failure();
      return ::llvm::APFloat(value);
    }() }];
}

// An int64_t with its meaning.
class QLlm_Int<string desc> : AttrOrTypeParameter<"int64_t", desc>;

// A bool spelled `true` / `false`.
class QLlm_Bool<string desc> : AttrOrTypeParameter<"bool", desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
      if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
        return true;
      if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
        return false;
      (void)$_parser.emitError($_parser.getCurrentLocation(), "expected 'true' or 'false'");
      return ::mlir::failure();
    }() }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

// Values are ggml's type ids, so a GGUF tensor's type converts by a cast.
def QLlm_GGMLFormat : I32EnumAttr<"GGMLFormat", "llama.cpp (ggml) tensor storage format", [
    I32EnumAttrCase<"f32", 0>, I32EnumAttrCase<"f16", 1>, I32EnumAttrCase<"q4_0", 2>,
    I32EnumAttrCase<"q4_1", 3>, I32EnumAttrCase<"q5_0", 6>, I32EnumAttrCase<"q5_1", 7>,
    I32EnumAttrCase<"q8_0", 8>, I32EnumAttrCase<"q2_K", 10>, I32EnumAttrCase<"q3_K", 11>,
    I32EnumAttrCase<"q4_K", 12>, I32EnumAttrCase<"q5_K", 13>, I32EnumAttrCase<"q6_K", 14>,
    I32EnumAttrCase<"q8_K", 15>, I32EnumAttrCase<"iq4_nl", 20>, I32EnumAttrCase<"bf16", 30>]> {
  let cppNamespace = "::qcc::qllm";
  let genSpecializedAttr = 0;
}

def QLlm_RopeStyle : I32EnumAttr<"RopeStyle", "which pairs RoPE rotates inside a head", [
    I32EnumAttrCase<"interleaved", 0>, I32EnumAttrCase<"rotate_half", 1>]> {
  let cppNamespace = "::qcc::qllm";
  let genSpecializedAttr = 0;
}

def QLlm_RopeScalingKind : I32EnumAttr<"RopeScalingKind", "RoPE frequency scaling", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"linear", 1>, I32EnumAttrCase<"llama3", 2>]> {
  let cppNamespace = "::qcc::qllm";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Weight formats
//===----------------------------------------------------------------------===//

def QLlm_GGMLFormatAttr : EnumAttr<QLlm_Dialect, QLlm_GGMLFormat, "ggml", [
    DeclareAttrInterfaceMethods<QLlm_WeightFormatAttrInterface>]> {
  let summary = "a llama.cpp (ggml) block format";
  let description = [{
    One of llama.cpp's storage formats, e.g. `#qllm.ggml<q4_K>`. Blocks run along the row:

    | format | block size | block bytes | bits/weight |
    |--------|-----------:|------------:|------------:|
    | f32    | 1   | 4   | 32    |
    | f16    | 1   | 2   | 16    |
    | bf16   | 1   | 2   | 16    |
    | q4_0   | 32  | 18  | 4.5   |
    | q4_1   | 32  | 20  | 5     |
    | q5_0   | 32  | 22  | 5.5   |
    | q5_1   | 32  | 24  | 6     |
    | q8_0   | 32  | 34  | 8.5   |
    | q2_K   | 256 | 84  | 2.625 |
    | q3_K   | 256 | 110 | 3.4375 |
    | q4_K   | 256 | 144 | 4.5   |
    | q5_K   | 256 | 176 | 5.5   |
    | q6_K   | 256 | 210 | 6.5625 |
    | q8_K   | 256 | 292 | 9.125 |
    | iq4_nl | 32  | 18  | 4.5   |

    The enum values are ggml's type ids. Inside `!qllm.weight` the format is written as the bare
    keyword: `!qllm.weight<768x256, q4_K>`.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def QLlm_IntGroupFormatAttr : AttrDef<QLlm_Dialect, "IntGroupFormat", [
    DeclareAttrInterfaceMethods<QLlm_WeightFormatAttrInterface, ["getStorageBytes"]>]> {
  let mnemonic = "int";
  let summary = "a generic b-bit integer format with per-group f16 scale (and zero point)";
  let description = [{
    The format the calibration algorithms (RTN, GPTQ, AWQ) write, e.g.
    `#qllm.int<bits = 3, group = 128, sym = false>`:

    * `bits`: code width, 2..8.
    * `group`: consecutive columns of a row sharing one scale (and zero point); a power of two
      ≥ 16, or 0 for one group per row (per output channel).
    * `sym`: `true` stores only an f16 scale per group (zero fixed at 2^(bits-1)); `false` also
      stores an f16 zero point.

    Every row is one byte span (see `qcc/QuantAlgo/IntGroup.h`): the groups' f16 parameters,
    then the codes as an LSB-first bit stream of `ceil(row_len × bits / 8)` bytes:

    `row_bytes = groups × (sym ? 2 : 4) + ceil(row_len × bits / 8)`

    so `#qllm.int<bits = 4, group = 128, sym = false>` takes 4.25 bits/weight, and
    `#qllm.int<bits = 4, group = 0, sym = true>` on a 4096-wide row 4.004. Inside `!qllm.weight`
    the format is written in full: `!qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = true>>`.

    As a `WeightFormatAttrInterface`: the block is one group (`group` weights, its parameters
    and its `group × bits / 8` code bytes, whole since `group` is a multiple of 8), so a row's
    length must be a multiple of `group`. A per-channel format has block size 1 and any row
    length; its per-row parameters belong to no block, so its block bytes (`ceil(bits / 8)`)
    are only a nominal figure and `getStorageBytes` is the one exact size for every format.
    Format names read `int3_g128_asym`, `int4_ch_sym`.
  }];
  let parameters = (ins QLlm_Int<"code width in bits, 2..8">:$bits,
                        QLlm_Int<"columns per group; 0 = one group per row">:$group,
                        QLlm_Bool<"symmetric (scale only) or asymmetric (scale and zero)">:$sym);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "const ::qcc::quantalgo::IntGroupFormat &":$format), [{
      return $_get($_ctxt, int64_t(format.bits), format.groupSize, format.symmetric);
    }]>
  ];
  let extraClassDeclaration = [{
    /// The MLIR-free description the quantizers in qcc/QuantAlgo take.
    ::qcc::quantalgo::IntGroupFormat getFormat() const {
      return ::qcc::quantalgo::IntGroupFormat{int(getBits()), getGroup(), getSym()};
    }
    bool isPerChannel() const { return getGroup() == 0; }
  }];
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

def QLlm_RopeStyleAttr : EnumAttr<QLlm_Dialect, QLlm_RopeStyle, "rope_style"> {
  let summary = "which pairs RoPE rotates inside a head";
  let description = [{
    * `interleaved`: pairs (2i, 2i+1) inside each head, as llama2.c and GGUF's llama.
    * `rotate_half`: pairs (i, i + head_dim/2), as HF transformers and GPT-NeoX.

    Pair i rotates by `pos * theta^(-2i/head_dim)` in both styles.
  }];
}

def QLlm_RopeScalingAttr : AttrDef<QLlm_Dialect, "RopeScaling"> {
  let mnemonic = "rope_scaling";
  let summary = "RoPE frequency scaling for long contexts";
  let description = [{
    ```mlir
    #qllm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0,
                       high_freq_factor = 4.0, original_max_position = 8192>
    ```

    * `linear`: every frequency is divided by `factor` (position interpolation).
    * `llama3`: LLaMA-3.1's band-wise scaling: wavelengths longer than
      `original_max_position / low_freq_factor` are divided by `factor`, those shorter than
      `original_max_position / high_freq_factor` are kept, and the band between is interpolated
      smoothly.
    * `none`: no scaling (the other fields are ignored).
  }];
  let parameters = (ins EnumParameter<QLlm_RopeScalingKind>:$kind,
                        QLlm_F64<"frequency divisor">:$factor,
                        QLlm_F64<"llama3: low-frequency band edge">:$low_freq_factor,
                        QLlm_F64<"llama3: high-frequency band edge">:$high_freq_factor,
                        QLlm_Int<"llama3: original training context">:$original_max_position);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "RopeScalingKind":$kind, "double":$factor, "double":$lowFreqFactor,
                     "double":$highFreqFactor, "int64_t":$originalMaxPosition), [{
      return $_get($_ctxt, kind, ::llvm::APFloat(factor), ::llvm::APFloat(lowFreqFactor),
                   ::llvm::APFloat(highFreqFactor), originalMaxPosition);
    }]>
  ];
}

//===----------------------------------------------------------------------===//
// Module attributes
//===----------------------------------------------------------------------===//

def QLlm_ModelConfigAttr : AttrDef<QLlm_Dialect, "ModelConfig"> {
  let mnemonic = "config";
  let summary = "hyper-parameters of a LLaMA-family model (module attribute `qllm.config`)";
  let description = [{
    ```mlir
    module attributes {qllm.config = #qllm.config<arch = "llama", name = "stories260K",
        dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8,
        vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved,
        norm_eps = 1.0e-05, tied_embeddings = true>} { ... }
    ```

    `rope_scaling` is optional. The verifier checks that all sizes are positive, that
    `n_heads` is a multiple of `n_kv_heads`, that `head_dim` is even and that `rope_theta` and
    `norm_eps` are positive.
  }];
  let parameters = (ins StringRefParameter<"architecture (\"llama\")">:$arch,
                        StringRefParameter<"model name">:$name,
                        QLlm_Int<"model (residual stream) width">:$dim,
                        QLlm_Int<"feed-forward hidden width">:$ffn_dim,
                        QLlm_Int<"number of decoder layers">:$n_layers,
                        QLlm_Int<"number of query heads">:$n_heads,
                        QLlm_Int<"number of key/value heads">:$n_kv_heads,
                        QLlm_Int<"width of one head">:$head_dim,
                        QLlm_Int<"number of tokens">:$vocab_size,
                        QLlm_Int<"longest context">:$max_seq_len,
                        QLlm_F64<"RoPE base">:$rope_theta,
                        EnumParameter<QLlm_RopeStyle>:$rope_style,
                        OptionalParameter<"::qcc::qllm::RopeScalingAttr",
                                          "long-context RoPE scaling, if any">:$rope_scaling,
                        QLlm_F64<"RMSNorm epsilon">:$norm_eps,
                        QLlm_Bool<"output head shares the embedding">:$tied_embeddings);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::llvm::StringRef":$arch, "::llvm::StringRef":$name, "int64_t":$dim,
                     "int64_t":$ffnDim, "int64_t":$nLayers, "int64_t":$nHeads,
                     "int64_t":$nKVHeads, "int64_t":$headDim, "int64_t":$vocabSize,
                     "int64_t":$maxSeqLen, "double":$ropeTheta, "RopeStyle":$ropeStyle,
                     "RopeScalingAttr":$ropeScaling, "double":$normEps,
                     "bool":$tiedEmbeddings), [{
      return $_get($_ctxt, arch, name, dim, ffnDim, nLayers, nHeads, nKVHeads, headDim,
                   vocabSize, maxSeqLen, ::llvm::APFloat(ropeTheta), ropeStyle, ropeScaling,
                   ::llvm::APFloat(normEps), tiedEmbeddings);
    }]>
  ];
  let extraClassDeclaration = [{
    /// Feature width of the query projection, n_heads × head_dim.
    int64_t getQueryDim() const { return getNHeads() * getHeadDim(); }
    /// Feature width of the key and value projections, n_kv_heads × head_dim.
    int64_t getKVDim() const { return getNKvHeads() * getHeadDim(); }
  }];
}

def QLlm_WeightFileAttr : AttrDef<QLlm_Dialect, "WeightFile"> {
  let mnemonic = "weight_file";
  let summary = "the file holding a model's weights (module attribute `qllm.weights`)";
  let description = [{
    ```mlir
    #qllm.weight_file<path = "/models/stories260K.gguf", container = "gguf", size = 1185376,
                      fingerprint = "xxh3:9b2f...">
    ```

    `container` is one of `gguf`, `safetensors`, `llama2c`. `size` (bytes) and `fingerprint`
    (a hash of the content, `algorithm:hex`) are checked when the weights are loaded.
  }];
  let parameters = (ins StringRefParameter<"path of the weight file">:$path,
                        StringRefParameter<"gguf, safetensors or llama2c">:$container,
                        QLlm_Int<"file size in bytes">:$size,
                        StringRefParameter<"content hash, algorithm:hex">:$fingerprint);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def QLlm_TokenizerAttr : AttrDef<QLlm_Dialect, "Tokenizer"> {
  let mnemonic = "tokenizer";
  let summary = "the model's tokenizer (module attribute `qllm.tokenizer`)";
  let description = [{
    ```mlir
    #qllm.tokenizer<path = "/models/tok512.bin", kind = "llama2c">
    ```

    `kind` is one of `gguf` (the vocabulary inside the GGUF file), `llama2c` (llama2.c's
    `tokenizer.bin`), `sentencepiece` (a `tokenizer.model`) and `tiktoken`.
  }];
  let parameters = (ins StringRefParameter<"path of the tokenizer file">:$path,
                        StringRefParameter<"gguf, llama2c, sentencepiece or tiktoken">:$kind);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def QLlm_CalibrationFileAttr : AttrDef<QLlm_Dialect, "CalibrationFile"> {
  let mnemonic = "calibration";
  let summary = "calibration statistics of the model (module attribute `qllm.calibration`)";
  let description = [{
    ```mlir
    #qllm.calibration<path = "/tmp/model.calib.gguf", size = 181344,
                      fingerprint = "xxh3:...", weights = "xxh3:...", tokens = 4096>
    ```

    Written by `qllm-calibrate`: a GGUF holding, per input of the model's linears, Σx² and the
    token count (llama.cpp's imatrix tensors `<weight>.in_sum2` / `<weight>.counts`), Σ|x| and
    max|x| per channel, and optionally XᵀX and sample rows. `size` and `fingerprint` are the
    statistics file's; `weights` is the fingerprint of the weight file they were measured on
    (passes refuse statistics of other weights); `tokens` the calibration tokens seen.
  }];
  let parameters = (ins StringRefParameter<"path of the statistics file">:$path,
                        QLlm_Int<"file size in bytes">:$size,
                        StringRefParameter<"content hash of the statistics file">:$fingerprint,
                        StringRefParameter<"content hash of the weights measured">:$weights,
                        QLlm_Int<"calibration tokens">:$tokens);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // QCC_DIALECT_QLLM_QLLMATTRS_TD
