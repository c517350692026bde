//===- QuantizeModel.cpp - quantize a model's weights into a new GGUF -------===//
//
// Output tensors carry llama.cpp's names (token_embd.weight, blk.N.attn_q.weight, ...) in the
// order of the input file. HF checkpoints store q/k rows permuted for rotate-half RoPE
// (transformers' convert script: view(heads, hd/2, 2, dim).transpose(1, 2)); GGUF llama models
// use interleaved RoPE, so those rows are put back: out[h·hd + 2i + j] = hf[h·hd + j·hd/2 + i].
//
//===----------------------------------------------------------------------===//
#include "qcc/Quantize/QuantizeModel.h"
#include "GPTQSequential.h"
#include "QuantizeInternal.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Import/GGUF.h"
#include "qcc/Quant/GGMLFormats.h"
#include "qcc/Quant/Mixes.h"
#include "qcc/Support/MappedFile.h"
#include "qcc/QuantAlgo/AWQ.h"
#include "qcc/QuantAlgo/SmoothQuant.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <cmath>

using namespace llvm;

namespace qcc {

char TensorError::ID = 0;

json::Object QuantizeReport::toJSON() const {
  json::Array list;
  for (const TensorChoice &t : tensors) {
    json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    list.push_back(json::Object{{"name", t.name},
                                {"source", t.sourceName},
                                {"from", lookupFormat(t.from)->name},
                                {"type", t.intFormat ? intFormatKey(*t.intFormat, t.shape.back())
                                                     : std::string(lookupFormat(t.to)->name)},
                                {"shape", std::move(shape)},
                                {"bytes", int64_t(t.bytes)},
                                {"imatrix", t.importance},
                                {"simulated", t.simulated}});
  }
  return json::Object{{"mix", mix},
                      {"budget", budget},
                      {"predicted_error", predictedError},
                      {"measured_error", measuredError},
                      {"method", method},
                      {"simulated_bytes", int64_t(simulatedBytes)},
                      {"simulated_bits_per_weight", simulatedBitsPerWeight()},
                      {"bytes", int64_t(bytes)},
                      {"elements", int64_t(elements)},
                      {"bits_per_weight", bitsPerWeight()},
                      {"calibration_tokens", calibrationTokens},
                      {"seconds", seconds},
                      {"tensors", std::move(list)}};
}

Error QuantizeReport::writeJSON(StringRef path) const {
  return writeFileAtomically(path, [&](raw_ostream &os) {
    os << formatv("{0:2}", json::Value(toJSON())) << "\n";
    return Error::success();
  });
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

/// The rotate-half (HF) row that output row `r` (interleaved, GGUF) comes from: row h·hd + 2i + j
/// of the output is row h·hd + j·hd/2 + i of the input.
int64_t unpermutedSourceRow(int64_t r, int64_t hd) {
  const int64_t h = r / hd, k = r % hd;
  return h * hd + (k % 2) * (hd / 2) + k / 2;
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

/// RTN / GPTQ / AWQ / SmoothQuant on every decoder linear: packed rows in `packed`, or with
/// `simulate` the dequantized f32 weights in `out`; folded norm weights always go to `out`.
static Error simulateMethod(const ModelSource &src, const QuantizeOptions &opts,
                            const Calibration *cal, StringMap<std::vector<float>> &out,
                            StringMap<std::vector<uint8_t>> &packed) {
  using namespace quantalgo;
  const IntGroupFormat &fmt = opts.format;
  auto shapeOf = [&](StringRef n) {
    const TensorRef *t = src.find(n);
    return std::make_pair(t->numElements() / t->shape.back(), t->shape.back());
  };
  auto needStats = [&](StringRef n) -> Expected<const LinearInputStats *> {
    const LinearInputStats *st = cal ? cal->forWeight(n) : nullptr;
    if (!st)
      return createStringError(inconvertibleErrorCode(), "no calibration statistics for '%s'",
                               n.str().c_str());
    return st;
  };
  for (const LayerTensors &l : src.layers) {
    // Linears that read the same input: AWQ searches one scale vector for each set, SmoothQuant
    // migrates the sets that follow an RMSNorm.
    std::vector<std::vector<std::string>> sets = {
        {l.wq, l.wk, l.wv}, {l.wo}, {l.wGate, l.wUp}, {l.wDown}};
    std::vector<std::string> norms = {l.attnNorm, "", l.ffnNorm, ""};
    std::map<std::string, std::vector<float>> awqScaled;
    if (opts.method == "awq")
      if (Error e = awqLayer(src, l, fmt, cal, opts.calib.seqlen, !opts.scalesFolded,
                             !opts.foldOnly, awqScaled, out))
        return e;
    for (size_t si = 0; si < sets.size(); ++si) {
      const std::vector<std::string> &set = sets[si];
      std::vector<std::vector<float>> ws;
      for (const std::string &n : set)
        ws.push_back(awqScaled.count(n) ? std::move(awqScaled[n]) : loadF32(src, n));
      const int64_t cols = shapeOf(set[0]).second;
      if (opts.method == "smoothquant" && !opts.scalesFolded && !norms[si].empty()) {
        auto st = needStats(set[0]);
        if (!st)
          return st.takeError();
        std::vector<WeightRef> refs;
        for (size_t i = 0; i < set.size(); ++i)
          refs.push_back({ws[i].data(), shapeOf(set[i]).first});
        std::vector<float> s = smoothQuantScales((*st)->absMax, refs, cols, opts.smoothAlpha);
        for (size_t i = 0; i < set.size(); ++i)
          smoothWeights(ws[i].data(), shapeOf(set[i]).first, cols, s);
        std::vector<float> gamma = loadF32(src, norms[si]);
        for (int64_t j = 0; j < cols; ++j)
          gamma[j] /= s[j];
        out[norms[si]] = std::move(gamma);
      }
      for (size_t i = 0; i < set.size(); ++i) {
        const int64_t rows = shapeOf(set[i]).first;
        if (opts.foldOnly) {
          out[set[i]] = std::move(ws[i]);
          continue;
        }
        // AWQ's search already scaled and clipped the weights: what is left is rounding.
        const bool rtn =
            opts.method == "rtn" || opts.method == "smoothquant" || opts.method == "awq";
        if (rtn && opts.simulate) {
          std::vector<float> q(ws[i].size());
          fakeQuantizeMatrixRTN(fmt, ws[i].data(), rows, cols, q.data());
          out[set[i]] = std::move(q);
        } else if (rtn) {
          std::vector<uint8_t> q(size_t(rowBytes(fmt, cols) * rows));
          quantizeMatrixRTN(fmt, ws[i].data(), rows, cols, q.data());
          packed[set[i]] = std::move(q);
        } else { // gptq
          auto st = needStats(set[i]);
          if (!st)
            return st.takeError();
          GPTQOptions go = opts.gptq;
          go.staticGroups |= go.actOrder && !opts.simulate; // packable groups
          auto res = gptqQuantize(fmt, ws[i].data(), rows, cols, (*st)->xtx.data(), go);
          if (!res)
            return createStringError(inconvertibleErrorCode(), "GPTQ on '%s': %s",
                                     set[i].c_str(), toString(res.takeError()).c_str());
          if (opts.simulate) {
            out[set[i]] = std::move(ws[i]);
          } else {
            auto bytes = res->packRows(fmt);
            if (!bytes)
              return bytes.takeError();
            packed[set[i]] = std::move(*bytes);
          }
        }
      }
    }
  }
  return Error::success();
}

std::string describeQuantizeError(mlir::ModuleOp module, Error err) {
  std::string msg;
  handleAllErrors(
      std::move(err),
      [&](const TensorError &te) {
        msg = te.tensor + ": " + te.message;
        module.walk([&](qllm::WeightOp w) {
          if (w.getName() != te.tensor)
            return mlir::WalkResult::advance();
          std::string where;
          if (auto loc = dyn_cast<mlir::FileLineColLoc>(w.getLoc()))
            where = formatv("{0}:{1}:{2}: ", loc.getFilename().getValue(), loc.getLine(),
                            loc.getColumn())
                        .str();
          msg = where + "'qllm.weight' op " + msg;
          return mlir::WalkResult::interrupt();
        });
      },
      [&](const ErrorInfoBase &e) { msg = e.message(); });
  return msg;
}

Expected<QuantizeReport> quantizeModel(mlir::ModuleOp module, const ModelSource &src,
                                       const Tokenizer *tokenizer, const QuantizeOptions &opts) {
  auto start = std::chrono::steady_clock::now();
  auto fail = [](const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); };
  QuantizeReport report;
  report.mix = opts.mix;
  report.method = opts.method;
  report.budget = opts.budget;
  report.foldOnly = opts.foldOnly;
  // The integer formats the dialect accepts (qllm.int_group's verifier): refused here, before any
  // work, rather than in a module that could not be read back.
  if (!opts.method.empty() && opts.format.groupSize != 0 &&
      (opts.format.groupSize < 16 || !llvm::isPowerOf2_64(opts.format.groupSize)))
    return fail("group size must be 0 (per output channel) or a power of two >= 16, got " +
                Twine(opts.format.groupSize));

  // The output GGUF carries the tokenizer: copied key by key from the module's tokenizer GGUF, or
  // written from the loaded vocabulary. Both are checked here, before any quantization work, so
  // that nothing can fail at the end for want of a tokenizer the file cannot hold.
  std::unique_ptr<gguf::Reader> tokSource;
  auto tokAttr = module->getAttrOfType<qllm::TokenizerAttr>("qllm.tokenizer");
  if (tokAttr && tokAttr.getKind() == "gguf") {
    auto r = gguf::Reader::open(tokAttr.getPath());
    if (!r)
      return r.takeError();
    tokSource = std::move(*r);
  } else if (tokenizer) {
    if (Error e = tokenizer->checkGGUFWritable())
      return std::move(e);
  }

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
  // Method mode quantizes the decoder's linears; everything else keeps its format.
  StringSet<> linears;
  for (const LayerTensors &l : src.layers)
    for (const std::string *n : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown})
      linears.insert(*n);
  std::vector<GGMLType> types;
  if (opts.budget > 0) {
    // Filled after calibration (the sensitivities need the importance matrix).
  } else if (!opts.mix.empty()) {
    MixModelInfo info;
    info.nLayers = src.config.nLayers;
    info.nHeads = src.config.nHeads;
    info.nKVHeads = src.config.nKVHeads;
    auto t = chooseMixTypes(opts.mix, mixTensors, info);
    if (!t)
      return t.takeError();
    types = std::move(*t);
  } else if (!opts.method.empty()) {
    if (opts.method != "rtn" && opts.method != "gptq" && opts.method != "awq" &&
        opts.method != "smoothquant")
      return fail("unknown method '" + opts.method + "' (rtn, gptq, awq, smoothquant)");
    if (opts.method == "smoothquant" &&
        (opts.format.bits != 8 || opts.format.groupSize != 0 || !opts.format.symmetric))
      return fail("smoothquant is W8A8: int8 symmetric per-channel weights (--bits 8 --group 0)");
    for (TensorChoice &c : report.tensors) {
      bool lin = linears.contains(c.sourceName);
      types.push_back(lin ? (opts.simulate ? GGMLType::F32 : GGMLType::I8) : c.from);
      if (lin && !opts.simulate)
        c.intFormat = opts.format;
      if (lin) {
        c.simulated = (Twine("int") + Twine(opts.format.bits) +
                       (opts.format.groupSize ? "_g" + Twine(opts.format.groupSize) : Twine("_ch")) +
                       (opts.format.symmetric ? "_sym" : "_asym"))
                          .str();
        if (Error e = opts.format.validate(c.shape.back()))
          return make_error<TensorError>(c.sourceName, "cannot quantize to " + c.simulated +
                                                           ": " + toString(std::move(e)));
      }
    }
  } else {
    // Planned formats: each qllm.weight's quantize_to (qllm-choose-bits).
    StringMap<mlir::Attribute> planned;
    module.walk([&](qllm::WeightOp w) {
      if (auto to = w.getQuantizeToAttr())
        planned[w.getName()] = to;
    });
    if (planned.empty())
      return fail("nothing to quantize: no mix, method or budget, and no qllm.weight has a "
                  "quantize_to format (run qllm-choose-bits first)");
    for (TensorChoice &c : report.tensors) {
      mlir::Attribute to = planned.lookup(c.sourceName);
      if (auto g = dyn_cast_or_null<qllm::GGMLFormatAttr>(to)) {
        types.push_back(GGMLType(uint32_t(g.getValue())));
      } else if (auto i = dyn_cast_or_null<qllm::IntGroupFormatAttr>(to)) {
        types.push_back(GGMLType::I8);
        c.intFormat = i.getFormat();
        if (Error e = c.intFormat->validate(c.shape.back()))
          return make_error<TensorError>(c.sourceName, toString(std::move(e)));
      } else {
        types.push_back(c.from);
      }
    }
  }
  // GPTQ calibrating itself is sequential (each stage's inputs come from the quantized stages
  // before it, XᵀX held one stage at a time; lib/Quantize/GPTQSequential.cpp runs its own
  // streaming calibration); statistics from a file were measured on the float model, so GPTQ on
  // them is one-shot.
  const bool gptqSeq = opts.method == "gptq" && !opts.calibration;
  // Calibration statistics: measured before (opts.calibration) or now, on calibText. The
  // budget's KL sensitivities also run the model on calibText.
  const bool budgetKL = opts.budget > 0 && !opts.calibText.empty();
  const bool needStats = opts.imatrix || (opts.method == "gptq" && !gptqSeq) ||
                         opts.method == "awq" ||
                         (opts.method == "smoothquant" && !opts.scalesFolded) || budgetKL;
  const bool needText = (needStats && !opts.calibration) || budgetKL || gptqSeq;
  std::unique_ptr<Calibration> cal;
  // Planned formats are quantized with the importance matrix whenever there is one, as
  // qllm-choose-bits measured them.
  const bool planned = opts.mix.empty() && opts.method.empty() && opts.budget <= 0;
  const Calibration *stats = needStats || planned ? opts.calibration : nullptr;
  std::unique_ptr<ReferenceExecutor> calibExecutor;
  std::vector<int32_t> calibTokens;
  if (needText) {
    if (opts.calibText.empty())
      return fail("calibration text is needed (--calib FILE)");
    if (!tokenizer)
      return fail("calibration needs the model's tokenizer");
    auto text = MemoryBuffer::getFile(opts.calibText);
    if (!text)
      return fail(opts.calibText + ": " + text.getError().message());
    calibTokens = tokenizer->encode((*text)->getBuffer(), true);
  }
  if ((needStats && !stats) || budgetKL) {
    auto ex = ReferenceExecutor::create(module, src);
    if (!ex)
      return ex.takeError();
    calibExecutor = std::move(*ex);
  }
  if (needStats && !stats) {
    CalibrationOptions co = opts.calib;
    co.collectXtX = opts.method == "gptq" && !gptqSeq;
    // AWQ's attention loss runs on whole windows: about 4096 rows, in whole windows.
    co.maxSampleRows =
        opts.method == "awq" ? std::max<int64_t>(1, 4096 / co.seqlen) * co.seqlen : 0;
    auto c = Calibration::run(*calibExecutor, calibTokens, co);
    if (!c)
      return c.takeError();
    cal = std::move(*c);
    stats = cal.get();
  }
  if (stats) {
    report.calibrationTokens = stats->tokensSeen();
    // Statistics from a file must hold what the method needs.
    for (const TensorChoice &c : report.tensors) {
      if (opts.method.empty() || !linears.contains(c.sourceName))
        continue;
      const LinearInputStats *st = stats->forWeight(c.sourceName);
      if (!st)
        return make_error<TensorError>(c.sourceName, "the calibration statistics do not cover "
                                                     "this tensor");
      if (opts.method == "gptq" && !gptqSeq && st->xtx.empty())
        return make_error<TensorError>(
            c.sourceName, "GPTQ needs XᵀX, which the calibration statistics do not hold "
                          "(qllm-calibrate xtx=true)");
      if (opts.method == "awq" && st->sampleRows == 0)
        return make_error<TensorError>(
            c.sourceName, "AWQ needs sample rows, which the calibration statistics do not hold "
                          "(qllm-calibrate sample-rows=N)");
    }
  }

  if (opts.outputType) {
    // The LM head's format instead of the mix's or the method's (qcc-quantize --output-type).
    if (src.config.tiedEmbeddings)
      return fail("an LM head format was given, but this model has no output.weight (its "
                  "embeddings are tied: the LM head is token_embd.weight)");
    for (size_t i = 0; i < report.tensors.size(); ++i)
      if (report.tensors[i].sourceName == src.output)
        types[i] = *opts.outputType; // never a linear: no integer format set for it
  }
  if (opts.budget > 0)
    if (Error e = chooseBudgetTypes(src, opts, stats, report, types, calibExecutor.get(),
                                    calibTokens))
      return std::move(e);
  for (size_t i = 0; i < report.tensors.size(); ++i) {
    TensorChoice &c = report.tensors[i];
    c.to = types[i];
    const FormatInfo *f = lookupFormat(c.to);
    if (c.intFormat) {
      const int64_t rows = c.shape.front(), cols = c.shape.back();
      c.bytes = c.simulatedBytes = uint64_t(quantalgo::rowBytes(*c.intFormat, cols) * rows);
      report.bytes += c.bytes;
      report.simulatedBytes += c.bytes;
      report.elements += uint64_t(rows * cols);
      continue;
    }
    if (!f || (c.to != c.from && !f->quantizeRow))
      return make_error<TensorError>(c.sourceName,
                                     std::string("no quantizer for ") + (f ? f->name : "?"));
    if (c.shape.back() % f->blockSize != 0)
      return make_error<TensorError>(c.sourceName, ("row length " + Twine(c.shape.back()) +
                                                    " is not a multiple of the " + f->name +
                                                    " block size " + Twine(f->blockSize))
                                                       .str());
    int64_t elements = 1;
    for (int64_t d : c.shape)
      elements *= d;
    c.bytes = uint64_t(elements / f->blockSize * f->blockBytes);
    c.simulatedBytes = c.simulated.empty()
                           ? c.bytes
                           : uint64_t(quantalgo::rowBytes(opts.format, c.shape.back()) *
                                      (elements / c.shape.back()));
    report.bytes += c.bytes;
    report.simulatedBytes += c.simulatedBytes;
    report.elements += uint64_t(elements);
  }

  // Method mode: the quantized-then-dequantized weights, computed up front.
  StringMap<std::vector<float>> simulated;
  StringMap<std::vector<uint8_t>> packed;
  if (opts.ggufPath.empty()) { // plan only
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }
  if (gptqSeq) {
    int64_t seen = 0;
    if (Error e = gptqSequential(module, src, calibTokens, opts.calib, opts.format, opts.gptq,
                                 opts.simulate, simulated, packed, seen))
      return std::move(e);
    report.calibrationTokens = seen;
  } else if (!opts.method.empty()) {
    if (Error e = simulateMethod(src, opts, stats, simulated, packed))
      return std::move(e);
  } else {
    // Planned integer formats: round to nearest.
    for (const TensorChoice &c : report.tensors)
      if (c.intFormat) {
        const int64_t cols = c.shape.back(), rows = c.shape.front();
        std::vector<float> w = loadF32(src, c.sourceName);
        std::vector<uint8_t> q(size_t(quantalgo::rowBytes(*c.intFormat, cols) * rows));
        quantalgo::quantizeMatrixRTN(*c.intFormat, w.data(), rows, cols, q.data());
        packed[c.sourceName] = std::move(q);
      }
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
    t.intFormat = c.intFormat;
    out.addTensor(std::move(t));
  }
  for (TensorChoice &c : report.tensors)
    if (stats && (opts.imatrix || opts.budget > 0 || planned) && stats->forWeight(c.sourceName) &&
        c.to != c.from && c.to != GGMLType::F16 &&
        c.to != GGMLType::BF16 && c.to != GGMLType::F32)
      c.importance = true;
  out.materialize = [&](const TensorRef &t, raw_ostream &os) -> Error {
    const TensorChoice &c = report.tensors[out.index.lookup(t.name)];
    const TensorRef *in = src.find(c.sourceName);
    const int64_t cols = c.shape.back(), rows = in->numElements() / cols;
    const int64_t heads = permutedHeads(src, c.sourceName), hd = heads ? rows / heads : 0;
    std::vector<float> importance;
    if (c.importance)
      importance = stats->forWeight(c.sourceName)->importance();
    if (auto pk = packed.find(c.sourceName); pk != packed.end()) {
      // Packed rows, in the output's row order (un-permuted for rotate-half sources).
      const int64_t rb = quantalgo::rowBytes(*c.intFormat, cols);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t srcRow = heads ? unpermutedSourceRow(r, hd) : r;
        os.write(reinterpret_cast<const char *>(pk->second.data() + srcRow * rb), rb);
      }
      return Error::success();
    }
    auto sim = simulated.find(c.sourceName);
    const float *simData = sim == simulated.end() ? nullptr : sim->second.data();
    if (c.to == c.from && heads == 0 && !simData) { // unchanged bytes
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
        const int64_t srcRow = heads ? unpermutedSourceRow(r0 + r, hd) : r0 + r;
        if (simData)
          std::memcpy(f32.data() + r * cols, simData + srcRow * cols, cols * sizeof(float));
        else if (Error e = src.dequantizeRow(*in, srcRow, f32.data() + r * cols))
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

  // Metadata: llama.cpp's llama keys (writeGGUFModel), the tokenizer (checked above), the file
  // type.
  Error tokErr = Error::success();
  Error err = writeGGUFModel(out, opts.ggufPath, [&](gguf::Writer &w) {
    w.setString("general.name", src.config.name);
    w.setUInt32("general.quantization_version", 2);
    if (tokSource) {
      for (const std::string &k : tokSource->keys())
        if (StringRef(k).starts_with("tokenizer."))
          w.setValue(k, *tokSource->get(k));
    } else if (tokenizer) {
      tokErr = tokenizer->writeGGUFKeys(w);
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
    mlir::Attribute format =
        c.intFormat
            ? mlir::Attribute(qllm::IntGroupFormatAttr::get(ctx, *c.intFormat))
            : mlir::Attribute(qllm::GGMLFormatAttr::get(
                  ctx, static_cast<qllm::GGMLFormat>(uint32_t(c.to))));
    w.getResult().setType(qllm::WeightType::get(ctx, c.shape, format));
    w.setName(c.name);
    w.removeQuantizeToAttr(); // the plan is carried out
  });
  if (err)
    return err;
  module.walk([&](qllm::RopeOp r) { r.setStyle(qllm::RopeStyle::interleaved); });
  if (report.method == "smoothquant" && !report.foldOnly)
    module.walk([&](qllm::LinearOp lin) {
      auto w = lin.getWeight().getDefiningOp<qllm::WeightOp>();
      for (const TensorChoice &c : report.tensors)
        if (w && c.name == w.getName() && (c.intFormat || !c.simulated.empty()))
          lin.setActQuant("int8_per_token");
    });
  if (auto cfg = module->getAttrOfType<qllm::ModelConfigAttr>("qllm.config"))
    module->setAttr("qllm.config",
                    qllm::ModelConfigAttr::get(
                        ctx, cfg.getArch(), cfg.getName(), cfg.getDim(), cfg.getFfnDim(),
                        cfg.getNLayers(), cfg.getNHeads(), cfg.getNKvHeads(), cfg.getHeadDim(),
                        cfg.getVocabSize(), cfg.getMaxSeqLen(),
                        cfg.getRopeTheta().convertToDouble(), qllm::RopeStyle::interleaved,
                        cfg.getRopeScaling(), cfg.getNormEps().convertToDouble(),
                        cfg.getTiedEmbeddings()));
  // Statistics were measured on the old weights.
  module->removeAttr(qllm::QLlmDialect::kCalibrationAttrName);
  if (report.foldOnly)
    module->setAttr(qllm::QLlmDialect::kFoldedAttrName, mlir::StringAttr::get(ctx, report.method));
  else // quantized: nothing left to fold
    module->removeAttr(qllm::QLlmDialect::kFoldedAttrName);
  module->setAttr("qllm.weights",
                  qllm::WeightFileAttr::get(ctx, written.path, "gguf", int64_t(written.size),
                                            written.fingerprint));
  if (written.tokenizer.kind == "gguf")
    module->setAttr("qllm.tokenizer", qllm::TokenizerAttr::get(ctx, written.path, "gguf"));
  return Error::success();
}

} // namespace qcc
