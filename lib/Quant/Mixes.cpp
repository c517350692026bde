//===- Mixes.cpp - llama-quantize's per-tensor type rules ("named mixes") ----===//
//
// A port of llama_tensor_get_type and the type decisions of llama_model_quantize_impl
// (llama.cpp src/llama-quant.cpp, c392e50). The branches keep llama.cpp's order and conditions so
// the two can be read side by side; branches that only fire for mixes whose ggml types this
// library does not implement (IQ1/IQ2/IQ3, IQ4_XS, TQ) are left out.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/Mixes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <numeric>

using namespace llvm;

namespace qcc {
namespace {

/// llama_ftype, restricted to the mixes whose types are all implemented here.
enum class FType {
  Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q2_K_S, Q3_K_S, Q3_K_M, Q3_K_L, IQ4_NL,
  Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0, F16, BF16, F32,
};

struct MixRow {
  const char *name;
  FType ftype;
  GGMLType defaultType;
};

// llama-quantize's QUANT_OPTIONS order; the default types are llama_model_quantize_impl's switch.
const MixRow kMixes[] = {
    {"q4_0", FType::Q4_0, GGMLType::Q4_0},       {"q4_1", FType::Q4_1, GGMLType::Q4_1},
    {"q5_0", FType::Q5_0, GGMLType::Q5_0},       {"q5_1", FType::Q5_1, GGMLType::Q5_1},
    {"q2_k", FType::Q2_K, GGMLType::Q2_K},       {"q2_k_s", FType::Q2_K_S, GGMLType::Q2_K},
    {"q3_k_s", FType::Q3_K_S, GGMLType::Q3_K},   {"q3_k_m", FType::Q3_K_M, GGMLType::Q3_K},
    {"q3_k_l", FType::Q3_K_L, GGMLType::Q3_K},   {"iq4_nl", FType::IQ4_NL, GGMLType::IQ4_NL},
    {"q4_k_s", FType::Q4_K_S, GGMLType::Q4_K},   {"q4_k_m", FType::Q4_K_M, GGMLType::Q4_K},
    {"q5_k_s", FType::Q5_K_S, GGMLType::Q5_K},   {"q5_k_m", FType::Q5_K_M, GGMLType::Q5_K},
    {"q6_k", FType::Q6_K, GGMLType::Q6_K},       {"q8_0", FType::Q8_0, GGMLType::Q8_0},
    {"f16", FType::F16, GGMLType::F16},          {"bf16", FType::BF16, GGMLType::BF16},
    {"f32", FType::F32, GGMLType::F32},
};

// llama-quantize's short names for the _M variants.
const std::pair<const char *, const char *> kAliases[] = {
    {"q3_k", "q3_k_m"}, {"q4_k", "q4_k_m"}, {"q5_k", "q5_k_m"}};

const MixRow *lookupMix(StringRef mix) {
  for (const auto &[alias, target] : kAliases)
    if (mix.equals_insensitive(alias))
      mix = target;
  for (const MixRow &row : kMixes)
    if (mix.equals_insensitive(row.name))
      return &row;
  return nullptr;
}

int64_t blockSize(GGMLType type) { return lookupFormat(type)->blockSize; }

bool contains(StringRef name, StringRef part) { return name.contains(part); }

/// ggml_n_dims: the number of dims up to the last one that is not 1 (at least 1).
int nDims(ArrayRef<int64_t> ne) {
  int n = int(ne.size());
  while (n > 1 && ne[n - 1] == 1)
    --n;
  return std::max(n, 1);
}

/// The layer of a "blk.N." name, or -1 (sscanf("blk.%d.") as llama.cpp does).
int layerOf(StringRef name) {
  if (!name.consume_front("blk."))
    return -1;
  size_t digits = 0;
  while (digits < name.size() && isDigit(name[digits]))
    ++digits;
  int layer;
  if (digits == 0 || name.substr(0, digits).getAsInteger(10, layer))
    return -1;
  return layer;
}

/// llama_model_loader's weight_name_comparer: layer number first (-1 for non-layer tensors),
/// then the name. This is the order llama-quantize visits (and writes) tensors in.
std::vector<size_t> visitOrder(ArrayRef<MixTensor> tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<int> layers;
  for (const MixTensor &t : tensors)
    layers.push_back(layerOf(t.name));
  llvm::sort(order, [&](size_t a, size_t b) {
    if (layers[a] != layers[b])
      return layers[a] < layers[b];
    if (tensors[a].name != tensors[b].name)
      return tensors[a].name < tensors[b].name;
    return a < b;
  });
  return order;
}

/// quantize_state_impl: the counters llama_tensor_get_type advances.
struct QuantizeState {
  const MixModelInfo &info;
  const MixOptions &options;
  int nAttentionWV = 0;
  int nFfnDown = 0, nFfnGate = 0, nFfnUp = 0;
  int iAttentionWV = 0;
  int iFfnDown = 0, iFfnGate = 0, iFfnUp = 0;
  int nKQuantized = 0;
  int nFallback = 0;
  bool hasOutput = false;

  bool isFalcon() const { return info.arch == "falcon"; }
  int64_t nExpert() const { return info.nExperts; }
  /// hparams.n_gqa(): integer n_head / n_head_kv, 0 without kv heads.
  int64_t nGQA() const { return info.nKVHeads == 0 ? 0 : info.nHeads / info.nKVHeads; }
};

/// Layers 0..n/8, the last eighth, and every third layer between get more bits.
bool useMoreBits(int iLayer, int nLayers) {
  return iLayer < nLayers / 8 || iLayer >= 7 * nLayers / 8 || (iLayer - nLayers / 8) % 3 == 2;
}

/// layer_info: with experts, the layer comes from the name (expert tensors are not consecutive).
Expected<std::pair<int, int>> layerInfo(const QuantizeState &qs, int iLayer, int nLayer,
                                        StringRef name) {
  if (std::max<int64_t>(1, qs.nExpert()) > 1) {
    iLayer = layerOf(name);
    if (iLayer < 0)
      return createStringError(inconvertibleErrorCode(),
                               "Failed to determine layer for tensor " + name);
    if (iLayer >= nLayer)
      return createStringError(inconvertibleErrorCode(),
                               "Bad layer " + Twine(iLayer) + " for tensor " + name +
                                   ". Must be in [0, " + Twine(nLayer) + ")");
  }
  return std::make_pair(iLayer, nLayer);
}

/// llama_tensor_get_type for the implemented mixes.
Expected<GGMLType> tensorGetType(QuantizeState &qs, GGMLType newType, const MixTensor &tensor,
                                 FType ftype) {
  StringRef name = tensor.name;
  const MixOptions &opts = qs.options;
  const bool falcon = qs.isFalcon();
  const int64_t nx = tensor.ne.empty() ? 1 : tensor.ne[0];

  // Tied embeddings: token_embd is quantized like the output tensor.
  if (name == "output.weight" || (!qs.hasOutput && name == "token_embd.weight")) {
    if (opts.outputTensorType) {
      newType = *opts.outputTensorType;
    } else if (falcon || nx % blockSize(newType) != 0) {
      newType = GGMLType::Q8_0;
    } else if (newType != GGMLType::Q8_0) {
      newType = GGMLType::Q6_K;
    }
  } else if (name == "token_embd.weight") {
    if (opts.tokenEmbeddingType)
      newType = *opts.tokenEmbeddingType;
  } else if (contains(name, "attn_v.weight")) {
    if (ftype == FType::Q2_K)
      newType = qs.nGQA() >= 4 ? GGMLType::Q4_K : GGMLType::Q3_K;
    else if (ftype == FType::Q2_K_S && qs.nGQA() >= 4)
      newType = GGMLType::Q4_K;
    else if (ftype == FType::Q3_K_M)
      newType = qs.iAttentionWV < 2 ? GGMLType::Q5_K : GGMLType::Q4_K;
    else if (ftype == FType::Q3_K_L)
      newType = GGMLType::Q5_K;
    else if (ftype == FType::IQ4_NL && qs.nGQA() >= 4)
      newType = GGMLType::Q5_K;
    else if ((ftype == FType::Q4_K_M || ftype == FType::Q5_K_M) &&
             useMoreBits(qs.iAttentionWV, qs.nAttentionWV))
      newType = GGMLType::Q6_K;
    else if (ftype == FType::Q4_K_S && qs.iAttentionWV < 4)
      newType = GGMLType::Q5_K;
    // 70B: 8 heads share attn_v, so it is 8x smaller than attn_q and more bits cost little.
    if (qs.info.is70B && (newType == GGMLType::Q3_K || newType == GGMLType::Q4_K))
      newType = GGMLType::Q5_K;
    if (qs.nExpert() == 8)
      newType = GGMLType::Q8_0;
    ++qs.iAttentionWV;
  } else if (contains(name, "attn_k.weight")) {
    if (qs.nExpert() == 8)
      newType = GGMLType::Q8_0;
  } else if (contains(name, "attn_q.weight")) {
    // Only IQ3 mixes change attn_q.
  } else if (contains(name, "ffn_down")) {
    auto layer = layerInfo(qs, qs.iFfnDown, qs.nFfnDown, name);
    if (!layer)
      return layer.takeError();
    auto [iLayer, nLayer] = *layer;
    if (ftype == FType::Q2_K) {
      newType = GGMLType::Q3_K;
    } else if (ftype == FType::Q2_K_S) {
      if (iLayer < nLayer / 8)
        newType = GGMLType::Q4_K;
    } else if (ftype == FType::Q3_K_M) {
      newType = iLayer < nLayer / 16                         ? GGMLType::Q5_K
                : !falcon || useMoreBits(iLayer, nLayer) ? GGMLType::Q4_K
                                                             : GGMLType::Q3_K;
    } else if (ftype == FType::Q3_K_L) {
      newType = falcon ? GGMLType::Q4_K : GGMLType::Q5_K;
    } else if (ftype == FType::Q4_K_M) {
      if (falcon)
        newType = iLayer < nLayer / 16            ? GGMLType::Q6_K
                  : useMoreBits(iLayer, nLayer) ? GGMLType::Q5_K
                                                : GGMLType::Q4_K;
      else if (useMoreBits(iLayer, nLayer))
        newType = GGMLType::Q6_K;
    } else if (iLayer < nLayer / 8 && ftype == FType::IQ4_NL && !opts.hasImatrix) {
      newType = GGMLType::Q5_K;
    } else if (ftype == FType::Q5_K_M && useMoreBits(iLayer, nLayer)) {
      newType = GGMLType::Q6_K;
    } else if (ftype == FType::Q4_K_S && !falcon && iLayer < nLayer / 8) {
      newType = GGMLType::Q5_K;
    } else if ((ftype == FType::Q4_0 || ftype == FType::Q5_0) && opts.hasImatrix &&
               iLayer < nLayer / 8) {
      // Only with an imatrix, so that without one the result is what it always was.
      newType = ftype == FType::Q4_0 ? GGMLType::Q4_1 : GGMLType::Q5_1;
    }
    ++qs.iFfnDown;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (qs.nExpert() == 8) {
        if (ftype == FType::Q2_K || ftype == FType::Q3_K_S || ftype == FType::Q3_K_M ||
            ftype == FType::IQ4_NL || ftype == FType::Q4_K_S || ftype == FType::Q4_K_M)
          newType = GGMLType::Q5_K;
      } else {
        if (ftype == FType::Q2_K)
          newType = GGMLType::Q3_K;
        else if (ftype == FType::Q3_K_M)
          newType = GGMLType::Q4_K;
        else if (ftype == FType::Q3_K_L)
          newType = GGMLType::Q5_K;
      }
    } else if (ftype == FType::Q3_K_L) {
      newType = GGMLType::Q4_K;
    }
  } else if (contains(name, "attn_qkv.weight")) {
    if (ftype == FType::Q3_K_M || ftype == FType::Q3_K_L)
      newType = GGMLType::Q4_K;
    else if (ftype == FType::Q4_K_M)
      newType = GGMLType::Q5_K;
    else if (ftype == FType::Q5_K_M)
      newType = GGMLType::Q6_K;
  } else if (contains(name, "ffn_gate")) {
    // Only IQ3_XS changes ffn_gate; the counter still runs.
    if (auto layer = layerInfo(qs, qs.iFfnGate, qs.nFfnGate, name); !layer)
      return layer.takeError();
    ++qs.iFfnGate;
  } else if (contains(name, "ffn_up")) {
    if (auto layer = layerInfo(qs, qs.iFfnUp, qs.nFfnUp, name); !layer)
      return layer.takeError();
    ++qs.iFfnUp;
  }

  // A row the block does not divide cannot be stored: fall back to a type with 32-value blocks.
  if (nx % blockSize(newType) == 0) {
    ++qs.nKQuantized;
    return newType;
  }
  GGMLType fallback;
  switch (newType) {
  case GGMLType::Q2_K:
  case GGMLType::Q3_K:
    fallback = GGMLType::IQ4_NL;
    break;
  case GGMLType::Q4_K:
    fallback = GGMLType::Q5_0;
    break;
  case GGMLType::Q5_K:
    fallback = GGMLType::Q5_1;
    break;
  case GGMLType::Q6_K:
    fallback = GGMLType::Q8_0;
    break;
  default:
    return createStringError(inconvertibleErrorCode(),
                             "Unsupported tensor size encountered: " + name + " has rows of " +
                                 Twine(nx) + ", not a multiple of " +
                                 lookupFormat(newType)->name + "'s block of " +
                                 Twine(blockSize(newType)));
  }
  if (nx % blockSize(fallback) != 0)
    fallback = GGMLType::F16;
  ++qs.nFallback;
  return fallback;
}

/// llama_model_quantize_impl's test for tensors that are quantized at all.
bool isQuantizable(const MixTensor &tensor, const MixOptions &opts) {
  StringRef name = tensor.name;
  bool quantize = name.ends_with("weight");
  quantize &= nDims(tensor.ne) >= 2;
  quantize &= !contains(name, "_norm.weight");
  quantize &= opts.quantizeOutputTensor || name != "output.weight";
  // Expert gating, positional / token-type embeddings, Mamba, RWKV and T5 small 2-D weights.
  quantize &= !contains(name, "ffn_gate_inp.weight");
  quantize &= name != "position_embd.weight" && name != "token_types.weight";
  for (const char *keep : {"ssm_conv1d.weight", "time_mix_first.weight", "time_mix_w1.weight",
                           "time_mix_w2.weight", "time_mix_decay_w1.weight",
                           "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
                           "attn_rel_b.weight"})
    quantize &= !contains(name, keep);
  return quantize;
}

Error unknownMix(StringRef mix) {
  std::string known = join(namedMixes(), ", ");
  return createStringError(inconvertibleErrorCode(),
                           "unknown quantization mix '" + mix + "'; known mixes: " + known);
}

} // namespace

ArrayRef<const char *> namedMixes() {
  static const std::vector<const char *> names = [] {
    std::vector<const char *> out;
    for (const MixRow &row : kMixes)
      out.push_back(row.name);
    return out;
  }();
  return names;
}

bool isNamedMix(StringRef mix) { return lookupMix(mix) != nullptr; }

Expected<GGMLType> mixDefaultType(StringRef mix) {
  const MixRow *row = lookupMix(mix);
  if (!row)
    return unknownMix(mix);
  return row->defaultType;
}

Expected<MixPlan> planMix(StringRef mix, ArrayRef<MixTensor> tensors, const MixModelInfo &info,
                          const MixOptions &options) {
  const MixRow *row = lookupMix(mix);
  if (!row)
    return unknownMix(mix);
  for (const MixTensor &t : tensors)
    if (!lookupFormat(t.sourceType))
      return createStringError(inconvertibleErrorCode(),
                               "tensor " + t.name + " has an unknown source type");

  QuantizeState qs{info, options};
  for (const MixTensor &t : tensors) {
    StringRef name = t.name;
    if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") ||
        contains(name, "attn_kv_b.weight"))
      ++qs.nAttentionWV;
    else if (name == "output.weight")
      qs.hasOutput = true;
  }
  qs.nFfnDown = qs.nFfnGate = qs.nFfnUp = int(info.nLayers);

  const bool promote = !options.pure && lookupFormat(row->defaultType)->isQuantized;
  MixPlan plan;
  plan.types.resize(tensors.size());
  for (size_t i : visitOrder(tensors)) {
    const MixTensor &t = tensors[i];
    GGMLType type = t.sourceType;
    if (isQuantizable(t, options)) {
      GGMLType newType = row->defaultType;
      if (promote) {
        auto chosen = tensorGetType(qs, newType, t, row->ftype);
        if (!chosen)
          return chosen.takeError();
        newType = *chosen;
      }
      if (options.tokenEmbeddingType && t.name == "token_embd.weight")
        newType = *options.tokenEmbeddingType;
      if (options.outputTensorType && t.name == "output.weight")
        newType = *options.outputTensorType;
      if (newType != t.sourceType) {
        if (newType == GGMLType::Q2_K && row->ftype == FType::Q2_K_S &&
            t.name != "token_embd.weight" && !options.hasImatrix)
          return createStringError(inconvertibleErrorCode(),
                                   "Missing importance matrix for tensor " + t.name +
                                       " in a very low-bit quantization");
        if (lookupFormat(t.sourceType)->isQuantized && !options.allowRequantize)
          return createStringError(inconvertibleErrorCode(),
                                   "requantizing from type " +
                                       Twine(lookupFormat(t.sourceType)->name) +
                                       " is disabled (tensor " + t.name + ")");
        type = newType;
      }
      // --pure and the type overrides skip the fallback; ggml cannot store a partial block.
      if (t.ne.empty() || t.ne[0] % blockSize(type) != 0)
        return createStringError(inconvertibleErrorCode(),
                                 "tensor " + t.name + ": rows of " +
                                     Twine(t.ne.empty() ? 0 : t.ne[0]) + " values do not fit " +
                                     lookupFormat(type)->name + "'s block of " +
                                     Twine(blockSize(type)));
    }
    plan.types[i] = type;
  }
  plan.nKQuantized = qs.nKQuantized;
  plan.nFallback = qs.nFallback;
  return plan;
}

Expected<std::vector<GGMLType>> chooseMixTypes(StringRef mix, ArrayRef<MixTensor> tensors,
                                               const MixModelInfo &info,
                                               const MixOptions &options) {
  auto plan = planMix(mix, tensors, info, options);
  if (!plan)
    return plan.takeError();
  return std::move(plan->types);
}

} // namespace qcc
