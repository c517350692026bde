//===- KernelObject.cpp - Halide kernel bitcode to objects with qcc's LLVM --===//
#include "qcc/Codegen/KernelObject.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Bitcode/BitcodeReader.h"
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

Error compileKernelBitcode(StringRef bitcodePath, StringRef objectPath, const KernelCpu &cpu) {
  initializeLLVMTargets();
  auto buffer = MemoryBuffer::getFile(bitcodePath);
  if (!buffer)
    return fail(bitcodePath + ": " + buffer.getError().message());
  LLVMContext context;
  Expected<std::unique_ptr<Module>> module = parseBitcodeFile((*buffer)->getMemBufferRef(), context);
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
