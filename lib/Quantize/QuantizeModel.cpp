//===- QuantizeModel.cpp - quantize a model's weights into a new GGUF -------===//
//
// Output tensors carry llama.cpp's names (token_embd.weight, blk.N.attn_q.weight, ...) in the
// order of the input file. HF checkpoints store q/k rows permuted for rotate-half RoPE
// (transformers' convert script: view(heads, hd/2, 2, dim).transpose(1, 2)); GGUF llama models
// use interleaved RoPE, so those rows are put back: out[h·hd + 2i + j] = hf[h·hd + j·hd/2 + i].
//
//===----------------------------------------------------------------------===//
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Import/GGUF.h"
#include "qcc/Quant/GGMLFormats.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;

namespace qcc {

json::Object QuantizeReport::toJSON() const {
  json::Array list;
  for (const TensorChoice &t : tensors) {
    json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    list.push_back(json::Object{{"name", t.name},
                                {"source", t.sourceName},
                                {"from", lookupFormat(t.from)->name},
                                {"type", lookupFormat(t.to)->name},
                                {"shape", std::move(shape)},
                                {"bytes", int64_t(t.bytes)},
                                {"imatrix", t.importance}});
  }
  return json::Object{{"mix", mix},
                      {"bytes", int64_t(bytes)},
                      {"elements", int64_t(elements)},
                      {"bits_per_weight", bitsPerWeight()},
                      {"calibration_tokens", calibrationTokens},
                      {"seconds", seconds},
                      {"tensors", std::move(list)}};
}

namespace {
/// Source tensor name -> llama.cpp name, from the roles the importer found.
StringMap<std::string> ggufNames(const ModelSource &src) {
  StringMap<std::string> names;
  names[src.tokEmbd] = "token_embd.weight";
  names[src.outputNorm] = "output_norm.weight";
  if (!src.config.tiedEmbeddings)
    names[src.output] = "output.weight";
  if (!src.ropeFreqs.empty())
    names[src.ropeFreqs] = "rope_freqs.weight";
  for (size_t i = 0; i < src.layers.size(); ++i) {
    const LayerTensors &l = src.layers[i];
    std::string p = "blk." + std::to_string(i) + ".";
    names[l.attnNorm] = p + "attn_norm.weight";
    names[l.wq] = p + "attn_q.weight";
    names[l.wk] = p + "attn_k.weight";
    names[l.wv] = p + "attn_v.weight";
    names[l.wo] = p + "attn_output.weight";
    names[l.ffnNorm] = p + "ffn_norm.weight";
    names[l.wGate] = p + "ffn_gate.weight";
    names[l.wUp] = p + "ffn_up.weight";
    names[l.wDown] = p + "ffn_down.weight";
  }
  return names;
}

/// Heads whose rows need un-permuting (q: n_heads, k: n_kv_heads), 0 for other tensors.
int64_t permutedHeads(const ModelSource &src, StringRef name) {
  if (src.config.ropeStyle != RopeStyle::RotateHalf)
    return 0;
  for (const LayerTensors &l : src.layers) {
    if (name == l.wq)
      return src.config.nHeads;
    if (name == l.wk)
      return src.config.nKVHeads;
  }
  return 0;
}
} // namespace

Expected<QuantizeReport> quantizeModel(LoadedModel &m, const QuantizeOptions &opts) {
  auto start = std::chrono::steady_clock::now();
  const ModelSource &src = *m.weights;
  auto fail = [](const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); };
  QuantizeReport report;
  report.mix = opts.mix;

  // Tensors in file order, under llama.cpp's names.
  StringMap<std::string> names = ggufNames(src);
  std::vector<MixTensor> mixTensors;
  for (const TensorRef &t : src.tensors) {
    auto it = names.find(t.name);
    if (it == names.end())
      continue;
    TensorChoice c;
    c.sourceName = t.name;
    c.name = it->second;
    c.from = t.type;
    c.shape = t.shape;
    report.tensors.push_back(c);
    mixTensors.push_back({c.name, std::vector<int64_t>(t.shape.rbegin(), t.shape.rend()), t.type});
  }
  MixModelInfo info;
  info.nLayers = src.config.nLayers;
  info.nHeads = src.config.nHeads;
  info.nKVHeads = src.config.nKVHeads;
  auto types = chooseMixTypes(opts.mix, mixTensors, info);
  if (!types)
    return types.takeError();
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    TensorChoice &c = report.tensors[i];
    c.to = (*types)[i];
    const FormatInfo *f = lookupFormat(c.to);
    if (!f || (c.to != c.from && !f->quantizeRow))
      return fail("tensor '" + c.name + "': no quantizer for " + (f ? f->name : "?"));
    if (c.shape.back() % f->blockSize != 0)
      return fail("tensor '" + c.name + "': row length " + Twine(c.shape.back()) +
                  " is not a multiple of the " + f->name + " block size");
    int64_t elements = 1;
    for (int64_t d : c.shape)
      elements *= d;
    c.bytes = uint64_t(elements / f->blockSize * f->blockBytes);
    report.bytes += c.bytes;
    report.elements += uint64_t(elements);
  }

  // Importance matrix from calibration.
  std::unique_ptr<Calibration> cal;
  if (opts.imatrix) {
    if (opts.calibText.empty())
      return fail("--imatrix needs calibration text (--calib FILE)");
    if (!m.tokenizer)
      return fail("calibration needs the model's tokenizer");
    auto text = MemoryBuffer::getFile(opts.calibText);
    if (!text)
      return fail(opts.calibText + ": " + text.getError().message());
    std::vector<int32_t> tokens = m.tokenizer->encode((*text)->getBuffer(), true);
    auto ex = ReferenceExecutor::create(*m.module, src);
    if (!ex)
      return ex.takeError();
    auto c = Calibration::run(**ex, tokens, opts.calib);
    if (!c)
      return c.takeError();
    cal = std::move(*c);
    report.calibrationTokens = cal->tokensSeen();
  }

  // The output model: same config, llama.cpp names, chosen types, bytes made on demand.
  ModelSource out;
  out.config = src.config;
  out.config.ropeStyle = RopeStyle::Interleaved;
  out.container = ContainerKind::GGUF;
  StringMap<size_t> bySource;
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    const TensorChoice &c = report.tensors[i];
    bySource[c.sourceName] = i;
    TensorRef t;
    t.name = c.name;
    t.type = c.to;
    t.shape = c.shape;
    t.bytes = c.bytes;
    out.addTensor(std::move(t));
  }
  for (TensorChoice &c : report.tensors)
    if (cal && cal->forWeight(c.sourceName) && c.to != c.from && c.to != GGMLType::F16 &&
        c.to != GGMLType::BF16 && c.to != GGMLType::F32)
      c.importance = true;
  out.materialize = [&](const TensorRef &t, raw_ostream &os) -> Error {
    const TensorChoice &c = report.tensors[out.index.lookup(t.name)];
    const TensorRef *in = src.find(c.sourceName);
    const int64_t cols = c.shape.back(), rows = in->numElements() / cols;
    const uint64_t inRow = uint64_t(rowBytes(in->type, cols));
    const int64_t heads = permutedHeads(src, c.sourceName), hd = heads ? rows / heads : 0;
    std::vector<float> importance;
    if (c.importance)
      importance = cal->forWeight(c.sourceName)->importance();
    if (c.to == c.from && heads == 0) { // unchanged bytes
      os.write(reinterpret_cast<const char *>(src.data(*in)), in->bytes);
      return Error::success();
    }
    constexpr int64_t kChunk = 1024;
    std::vector<float> f32;
    std::vector<char> q;
    for (int64_t r0 = 0; r0 < rows; r0 += kChunk) {
      const int64_t n = std::min(kChunk, rows - r0);
      f32.resize(size_t(n * cols));
      for (int64_t r = 0; r < n; ++r) {
        int64_t srcRow = r0 + r;
        if (heads) { // interleaved row h·hd + 2i + j comes from rotate-half row h·hd + j·hd/2 + i
          int64_t h = srcRow / hd, k = srcRow % hd;
          srcRow = h * hd + (k % 2) * (hd / 2) + k / 2;
        }
        if (Error e = dequantizeRow(in->type, src.data(*in) + uint64_t(srcRow) * inRow,
                                    f32.data() + r * cols, cols))
          return e;
      }
      q.resize(size_t(rowBytes(c.to, cols) * n));
      if (Error e = quantizeRows(c.to, f32.data(), q.data(), n, cols,
                                 importance.empty() ? nullptr : importance.data()))
        return e;
      os.write(q.data(), q.size());
    }
    return Error::success();
  };

  // Metadata: llama.cpp's llama keys (writeGGUFModel), the tokenizer, the file type.
  std::unique_ptr<gguf::Reader> tokSource;
  Error tokErr = Error::success();
  auto tokAttr = (*m.module)->getAttrOfType<qllm::TokenizerAttr>("qllm.tokenizer");
  if (tokAttr && tokAttr.getKind() == "gguf") {
    auto r = gguf::Reader::open(tokAttr.getPath());
    if (!r)
      return r.takeError();
    tokSource = std::move(*r);
  }
  Error err = writeGGUFModel(out, opts.ggufPath, [&](gguf::Writer &w) {
    w.setString("general.name", src.config.name);
    w.setUInt32("general.quantization_version", 2);
    if (tokSource) {
      for (const std::string &k : tokSource->keys())
        if (StringRef(k).starts_with("tokenizer."))
          w.setValue(k, *tokSource->get(k));
    } else if (m.tokenizer) {
      tokErr = m.tokenizer->writeGGUFKeys(w);
    }
  });
  if (tokErr) {
    consumeError(std::move(err));
    sys::fs::remove(opts.ggufPath);
    return std::move(tokErr);
  }
  if (err)
    return std::move(err);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Error retargetModule(mlir::ModuleOp module, const QuantizeReport &report,
                     const ModelSource &written) {
  mlir::MLIRContext *ctx = module.getContext();
  StringMap<const TensorChoice *> bySource;
  for (const TensorChoice &c : report.tensors)
    bySource[c.sourceName] = &c;
  Error err = Error::success();
  module.walk([&](qllm::WeightOp w) {
    auto it = bySource.find(w.getName());
    if (it == bySource.end()) {
      if (!err)
        err = createStringError(inconvertibleErrorCode(), "weight '%s' was not quantized",
                                w.getName().str().c_str());
      return;
    }
    const TensorChoice &c = *it->second;
    auto format = qllm::GGMLFormatAttr::get(ctx, static_cast<qllm::GGMLFormat>(uint32_t(c.to)));
    w.getResult().setType(qllm::WeightType::get(ctx, c.shape, format));
    w.setName(c.name);
  });
  if (err)
    return err;
  module.walk([&](qllm::RopeOp r) { r.setStyle(qllm::RopeStyle::interleaved); });
  if (auto cfg = module->getAttrOfType<qllm::ModelConfigAttr>("qllm.config"))
    module->setAttr("qllm.config",
                    qllm::ModelConfigAttr::get(
                        ctx, cfg.getArch(), cfg.getName(), cfg.getDim(), cfg.getFfnDim(),
                        cfg.getNLayers(), cfg.getNHeads(), cfg.getNKvHeads(), cfg.getHeadDim(),
                        cfg.getVocabSize(), cfg.getMaxSeqLen(),
                        cfg.getRopeTheta().convertToDouble(), qllm::RopeStyle::interleaved,
                        cfg.getRopeScaling(), cfg.getNormEps().convertToDouble(),
                        cfg.getTiedEmbeddings()));
  module->setAttr("qllm.weights",
                  qllm::WeightFileAttr::get(ctx, written.path, "gguf", int64_t(written.size),
                                            written.fingerprint));
  if (written.tokenizer.kind == "gguf")
    module->setAttr("qllm.tokenizer", qllm::TokenizerAttr::get(ctx, written.path, "gguf"));
  return Error::success();
}

} // namespace qcc
