//===- Safetensors.cpp - HF safetensors (+ config.json) -> ModelSource ------===//
//
// safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {...}}, then the data; offsets are relative to
// byte 8 + N. Sharded checkpoints list tensor -> shard in model.safetensors.index.json.
// HF LlamaForCausalLM applies RoPE with rotate-half, its q/k rows permuted to match; the IR
// records rope_style = rotate_half and keeps the weights as they are.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/ModelSource.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

using namespace llvm;

namespace qcc {

static Expected<json::Value> readJSONFile(StringRef path) {
  auto buf = MemoryBuffer::getFile(path);
  if (!buf)
    return fileError(path, "cannot read: " + buf.getError().message());
  auto v = json::parse((*buf)->getBuffer());
  if (!v)
    return fileError(path, "invalid JSON: " + toString(v.takeError()));
  return std::move(*v);
}

// Parses one .safetensors file's header and appends its tensors to `src` (file index `fi`).
static Error readShard(ModelSource &src, unsigned fi) {
  const MappedFile &f = *src.files[fi];
  ByteReader r(f.data(), f.size(), f.path());
  auto n = r.read<uint64_t>("header length");
  if (!n)
    return n.takeError();
  if (*n > r.remaining() || *n > (100u << 20))
    return fileError(f.path(), "header length " + Twine(*n) + " exceeds the file size");
  auto text = r.readBytes(*n, "header");
  if (!text)
    return text.takeError();
  auto header = json::parse(*text);
  if (!header)
    return fileError(f.path(), "invalid header JSON: " + toString(header.takeError()));
  const json::Object *obj = header->getAsObject();
  if (!obj)
    return fileError(f.path(), "header is not a JSON object");
  uint64_t dataStart = 8 + *n, dataSize = f.size() - dataStart;
  for (const auto &kv : *obj) {
    StringRef name = kv.first;
    if (name == "__metadata__")
      continue;
    const json::Object *t = kv.second.getAsObject();
    if (!t)
      return fileError(f.path(), "tensor '" + name + "': entry is not an object");
    std::optional<StringRef> dtype = t->getString("dtype");
    const json::Array *shape = t->getArray("shape");
    const json::Array *offs = t->getArray("data_offsets");
    if (!dtype || !shape || !offs || offs->size() != 2)
      return fileError(f.path(), "tensor '" + name + "': needs dtype, shape and data_offsets");
    TensorRef ref;
    ref.name = name.str();
    if (*dtype == "F32") ref.type = GGMLType::F32;
    else if (*dtype == "F16") ref.type = GGMLType::F16;
    else if (*dtype == "BF16") ref.type = GGMLType::BF16;
    else
      return fileError(f.path(), "tensor '" + name + "': unsupported dtype " + *dtype +
                                     " (F32, F16, BF16 are supported)");
    uint64_t elements = 1;
    for (const json::Value &d : *shape) {
      std::optional<int64_t> v = d.getAsInteger();
      if (!v || *v <= 0 || *v > (int64_t(1) << 40) || elements > (uint64_t(1) << 50) / uint64_t(*v))
        return fileError(f.path(), "tensor '" + name + "': invalid shape");
      elements *= uint64_t(*v);
      ref.shape.push_back(*v);
    }
    std::optional<int64_t> b = (*offs)[0].getAsInteger(), e = (*offs)[1].getAsInteger();
    if (!b || !e || *b < 0 || *e < *b || uint64_t(*e) > dataSize)
      return fileError(f.path(), "tensor '" + name + "': data_offsets lie outside the file "
                                                      "(file truncated?)");
    ref.bytes = uint64_t(*e - *b);
    uint64_t expect = elements * (ref.type == GGMLType::F32 ? 4 : 2);
    if (ref.bytes != expect)
      return fileError(f.path(), "tensor '" + name + "': " + Twine(ref.bytes) +
                                     " bytes of data, its dtype and shape need " + Twine(expect));
    ref.offset = dataStart + uint64_t(*b);
    ref.fileIndex = fi;
    if (src.find(ref.name))
      return fileError(f.path(), "duplicate tensor '" + name + "'");
    src.addTensor(std::move(ref));
  }
  return Error::success();
}

static Error readHFConfig(StringRef configPath, ModelConfig &c) {
  auto v = readJSONFile(configPath);
  if (!v)
    return v.takeError();
  const json::Object *o = v->getAsObject();
  if (!o)
    return fileError(configPath, "not a JSON object");
  if (const json::Array *archs = o->getArray("architectures"))
    if (!archs->empty() && archs->front().getAsString() != StringRef("LlamaForCausalLM"))
      return fileError(configPath, "unsupported architecture '" +
                                       archs->front().getAsString().value_or("?") +
                                       "' (LlamaForCausalLM is supported)");
  auto integer = [&](StringRef key, int64_t &out, std::optional<int64_t> dflt) -> Error {
    if (std::optional<int64_t> x = o->getInteger(key)) {
      out = *x;
      return Error::success();
    }
    if (dflt) {
      out = *dflt;
      return Error::success();
    }
    return fileError(configPath, "missing integer '" + key + "'");
  };
  if (Error e = integer("hidden_size", c.dim, std::nullopt)) return e;
  if (Error e = integer("intermediate_size", c.ffnDim, std::nullopt)) return e;
  if (Error e = integer("num_hidden_layers", c.nLayers, std::nullopt)) return e;
  if (Error e = integer("num_attention_heads", c.nHeads, std::nullopt)) return e;
  if (Error e = integer("num_key_value_heads", c.nKVHeads, c.nHeads)) return e;
  if (Error e = integer("vocab_size", c.vocabSize, std::nullopt)) return e;
  if (Error e = integer("max_position_embeddings", c.maxSeqLen, 2048)) return e;
  if (Error e = integer("head_dim", c.headDim, c.nHeads > 0 ? c.dim / c.nHeads : 0)) return e;
  c.normEps = o->getNumber("rms_norm_eps").value_or(1e-6);
  c.ropeTheta = o->getNumber("rope_theta").value_or(10000.0);
  c.tiedEmbeddings = o->getBoolean("tie_word_embeddings").value_or(false);
  c.ropeStyle = RopeStyle::RotateHalf;
  if (const json::Object *rs = o->getObject("rope_scaling")) {
    StringRef kind = rs->getString("rope_type").value_or(rs->getString("type").value_or(""));
    RopeScaling &s = c.ropeScaling;
    s.factor = rs->getNumber("factor").value_or(1.0);
    if (kind == "llama3") {
      s.kind = RopeScaling::Kind::Llama3;
      s.lowFreqFactor = rs->getNumber("low_freq_factor").value_or(1.0);
      s.highFreqFactor = rs->getNumber("high_freq_factor").value_or(4.0);
      s.originalMaxPosition = rs->getInteger("original_max_position_embeddings").value_or(8192);
    } else if (kind == "linear") {
      s.kind = RopeScaling::Kind::Linear;
    } else if (kind != "default" && !kind.empty()) {
      return fileError(configPath, "unsupported rope_scaling type '" + kind + "'");
    }
  }
  return Error::success();
}

Expected<std::unique_ptr<ModelSource>> readSafetensorsModel(StringRef pathIn) {
  SmallString<256> path(pathIn);
  sys::fs::make_absolute(path);
  SmallString<256> dir(path);
  if (!sys::fs::is_directory(path))
    sys::path::remove_filename(dir);

  auto src = std::make_unique<ModelSource>();
  src->container = ContainerKind::Safetensors;
  src->path = pathIn.str();

  // Which shard files: explicit file, index json, or the folder's index/single file.
  std::vector<std::string> shards;
  SmallString<256> index(dir), single(dir);
  sys::path::append(index, "model.safetensors.index.json");
  sys::path::append(single, "model.safetensors");
  std::string indexPath;
  if (StringRef(path).ends_with(".safetensors"))
    shards.push_back(path.str().str());
  else if (StringRef(path).ends_with(".json"))
    indexPath = path.str().str();
  else if (sys::fs::exists(index))
    indexPath = index.str().str();
  else if (sys::fs::exists(single))
    shards.push_back(single.str().str());
  else
    return fileError(pathIn, "no model.safetensors or model.safetensors.index.json in the folder");
  if (!indexPath.empty()) {
    auto v = readJSONFile(indexPath);
    if (!v)
      return v.takeError();
    const json::Object *o = v->getAsObject();
    const json::Object *map = o ? o->getObject("weight_map") : nullptr;
    if (!map)
      return fileError(indexPath, "missing weight_map");
    StringSet<> seen;
    std::vector<std::string> names;
    for (const auto &kv : *map) {
      std::optional<StringRef> file = kv.second.getAsString();
      if (!file || file->contains('/') || file->contains(".."))
        return fileError(indexPath, "bad shard name for tensor '" + kv.first.str() + "'");
      if (seen.insert(*file).second)
        names.push_back(file->str());
    }
    llvm::sort(names);
    for (const std::string &n : names) {
      SmallString<256> p(dir);
      sys::path::append(p, n);
      shards.push_back(p.str().str());
    }
  }
  uint64_t h = 0;
  for (const std::string &s : shards) {
    auto f = MappedFile::open(s);
    if (!f)
      return f.takeError();
    src->size += (*f)->size();
    std::string fp = fingerprintFile(**f);
    h = xxh3_64bits(ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(fp.data()), fp.size())) ^ (h * 31);
    src->files.push_back(std::move(*f));
    if (Error e = readShard(*src, src->files.size() - 1))
      return std::move(e);
  }
  if (shards.size() == 1)
    src->fingerprint = fingerprintFile(*src->files[0]);
  else
    src->fingerprint = "xxh3:" + utohexstr(h, /*LowerCase=*/true, 16);

  SmallString<256> config(dir);
  sys::path::append(config, "config.json");
  if (Error e = readHFConfig(config, src->config))
    return std::move(e);
  src->config.name = sys::path::filename(dir).str();

  src->tokEmbd = "model.embed_tokens.weight";
  src->outputNorm = "model.norm.weight";
  bool hasHead = src->find("lm_head.weight") != nullptr;
  if (src->config.tiedEmbeddings && hasHead)
    src->config.tiedEmbeddings = false; // a stored head wins, as transformers loads it
  if (!src->config.tiedEmbeddings && !hasHead)
    return fileError(pathIn, "missing tensor 'lm_head.weight' and tie_word_embeddings is false");
  src->output = src->config.tiedEmbeddings ? src->tokEmbd : "lm_head.weight";
  for (int64_t i = 0; i < src->config.nLayers && i < 4096; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    src->layers.push_back({p + "input_layernorm.weight", p + "self_attn.q_proj.weight",
                           p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight",
                           p + "self_attn.o_proj.weight", p + "post_attention_layernorm.weight",
                           p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight",
                           p + "mlp.down_proj.weight"});
  }
  SmallString<256> tok(dir);
  sys::path::append(tok, "tokenizer.model");
  if (sys::fs::exists(tok)) {
    auto kind = sniffTokenizerKind(tok);
    if (!kind)
      return kind.takeError();
    src->tokenizer = {tok.str().str(), *kind};
  }
  if (Error e = src->checkRoles())
    return std::move(e);
  return std::move(src);
}

} // namespace qcc
