//===- ReferenceExecutor.cpp - float32 interpreter for qllm modules ---------===//
#include "qcc/Exec/ReferenceExecutor.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace llvm;
using namespace qcc::qllm;

namespace qcc {

LoadedModel::LoadedModel() = default;
LoadedModel::~LoadedModel() = default;
LoadedModel::LoadedModel(LoadedModel &&) = default;

static Error opError(Operation *op, const Twine &msg) {
  std::string loc;
  raw_string_ostream os(loc);
  op->getLoc().print(os);
  return createStringError(inconvertibleErrorCode(), "%s: '%s' %s", loc.c_str(),
                           op->getName().getStringRef().str().c_str(), msg.str().c_str());
}

/// One interpreted operation: operands and result are indices into the value table.
struct ReferenceExecutor::Step {
  enum Kind { Embed, RMSNorm, Linear, Rope, Attention, SwiGLU, Add, Return } kind;
  Operation *op;
  std::vector<unsigned> in;     ///< Activation operands (value ids).
  unsigned out = 0;             ///< Result value id.
  int64_t features = 0;         ///< Result feature dim.
  unsigned weight = ~0u;        ///< Weight index (embed, linear).
  std::vector<float> gamma;     ///< RMSNorm weight, dequantized.
  float eps = 0;
  rt::RopeParams rope;
  int64_t layer = 0, nHeads = 0;
  bool actInt8 = false; ///< Linear: quantize inputs to int8 per token first (W8A8).
  std::vector<unsigned> freeAfter; ///< Value ids whose last use is this step.
};

ReferenceExecutor::~ReferenceExecutor() = default;

Expected<std::unique_ptr<ReferenceExecutor>> ReferenceExecutor::create(ModuleOp module,
                                                                      const ModelSource &weights) {
  std::unique_ptr<ReferenceExecutor> ex(new ReferenceExecutor());
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  if (!fn || fn.getBody().empty())
    return createStringError(inconvertibleErrorCode(), "module has no func.func @forward");
  if (fn.getNumArguments() != 3 || fn.getNumResults() != 1)
    return opError(fn, "must take (tokens, pos, cache) and return logits");
  auto cacheTy = dyn_cast<KVCacheType>(fn.getArgument(2).getType());
  if (!cacheTy)
    return opError(fn, "third argument must be a !qllm.kv_cache");
  ArrayRef<int64_t> cshape = cacheTy.getShape();
  ex->layers_ = cshape[0];
  ex->kvHeads_ = cshape[1];
  ex->maxSeq_ = cshape[2];
  ex->headDim_ = cshape[3];
  ex->cacheLen_ = ex->maxSeq_;
  auto resTy = dyn_cast<RankedTensorType>(fn.getResultTypes()[0]);
  if (!resTy || resTy.getRank() != 3 || resTy.isDynamicDim(2))
    return opError(fn, "must return logits of type tensor<?x?xVxf32>");
  ex->vocab_ = resTy.getDimSize(2);
  ex->forward_ = fn;

  llvm::DenseMap<Value, unsigned> ids;
  auto id = [&](Value v) {
    auto it = ids.find(v);
    if (it != ids.end())
      return it->second;
    unsigned n = ids.size();
    ids[v] = n;
    return n;
  };
  // Value ids 0..2: tokens, pos, cache.
  for (BlockArgument a : fn.getArguments())
    id(a);

  auto bindWeight = [&](Value v, Operation *user) -> Expected<unsigned> {
    auto w = v.getDefiningOp<WeightOp>();
    if (!w)
      return opError(user, "weight operand must come from qllm.weight");
    auto it = ex->weightIndex_.find(v);
    if (it != ex->weightIndex_.end())
      return it->second;
    StringRef name = w.getName();
    const TensorRef *t = weights.find(name);
    if (!t)
      return opError(w, "names tensor '" + name + "', which the weight file does not have");
    WeightType ty = w.getType();
    auto fileFormat = [&]() -> std::string {
      return t->intFormat ? IntGroupFormatAttr::get(w.getContext(), *t->intFormat)
                                .getFormatName()
                                .str()
                          : std::string(lookupFormat(t->type)->name);
    };
    if (auto fmt = dyn_cast<GGMLFormatAttr>(ty.getFormat())) {
      if (t->intFormat || uint32_t(fmt.getValue()) != uint32_t(t->type))
        return opError(w, "is " + stringifyGGMLFormat(fmt.getValue()) + " in the module but " +
                              fileFormat() + " in the weight file");
    } else if (auto ifmt = dyn_cast<IntGroupFormatAttr>(ty.getFormat())) {
      quantalgo::IntGroupFormat want = ifmt.getFormat();
      if (!t->intFormat || t->intFormat->bits != want.bits ||
          t->intFormat->groupSize != want.groupSize || t->intFormat->symmetric != want.symmetric)
        return opError(w, "is " + ifmt.getFormatName() + " in the module but " + fileFormat() +
                              " in the weight file");
    } else {
      return opError(w, "has a weight format the reference executor cannot run");
    }
    if (ArrayRef<int64_t>(t->shape) != ty.getShape())
      return opError(w, "shape differs from tensor '" + name + "' in the weight file");
    rt::WeightView view;
    view.type = t->type;
    view.cols = t->shape.back();
    view.rows = t->numElements() / view.cols;
    view.data = weights.data(*t);
    view.rowBytes = uint64_t(t->storageRowBytes(view.cols));
    view.intFormat = t->intFormat;
    ex->weights_.push_back(view);
    ex->original_.push_back(view);
    ex->weightsByName_[name].push_back(ex->weights_.size() - 1);
    return ex->weightIndex_[v] = ex->weights_.size() - 1;
  };
  auto features = [](Value v) -> int64_t {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getDimSize(t.getRank() - 1);
  };

  for (Operation &op : fn.getBody().front()) {
    Step s;
    s.op = &op;
    if (isa<WeightOp>(op))
      continue;
    if (auto e = dyn_cast<EmbedOp>(op)) {
      s.kind = Step::Embed;
      auto w = bindWeight(e->getOperand(0), &op);
      if (!w)
        return w.takeError();
      s.weight = *w;
      if (e->getOperand(1) != fn.getArgument(0))
        return opError(&op, "must embed the function's token argument");
    } else if (auto n = dyn_cast<RMSNormOp>(op)) {
      s.kind = Step::RMSNorm;
      s.in = {id(op.getOperand(0))};
      auto w = bindWeight(op.getOperand(1), &op);
      if (!w)
        return w.takeError();
      s.gamma = rt::dequantizeAll(ex->weights_[*w]);
      s.eps = float(n.getEps().convertToDouble());
    } else if (auto lin = dyn_cast<LinearOp>(op)) {
      s.kind = Step::Linear;
      s.actInt8 = lin.getActQuant().has_value();
      s.in = {id(op.getOperand(0))};
      auto w = bindWeight(op.getOperand(1), &op);
      if (!w)
        return w.takeError();
      s.weight = *w;
    } else if (auto r = dyn_cast<RopeOp>(op)) {
      s.kind = Step::Rope;
      s.in = {id(op.getOperand(0))};
      s.rope.headDim = r.getHeadDim();
      s.rope.theta = r.getTheta().convertToDouble();
      s.rope.style = r.getStyle() == qllm::RopeStyle::interleaved ? rt::RopeStyle::Interleaved
                                                            : rt::RopeStyle::RotateHalf;
      if (Value ff = r.getFreqFactors()) {
        auto w = bindWeight(ff, &op);
        if (!w)
          return w.takeError();
        s.rope.freqFactors = rt::dequantizeAll(ex->weights_[*w]);
      }
      if (RopeScalingAttr sc = r.getScalingAttr()) {
        if (sc.getKind() == RopeScalingKind::llama3) {
          if (!s.rope.freqFactors.empty())
            return opError(&op, "has both rope_freqs factors and llama3 scaling");
          s.rope.freqFactors = rt::llama3RopeFactors(
              s.rope.headDim, s.rope.theta, sc.getFactor().convertToDouble(),
              sc.getLowFreqFactor().convertToDouble(), sc.getHighFreqFactor().convertToDouble(),
              sc.getOriginalMaxPosition());
        } else if (sc.getKind() == RopeScalingKind::linear) {
          float f = float(sc.getFactor().convertToDouble());
          if (s.rope.freqFactors.empty())
            s.rope.freqFactors.assign(size_t(s.rope.headDim / 2), 1.0f);
          for (float &x : s.rope.freqFactors)
            x *= f;
        }
      }
    } else if (auto a = dyn_cast<AttentionOp>(op)) {
      s.kind = Step::Attention;
      s.in = {id(op.getOperand(0)), id(op.getOperand(1)), id(op.getOperand(2))};
      s.layer = a.getLayer();
      s.nHeads = a.getNHeads();
      if (op.getOperand(3) != fn.getArgument(2))
        return opError(&op, "must use the function's cache argument");
    } else if (isa<SwiGLUOp>(op)) {
      s.kind = Step::SwiGLU;
      s.in = {id(op.getOperand(0)), id(op.getOperand(1))};
    } else if (isa<AddOp>(op)) {
      s.kind = Step::Add;
      s.in = {id(op.getOperand(0)), id(op.getOperand(1))};
    } else if (isa<func::ReturnOp>(op)) {
      s.kind = Step::Return;
      s.in = {id(op.getOperand(0))};
    } else {
      return opError(&op, "is not supported by the reference executor");
    }
    if (op.getNumResults() == 1) {
      s.out = id(op.getResult(0));
      s.features = features(op.getResult(0));
    }
    ex->steps_.push_back(std::move(s));
  }
  // Free each activation after its last use.
  std::vector<int> last(ids.size(), -1);
  for (size_t i = 0; i < ex->steps_.size(); ++i)
    for (unsigned v : ex->steps_[i].in)
      last[v] = int(i);
  for (unsigned v = 3; v < last.size(); ++v)
    if (last[v] >= 0 && ex->steps_[last[v]].kind != Step::Return)
      ex->steps_[last[v]].freeAfter.push_back(v);
  return std::move(ex);
}

Error ReferenceExecutor::overrideWeight(StringRef name, const rt::WeightView &view) {
  auto it = weightsByName_.find(name);
  if (it == weightsByName_.end())
    return createStringError(inconvertibleErrorCode(), "no weight named '%s'", name.str().c_str());
  for (unsigned i : it->second) {
    if (weights_[i].rows != view.rows || weights_[i].cols != view.cols)
      return createStringError(inconvertibleErrorCode(), "override of '%s' has another shape",
                               name.str().c_str());
    weights_[i] = view;
  }
  return Error::success();
}

void ReferenceExecutor::restoreWeight(StringRef name) {
  auto it = weightsByName_.find(name);
  if (it != weightsByName_.end())
    for (unsigned i : it->second)
      weights_[i] = original_[i];
}

Error ReferenceExecutor::reset(int64_t batch) {
  if (batch <= 0)
    return createStringError(inconvertibleErrorCode(), "batch must be positive");
  if (cache_.batch() != batch || cache_.maxSeq() != cacheLen_)
    cache_ = rt::KVCache(layers_, batch, kvHeads_, cacheLen_, headDim_);
  // Stale entries are never read: attention only reads positions it has written this sequence.
  return Error::success();
}

Error ReferenceExecutor::forward(ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                                 std::vector<float> &logits) {
  auto fail = [](const Twine &m) { return createStringError(inconvertibleErrorCode(), m); };
  if (B <= 0 || T <= 0 || int64_t(tokens.size()) != B * T)
    return fail("forward: expected " + Twine(B) + " x " + Twine(T) + " tokens, got " +
                Twine(tokens.size()));
  if (B > cache_.batch())
    return fail("forward: batch " + Twine(B) + " exceeds the " + Twine(cache_.batch()) +
                " sequences of the last reset");
  if (pos < 0 || pos + T > cache_.maxSeq())
    return fail("forward: positions " + Twine(pos) + ".." + Twine(pos + T - 1) +
                " exceed the context of " + Twine(cache_.maxSeq()));
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab_)
      return fail("forward: token id " + Twine(t) + " is outside the vocabulary of " +
                  Twine(vocab_));
  const int64_t N = B * T;
  std::vector<std::vector<float>> vals;
  auto buf = [&](unsigned v) -> std::vector<float> & {
    if (v >= vals.size())
      vals.resize(v + 1);
    return vals[v];
  };
  for (Step &s : steps_) {
    std::vector<float> *out = s.kind == Step::Return ? nullptr : &buf(s.out);
    if (out)
      out->resize(size_t(N * s.features));
    switch (s.kind) {
    case Step::Embed:
      rt::embed(tokens.data(), N, weights_[s.weight], out->data());
      break;
    case Step::RMSNorm:
      rt::rmsNorm(buf(s.in[0]).data(), N, s.features, s.gamma.data(), s.eps, out->data());
      break;
    case Step::Linear:
      if (observer_)
        observer_(s.op, buf(s.in[0]).data(), N, weights_[s.weight].cols);
      if (s.actInt8) {
        std::vector<float> xq = buf(s.in[0]);
        rt::fakeQuantizeInt8PerRow(xq.data(), N, weights_[s.weight].cols);
        rt::linear(xq.data(), N, weights_[s.weight], out->data());
      } else {
        rt::linear(buf(s.in[0]).data(), N, weights_[s.weight], out->data());
      }
      break;
    case Step::Rope:
      *out = buf(s.in[0]);
      rt::rope(out->data(), B, T, s.features, pos, s.rope);
      break;
    case Step::Attention:
      rt::attention(buf(s.in[0]).data(), buf(s.in[1]).data(), buf(s.in[2]).data(), B, T, pos,
                    s.nHeads, cache_, s.layer, out->data());
      break;
    case Step::SwiGLU:
      rt::swiglu(buf(s.in[0]).data(), buf(s.in[1]).data(), out->data(), N * s.features);
      break;
    case Step::Add:
      rt::add(buf(s.in[0]).data(), buf(s.in[1]).data(), out->data(), N * s.features);
      break;
    case Step::Return:
      logits = std::move(buf(s.in[0]));
      break;
    }
    for (unsigned v : s.freeAfter)
      std::vector<float>().swap(vals[v]);
  }
  return Error::success();
}

Expected<LoadedModel> loadModel(StringRef path, bool withTokenizer) {
  LoadedModel m;
  m.context = std::make_unique<MLIRContext>();
  DialectRegistry registry;
  registerQccDialects(registry);
  m.context->appendDialectRegistry(registry);
  m.context->loadAllAvailableDialects();
  std::string diag;
  {
    raw_string_ostream os(diag);
    SourceMgr sm;
    SourceMgrDiagnosticHandler handler(sm, m.context.get(), os);
    m.module = parseSourceFile<ModuleOp>(path, sm, ParserConfig(m.context.get()));
  }
  if (!m.module) {
    if (diag.empty())
      diag = (path + ": cannot parse").str();
    while (!diag.empty() && diag.back() == '\n')
      diag.pop_back();
    return createStringError(inconvertibleErrorCode(), "%s", diag.c_str());
  }
  auto wf = (*m.module)->getAttrOfType<WeightFileAttr>("qllm.weights");
  if (!wf)
    return createStringError(inconvertibleErrorCode(), "%s: module has no qllm.weights attribute",
                             path.str().c_str());
  SmallString<256> wpath(wf.getPath());
  if (sys::path::is_relative(wpath)) {
    SmallString<256> dir(path);
    sys::path::remove_filename(dir);
    sys::path::append(dir, wpath);
    wpath = dir;
  }
  std::optional<ContainerKind> kind = parseContainerName(wf.getContainer());
  if (!kind)
    return createStringError(inconvertibleErrorCode(), "%s: unknown weight container '%s'",
                             path.str().c_str(), wf.getContainer().str().c_str());
  auto src = openWeightFile(wpath, *kind, uint64_t(wf.getSize()), wf.getFingerprint());
  if (!src)
    return src.takeError();
  m.weights = std::move(*src);
  if (withTokenizer)
    if (auto tk = (*m.module)->getAttrOfType<TokenizerAttr>("qllm.tokenizer")) {
      auto config = (*m.module)->getAttrOfType<ModelConfigAttr>("qllm.config");
      auto tok = Tokenizer::load(tk.getPath(), tk.getKind(), config ? config.getVocabSize() : 0);
      if (!tok)
        return tok.takeError();
      m.tokenizer = std::move(*tok);
    }
  return std::move(m);
}

} // namespace qcc
