//===- ModelToMLIR.cpp - ModelSource -> qllm module -------------------------===//
//
// One decoder layer, pre-norm as in LLaMA:
//   h = x + Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
//   y = h + Wdown · (silu(Wgate·norm(h)) ⊙ Wup·norm(h))
// Each qllm.weight op sits right before its first use; a tied output head reuses the embedding's
// SSA value, so the tensor is loaded once.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace qcc::qllm;

namespace qcc {

void registerQccDialects(DialectRegistry &registry) {
  registry.insert<QLlmDialect, func::FuncDialect, arith::ArithDialect, tensor::TensorDialect>();
}

static GGMLFormat toFormat(GGMLType t) { return static_cast<GGMLFormat>(uint32_t(t)); }

OwningOpRef<ModuleOp> buildModelModule(MLIRContext &ctx, const ModelSource &src,
                                       llvm::StringRef weightPath) {
  ctx.loadDialect<QLlmDialect, func::FuncDialect, arith::ArithDialect, tensor::TensorDialect>();
  const ModelConfig &c = src.config;
  Location loc = FileLineColLoc::get(&ctx, src.path, 0, 0);
  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc, StringRef(c.name));

  RopeScalingAttr scaling;
  if (c.ropeScaling.kind != RopeScaling::Kind::None)
    scaling = RopeScalingAttr::get(
        &ctx,
        c.ropeScaling.kind == RopeScaling::Kind::Linear ? RopeScalingKind::linear
                                                        : RopeScalingKind::llama3,
        c.ropeScaling.factor, c.ropeScaling.lowFreqFactor, c.ropeScaling.highFreqFactor,
        c.ropeScaling.originalMaxPosition);
  qllm::RopeStyle style = c.ropeStyle == qcc::RopeStyle::Interleaved
                              ? qllm::RopeStyle::interleaved
                              : qllm::RopeStyle::rotate_half;
  auto config = ModelConfigAttr::get(&ctx, c.arch, c.name, c.dim, c.ffnDim, c.nLayers, c.nHeads,
                                     c.nKVHeads, c.headDim, c.vocabSize, c.maxSeqLen, c.ropeTheta,
                                     style, scaling, c.normEps, c.tiedEmbeddings);
  (*module)->setAttr("qllm.config", config);
  (*module)->setAttr("qllm.weights",
                     WeightFileAttr::get(&ctx, weightPath, containerName(src.container),
                                         int64_t(src.size), src.fingerprint));
  if (!src.tokenizer.path.empty())
    (*module)->setAttr("qllm.tokenizer",
                       TokenizerAttr::get(&ctx, src.tokenizer.path, src.tokenizer.kind));

  const int64_t dyn = ShapedType::kDynamic;
  Type f32 = b.getF32Type();
  auto act = [&](int64_t d) { return RankedTensorType::get({dyn, dyn, d}, f32); };
  auto tokensTy = RankedTensorType::get({dyn, dyn}, b.getI32Type());
  auto cacheTy = KVCacheType::get(&ctx, {c.nLayers, c.nKVHeads, c.maxSeqLen, c.headDim}, f32);
  auto fnTy = b.getFunctionType({tokensTy, b.getIndexType(), cacheTy}, {act(c.vocabSize)});
  b.setInsertionPointToEnd(module->getBody());
  auto fn = b.create<func::FuncOp>(loc, "forward", fnTy);
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value tokens = body->getArgument(0), pos = body->getArgument(1), cache = body->getArgument(2);

  auto weight = [&](const std::string &name) -> Value {
    const TensorRef *t = src.find(name);
    Attribute format = t->intFormat ? Attribute(IntGroupFormatAttr::get(&ctx, *t->intFormat))
                                    : Attribute(GGMLFormatAttr::get(&ctx, toFormat(t->type)));
    auto ty = WeightType::get(&ctx, t->shape, format);
    return b.create<WeightOp>(loc, ty, b.getStringAttr(name), WeightFormatAttrInterface());
  };
  const int64_t qDim = c.nHeads * c.headDim, kvDim = c.nKVHeads * c.headDim;
  FloatAttr eps = b.getF64FloatAttr(c.normEps);
  Value freqFactors = src.ropeFreqs.empty() ? Value() : weight(src.ropeFreqs);
  auto rope = [&](Value x, int64_t d) -> Value {
    return b.create<RopeOp>(loc, act(d), x, pos, freqFactors, c.headDim, c.ropeTheta, style,
                            scaling);
  };

  Value emb = weight(src.tokEmbd);
  Value x = b.create<EmbedOp>(loc, act(c.dim), emb, tokens);
  for (int64_t l = 0; l < c.nLayers; ++l) {
    const LayerTensors &L = src.layers[l];
    Value h = b.create<RMSNormOp>(loc, act(c.dim), x, weight(L.attnNorm), eps);
    Value q = b.create<LinearOp>(loc, act(qDim), h, weight(L.wq));
    Value k = b.create<LinearOp>(loc, act(kvDim), h, weight(L.wk));
    Value v = b.create<LinearOp>(loc, act(kvDim), h, weight(L.wv));
    q = rope(q, qDim);
    k = rope(k, kvDim);
    Value a = b.create<AttentionOp>(loc, act(qDim), q, k, v, cache, pos, l, c.nHeads,
                                    c.nKVHeads, c.headDim);
    Value o = b.create<LinearOp>(loc, act(c.dim), a, weight(L.wo));
    x = b.create<AddOp>(loc, x, o);
    Value h2 = b.create<RMSNormOp>(loc, act(c.dim), x, weight(L.ffnNorm), eps);
    Value gate = b.create<LinearOp>(loc, act(c.ffnDim), h2, weight(L.wGate));
    Value up = b.create<LinearOp>(loc, act(c.ffnDim), h2, weight(L.wUp));
    Value s = b.create<SwiGLUOp>(loc, gate, up);
    Value d = b.create<LinearOp>(loc, act(c.dim), s, weight(L.wDown));
    x = b.create<AddOp>(loc, x, d);
  }
  Value n = b.create<RMSNormOp>(loc, act(c.dim), x, weight(src.outputNorm), eps);
  Value head = c.tiedEmbeddings ? emb : weight(src.output);
  Value logits = b.create<LinearOp>(loc, act(c.vocabSize), n, head);
  b.create<func::ReturnOp>(loc, logits);

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace qcc
