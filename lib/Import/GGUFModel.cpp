//===- GGUFModel.cpp - GGUF (llama arch) -> ModelSource ---------------------===//
//
// Keys and tensor names as llama.cpp writes them for LLM_ARCH_LLAMA. GGUF llama models use
// rope type NORM, i.e. rotation of adjacent pairs (interleaved), with q/k rows in that order.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/GGUF.h"
#include "qcc/Import/ModelSource.h"

#include "llvm/Support/Path.h"

using namespace llvm;

namespace qcc {

std::string intFormatKey(const quantalgo::IntGroupFormat &f, int64_t cols) {
  return ("int:bits=" + Twine(f.bits) + ":group=" + Twine(f.groupSize) +
          ":sym=" + Twine(int(f.symmetric)) + ":cols=" + Twine(cols))
      .str();
}

std::optional<std::pair<quantalgo::IntGroupFormat, int64_t>> parseIntFormatKey(StringRef s) {
  int64_t bits, group, sym, cols;
  SmallVector<StringRef, 5> parts;
  s.split(parts, ':');
  if (parts.size() != 5 || parts[0] != "int" || !parts[1].consume_front("bits=") ||
      !parts[2].consume_front("group=") || !parts[3].consume_front("sym=") ||
      !parts[4].consume_front("cols=") || parts[1].getAsInteger(10, bits) ||
      parts[2].getAsInteger(10, group) || parts[3].getAsInteger(10, sym) ||
      parts[4].getAsInteger(10, cols) || bits < 2 || bits > 8 || group < 0 || cols <= 0 ||
      (sym != 0 && sym != 1))
    return std::nullopt;
  return std::make_pair(quantalgo::IntGroupFormat{int(bits), group, sym == 1}, cols);
}

Expected<std::unique_ptr<ModelSource>> readGGUFModel(StringRef path) {
  auto reader = gguf::Reader::open(path);
  if (!reader)
    return reader.takeError();
  gguf::Reader &g = **reader;
  auto src = std::make_unique<ModelSource>();
  src->container = ContainerKind::GGUF;
  src->path = path.str();

  std::optional<std::string> arch = g.getString("general.architecture");
  if (!arch)
    return fileError(path, "missing general.architecture");
  if (*arch != "llama")
    return fileError(path, "unsupported architecture '" + *arch + "' (only llama is supported)");
  if (g.tensors().empty())
    return fileError(path, "the file has no tensors (a vocab-only GGUF?)");

  auto need = [&](StringRef key) -> Expected<int64_t> {
    std::optional<int64_t> v = g.getInt(("llama." + key).str());
    if (!v)
      return fileError(path, "missing or non-integer metadata key 'llama." + key + "'");
    return *v;
  };
  ModelConfig &c = src->config;
  c.arch = *arch;
  c.name = g.getString("general.name").value_or(sys::path::stem(path).str());
  auto dim = need("embedding_length");
  auto ffn = need("feed_forward_length");
  auto layers = need("block_count");
  auto heads = need("attention.head_count");
  auto ctx = need("context_length");
  if (!dim) return dim.takeError();
  if (!ffn) return ffn.takeError();
  if (!layers) return layers.takeError();
  if (!heads) return heads.takeError();
  if (!ctx) return ctx.takeError();
  c.dim = *dim; c.ffnDim = *ffn; c.nLayers = *layers; c.nHeads = *heads; c.maxSeqLen = *ctx;
  c.nKVHeads = g.getInt("llama.attention.head_count_kv").value_or(c.nHeads);
  c.headDim = g.getInt("llama.attention.key_length").value_or(c.nHeads > 0 ? c.dim / c.nHeads : 0);
  c.ropeTheta = g.getFloat("llama.rope.freq_base").value_or(10000.0);
  c.normEps = g.getFloat("llama.attention.layer_norm_rms_epsilon").value_or(1e-5);
  c.ropeStyle = RopeStyle::Interleaved;
  if (std::optional<std::string> st = g.getString("llama.rope.scaling.type")) {
    if (*st == "linear") {
      c.ropeScaling.kind = RopeScaling::Kind::Linear;
      c.ropeScaling.factor = g.getFloat("llama.rope.scaling.factor").value_or(1.0);
    } else if (*st != "none") {
      return fileError(path, "unsupported rope scaling '" + *st + "'");
    }
  }

  for (const gguf::TensorInfo &t : g.tensors()) {
    TensorRef r;
    r.name = t.name;
    r.type = t.type;
    r.shape = t.shape();
    r.offset = t.offset;
    r.bytes = t.bytes;
    // qcc's packed integer formats: I8 rows of raw bytes, described by qcc.format.<name>.
    if (std::optional<std::string> f = g.getString("qcc.format." + t.name)) {
      auto parsed = parseIntFormatKey(*f);
      if (!parsed || t.type != GGMLType::I8 || t.ne.size() != 2)
        return fileError(path, "tensor '" + t.name + "': bad qcc.format '" + *f + "'");
      auto [format, cols] = *parsed;
      if (Error e = format.validate(cols))
        return fileError(path, "tensor '" + t.name + "': " + toString(std::move(e)));
      if (quantalgo::rowBytes(format, cols) != t.ne[0])
        return fileError(path, "tensor '" + t.name + "': rows of " + Twine(t.ne[0]) +
                                   " bytes do not hold " + Twine(cols) + " values of " + *f);
      r.intFormat = format;
      r.shape = {t.ne[1], cols};
    }
    src->addTensor(std::move(r));
  }
  src->tokEmbd = "token_embd.weight";
  src->outputNorm = "output_norm.weight";
  if (const TensorRef *emb = src->find(src->tokEmbd))
    c.vocabSize = emb->shape[0];
  c.vocabSize = g.getInt("llama.vocab_size").value_or(c.vocabSize);
  c.tiedEmbeddings = !src->find("output.weight");
  src->output = c.tiedEmbeddings ? src->tokEmbd : "output.weight";
  if (src->find("rope_freqs.weight"))
    src->ropeFreqs = "rope_freqs.weight";
  for (int64_t i = 0; i < c.nLayers && i < 4096; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    src->layers.push_back({p + "attn_norm.weight", p + "attn_q.weight", p + "attn_k.weight",
                           p + "attn_v.weight", p + "attn_output.weight", p + "ffn_norm.weight",
                           p + "ffn_gate.weight", p + "ffn_up.weight", p + "ffn_down.weight"});
  }
  if (g.get("tokenizer.ggml.model") && g.get("tokenizer.ggml.tokens"))
    src->tokenizer = {path.str(), "gguf"};

  src->size = g.file().size();
  src->fingerprint = fingerprintFile(g.file());
  // Keep the mapping alive: move the reader's file into the source by re-opening cheaply.
  auto mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.takeError();
  src->files.push_back(std::move(*mapped));
  if (Error e = src->checkRoles())
    return std::move(e);
  return std::move(src);
}

} // namespace qcc
