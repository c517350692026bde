//===- KernelSet.cpp - the generated kernels a qllm module needs ------------===//
#include "qcc/Conversion/QLlmToKernels/KernelSet.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace qcc::qllm;
using qcc::codegen::KernelKey;
using qcc::codegen::KernelOp;

namespace qcc {

/// The matmul/embed format name of a weight type, or a diagnostic on `user`.
static FailureOr<std::string> formatOf(WeightType ty, Operation *user) {
  std::optional<std::string> name;
  if (auto g = dyn_cast<GGMLFormatAttr>(ty.getFormat()))
    name = codegen::matmulFormatName(GGMLType(uint32_t(g.getValue())), std::nullopt);
  else if (auto i = dyn_cast<IntGroupFormatAttr>(ty.getFormat()))
    name = codegen::matmulFormatName(GGMLType::I8, i.getFormat());
  if (!name)
    return user->emitOpError("has no generated kernel for weight format ")
           << cast<WeightFormatAttrInterface>(ty.getFormat()).getFormatName();
  return *name;
}

static int64_t lastDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(t.getRank() - 1);
}

FailureOr<SmallVector<KernelKey, 4>> kernelsOf(Operation *opPtr, const std::string &target,
                                               bool q8Activations) {
  Operation &op = *opPtr;
  SmallVector<KernelKey, 4> keys;
  KernelKey k;
  k.target = target;
  if (auto lin = dyn_cast<LinearOp>(op)) {
    WeightType w = cast<WeightType>(lin.getWeight().getType());
    FailureOr<std::string> f = formatOf(w, &op);
    if (mlir::failed(f))
      return failure();
    k.op = KernelOp::MatMul;
    k.format = *f;
    k.rows = w.getShape().front();
    k.cols = w.getShape().back();
    k.int8Activations = lin.getActQuant().has_value();
    k.batch = 1; // decode
    k.q8Activations = q8Activations && !k.int8Activations &&
                      codegen::q8ActivationsSupported(k.format, k.cols, k.batch, target);
    const bool q8 = k.q8Activations;
    keys.push_back(k);
    k.batch = 0; // prefill (float activations)
    k.q8Activations = false;
    keys.push_back(k);
    // Decode steps of several sequences (B x 1 tokens) in chunks of 4 and 2: one pass over the
    // weights per chunk instead of the prefill kernel's float work per token.
    for (int64_t batch : kBatchedDecodeSizes)
      if (q8 && codegen::q8ActivationsSupported(k.format, k.cols, batch, target)) {
        k.batch = batch;
        k.q8Activations = true;
        keys.push_back(k);
      }
  } else if (auto e = dyn_cast<EmbedOp>(op)) {
    WeightType w = cast<WeightType>(e.getTable().getType());
    FailureOr<std::string> f = formatOf(w, &op);
    if (mlir::failed(f))
      return failure();
    k.op = KernelOp::Embed;
    k.format = *f;
    k.cols = w.getShape().back();
    keys.push_back(k);
  } else if (isa<RMSNormOp>(op)) {
    k.op = KernelOp::RmsNorm;
    k.cols = lastDim(op.getResult(0));
    keys.push_back(k);
  } else if (auto r = dyn_cast<RopeOp>(op)) {
    k.op = KernelOp::Rope;
    k.ropeStyle = r.getStyle() == qllm::RopeStyle::interleaved
                      ? codegen::RopeKernelStyle::Interleaved
                      : codegen::RopeKernelStyle::RotateHalf;
    // Scaled RoPE (llama3, linear) runs as precomputed frequency factors.
    k.ropeFreqFactors = r.getFreqFactors() || r.getScalingAttr();
    keys.push_back(k);
  } else if (isa<AttentionOp>(op)) {
    k.op = KernelOp::Attention;
    keys.push_back(k);
  } else if (isa<SwiGLUOp>(op)) {
    k.op = KernelOp::SwiGlu;
    keys.push_back(k);
  } else if (isa<AddOp>(op)) {
    k.op = KernelOp::Add;
    keys.push_back(k);
  } else if (!isa<WeightOp, func::ReturnOp>(op)) {
    return op.emitOpError("has no kernel lowering");
  }
  return keys;
}

FailureOr<std::vector<KernelUse>> collectKernels(ModuleOp module, const std::string &target,
                                                 bool q8Activations) {
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  if (!fn || fn.getBody().empty())
    return module.emitError("module has no func.func @forward");
  std::vector<KernelUse> uses;
  llvm::StringMap<size_t> index;
  bool failed = false;
  for (Operation &op : fn.getBody().front()) {
    FailureOr<SmallVector<KernelKey, 4>> keys = kernelsOf(&op, target, q8Activations);
    if (mlir::failed(keys)) {
      failed = true;
      continue;
    }
    for (KernelKey &key : *keys) {
      auto [it, inserted] = index.try_emplace(key.cacheKey(), uses.size());
      if (inserted)
        uses.push_back({std::move(key), &op, 0});
      ++uses[it->second].uses;
    }
  }
  if (failed)
    return failure();
  return uses;
}

} // namespace qcc
