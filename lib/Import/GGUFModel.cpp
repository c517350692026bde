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
