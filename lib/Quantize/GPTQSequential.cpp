//===- GPTQSequential.cpp - GPTQ stage by stage on quantized inputs ---------===//
#include "GPTQSequential.h"
#include "QuantizeInternal.h"
#include "qcc/Exec/ReferenceExecutor.h"

#include "llvm/ADT/StringSet.h"

using namespace llvm;

namespace qcc {

Error gptqSequential(mlir::ModuleOp module, const ModelSource &src, ArrayRef<int32_t> calibTokens,
                     const CalibrationOptions &co, const quantalgo::IntGroupFormat &fmt,
                     const quantalgo::GPTQOptions &go, bool simulate,
                     StringMap<std::vector<float>> &out,
                     StringMap<std::vector<uint8_t>> &packed, int64_t &tokensSeen,
                     uint64_t *peakBytes) {
  StringSet<> decoder;
  for (const LayerTensors &l : src.layers)
    for (const std::string *n : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown})
      decoder.insert(*n);
  auto ex = ReferenceExecutor::create(module, src);
  if (!ex)
    return ex.takeError();
  quantalgo::GPTQOptions opts = go;
  opts.staticGroups |= opts.actOrder && !simulate; // packable groups
  CalibrationOptions c = co;
  c.collectXtX = true;

  auto onStage = [&](size_t, Calibration &cal) -> Error {
    bool changed = false;
    for (const std::string &name : cal.stageLinearWeights()) {
      if (!decoder.contains(name) || out.count(name) || packed.count(name)) {
        cal.releaseXtX(name); // the output head keeps its format; tied/shared weights once
        continue;
      }
      const LinearInputStats *st = cal.forWeight(name);
      if (!st || st->xtx.empty())
        return createStringError(inconvertibleErrorCode(), "no XᵀX for '%s'", name.c_str());
      const TensorRef *t = src.find(name);
      const int64_t cols = t->shape.back(), rows = t->numElements() / cols;
      std::vector<float> w = loadF32(src, name);
      auto res = quantalgo::gptqQuantize(fmt, w.data(), rows, cols, st->xtx.data(), opts);
      if (!res)
        return createStringError(inconvertibleErrorCode(), "GPTQ on '%s': %s", name.c_str(),
                                 toString(res.takeError()).c_str());
      cal.releaseXtX(name);
      // The map entries stay where they are (StringMap allocates each), so the views below
      // remain valid while the executor runs.
      rt::WeightView view;
      view.rows = rows;
      view.cols = cols;
      if (simulate) {
        std::vector<float> &q = out[name] = std::move(w);
        view.type = GGMLType::F32;
        view.data = reinterpret_cast<const uint8_t *>(q.data());
        view.rowBytes = uint64_t(cols) * sizeof(float);
      } else {
        auto bytes = res->packRows(fmt);
        if (!bytes)
          return bytes.takeError();
        std::vector<uint8_t> &q = packed[name] = std::move(*bytes);
        view.type = GGMLType::I8;
        view.data = q.data();
        view.rowBytes = uint64_t(quantalgo::rowBytes(fmt, cols));
        view.intFormat = fmt;
      }
      if (Error e = (*ex)->overrideWeight(name, view))
        return e;
      changed = true;
    }
    if (changed)
      cal.rerunStage();
    return Error::success();
  };
  auto cal = Calibration::runStreaming(**ex, calibTokens, c, onStage);
  if (!cal)
    return cal.takeError();
  tokensSeen = (*cal)->tokensSeen();
  if (peakBytes)
    *peakBytes = (*cal)->peakBytes();
  return Error::success();
}

} // namespace qcc
