//===- ModelSource.cpp - container dispatch, role checks, weight-file checks ===//
#include "qcc/Import/ModelSource.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace qcc {

StringRef containerName(ContainerKind k) {
  switch (k) {
  case ContainerKind::GGUF: return "gguf";
  case ContainerKind::Safetensors: return "safetensors";
  case ContainerKind::Llama2c: return "llama2c";
  }
  return "?";
}

std::optional<ContainerKind> parseContainerName(StringRef s) {
  if (s == "gguf") return ContainerKind::GGUF;
  if (s == "safetensors") return ContainerKind::Safetensors;
  if (s == "llama2c") return ContainerKind::Llama2c;
  return std::nullopt;
}

Error ModelConfig::validate(StringRef file) const {
  auto bad = [&](const Twine &why) { return fileError(file, "inconsistent model: " + why); };
  if (dim <= 0 || ffnDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKVHeads <= 0 || headDim <= 0 ||
      vocabSize <= 0 || maxSeqLen <= 0)
    return bad("dimensions must be positive (dim " + Twine(dim) + ", ffn " + Twine(ffnDim) +
               ", layers " + Twine(nLayers) + ", heads " + Twine(nHeads) + ", kv heads " +
               Twine(nKVHeads) + ", head dim " + Twine(headDim) + ", vocab " + Twine(vocabSize) +
               ", max seq " + Twine(maxSeqLen) + ")");
  if (dim > (1 << 20) || ffnDim > (1 << 22) || nLayers > 4096 || nHeads > 4096 ||
      vocabSize > (1 << 24) || maxSeqLen > (1 << 24))
    return bad("implausibly large dimensions");
  if (nHeads % nKVHeads != 0)
    return bad(Twine(nHeads) + " heads are not a multiple of " + Twine(nKVHeads) + " kv heads");
  if (headDim % 2 != 0)
    return bad("head dim " + Twine(headDim) + " is odd (RoPE rotates pairs)");
  if (!(ropeTheta > 0) || !(normEps > 0))
    return bad("rope theta and norm eps must be positive");
  return Error::success();
}

int64_t TensorRef::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const TensorRef *ModelSource::find(StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

Error ModelSource::dequantizeRow(const TensorRef &t, int64_t row, float *out) const {
  const int64_t cols = t.shape.back();
  const uint8_t *p = data(t) + uint64_t(row) * uint64_t(t.storageRowBytes(cols));
  if (t.intFormat) {
    quantalgo::dequantizeRow(*t.intFormat, p, out, cols);
    return Error::success();
  }
  return qcc::dequantizeRow(t.type, p, out, cols);
}

void ModelSource::addTensor(TensorRef t) {
  index[t.name] = tensors.size();
  tensors.push_back(std::move(t));
}

Error ModelSource::checkRoles() const {
  if (Error e = config.validate(path))
    return e;
  const ModelConfig &c = config;
  auto expect = [&](StringRef name, ArrayRef<int64_t> shape, StringRef role) -> Error {
    const TensorRef *t = find(name);
    if (!t)
      return fileError(path, "missing tensor '" + name + "' (" + role + ")");
    if (ArrayRef<int64_t>(t->shape) != shape) {
      std::string want, got;
      for (int64_t d : shape) want += (want.empty() ? "" : "x") + std::to_string(d);
      for (int64_t d : t->shape) got += (got.empty() ? "" : "x") + std::to_string(d);
      return fileError(path, "tensor '" + name + "' (" + role + ") has shape " + got +
                                 ", expected " + want);
    }
    return Error::success();
  };
  int64_t qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim;
  if (Error e = expect(tokEmbd, {c.vocabSize, c.dim}, "token embedding")) return e;
  if (Error e = expect(outputNorm, {c.dim}, "final norm")) return e;
  if (Error e = expect(output, {c.vocabSize, c.dim}, "output")) return e;
  if (!ropeFreqs.empty())
    if (Error e = expect(ropeFreqs, {c.headDim / 2}, "rope frequency factors")) return e;
  if (int64_t(layers.size()) != c.nLayers)
    return fileError(path, "expected " + Twine(c.nLayers) + " layers, found " + Twine(layers.size()));
  for (const LayerTensors &l : layers) {
    if (Error e = expect(l.attnNorm, {c.dim}, "attention norm")) return e;
    if (Error e = expect(l.wq, {qDim, c.dim}, "query projection")) return e;
    if (Error e = expect(l.wk, {kvDim, c.dim}, "key projection")) return e;
    if (Error e = expect(l.wv, {kvDim, c.dim}, "value projection")) return e;
    if (Error e = expect(l.wo, {c.dim, qDim}, "attention output")) return e;
    if (Error e = expect(l.ffnNorm, {c.dim}, "ffn norm")) return e;
    if (Error e = expect(l.wGate, {c.ffnDim, c.dim}, "ffn gate")) return e;
    if (Error e = expect(l.wUp, {c.ffnDim, c.dim}, "ffn up")) return e;
    if (Error e = expect(l.wDown, {c.dim, c.ffnDim}, "ffn down")) return e;
  }
  return Error::success();
}

static bool startsWith(const MappedFile &f, StringRef magic) {
  return f.size() >= magic.size() && std::memcmp(f.data(), magic.data(), magic.size()) == 0;
}

Expected<std::unique_ptr<ModelSource>> openModelSource(StringRef path) {
  if (sys::fs::is_directory(path))
    return readSafetensorsModel(path);
  if (!sys::fs::exists(path))
    return fileError(path, "no such file or directory");
  auto f = MappedFile::open(path);
  if (!f)
    return f.takeError();
  if (startsWith(**f, "GGUF") || path.ends_with(".gguf"))
    return readGGUFModel(path);
  if (path.ends_with(".safetensors") || path.ends_with(".json"))
    return readSafetensorsModel(path);
  if (path.ends_with(".bin"))
    return readLlama2cModel(path);
  return fileError(path, "unrecognised model format (expected a .gguf, a safetensors file or "
                         "folder, or a llama2.c .bin)");
}

Expected<std::unique_ptr<ModelSource>> openWeightFile(StringRef path, ContainerKind container,
                                                      uint64_t size, StringRef fingerprint) {
  Expected<std::unique_ptr<ModelSource>> src =
      container == ContainerKind::GGUF          ? readGGUFModel(path)
      : container == ContainerKind::Safetensors ? readSafetensorsModel(path)
                                                : readLlama2cModel(path);
  if (!src)
    return src.takeError();
  if ((*src)->size != size)
    return fileError(path, "weight file changed since import: size " + Twine((*src)->size) +
                               " bytes, the module expects " + Twine(size));
  if (!fingerprint.empty() && (*src)->fingerprint != fingerprint)
    return fileError(path, "weight file changed since import: fingerprint " +
                               (*src)->fingerprint + ", the module expects " + fingerprint);
  return src;
}

Expected<std::string> sniffTokenizerKind(StringRef path) {
  auto f = MappedFile::open(path);
  if (!f)
    return f.takeError();
  const MappedFile &m = **f;
  if (startsWith(m, "GGUF"))
    return std::string("gguf");
  StringRef head(reinterpret_cast<const char *>(m.data()), std::min<uint64_t>(m.size(), 256));
  // tiktoken: text lines "base64 rank".
  size_t nl = head.find('\n');
  StringRef first = head.take_front(nl);
  if (nl != StringRef::npos && first.contains(' ') &&
      all_of(first, [](char c) { return isAlnum(c) || c == '+' || c == '/' || c == '=' || c == ' '; }))
    return std::string("tiktoken");
  // SentencePiece ModelProto: field 1 (pieces), wire type 2 -> tag byte 0x0a.
  if (m.size() > 0 && m.data()[0] == 0x0a)
    return std::string("sentencepiece");
  if (path.ends_with(".bin"))
    return std::string("llama2c");
  return fileError(path, "cannot tell which kind of tokenizer this is");
}

} // namespace qcc
