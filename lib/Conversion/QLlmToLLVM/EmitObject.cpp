//===- EmitObject.cpp - LLVM dialect glue to an object file -----------------===//
//
// The step after convert-qllm-to-llvm: mlir::translateModuleToLLVMIR, then the target's
// TargetMachine (Debian's libLLVM has every target, so cross objects need nothing else).
//
//===----------------------------------------------------------------------===//
#include "qcc/Codegen/KernelObject.h"
#include "qcc/Conversion/QLlmToLLVM/QLlmToLLVM.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

using namespace llvm;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str().c_str());
}

Error qcc::emitObjectFile(mlir::ModuleOp module, StringRef qccTarget, int optLevel,
                          StringRef path) {
  codegen::initializeLLVMTargets();
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());

  const std::string triple = llvmTripleFor(qccTarget);
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return fail("no LLVM target for " + triple + ": " + err);
  CodeGenOptLevel level = optLevel <= 0   ? CodeGenOptLevel::None
                          : optLevel == 1 ? CodeGenOptLevel::Less
                          : optLevel == 2 ? CodeGenOptLevel::Default
                                          : CodeGenOptLevel::Aggressive;
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple, "generic", "", TargetOptions(), Reloc::PIC_, std::nullopt, level));
  if (!tm)
    return fail("cannot create a target machine for " + triple);

  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, llvmContext, "glue");
  if (!ir)
    return fail("the glue does not translate to LLVM IR");
  ir->setTargetTriple(triple);
  ir->setDataLayout(tm->createDataLayout());

  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return fail(path + ": " + ec.message());
  legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, CodeGenFileType::ObjectFile))
    return fail("the " + triple + " target cannot emit object files");
  pm.run(*ir);
  os.flush();
  if (os.has_error())
    return fail(path + ": " + os.error().message());
  return Error::success();
}
