//===- Mixes.h - llama-quantize's per-tensor type rules ("named mixes") ------===//
//
// A named mix ("q4_k_m", "q3_k_s", "q8_0", ...) is llama-quantize's file type (llama_ftype): a
// default ggml type plus per-tensor promotions by name, layer and shape. This is a port of
// llama.cpp's llama_tensor_get_type and the part of llama_model_quantize_impl that decides each
// tensor's type (src/llama-quant.cpp, c392e50), without an imatrix unless told otherwise:
//
//  - only tensors whose name ends in "weight", with at least 2 dims (ggml_n_dims), that are not
//    norms ("_norm.weight") nor other llama.cpp exclusions, are quantized; the rest keep their type;
//  - attn_v / ffn_down / ffn_gate / ffn_up promotions use llama.cpp's counters (i_attention_wv
//    against n_attention_wv, i_ffn_down against n_layer) and use_more_bits(i, n);
//  - output.weight (or token_embd.weight when the model has no output.weight, i.e. tied
//    embeddings) becomes Q6_K, or Q8_0 when the row does not fit the default type's block;
//  - a row length (ne[0]) the chosen type's block does not divide falls back
//    (Q2_K/Q3_K -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16 if that does not fit
//    either); other types have no fallback and the mix fails, as llama-quantize does.
//
// Tensors are visited in llama.cpp's order (its model loader's weights_map: non-layer tensors
// first, then by layer number, each group by name), whatever order they are given in; the
// counters depend on it. Types are returned in the order given.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANT_MIXES_H
#define QCC_QUANT_MIXES_H

#include "qcc/Quant/GGMLFormats.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcc {

/// One tensor of the source model, as a GGUF tensor info describes it.
struct MixTensor {
  std::string name;
  /// ggml order: ne[0] is the row length. Trailing 1s do not count as dims (ggml_n_dims).
  std::vector<int64_t> ne;
  GGMLType sourceType = GGMLType::F32;
};

/// What llama_tensor_get_type reads of the model besides the tensors.
struct MixModelInfo {
  /// hparams.n_layer: the count of ffn_down / ffn_gate / ffn_up the counters run against.
  int64_t nLayers = 0;
  /// Of layer 0; n_gqa = nHeads / nKVHeads (0 when nKVHeads is 0).
  int64_t nHeads = 0, nKVHeads = 0;
  /// hparams.n_expert (0 or 1 for dense models).
  int64_t nExperts = 0;
  /// general.architecture; "falcon" has its own rules.
  std::string arch = "llama";
  /// model.type == LLM_TYPE_70B: attn_v Q3_K/Q4_K are bumped to Q5_K.
  bool is70B = false;
};

/// llama_model_quantize_params fields that change the types (defaults as llama-quantize's).
struct MixOptions {
  /// --pure: every quantized tensor gets the default type (no promotions, no fallback).
  bool pure = false;
  /// Whether an importance matrix is given (changes a few IQ / Q4_0 / Q5_0 rules).
  bool hasImatrix = false;
  /// --leave-output-tensor clears this.
  bool quantizeOutputTensor = true;
  /// --output-tensor-type / --token-embedding-type.
  std::optional<GGMLType> outputTensorType, tokenEmbeddingType;
  /// --allow-requantize: a quantized source may be quantized again.
  bool allowRequantize = false;
};

/// The chosen types and llama-quantize's fallback tally ("%d of %d tensor(s) required fallback
/// quantization": nFallback of nKQuantized + nFallback).
struct MixPlan {
  std::vector<GGMLType> types;
  int nKQuantized = 0;
  int nFallback = 0;
};

/// The known mixes, lower-case, in llama-quantize's listing order. Lookup ignores case and also
/// takes llama-quantize's aliases "q3_k" (= q3_k_m), "q4_k" (= q4_k_m) and "q5_k" (= q5_k_m).
llvm::ArrayRef<const char *> namedMixes();

/// Whether `mix` names a known mix (ignoring case, aliases included).
bool isNamedMix(llvm::StringRef mix);

/// The mix's default ggml type (the type of a tensor no rule touches); error for unknown names.
llvm::Expected<GGMLType> mixDefaultType(llvm::StringRef mix);

/// One type per tensor, in the order given, plus the fallback tally. Errors: unknown mix name
/// (lists the known ones); a tensor whose row no type of its fallback chain fits (llama.cpp's
/// "Unsupported tensor size encountered"); a quantized source without allowRequantize; a mix
/// needing an imatrix for its low-bit tensors (none such is offered yet).
llvm::Expected<MixPlan> planMix(llvm::StringRef mix, llvm::ArrayRef<MixTensor> tensors,
                                const MixModelInfo &info, const MixOptions &options = {});

/// planMix's types alone.
llvm::Expected<std::vector<GGMLType>> chooseMixTypes(llvm::StringRef mix,
                                                     llvm::ArrayRef<MixTensor> tensors,
                                                     const MixModelInfo &info,
                                                     const MixOptions &options = {});

} // namespace qcc

#endif // QCC_QUANT_MIXES_H
