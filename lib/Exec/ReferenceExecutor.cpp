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
  unsigned weight = ~0u;        ///< Weight index (embed, linear; norm, rope: only listed).
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
      s.weight = *w; // gamma is read here, once: overrides do not reach norms
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
        s.weight = *w;
        s.rope.freqFactors = rt::dequantizeAll(ex->weights_[*w]);
      }
      if (RopeScalingAttr sc = r.getScalingAttr()) {
        static_assert(int(RopeScalingKind::none) == int(rt::RopeScale::None) &&
                      int(RopeScalingKind::linear) == int(rt::RopeScale::Linear) &&
                      int(RopeScalingKind::llama3) == int(rt::RopeScale::Llama3));
        std::optional<std::vector<float>> scaled = rt::scaledRopeFactors(
            std::move(s.rope.freqFactors), s.rope.headDim, s.rope.theta,
            rt::RopeScale(int(sc.getKind())), sc.getFactor().convertToDouble(),
            sc.getLowFreqFactor().convertToDouble(),
            sc.getHighFreqFactor().convertToDouble(), sc.getOriginalMaxPosition());
        if (!scaled)
          return opError(&op, "has both rope_freqs factors and llama3 scaling");
        s.rope.freqFactors = std::move(*scaled);
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
  ex->buildStages(ids.size());
  return std::move(ex);
}

void ReferenceExecutor::buildStages(size_t numValues) {
  // live[i]: activations defined at or before step i and read after it. Values 0..2 are the
  // function's arguments (tokens, pos, cache), which steps read directly, not through `in`.
  const size_t n = steps_.size();
  std::vector<int> def(numValues, -1), last(numValues, -1);
  for (size_t i = 0; i < n; ++i) {
    if (steps_[i].kind != Step::Return)
      def[steps_[i].out] = int(i);
    for (unsigned v : steps_[i].in)
      last[v] = std::max(last[v], int(i));
  }
  std::vector<int> delta(n + 1, 0); // live count after step i = Σ_{j<=i} delta[j]
  std::vector<unsigned> anyLive(n, ~0u);
  for (unsigned v = 3; v < numValues; ++v)
    if (def[v] >= 0 && last[v] > def[v]) {
      ++delta[def[v]];
      --delta[last[v]];
    }
  std::vector<size_t> cuts; // a cut after step i: the next stage starts at i + 1
  int live = 0;
  bool linearSinceCut = false;
  for (size_t i = 0; i + 1 < n; ++i) {
    live += delta[i];
    linearSinceCut |= steps_[i].kind == Step::Linear;
    if (live == 1 && linearSinceCut) {
      cuts.push_back(i + 1);
      linearSinceCut = false;
    }
  }
  // A tail without a linear (the final norm's stage has one, a lone return has none) joins the
  // stage before it.
  bool tailLinear = false;
  for (size_t i = cuts.empty() ? 0 : cuts.back(); i < n; ++i)
    tailLinear |= steps_[i].kind == Step::Linear;
  if (!tailLinear && !cuts.empty())
    cuts.pop_back();
  // The single value live across a cut: the one defined before it and read at or after it.
  auto liveAcross = [&](size_t cut) {
    for (unsigned v = 3; v < numValues; ++v)
      if (def[v] >= 0 && size_t(def[v]) < cut && last[v] >= int(cut))
        return v;
    return ~0u;
  };
  std::vector<std::string> nameOf(weights_.size());
  for (const auto &e : weightsByName_)
    for (unsigned i : e.second)
      nameOf[i] = e.getKey().str();
  size_t begin = 0;
  cuts.push_back(n);
  for (size_t c : cuts) {
    Stage st;
    st.begin = begin;
    st.end = c;
    st.input = begin == 0 ? ~0u : liveAcross(begin);
    st.inFeatures = begin == 0 ? 0 : steps_[def[st.input]].features;
    st.output = c == n ? steps_[n - 1].in[0] : liveAcross(c);
    for (size_t i = begin; i < c; ++i) {
      if (steps_[i].kind == Step::Linear)
        st.linears.push_back(steps_[i].op);
      if (steps_[i].weight != ~0u &&
          llvm::find(st.weights, nameOf[steps_[i].weight]) == st.weights.end())
        st.weights.push_back(nameOf[steps_[i].weight]);
    }
    stages_.push_back(std::move(st));
    begin = c;
  }
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

Error ReferenceExecutor::checkRun(StringRef what, ArrayRef<int32_t> tokens, int64_t B,
                                  int64_t T, int64_t pos) const {
  auto fail = [&](const Twine &m) {
    return createStringError(inconvertibleErrorCode(), what + ": " + m);
  };
  if (B <= 0 || T <= 0 || int64_t(tokens.size()) != B * T)
    return fail("expected " + Twine(B) + " x " + Twine(T) + " tokens, got " +
                Twine(tokens.size()));
  if (B > cache_.batch())
    return fail("batch " + Twine(B) + " exceeds the " + Twine(cache_.batch()) +
                " sequences of the last reset");
  if (pos < 0 || pos + T > cache_.maxSeq())
    return fail("positions " + Twine(pos) + ".." + Twine(pos + T - 1) +
                " exceed the context of " + Twine(cache_.maxSeq()));
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab_)
      return fail("token id " + Twine(t) + " is outside the vocabulary of " + Twine(vocab_));
  return Error::success();
}

Error ReferenceExecutor::forward(ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                                 std::vector<float> &logits) {
  if (Error e = checkRun("forward", tokens, B, T, pos))
    return e;
  std::vector<std::vector<float>> vals;
  runSteps(0, steps_.size(), tokens, B, T, pos, vals, logits);
  return Error::success();
}

Error ReferenceExecutor::runStage(size_t stage, ArrayRef<int32_t> tokens, int64_t B, int64_t T,
                                  std::vector<float> &hidden) {
  if (stage >= stages_.size())
    return createStringError(inconvertibleErrorCode(), "runStage: no stage %zu of %zu", stage,
                             stages_.size());
  if (Error e = checkRun("runStage", tokens, B, T, 0))
    return e;
  const Stage &st = stages_[stage];
  std::vector<std::vector<float>> vals;
  if (st.input != ~0u) {
    if (int64_t(hidden.size()) != B * T * st.inFeatures)
      return createStringError(inconvertibleErrorCode(),
                               "runStage: stage %zu expects %lld x %lld floats, got %zu", stage,
                               (long long)(B * T), (long long)st.inFeatures, hidden.size());
    vals.resize(st.input + 1);
    vals[st.input] = std::move(hidden);
  }
  std::vector<float> result;
  runSteps(st.begin, st.end, tokens, B, T, 0, vals, result);
  hidden = st.end == steps_.size() ? std::move(result) : std::move(vals[st.output]);
  return Error::success();
}

void ReferenceExecutor::runSteps(size_t begin, size_t end, ArrayRef<int32_t> tokens, int64_t B,
                                 int64_t T, int64_t pos, std::vector<std::vector<float>> &vals,
                                 std::vector<float> &logits) {
  const int64_t N = B * T;
  auto buf = [&](unsigned v) -> std::vector<float> & {
    if (v >= vals.size())
      vals.resize(v + 1);
    return vals[v];
  };
  for (size_t i = begin; i < end; ++i) {
    Step &s = steps_[i];
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
