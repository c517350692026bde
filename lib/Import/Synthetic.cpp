//===- Synthetic.cpp - models at real shapes with deterministic weights -----===//
//
// For speed and memory work where no real weights exist. Matrices are ~N(0, 1/in_features)
// (sum of four uniforms, rescaled), norms ~1 + N(0, 0.02²): activations stay O(1) through the
// layers, so kernels see realistic magnitudes. Never claim quality numbers for these.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/GGUF.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Quant/Float16.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <cmath>

using namespace llvm;

namespace qcc {

namespace {
struct Preset {
  const char *name;
  int64_t dim, ffn, layers, heads, kvHeads, vocab, ctx;
  double theta, eps;
  bool tied;
};
// Shapes from each model's published config.
const Preset kPresets[] = {
    {"llama3-8b", 4096, 14336, 32, 32, 8, 128256, 8192, 500000.0, 1e-5, false},
    {"llama2-7b", 4096, 11008, 32, 32, 32, 32000, 4096, 10000.0, 1e-5, false},
    {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048, 10000.0, 1e-5, false},
    {"smollm-135m", 576, 1536, 30, 9, 3, 49152, 8192, 100000.0, 1e-5, true},
    {"stories110m", 768, 2048, 12, 12, 12, 32000, 1024, 10000.0, 1e-5, true},
    // Test-sized, with LLaMA-3's vocabulary and RoPE base: for tests that need the Llama-3
    // tokenizer on a model (16 MB of f16, mostly the tied embedding).
    {"llama3-tiny", 64, 256, 2, 4, 2, 128256, 1024, 500000.0, 1e-5, true},
};
const char *kPresetNames[] = {"llama3-8b", "llama2-7b", "tinyllama-1.1b", "smollm-135m",
                              "stories110m", "llama3-tiny"};

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
} // namespace

ArrayRef<const char *> syntheticPresetNames() { return kPresetNames; }

Expected<std::unique_ptr<ModelSource>> makeSyntheticModel(StringRef preset, GGMLType type,
                                                          uint64_t seed) {
  const Preset *p = nullptr;
  for (const Preset &c : kPresets)
    if (preset == c.name)
      p = &c;
  if (!p)
    return createStringError(inconvertibleErrorCode(),
                             "unknown synthetic model '%s' (known: %s)", preset.str().c_str(),
                             join(syntheticPresetNames(), ", ").c_str());
  if (type != GGMLType::F32 && type != GGMLType::F16 && type != GGMLType::BF16)
    return createStringError(inconvertibleErrorCode(),
                             "synthetic weights can be f32, f16 or bf16");
  auto src = std::make_unique<ModelSource>();
  ModelConfig &c = src->config;
  c.name = ("synthetic-" + Twine(p->name)).str();
  c.dim = p->dim; c.ffnDim = p->ffn; c.nLayers = p->layers; c.nHeads = p->heads;
  c.nKVHeads = p->kvHeads; c.headDim = p->dim / p->heads; c.vocabSize = p->vocab;
  c.maxSeqLen = p->ctx; c.ropeTheta = p->theta; c.normEps = p->eps; c.tiedEmbeddings = p->tied;
  c.ropeStyle = RopeStyle::Interleaved;
  src->container = ContainerKind::GGUF;
  src->path = c.name;

  const FormatInfo *info = lookupFormat(type);
  auto add = [&](std::string name, std::vector<int64_t> shape, bool isNorm) {
    TensorRef t;
    t.name = std::move(name);
    t.type = isNorm ? GGMLType::F32 : type; // norms stay f32, as llama.cpp keeps them
    t.shape = std::move(shape);
    const FormatInfo *ti = lookupFormat(t.type);
    t.bytes = uint64_t(t.numElements()) / ti->blockSize * ti->blockBytes;
    src->addTensor(std::move(t));
  };
  (void)info;
  const int64_t D = c.dim, F = c.ffnDim, kv = c.nKVHeads * c.headDim, q = c.nHeads * c.headDim;
  add("token_embd.weight", {c.vocabSize, D}, false);
  for (int64_t l = 0; l < c.nLayers; ++l) {
    std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {D}, true);
    add(b + "attn_q.weight", {q, D}, false);
    add(b + "attn_k.weight", {kv, D}, false);
    add(b + "attn_v.weight", {kv, D}, false);
    add(b + "attn_output.weight", {D, q}, false);
    add(b + "ffn_norm.weight", {D}, true);
    add(b + "ffn_gate.weight", {F, D}, false);
    add(b + "ffn_up.weight", {F, D}, false);
    add(b + "ffn_down.weight", {D, F}, false);
    src->layers.push_back({b + "attn_norm.weight", b + "attn_q.weight", b + "attn_k.weight",
                           b + "attn_v.weight", b + "attn_output.weight", b + "ffn_norm.weight",
                           b + "ffn_gate.weight", b + "ffn_up.weight", b + "ffn_down.weight"});
  }
  add("output_norm.weight", {D}, true);
  if (!c.tiedEmbeddings)
    add("output.weight", {c.vocabSize, D}, false);
  src->tokEmbd = "token_embd.weight";
  src->outputNorm = "output_norm.weight";
  src->output = c.tiedEmbeddings ? src->tokEmbd : "output.weight";

  src->materialize = [seed](const TensorRef &t, raw_ostream &os) -> Error {
    uint64_t key = xxh3_64bits(t.name) ^ splitmix64(seed);
    bool isNorm = t.shape.size() == 1;
    double stddev = isNorm ? 0.02 : 1.0 / std::sqrt(double(t.shape.back()));
    const double k = std::sqrt(3.0); // four U(-1,1)/... summed: var = 4/3 -> scale by sqrt(3)/2
    const uint64_t n = uint64_t(t.numElements());
    constexpr uint64_t kChunk = 1 << 20;
    std::vector<char> buf;
    for (uint64_t start = 0; start < n; start += kChunk) {
      uint64_t m = std::min(kChunk, n - start);
      size_t esz = t.type == GGMLType::F32 ? 4 : 2;
      buf.resize(m * esz);
      for (uint64_t i = 0; i < m; ++i) {
        uint64_t r = splitmix64(key + start + i);
        double s = 0;
        for (int j = 0; j < 4; ++j)
          s += double((r >> (16 * j)) & 0xffff) / 32767.5 - 1.0;
        float v = float((isNorm ? 1.0 : 0.0) + s * (k / 2.0) * stddev);
        if (t.type == GGMLType::F32)
          std::memcpy(&buf[i * 4], &v, 4);
        else {
          uint16_t h = t.type == GGMLType::F16 ? fp32ToFp16(v) : fp32ToBf16(v);
          std::memcpy(&buf[i * 2], &h, 2);
        }
      }
      os.write(buf.data(), buf.size());
    }
    return Error::success();
  };
  if (Error e = src->checkRoles())
    return std::move(e);
  return std::move(src);
}

Error writeGGUFModel(const ModelSource &src, StringRef path,
                     function_ref<void(gguf::Writer &)> extraMetadata) {
  gguf::Writer w;
  const ModelConfig &c = src.config;
  w.setString("general.architecture", "llama");
  w.setString("general.name", c.name);
  w.setUInt32("llama.context_length", uint32_t(c.maxSeqLen));
  w.setUInt32("llama.embedding_length", uint32_t(c.dim));
  w.setUInt32("llama.feed_forward_length", uint32_t(c.ffnDim));
  w.setUInt32("llama.block_count", uint32_t(c.nLayers));
  w.setUInt32("llama.attention.head_count", uint32_t(c.nHeads));
  w.setUInt32("llama.attention.head_count_kv", uint32_t(c.nKVHeads));
  w.setUInt32("llama.attention.key_length", uint32_t(c.headDim));
  w.setUInt32("llama.attention.value_length", uint32_t(c.headDim));
  w.setUInt32("llama.rope.dimension_count", uint32_t(c.headDim));
  w.setFloat32("llama.rope.freq_base", float(c.ropeTheta));
  w.setFloat32("llama.attention.layer_norm_rms_epsilon", float(c.normEps));
  w.setUInt32("llama.vocab_size", uint32_t(c.vocabSize));
  if (c.ropeScaling.kind == RopeScaling::Kind::Linear) {
    w.setString("llama.rope.scaling.type", "linear");
    w.setFloat32("llama.rope.scaling.factor", float(c.ropeScaling.factor));
  } else if (c.ropeScaling.kind == RopeScaling::Kind::Llama3) {
    return fileError(path, "writing llama3 rope scaling to GGUF is not supported");
  }
  if (c.ropeStyle != RopeStyle::Interleaved)
    return fileError(path, "GGUF llama models use interleaved RoPE; this model uses rotate-half");
  if (extraMetadata)
    extraMetadata(w);
  for (const TensorRef &t : src.tensors) {
    std::vector<int64_t> ne(t.shape.rbegin(), t.shape.rend());
    if (t.intFormat) {
      ne = {quantalgo::rowBytes(*t.intFormat, t.shape.back()), t.numElements() / t.shape.back()};
      w.setString("qcc.format." + t.name, intFormatKey(*t.intFormat, t.shape.back()));
    }
    w.addTensor(t.name, ne, t.intFormat ? GGMLType::I8 : t.type, [&src, &t](raw_ostream &os) -> Error {
      if (src.materialize)
        return src.materialize(t, os);
      os.write(reinterpret_cast<const char *>(src.data(t)), t.bytes);
      return Error::success();
    });
  }
  return w.write(path);
}

} // namespace qcc
