//===- QLlmToLLVM.cpp - @forward as LLVM glue calling the generated kernels -===//
//
// The convert-qllm-to-llvm pass (include/qcc/Conversion/Passes.td describes the result; the
// ABI is include/qcc/Codegen/qcc_rt.h). @forward is a straight-line block, so the lowering is a
// walk that emits, per op, one call of a qcc_rt_* entry with the op's kernel addresses, its
// activation slots, weight indices and shape constants; there is no control flow to convert.
// Slots are assigned by a linear scan: a value takes a free slot of its width (or a new one)
// when it is produced and frees it after its last use, after the producing op's own result
// has been placed, so an op never writes into a slot it reads.
//
//===----------------------------------------------------------------------===//
#include "qcc/Conversion/QLlmToLLVM/QLlmToLLVM.h"
#include "qcc/Conversion/Passes.h"
#include "qcc/Conversion/QLlmToKernels/KernelSet.h"
#include "qcc/Codegen/qcc_rt.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Runtime/Kernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace qcc {
#define GEN_PASS_DEF_CONVERTQLLMTOLLVM
#include "qcc/Conversion/Passes.h.inc"
} // namespace qcc

using namespace mlir;
using namespace qcc;
using namespace qcc::qllm;

//===----------------------------------------------------------------------===//
// Targets and the weight blob (shared with tools/qcc)
//===----------------------------------------------------------------------===//

ArrayRef<const char *> qcc::qccTargetNames() {
  static const char *names[] = {"x86-64", "x86-64-avx2", "x86-64-avx512", "aarch64", "cuda"};
  return names;
}

std::optional<std::string> qcc::halideTargetFor(StringRef t) {
  if (t == "x86-64") {
    // qcc compiles x86 kernels with its own LLVM for this CPU (tools/qcc, KernelObject.h).
    std::string host = codegen::hostKernelTarget(/*ownLlvm=*/true);
    return host == "host" ? std::string("x86-64-linux") : host;
  }
  if (t == "x86-64-avx2")
    return std::string("x86-64-linux-sse41-avx-avx2-fma-f16c");
  if (t == "x86-64-avx512")
    return std::string("x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake");
  if (t == "aarch64")
    return std::string("arm-64-linux-arm_dot_prod");
  if (t == "cuda")
    return std::string("x86-64-linux-cuda-cuda_capability_86");
  return std::nullopt;
}

std::string qcc::llvmTripleFor(StringRef t) {
  return t == "aarch64" ? "aarch64-unknown-linux-gnu" : "x86_64-unknown-linux-gnu";
}

bool qcc::targetUsesGPU(StringRef t) { return t == "cuda"; }

FailureOr<std::vector<std::string>> qcc::forwardWeightNames(ModuleOp module) {
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  if (!fn || fn.getBody().empty())
    return module.emitError("module has no func.func @forward");
  std::vector<std::string> names;
  llvm::StringSet<> seen;
  for (auto w : fn.getBody().front().getOps<WeightOp>())
    if (seen.insert(w.getName()).second)
      names.push_back(w.getName().str());
  return names;
}

llvm::Expected<std::vector<uint64_t>> qcc::weightBlobOffsets(const ModelSource &source,
                                                             ArrayRef<std::string> names) {
  std::vector<uint64_t> offsets;
  uint64_t at = 0;
  for (const std::string &n : names) {
    const TensorRef *t = source.find(n);
    if (!t)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "weight '%s' is not in the weight file", n.c_str());
    at = llvm::alignTo(at, kWeightBlobAlign);
    offsets.push_back(at);
    at += t->bytes;
  }
  offsets.push_back(at);
  return offsets;
}

llvm::Error qcc::writeWeightBlob(const ModelSource &source, ArrayRef<std::string> names,
                                 llvm::raw_ostream &os) {
  auto offsets = weightBlobOffsets(source, names);
  if (!offsets)
    return offsets.takeError();
  uint64_t at = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const TensorRef *t = source.find(names[i]);
    os.write_zeros((*offsets)[i] - at);
    os.write(reinterpret_cast<const char *>(source.data(*t)), t->bytes);
    at = (*offsets)[i] + t->bytes;
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// Builds the glue into the module: declarations of the runtime entries and kernels, the
/// constant tables and @qcc_forward.
class GlueBuilder {
public:
  GlueBuilder(ModuleOp module, StringRef qccTarget, std::string halideTarget)
      : module(module), b(module.getContext()), qccTarget(qccTarget),
        halideTarget(std::move(halideTarget)) {
    ptr = LLVM::LLVMPointerType::get(module.getContext());
    i64 = b.getI64Type();
    i32 = b.getI32Type();
    f64 = b.getF64Type();
  }

  ModuleOp module;
  OpBuilder b;
  std::string qccTarget, halideTarget;
  Type ptr, i64, i32, f64;

  /// An external function (declared once).
  LLVM::LLVMFuncOp declare(StringRef name, Type result, ArrayRef<Type> args,
                           bool varArg = false) {
    if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
      return f;
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(module.getBody());
    return b.create<LLVM::LLVMFuncOp>(module.getLoc(), name,
                                      LLVM::LLVMFunctionType::get(result, args, varArg));
  }

  /// A constant global at module level.
  void global(Type type, StringRef name, Attribute value) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(module.getBody());
    b.create<LLVM::GlobalOp>(module.getLoc(), type, /*isConstant=*/true,
                             LLVM::Linkage::External, name, value);
  }
  void i64Array(StringRef name, std::vector<int64_t> values) {
    if (values.empty())
      values.push_back(0); // no zero-length arrays
    auto tensor = RankedTensorType::get({int64_t(values.size())}, i64);
    global(LLVM::LLVMArrayType::get(i64, values.size()), name,
           DenseElementsAttr::get(tensor, ArrayRef<int64_t>(values)));
  }
  void strings(StringRef name, ArrayRef<std::string> parts) {
    std::string s;
    for (const std::string &p : parts)
      s += p + '\0';
    if (s.empty())
      s.push_back('\0');
    global(LLVM::LLVMArrayType::get(b.getI8Type(), s.size()), name, b.getStringAttr(s));
  }
  void floatArray(StringRef name, ArrayRef<float> values) {
    auto tensor = RankedTensorType::get({int64_t(values.size())}, b.getF32Type());
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(module.getBody());
    b.create<LLVM::GlobalOp>(module.getLoc(), LLVM::LLVMArrayType::get(b.getF32Type(),
                                                                       values.size()),
                             /*isConstant=*/true, LLVM::Linkage::Internal, name,
                             DenseElementsAttr::get(tensor, values));
  }

  Value c64(Location loc, int64_t v) {
    return b.create<LLVM::ConstantOp>(loc, i64, b.getI64IntegerAttr(v));
  }
  Value cf64(Location loc, double v) {
    return b.create<LLVM::ConstantOp>(loc, f64, b.getF64FloatAttr(v));
  }
  Value addr(Location loc, StringRef symbol) {
    return b.create<LLVM::AddressOfOp>(loc, ptr, symbol);
  }
  /// The address of kernel `key` (declared as an external function).
  Value kernel(Location loc, const codegen::KernelKey &key) {
    std::string name = key.functionName();
    declare(name, i32, {}, /*varArg=*/true);
    return addr(loc, name);
  }
  void call(Location loc, StringRef entry, ArrayRef<Value> args) {
    SmallVector<Type> types;
    for (Value a : args)
      types.push_back(a.getType());
    LLVM::LLVMFuncOp f = declare(entry, LLVM::LLVMVoidType::get(b.getContext()), types);
    b.create<LLVM::CallOp>(loc, f, args);
  }
};

static int64_t widthOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(t.getRank() - 1);
}

struct ConvertQLlmToLLVMPass : qcc::impl::ConvertQLlmToLLVMBase<ConvertQLlmToLLVMPass> {
  using Base::Base;
  void runOnOperation() override;
};

} // namespace

void ConvertQLlmToLLVMPass::runOnOperation() {
  ModuleOp module = getOperation();
  std::optional<std::string> htarget = halideTargetFor(target);
  if (!htarget) {
    module.emitError("unknown target '") << target << "' (x86-64, x86-64-avx2, x86-64-avx512, "
                                          "aarch64, cuda)";
    return signalPassFailure();
  }
  if (actQuant != "none" && actQuant != "q8" && actQuant != "q8-all") {
    module.emitError("unknown act-quant '") << actQuant << "' (none, q8, q8-all)";
    return signalPassFailure();
  }
  const bool q8 = actQuant != "none";
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  auto config = module->getAttrOfType<ModelConfigAttr>("qllm.config");
  auto wf = module->getAttrOfType<WeightFileAttr>(QLlmDialect::kWeightsAttrName);
  if (!fn || fn.getBody().empty() || !config || !wf) {
    module.emitError("expected a qllm model: func.func @forward, qllm.config and qllm.weights");
    return signalPassFailure();
  }
  std::optional<ContainerKind> container = parseContainerName(wf.getContainer());
  if (!container) {
    module.emitError("unknown weight container '") << wf.getContainer() << "'";
    return signalPassFailure();
  }
  auto source = openWeightFile(wf.getPath(), *container, uint64_t(wf.getSize()),
                               wf.getFingerprint());
  if (!source) {
    module.emitError(llvm::toString(source.takeError()));
    return signalPassFailure();
  }
  FailureOr<std::vector<std::string>> names = forwardWeightNames(module);
  if (failed(names))
    return signalPassFailure();
  std::vector<uint64_t> blob;
  if (embedWeights) {
    auto offsets = weightBlobOffsets(**source, *names);
    if (!offsets) {
      module.emitError(llvm::toString(offsets.takeError()));
      return signalPassFailure();
    }
    blob = std::move(*offsets);
  }

  GlueBuilder g(module, target, *htarget);
  Block &body = fn.getBody().front();
  Location floc = fn.getLoc();

  // The weight table, checking each tensor against its qllm.weight type.
  llvm::StringMap<int64_t> weightIndex;
  std::vector<int64_t> table;
  std::vector<std::string> formats(names->size());
  uint64_t weightsBytes = 0;
  for (size_t i = 0; i < names->size(); ++i)
    weightIndex[(*names)[i]] = int64_t(i);
  for (auto w : body.getOps<WeightOp>()) {
    const TensorRef *t = (*source)->find(w.getName());
    if (!t) {
      w.emitOpError("weight '") << w.getName() << "' is not in " << wf.getPath();
      return signalPassFailure();
    }
    WeightType ty = cast<WeightType>(w.getType());
    formats[size_t(weightIndex[w.getName()])] =
        cast<WeightFormatAttrInterface>(ty.getFormat()).getFormatName().str();
    int64_t elems = 1;
    for (int64_t d : ty.getShape())
      elems *= d;
    if (t->numElements() != elems) {
      w.emitOpError("weight '") << w.getName() << "' has " << t->numElements()
                                << " elements in the weight file, its type says " << elems;
      return signalPassFailure();
    }
    // The kernels read the stored bytes as the type says: the formats must be the same.
    bool same = false;
    if (auto g = dyn_cast<GGMLFormatAttr>(ty.getFormat()))
      same = !t->intFormat && uint32_t(t->type) == uint32_t(g.getValue());
    else if (auto i = dyn_cast<IntGroupFormatAttr>(ty.getFormat()))
      same = t->intFormat && t->intFormat->bits == i.getFormat().bits &&
             t->intFormat->groupSize == i.getFormat().groupSize &&
             t->intFormat->symmetric == i.getFormat().symmetric;
    if (!same) {
      w.emitOpError("weight '") << w.getName() << "' is stored as "
                                << (t->intFormat ? "a packed integer group format"
                                    : lookupFormat(t->type) ? lookupFormat(t->type)->name
                                                            : "an unknown type")
                                << " in the weight file, its type says "
                                << cast<WeightFormatAttrInterface>(ty.getFormat()).getFormatName();
      return signalPassFailure();
    }
  }
  for (size_t i = 0; i < names->size(); ++i) {
    const TensorRef *t = (*source)->find((*names)[i]);
    table.insert(table.end(), {int64_t(t->fileIndex),
                               int64_t(embedWeights ? blob[i] : t->offset), int64_t(t->bytes),
                               int64_t(uint32_t(t->type)), t->numElements()});
    weightsBytes += t->bytes;
  }

  // The forward function.
  OpBuilder &b = g.b;
  b.setInsertionPointToEnd(module.getBody());
  auto fty = LLVM::LLVMFunctionType::get(g.i32, {g.ptr, g.ptr, g.ptr});
  auto glue = b.create<LLVM::LLVMFuncOp>(floc, "qcc_forward", fty);
  Block *entry = glue.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  Value cctx = entry->getArgument(0), tokens = entry->getArgument(1),
        logits = entry->getArgument(2);

  // Last use of every value, and the returned one.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : body)
    for (Value v : op.getOperands())
      lastUse[v] = &op;
  Value returned;
  if (auto ret = dyn_cast<func::ReturnOp>(body.getTerminator()); ret && ret.getNumOperands() == 1)
    returned = ret.getOperand(0);
  if (!returned || !isa<RankedTensorType>(returned.getType()) ||
      widthOf(returned) != config.getVocabSize()) {
    fn.emitOpError("must return the logits [B, T, vocab]");
    return signalPassFailure();
  }

  std::vector<int64_t> slotWidths;
  std::vector<Value> slotBase; // qcc_rt_slot(ctx, i), fetched once at entry
  std::multimap<int64_t, int64_t> freeSlots;
  llvm::DenseMap<Value, int64_t> slotOf;
  llvm::DenseMap<Value, Value> pointer; // value -> float* it lives in
  auto slotFn = g.declare("qcc_rt_slot", g.ptr, {g.ptr, g.i64});
  auto place = [&](Value v, Location loc) {
    if (v == returned) {
      pointer[v] = logits;
      return;
    }
    int64_t w = widthOf(v), s;
    auto it = freeSlots.find(w);
    if (it != freeSlots.end()) {
      s = it->second;
      freeSlots.erase(it);
    } else {
      s = int64_t(slotWidths.size());
      slotWidths.push_back(w);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(entry);
      Value idx = g.c64(loc, s);
      slotBase.push_back(b.create<LLVM::CallOp>(loc, slotFn, ValueRange{cctx, idx}).getResult());
    }
    slotOf[v] = s;
    pointer[v] = slotBase[s];
  };
  auto weightOf = [&](Value w, Location loc) {
    auto op = w.getDefiningOp<WeightOp>();
    return g.c64(loc, weightIndex.lookup(op.getName()));
  };

  int ropeTables = 0;
  for (Operation &op : body) {
    if (isa<WeightOp, func::ReturnOp>(op))
      continue;
    FailureOr<SmallVector<codegen::KernelKey, 4>> keys = kernelsOf(&op, *htarget, q8);
    if (failed(keys))
      return signalPassFailure();
    Location loc = op.getLoc();
    if (op.getNumResults() == 1)
      place(op.getResult(0), loc);
    auto in = [&](unsigned i) { return pointer.lookup(op.getOperand(i)); };
    Value out = op.getNumResults() == 1 ? pointer.lookup(op.getResult(0)) : Value();
    if (auto e = dyn_cast<EmbedOp>(op)) {
      g.call(loc, "qcc_rt_embed", {cctx, g.kernel(loc, (*keys)[0]), weightOf(e.getTable(), loc),
                                   tokens, out, g.c64(loc, widthOf(e.getResult()))});
    } else if (auto l = dyn_cast<LinearOp>(op)) {
      auto wt = cast<WeightType>(l.getWeight().getType());
      // The batch-2 and batch-4 decode kernels (kernelsOf: q8 activations only), or null.
      Value batched[2];
      for (size_t k = 2; k < keys->size(); ++k)
        batched[(*keys)[k].batch == 2 ? 0 : 1] = g.kernel(loc, (*keys)[k]);
      for (Value &v : batched)
        if (!v)
          v = b.create<LLVM::ZeroOp>(loc, g.ptr);
      g.call(loc, "qcc_rt_matmul",
             {cctx, g.kernel(loc, (*keys)[0]), g.kernel(loc, (*keys)[1]), batched[0], batched[1],
              weightOf(l.getWeight(), loc), in(0), out, g.c64(loc, wt.getShape().front()),
              g.c64(loc, wt.getShape().back())});
    } else if (auto n = dyn_cast<RMSNormOp>(op)) {
      g.call(loc, "qcc_rt_rms_norm",
             {cctx, g.kernel(loc, (*keys)[0]), in(0), weightOf(n.getGamma(), loc), out,
              g.c64(loc, widthOf(n.getResult())), g.cf64(loc, n.getEps().convertToDouble())});
    } else if (auto r = dyn_cast<RopeOp>(op)) {
      // Frequency factors as rt::rope takes them (ReferenceExecutor.cpp does the same).
      std::vector<float> factors;
      const int64_t hd = r.getHeadDim();
      const double theta = r.getTheta().convertToDouble();
      if (Value ff = r.getFreqFactors()) {
        const TensorRef *t = (*source)->find(ff.getDefiningOp<WeightOp>().getName());
        factors.resize(size_t(t->shape.back()));
        if (t->numElements() != hd / 2) {
          op.emitOpError("rope_freqs has ") << t->numElements() << " values, expected " << hd / 2;
          return signalPassFailure();
        }
        if (llvm::Error err = (*source)->dequantizeRow(*t, 0, factors.data())) {
          op.emitOpError(llvm::toString(std::move(err)));
          return signalPassFailure();
        }
      }
      if (RopeScalingAttr sc = r.getScalingAttr()) {
        static_assert(int(RopeScalingKind::llama3) == int(rt::RopeScale::Llama3) &&
                      int(RopeScalingKind::linear) == int(rt::RopeScale::Linear));
        std::optional<std::vector<float>> scaled = rt::scaledRopeFactors(
            std::move(factors), hd, theta, rt::RopeScale(int(sc.getKind())),
            sc.getFactor().convertToDouble(), sc.getLowFreqFactor().convertToDouble(),
            sc.getHighFreqFactor().convertToDouble(), sc.getOriginalMaxPosition());
        if (!scaled) {
          op.emitOpError("has both rope_freqs factors and llama3 scaling");
          return signalPassFailure();
        }
        factors = std::move(*scaled);
      }
      Value fptr;
      if (factors.empty()) {
        fptr = b.create<LLVM::ZeroOp>(loc, g.ptr);
      } else {
        std::string name = "qcc_rope_factors_" + std::to_string(ropeTables++);
        g.floatArray(name, factors);
        fptr = g.addr(loc, name);
      }
      g.call(loc, "qcc_rt_rope",
             {cctx, g.kernel(loc, (*keys)[0]), in(0), out, g.c64(loc, widthOf(r.getResult())),
              g.c64(loc, hd), g.cf64(loc, theta),
              g.c64(loc, r.getStyle() == qllm::RopeStyle::interleaved ? 1 : 0), fptr});
    } else if (auto a = dyn_cast<AttentionOp>(op)) {
      g.call(loc, "qcc_rt_attention",
             {cctx, g.kernel(loc, (*keys)[0]), in(0), in(1), in(2), out,
              g.c64(loc, a.getLayer()), g.c64(loc, a.getNHeads()), g.c64(loc, a.getNKvHeads()),
              g.c64(loc, a.getHeadDim())});
    } else if (isa<SwiGLUOp>(op)) {
      g.call(loc, "qcc_rt_swiglu", {cctx, g.kernel(loc, (*keys)[0]), in(0), in(1), out,
                                    g.c64(loc, widthOf(op.getResult(0)))});
    } else if (isa<AddOp>(op)) {
      g.call(loc, "qcc_rt_add", {cctx, g.kernel(loc, (*keys)[0]), in(0), in(1), out,
                                 g.c64(loc, widthOf(op.getResult(0)))});
    } else {
      op.emitOpError("has no lowering to the executable's glue");
      return signalPassFailure();
    }
    // Operands whose last use this was give their slots back.
    for (Value v : op.getOperands())
      if (lastUse.lookup(v) == &op)
        if (auto it = slotOf.find(v); it != slotOf.end()) {
          freeSlots.insert({slotWidths[it->second], it->second});
          slotOf.erase(it);
        }
  }
  b.create<LLVM::ReturnOp>(floc, ValueRange{b.create<LLVM::ConstantOp>(
                                     floc, g.i32, b.getI32IntegerAttr(0))});

  // The tables.
  std::vector<std::string> paths;
  std::vector<int64_t> sizes;
  if (!embedWeights)
    for (const auto &f : (*source)->files) {
      paths.push_back(f->path().str());
      sizes.push_back(int64_t(f->size()));
    }
  std::vector<int64_t> info(QCC_INFO_COUNT, 0);
  info[QCC_INFO_ABI_VERSION] = QCC_ABI_VERSION;
  info[QCC_INFO_DIM] = config.getDim();
  info[QCC_INFO_N_LAYERS] = config.getNLayers();
  info[QCC_INFO_N_HEADS] = config.getNHeads();
  info[QCC_INFO_N_KV_HEADS] = config.getNKvHeads();
  info[QCC_INFO_HEAD_DIM] = config.getHeadDim();
  info[QCC_INFO_VOCAB] = config.getVocabSize();
  info[QCC_INFO_MAX_SEQ] = config.getMaxSeqLen();
  info[QCC_INFO_N_WEIGHTS] = int64_t(names->size());
  info[QCC_INFO_N_FILES] = int64_t(paths.size());
  info[QCC_INFO_N_SLOTS] = int64_t(slotWidths.size());
  info[QCC_INFO_EMBEDDED] = embedWeights ? 1 : 0;
  info[QCC_INFO_USES_GPU] = targetUsesGPU(target) ? 1 : 0;
  info[QCC_INFO_WEIGHTS_BYTES] = int64_t(weightsBytes);
  info[QCC_INFO_PREFILL_Q8] = actQuant == "q8-all" ? 1 : 0;
  std::string tokPath, tokKind;
  if (auto tk = module->getAttrOfType<TokenizerAttr>("qllm.tokenizer")) {
    tokPath = tk.getPath().str();
    tokKind = tk.getKind().str();
  }
  g.i64Array("qcc_model_info", info);
  g.strings("qcc_model_strings",
            {config.getName().str(), target, *htarget, tokPath, tokKind});
  g.i64Array("qcc_weight_table", table);
  g.strings("qcc_weight_names", *names);
  g.strings("qcc_weight_formats", formats);
  g.strings("qcc_file_paths", paths);
  g.i64Array("qcc_file_sizes", sizes);
  g.i64Array("qcc_slot_widths", slotWidths);

  // What is left is plain LLVM dialect.
  fn.erase();
  SmallVector<StringAttr> qllmAttrs;
  for (NamedAttribute a : module->getAttrs())
    if (a.getName().getValue().starts_with("qllm."))
      qllmAttrs.push_back(a.getName());
  for (StringAttr a : qllmAttrs)
    module->removeAttr(a);
}
