//===- KernelObject.cpp - Halide kernel bitcode to objects with qcc's LLVM --===//
#include "qcc/Codegen/KernelObject.h"
#include "qcc/Codegen/HalfToFloat.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

using namespace llvm;

namespace qcc::codegen {

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str().c_str());
}

std::string KernelCpu::cacheTag() const {
  if (features.empty())
    return name;
  return name + "-" + utohexstr(xxh3_64bits(features), /*LowerCase=*/true);
}

std::optional<KernelCpu> kernelCpuFor(StringRef qccTarget) {
  if (qccTarget == "x86-64") {
#if defined(__x86_64__)
    SubtargetFeatures features;
    // Sorted, so that the same CPU always gives the same string (and cache folder).
    std::vector<std::pair<std::string, bool>> sorted;
    for (const auto &f : sys::getHostCPUFeatures())
      sorted.emplace_back(f.getKey().str(), f.getValue());
    std::sort(sorted.begin(), sorted.end());
    for (const auto &[name, on] : sorted)
      features.AddFeature(name, on);
    return KernelCpu{sys::getHostCPUName().str(), features.getString()};
#else
    return KernelCpu{"x86-64-v3", ""}; // qcc on another host: the AVX2 baseline
#endif
  }
  if (qccTarget == "x86-64-avx2")
    return KernelCpu{"x86-64-v3", ""};
  if (qccTarget == "x86-64-avx512")
    return KernelCpu{"x86-64-v4", ""};
  return std::nullopt;
}

void initializeLLVMTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeAllTargetInfos();
    InitializeAllTargets();
    InitializeAllTargetMCs();
    InitializeAllAsmPrinters();
  });
}

namespace {

/// If `last` ends a chain of insertelements that sets every lane k of an undefined vector to
/// qcc_f16_to_f32(extractelement(v, k)), for one <N x i16> v, returns v.
Value *wholeVectorSource(InsertElementInst *last, Function *convert) {
  auto *type = dyn_cast<FixedVectorType>(last->getType());
  if (!type || !type->getElementType()->isFloatTy())
    return nullptr;
  const unsigned n = type->getNumElements();
  std::vector<bool> seen(n, false);
  Value *source = nullptr;
  Value *cur = last;
  for (unsigned count = 0; count < n; ++count) {
    auto *ins = dyn_cast<InsertElementInst>(cur);
    if (!ins || (ins != last && !ins->hasOneUse()))
      return nullptr;
    auto *lane = dyn_cast<ConstantInt>(ins->getOperand(2));
    auto *call = dyn_cast<CallInst>(ins->getOperand(1));
    if (!lane || lane->getZExtValue() >= n || seen[lane->getZExtValue()] || !call ||
        call->getCalledFunction() != convert || !call->hasOneUse())
      return nullptr;
    auto *ext = dyn_cast<ExtractElementInst>(call->getArgOperand(0));
    auto *extLane = ext ? dyn_cast<ConstantInt>(ext->getIndexOperand()) : nullptr;
    if (!extLane || extLane->getZExtValue() != lane->getZExtValue())
      return nullptr;
    auto *srcType = dyn_cast<FixedVectorType>(ext->getVectorOperandType());
    if (!srcType || srcType->getNumElements() != n || (source && source != ext->getVectorOperand()))
      return nullptr;
    source = ext->getVectorOperand();
    seen[lane->getZExtValue()] = true;
    cur = ins->getOperand(0);
  }
  return isa<UndefValue>(cur) ? source : nullptr; // poison is an UndefValue too
}

/// The byte that lane `lane` of `v` holds, where `v` is a chain of shufflevectors over a plain
/// load of a byte vector: that load, and the byte's offset from the pointer the load's address
/// strips down to (constant offsets accumulated). nullopt for anything else.
struct LaneByte {
  LoadInst *load;
  Value *base;
  int64_t offset;     ///< of the byte
  int64_t loadOffset; ///< of the load's first byte
};
std::optional<LaneByte> laneByte(Value *v, int64_t lane, const DataLayout &dl) {
  while (auto *sv = dyn_cast<ShuffleVectorInst>(v)) {
    const int m = sv->getMaskValue(unsigned(lane));
    if (m < 0)
      return std::nullopt;
    const int n0 =
        int(cast<FixedVectorType>(sv->getOperand(0)->getType())->getNumElements());
    v = sv->getOperand(m < n0 ? 0 : 1);
    lane = m < n0 ? m : m - n0;
  }
  auto *load = dyn_cast<LoadInst>(v);
  auto *type = load ? dyn_cast<FixedVectorType>(load->getType()) : nullptr;
  if (!load || !load->isSimple() || !type || !type->getElementType()->isIntegerTy(8))
    return std::nullopt;
  APInt off(dl.getIndexTypeSizeInBits(load->getPointerOperandType()), 0);
  Value *base = load->getPointerOperand()->stripAndAccumulateConstantOffsets(
      dl, off, /*AllowNonInbounds=*/true);
  return LaneByte{load, base, off.getSExtValue() + lane, off.getSExtValue()};
}

/// Halide reads an f16 at byte b of a uint8 buffer as zext(w[b]) | zext(w[b + 1]) << 8, and
/// vectorises a run of them as two shuffles (the even and the odd bytes) of byte loads, which
/// x86 lowers to a dozen byte inserts and extracts per 16 values (int4 groups' scale tables:
/// ~170 instructions per 14336-column row). If `v` (<N x i16>) is that pattern over bytes
/// b0 + s·k and b0 + s·k + 1 (k < N, s even) of one pointer, read by loads of one block with
/// no write between them, returns the same values read as halves (little endian): one load
/// when s = 2, else a load of wider lanes truncated (or of halves shuffled); else nullptr.
Value *loadedHalves(Value *v, const DataLayout &dl) {
  auto *type = dyn_cast<FixedVectorType>(v->getType());
  auto *orInst = dyn_cast<BinaryOperator>(v);
  if (!type || !type->getElementType()->isIntegerTy(16) || !orInst ||
      orInst->getOpcode() != Instruction::Or)
    return nullptr;
  const int64_t n = type->getNumElements();
  Value *lo = nullptr, *hi = nullptr;
  for (int k = 0; k < 2 && !hi; ++k) {
    auto *shl = dyn_cast<BinaryOperator>(orInst->getOperand(k));
    ConstantInt *amount = nullptr;
    if (shl && shl->getOpcode() == Instruction::Shl)
      if (auto *c = dyn_cast<Constant>(shl->getOperand(1)))
        amount = dyn_cast_or_null<ConstantInt>(c->getSplatValue());
    auto *hiExt = shl ? dyn_cast<ZExtInst>(shl->getOperand(0)) : nullptr;
    auto *loExt = dyn_cast<ZExtInst>(orInst->getOperand(1 - k));
    if (amount && amount->getZExtValue() == 8 && hiExt && loExt) {
      hi = hiExt->getOperand(0);
      lo = loExt->getOperand(0);
    }
  }
  if (!hi || !lo || !lo->getType()->getScalarType()->isIntegerTy(8) ||
      !hi->getType()->getScalarType()->isIntegerTy(8))
    return nullptr;
  std::optional<LaneByte> first = laneByte(lo, 0, dl);
  if (!first)
    return nullptr;
  int64_t stride = 2;
  if (n > 1) {
    std::optional<LaneByte> second = laneByte(lo, 1, dl);
    if (!second || second->base != first->base)
      return nullptr;
    stride = second->offset - first->offset;
  }
  if (stride < 2 || stride % 2 != 0)
    return nullptr;
  std::vector<LoadInst *> loads;
  for (int64_t k = 0; k < n; ++k) {
    std::optional<LaneByte> l = laneByte(lo, k, dl), h = laneByte(hi, k, dl);
    const int64_t at = first->offset + stride * k;
    if (!l || !h || l->base != first->base || h->base != first->base || l->offset != at ||
        h->offset != at + 1)
      return nullptr;
    for (LoadInst *ld : {l->load, h->load})
      if (std::find(loads.begin(), loads.end(), ld) == loads.end())
        loads.push_back(ld);
  }
  // The new load goes right after the last of the old ones: all in one block, nothing that
  // may write memory from the first to the last (stores into the kernel's own stack arrays,
  // such as the tables built from these halves, cannot write the weights, nor can the
  // conversions themselves).
  Value *weights = getUnderlyingObject(first->base);
  const auto mayClobber = [&](Instruction *inst) {
    auto *call = dyn_cast<CallInst>(inst);
    if (!inst->mayWriteToMemory() ||
        (call && call->getCalledFunction() &&
         call->getCalledFunction()->getName() == kHalfToFloatExtern))
      return false;
    auto *st = dyn_cast<StoreInst>(inst);
    Value *dest = st && st->isSimple() ? getUnderlyingObject(st->getPointerOperand()) : nullptr;
    return !(dest && isa<AllocaInst>(dest) && dest != weights);
  };
  BasicBlock *block = loads.front()->getParent();
  std::vector<Instruction *> order;
  for (Instruction &inst : *block)
    order.push_back(&inst);
  const auto clobberedBetween = [&](size_t from, size_t to) {
    for (size_t k = std::min(from, to); k < std::max(from, to); ++k)
      if (mayClobber(order[k]))
        return true;
    return false;
  };
  size_t firstAt = order.size(), here = order.size(), seen = 0;
  for (size_t k = 0; k < order.size() && here == order.size(); ++k)
    if (auto *ld = dyn_cast<LoadInst>(order[k]);
        ld && std::find(loads.begin(), loads.end(), ld) != loads.end()) {
      firstAt = std::min(firstAt, k);
      if (++seen == loads.size())
        here = k;
    }
  if (here == order.size() || clobberedBetween(firstAt, here))
    return nullptr; // some load in another block, or a write between them
  Instruction *lastLoad = order[here];
  IRBuilder<> b(lastLoad->getNextNode());
  const int64_t step = stride / 2;
  if (step == 1)
    return b.CreateAlignedLoad(
        type, b.CreateGEP(b.getInt8Ty(), first->base, b.getInt64(first->offset)), Align(1));
  // Every step-th half of a run: where a load of the block, with no write between it and
  // here, already reads n lanes of `stride` bytes that hold the run at the same place in each
  // (half j of each lane; the asymmetric int4 tables' scales are half 0 and their zero points
  // half 1 of the same 4-byte lanes), read those lanes too and keep half j of each (a shift
  // and one truncation); else read up to the run's last half and shuffle.
  for (size_t there = 0; there < order.size(); ++there) {
    auto *ld = dyn_cast<LoadInst>(order[there]);
    std::optional<LaneByte> l0 = ld ? laneByte(ld, 0, dl) : std::nullopt;
    if (!l0 || l0->base != first->base)
      continue;
    const int64_t end = l0->loadOffset + cast<FixedVectorType>(ld->getType())->getNumElements();
    int64_t j = 0;
    while (j < stride && !(first->offset - j >= l0->loadOffset &&
                           first->offset - j + n * stride <= end))
      j += 2;
    if (j >= stride || clobberedBetween(here, there))
      continue;
    Value *lanesAt = b.CreateGEP(b.getInt8Ty(), first->base, b.getInt64(first->offset - j));
    Value *wide = b.CreateAlignedLoad(
        FixedVectorType::get(b.getIntNTy(unsigned(8 * stride)), unsigned(n)), lanesAt, Align(1));
    if (j > 0)
      wide = b.CreateLShr(wide, uint64_t(8 * j));
    return b.CreateTrunc(wide, type);
  }
  Value *at = b.CreateGEP(b.getInt8Ty(), first->base, b.getInt64(first->offset));
  Value *halves = b.CreateAlignedLoad(
      FixedVectorType::get(b.getInt16Ty(), unsigned((n - 1) * step + 1)), at, Align(1));
  SmallVector<int, 32> mask;
  for (int64_t k = 0; k < n; ++k)
    mask.push_back(int(k * step));
  return b.CreateShuffleVector(halves, mask);
}

void eraseIfDead(Value *v) {
  auto *inst = dyn_cast<Instruction>(v);
  if (!inst || !inst->use_empty())
    return;
  std::vector<Value *> operands(inst->op_begin(), inst->op_end());
  inst->eraseFromParent();
  for (Value *op : operands)
    eraseIfDead(op);
}

/// Replaces the calls of qcc_f16_to_f32 (HalfToFloat.h) by F16C conversions: whole vectors
/// built lane by lane become one vector fpext, any other call a scalar fpext.
Error lowerHalfToFloatCalls(Module &m) {
  Function *convert = m.getFunction(kHalfToFloatExtern);
  if (!convert)
    return Error::success();
  LLVMContext &ctx = m.getContext();
  if (!convert->isDeclaration() || convert->getReturnType() != Type::getFloatTy(ctx) ||
      convert->arg_size() != 1 || !convert->getArg(0)->getType()->isIntegerTy(16))
    return fail(Twine(kHalfToFloatExtern) + " in kernel bitcode is not a declaration float(i16)");
  // The chains' last insertelements: users of a call's insert that are not themselves inserts
  // of the same chain.
  std::vector<InsertElementInst *> lasts;
  for (User *u : convert->users()) {
    auto *call = dyn_cast<CallInst>(u);
    if (!call || !call->hasOneUse())
      continue;
    auto *ins = dyn_cast<InsertElementInst>(*call->user_begin());
    if (!ins)
      continue;
    while (ins->hasOneUse() && isa<InsertElementInst>(*ins->user_begin()) &&
           cast<InsertElementInst>(*ins->user_begin())->getOperand(0) == ins)
      ins = cast<InsertElementInst>(*ins->user_begin());
    if (std::find(lasts.begin(), lasts.end(), ins) == lasts.end())
      lasts.push_back(ins);
  }
  // Every chain's halves first (loadedHalves may read lanes that another chain's loads read,
  // so no old load goes before all are matched), then the conversions.
  std::vector<std::pair<InsertElementInst *, Value *>> chains;
  for (InsertElementInst *last : lasts)
    if (Value *source = wholeVectorSource(last, convert)) {
      if (Value *loaded = loadedHalves(source, m.getDataLayout()))
        source = loaded;
      chains.emplace_back(last, source);
    }
  for (auto [last, source] : chains) {
    const unsigned n = cast<FixedVectorType>(last->getType())->getNumElements();
    IRBuilder<> b(last);
    Value *halves = b.CreateBitCast(source, FixedVectorType::get(b.getHalfTy(), n));
    last->replaceAllUsesWith(b.CreateFPExt(halves, last->getType()));
    eraseIfDead(last);
  }
  std::vector<User *> rest(convert->user_begin(), convert->user_end());
  for (User *u : rest) {
    auto *call = dyn_cast<CallInst>(u);
    if (!call || call->getCalledFunction() != convert)
      return fail(Twine(kHalfToFloatExtern) + " in kernel bitcode is used other than called");
    IRBuilder<> b(call);
    Value *half = b.CreateBitCast(call->getArgOperand(0), b.getHalfTy());
    call->replaceAllUsesWith(b.CreateFPExt(half, b.getFloatTy()));
    call->eraseFromParent();
  }
  convert->eraseFromParent();
  return Error::success();
}

/// Whether lane `lane` of the integer vector `v` is known to be 0 (a poison lane counts: the
/// result may then be anything).
bool laneIsZero(Value *v, int lane) {
  if (auto *c = dyn_cast<Constant>(v)) {
    Constant *e = c->getAggregateElement(unsigned(lane));
    return e && (e->isNullValue() || isa<PoisonValue>(e) || isa<UndefValue>(e));
  }
  if (auto *sh = dyn_cast<ShuffleVectorInst>(v)) {
    const int idx = sh->getMaskValue(unsigned(lane));
    if (idx < 0)
      return true;
    const int n0 = int(cast<FixedVectorType>(sh->getOperand(0)->getType())->getNumElements());
    return idx < n0 ? laneIsZero(sh->getOperand(0), idx)
                    : laneIsZero(sh->getOperand(1), idx - n0);
  }
  return false;
}

/// Halide vectorises a reduction over a vector of N lanes even where only the first K of the
/// added values can be nonzero (q4_K's mins: a 4-lane pmaddwd sum, padded with zeros to 16
/// lanes, converted and multiplied by dmin · dx into a 16-lane accumulator): a loop of one
/// block with acc = phi [0, acc + a · sitofp(v)] where lanes K.. of v are known zeros. Under
/// Halide's fast-math flags (no NaN or infinity, signed zeros insignificant) those lanes of acc
/// stay 0, so the accumulator and its update are narrowed to K lanes (the rest widened back
/// with zeros after the update, for the uses after the loop): on AVX-512 a 128-bit
/// conversion and FMA instead of 512-bit ones, which share the multiply pipes with the dot
/// products. Returns the number of accumulators narrowed.
int narrowZeroTailAccumulators(Function &f) {
  std::vector<PHINode *> candidates;
  for (BasicBlock &block : f)
    for (PHINode &phi : block.phis())
      candidates.push_back(&phi);
  int narrowed = 0;
  for (PHINode *phi : candidates) {
    auto *type = dyn_cast<FixedVectorType>(phi->getType());
    if (!type || !type->getElementType()->isFloatTy() || phi->getNumIncomingValues() != 2 ||
        !phi->hasOneUse())
      continue;
    BasicBlock *loop = phi->getParent();
    const int latchAt = phi->getIncomingBlock(0) == loop ? 0 : 1;
    auto *next = dyn_cast<BinaryOperator>(phi->getIncomingValue(unsigned(latchAt)));
    auto *init = dyn_cast<Constant>(phi->getIncomingValue(unsigned(1 - latchAt)));
    if (phi->getIncomingBlock(unsigned(latchAt)) != loop || !init || !init->isNullValue() ||
        !next || next->getOpcode() != Instruction::FAdd || next->getParent() != loop ||
        *phi->user_begin() != next || !next->hasNoSignedZeros())
      continue;
    const int accAt = next->getOperand(0) == phi ? 0 : 1;
    auto *mul = dyn_cast<BinaryOperator>(next->getOperand(unsigned(1 - accAt)));
    if (next->getOperand(unsigned(accAt)) != phi || !mul ||
        mul->getOpcode() != Instruction::FMul || !mul->hasOneUse() || !mul->hasNoNaNs() ||
        !mul->hasNoInfs())
      continue;
    int convAt = -1;
    for (int k = 0; k < 2 && convAt < 0; ++k)
      if (isa<SIToFPInst>(mul->getOperand(unsigned(k))))
        convAt = k;
    if (convAt < 0)
      continue;
    auto *conv = cast<SIToFPInst>(mul->getOperand(unsigned(convAt)));
    Value *ints = conv->getOperand(0);
    const int n = int(type->getNumElements());
    int used = n;
    while (used > 0 && laneIsZero(ints, used - 1))
      --used;
    int lanes = 2;
    while (lanes < used)
      lanes *= 2;
    if (used == 0 || lanes > n / 2)
      continue;
    SmallVector<int, 16> low, widen;
    for (int k = 0; k < lanes; ++k)
      low.push_back(k);
    for (int k = 0; k < n; ++k)
      widen.push_back(k < lanes ? k : lanes);
    auto *narrowType = FixedVectorType::get(type->getElementType(), unsigned(lanes));
    PHINode *acc = PHINode::Create(narrowType, 2, phi->getName() + ".narrow", phi);
    IRBuilder<> b(next);
    Value *ints4 = b.CreateShuffleVector(ints, low);
    Value *conv4 = b.CreateSIToFP(ints4, narrowType);
    Value *other4 = b.CreateShuffleVector(mul->getOperand(unsigned(1 - convAt)), low);
    auto *mul4 = cast<Instruction>(convAt == 0 ? b.CreateFMul(conv4, other4)
                                               : b.CreateFMul(other4, conv4));
    mul4->copyIRFlags(mul);
    auto *next4 =
        cast<Instruction>(accAt == 0 ? b.CreateFAdd(acc, mul4) : b.CreateFAdd(mul4, acc));
    next4->copyIRFlags(next);
    acc->addIncoming(Constant::getNullValue(narrowType),
                     phi->getIncomingBlock(unsigned(1 - latchAt)));
    acc->addIncoming(next4, loop);
    Value *wide = b.CreateShuffleVector(next4, Constant::getNullValue(narrowType), widen);
    std::vector<User *> users(next->user_begin(), next->user_end());
    for (User *u : users)
      if (u != phi)
        u->replaceUsesOfWith(next, wide);
    phi->replaceAllUsesWith(PoisonValue::get(type)); // only `next` used it
    phi->eraseFromParent();
    eraseIfDead(next);
    ++narrowed;
  }
  return narrowed;
}

} // namespace

Error compileKernelBitcode(StringRef bitcodePath, StringRef objectPath, const KernelCpu &cpu) {
  initializeLLVMTargets();
  auto buffer = MemoryBuffer::getFile(bitcodePath);
  if (!buffer)
    return fail(bitcodePath + ": " + buffer.getError().message());
  LLVMContext context;
  Expected<std::unique_ptr<Module>> module =
      parseBitcodeFile((*buffer)->getMemBufferRef(), context);
  if (!module)
    return fail(bitcodePath + ": " + toString(module.takeError()));
  const std::string triple = "x86_64-unknown-linux-gnu";
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return fail("no LLVM target for " + triple + ": " + err);
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple, cpu.name, cpu.features, TargetOptions(), Reloc::PIC_, std::nullopt,
      CodeGenOptLevel::Aggressive));
  if (!tm)
    return fail("cannot create a target machine for " + triple + " (" + cpu.name + ")");
  (*module)->setTargetTriple(triple);
  (*module)->setDataLayout(tm->createDataLayout());
  // Halide sets no per-function CPU; make sure nothing overrides the one chosen here.
  for (Function &f : **module) {
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    f.removeFnAttr("tune-cpu");
  }
  if (Error e = lowerHalfToFloatCalls(**module))
    return fail(bitcodePath + ": " + toString(std::move(e)));
  for (Function &f : **module)
    if (!f.isDeclaration())
      narrowZeroTailAccumulators(f);

  SmallString<256> tmp;
  int fd = -1;
  if (std::error_code ec = sys::fs::createUniqueFile(objectPath + ".tmp-%%%%%%", fd, tmp))
    return fail("cannot write next to " + objectPath + ": " + ec.message());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, CodeGenFileType::ObjectFile)) {
      sys::fs::remove(tmp);
      return fail("the " + triple + " target cannot emit object files");
    }
    pm.run(**module);
    os.flush();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      sys::fs::remove(tmp);
      return fail(objectPath + ": " + msg);
    }
  }
  if (std::error_code ec = sys::fs::rename(tmp, objectPath)) {
    sys::fs::remove(tmp);
    return fail("cannot move " + tmp + " to " + objectPath + ": " + ec.message());
  }
  return Error::success();
}

Error writeSingleObjectArchive(StringRef objectPath, StringRef archivePath) {
  Expected<NewArchiveMember> member = NewArchiveMember::getFile(objectPath, /*Deterministic=*/true);
  if (!member)
    return fail(objectPath + ": " + toString(member.takeError()));
  std::vector<NewArchiveMember> members;
  members.push_back(std::move(*member));
  // writeArchive writes a temporary file and renames it into place.
  if (Error e = writeArchive(archivePath, members, SymtabWritingMode::NormalSymtab,
                             object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false))
    return fail(archivePath + ": " + toString(std::move(e)));
  return Error::success();
}

} // namespace qcc::codegen
