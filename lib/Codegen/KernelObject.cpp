//===- KernelObject.cpp - Halide kernel bitcode to objects with qcc's LLVM --===//
#include "qcc/Codegen/KernelObject.h"
#include "qcc/Codegen/HalfToFloat.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
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
  for (InsertElementInst *last : lasts) {
    Value *source = wholeVectorSource(last, convert);
    if (!source)
      continue;
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
