//===- KernelObject.h - Halide kernels compiled by qcc's own LLVM -*- C++ -*-===//
//
// For x86-64 targets qcc does not take the generator's objects: it asks qcc-kernel-gen for LLVM
// bitcode and compiles that with its own LLVM (19) for one CPU (the machine's own for
// --target=x86-64, x86-64-v3 / -v4 for the portable targets). Halide 14's LLVM 14 knows CPUs
// only up to its feature list, and its avx512_sapphirerapids feature compiles for a Sapphire
// Rapids CPU (AVX512-FP16, VEX-encoded AVX-VNNI) that Zen 4 and Cooper Lake are not; with the
// instruction selection done here for the real CPU, Halide may pattern-match the AVX512-VNNI
// dot products (vpdpbusd) on every CPU that has them, and the kernels are scheduled for that
// CPU (docs/Codegen.md, "Kernel objects").
//
//===----------------------------------------------------------------------===//
#ifndef QCC_CODEGEN_KERNELOBJECT_H
#define QCC_CODEGEN_KERNELOBJECT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace qcc::codegen {

/// What compileKernelBitcode does to Halide's IR besides instruction selection (the f16
/// conversions, the halves' loads, the narrowed accumulators): part of the kernel cache's folder
/// names, so that objects compiled by an older qcc are not reused. Bump it whenever those IR
/// rewrites change.
constexpr int kKernelObjectRevision = 2;

/// The CPU qcc's LLVM compiles kernels for.
struct KernelCpu {
  std::string name;     ///< LLVM CPU name: "znver4", "x86-64-v3", ...
  std::string features; ///< LLVM feature string ("+avx512vnni,-amx-tile,..."), may be empty
  /// A short stable name for cache folders: name plus a hash of the features.
  std::string cacheTag() const;
};

/// The kernel CPU for a qcc --target: x86-64 (this machine's CPU and features), x86-64-avx2
/// (x86-64-v3), x86-64-avx512 (x86-64-v4); std::nullopt for targets whose kernels keep the
/// generator's own objects (aarch64, cuda).
std::optional<KernelCpu> kernelCpuFor(llvm::StringRef qccTarget);

/// Compiles Halide kernel bitcode for `cpu` (instruction selection and scheduling only: Halide
/// has already optimised the IR) into an ELF object at `objectPath`.
llvm::Error compileKernelBitcode(llvm::StringRef bitcodePath, llvm::StringRef objectPath,
                                 const KernelCpu &cpu);

/// Registers every LLVM target (Debian's libLLVM has them all) once per process; also used for
/// the glue object (emitObjectFile).
void initializeLLVMTargets();

/// Writes a static library holding the one object `objectPath` (the form qcc's cache keeps).
llvm::Error writeSingleObjectArchive(llvm::StringRef objectPath, llvm::StringRef archivePath);

} // namespace qcc::codegen

#endif // QCC_CODEGEN_KERNELOBJECT_H
