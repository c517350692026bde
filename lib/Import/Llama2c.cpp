//===- Llama2c.cpp - llama.2c checkpoints -> ModelSource --------------------===//
//
// Legacy v0 (run.c): 7 × int32 {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len}, a negative vocab_size meaning an unshared classifier; then f32 tok_emb, rms_att[L],
// wq[L], wk[L], wv[L], wo[L], rms_ffn[L], w1[L], w2[L], w3[L], rms_final, freq_cis_real/imag
// [seq_len × head_dim/2] (unused), and wcls if unshared.
// v1/v2 (export.py): a 256-byte header: u32 magic "ak42", i32 version, the 7 ints, u8
// shared_classifier, (v2: i32 group_size). v1 = f32 tensors in the order attn_norm[L],
// ffn_norm[L], norm, tok_emb, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], (output).
// v2 = f32 norms as above, then for each remaining tensor int8 q[n] followed by f32 scales
// [n / group_size] (symmetric, per consecutive group). llama2.c's RoPE rotates adjacent pairs.
// Tensors get GGUF's names; v2 is not referencable as it is and is materialised as f32.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/ModelSource.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qcc {

namespace {
struct Layout {
  ModelSource &src;
  uint64_t pos;
  int version;
  int64_t groupSize;
  std::vector<std::pair<uint64_t, uint64_t>> v2; // per tensor index: (q offset, scale offset)

  // Appends a tensor of f32 (or, in v2 for quantized tensors, int8 + scales) at `pos`.
  void add(const std::string &name, std::vector<int64_t> shape, bool quantized) {
    TensorRef t;
    t.name = name;
    t.type = GGMLType::F32;
    t.shape = std::move(shape);
    uint64_t n = uint64_t(t.numElements());
    t.offset = pos;
    t.bytes = n * 4;
    if (version == 2 && quantized) {
      v2.resize(src.tensors.size() + 1, {0, 0});
      v2[src.tensors.size()] = {pos, pos + n};
      pos += n + n / uint64_t(groupSize) * 4;
    } else {
      pos += n * 4;
    }
    src.addTensor(std::move(t));
  }
};
} // namespace

static std::string layerName(int64_t l, StringRef what) {
  return ("blk." + Twine(l) + "." + what + ".weight").str();
}

Expected<std::unique_ptr<ModelSource>> readLlama2cModel(StringRef path) {
  auto mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.takeError();
  auto src = std::make_unique<ModelSource>();
  src->container = ContainerKind::Llama2c;
  src->path = path.str();
  const MappedFile &f = **mapped;
  ByteReader r(f.data(), f.size(), path);

  int version = 0;
  int64_t groupSize = 0;
  bool shared = true;
  auto magic = r.read<uint32_t>("header");
  if (!magic)
    return magic.takeError();
  if (*magic == 0x616b3432u) {
    auto v = r.read<int32_t>("version");
    if (!v)
      return v.takeError();
    if (*v != 1 && *v != 2)
      return fileError(path, "unsupported llama2.c checkpoint version " + Twine(*v));
    version = *v;
  } else {
    cantFail(r.seek(0));
  }
  int32_t p[7];
  for (int32_t &x : p) {
    auto v = r.read<int32_t>("header");
    if (!v)
      return v.takeError();
    x = *v;
  }
  ModelConfig &c = src->config;
  c.dim = p[0]; c.ffnDim = p[1]; c.nLayers = p[2]; c.nHeads = p[3]; c.nKVHeads = p[4];
  c.vocabSize = p[5]; c.maxSeqLen = p[6];
  if (version == 0) {
    shared = c.vocabSize > 0;
    c.vocabSize = c.vocabSize < 0 ? -c.vocabSize : c.vocabSize;
  } else {
    auto s = r.read<uint8_t>("shared_classifier");
    if (!s)
      return s.takeError();
    shared = *s != 0;
    if (version == 2) {
      auto g = r.read<int32_t>("group_size");
      if (!g)
        return g.takeError();
      if (*g <= 0)
        return fileError(path, "invalid group size " + Twine(*g));
      groupSize = *g;
    }
    if (Error e = r.seek(256))
      return std::move(e);
  }
  c.arch = "llama";
  c.name = sys::path::stem(path).str();
  c.headDim = c.nHeads > 0 ? c.dim / c.nHeads : 0;
  c.ropeTheta = 10000.0;
  c.ropeStyle = RopeStyle::Interleaved;
  c.normEps = 1e-5;
  c.tiedEmbeddings = shared;
  if (c.nHeads > 0 && c.dim % c.nHeads != 0)
    return fileError(path, "inconsistent model: dim " + Twine(c.dim) + " is not a multiple of " +
                               Twine(c.nHeads) + " heads");
  if (Error e = c.validate(path))
    return std::move(e);

  const int64_t D = c.dim, F = c.ffnDim, L = c.nLayers, V = c.vocabSize;
  const int64_t kv = c.nKVHeads * c.headDim;
  Layout lay{*src, r.offset(), version, groupSize, {}};
  auto perLayer = [&](StringRef what, std::vector<int64_t> shape, bool q) {
    for (int64_t l = 0; l < L; ++l)
      lay.add(layerName(l, what), shape, q);
  };
  if (version == 0) {
    lay.add("token_embd.weight", {V, D}, false);
    perLayer("attn_norm", {D}, false);
    perLayer("attn_q", {D, D}, false);
    perLayer("attn_k", {kv, D}, false);
    perLayer("attn_v", {kv, D}, false);
    perLayer("attn_output", {D, D}, false);
    perLayer("ffn_norm", {D}, false);
    perLayer("ffn_gate", {F, D}, false);
    perLayer("ffn_down", {D, F}, false);
    perLayer("ffn_up", {F, D}, false);
    lay.add("output_norm.weight", {D}, false);
    lay.pos += uint64_t(c.maxSeqLen) * uint64_t(c.headDim / 2) * 4 * 2; // freq_cis_real/imag
    if (!shared)
      lay.add("output.weight", {V, D}, false);
  } else {
    perLayer("attn_norm", {D}, false);
    perLayer("ffn_norm", {D}, false);
    lay.add("output_norm.weight", {D}, false);
    lay.add("token_embd.weight", {V, D}, true);
    perLayer("attn_q", {D, D}, true);
    perLayer("attn_k", {kv, D}, true);
    perLayer("attn_v", {kv, D}, true);
    perLayer("attn_output", {D, D}, true);
    perLayer("ffn_gate", {F, D}, true);
    perLayer("ffn_down", {D, F}, true);
    perLayer("ffn_up", {F, D}, true);
    if (!shared)
      lay.add("output.weight", {V, D}, true);
  }
  if (version == 2)
    for (const TensorRef &t : src->tensors)
      if (lay.v2.size() > src->index[t.name] && lay.v2[src->index[t.name]].first &&
          t.numElements() % groupSize != 0)
        return fileError(path, "tensor '" + t.name + "' size is not a multiple of group size " +
                                   Twine(groupSize));
  if (lay.pos != f.size())
    return fileError(path, lay.pos > f.size()
                               ? "file truncated: the header implies " + Twine(lay.pos) +
                                     " bytes, the file has " + Twine(f.size())
                               : "file has " + Twine(f.size() - lay.pos) +
                                     " unexpected trailing bytes (header implies " +
                                     Twine(lay.pos) + " bytes): wrong header?");

  src->tokEmbd = "token_embd.weight";
  src->outputNorm = "output_norm.weight";
  src->output = shared ? src->tokEmbd : "output.weight";
  for (int64_t l = 0; l < L; ++l)
    src->layers.push_back({layerName(l, "attn_norm"), layerName(l, "attn_q"),
                           layerName(l, "attn_k"), layerName(l, "attn_v"),
                           layerName(l, "attn_output"), layerName(l, "ffn_norm"),
                           layerName(l, "ffn_gate"), layerName(l, "ffn_up"),
                           layerName(l, "ffn_down")});
  src->size = f.size();
  src->fingerprint = fingerprintFile(f);
  // Tokenizer: llama2.c keeps it in a separate tokenizer.bin; look beside the checkpoint.
  for (StringRef cand : {"tokenizer.bin", "tok512.bin"}) {
    SmallString<256> t(path);
    sys::path::remove_filename(t);
    sys::path::append(t, cand);
    if (sys::fs::exists(t) && (cand != "tok512.bin" || V == 512)) {
      src->tokenizer = {t.str().str(), "llama2c"};
      break;
    }
  }
  if (version == 2) {
    const uint8_t *base = f.data();
    auto v2 = lay.v2;
    int64_t gs = groupSize;
    src->materialize = [base, v2, gs, src = src.get()](const TensorRef &t,
                                                       raw_ostream &os) -> Error {
      size_t i = src->index.lookup(t.name);
      uint64_t n = uint64_t(t.numElements());
      std::vector<float> out(n);
      if (i < v2.size() && v2[i].first) {
        const int8_t *q = reinterpret_cast<const int8_t *>(base + v2[i].first);
        const uint8_t *s = base + v2[i].second;
        for (uint64_t g = 0; g < n / uint64_t(gs); ++g) {
          float scale;
          std::memcpy(&scale, s + g * 4, 4);
          for (int64_t j = 0; j < gs; ++j)
            out[g * gs + j] = float(q[g * gs + j]) * scale;
        }
      } else {
        std::memcpy(out.data(), base + t.offset, n * 4);
      }
      os.write(reinterpret_cast<const char *>(out.data()), n * 4);
      return Error::success();
    };
  }
  src->files.push_back(std::move(*mapped));
  if (Error e = src->checkRoles())
    return std::move(e);
  return std::move(src);
}

} // namespace qcc
