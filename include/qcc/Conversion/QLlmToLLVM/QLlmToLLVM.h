//===- QLlmToLLVM.h - what the glue lowering shares with qcc ----------------===//
//
// The convert-qllm-to-llvm pass (Passes.td) and the `qcc` tool agree here on the targets and
// on the layout of an embedded weight blob; emitObjectFile is the step after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_CONVERSION_QLLMTOLLVM_QLLMTOLLVM_H
#define QCC_CONVERSION_QLLMTOLLVM_QLLMTOLLVM_H

#include "qcc/Import/ModelSource.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace qcc {

/// The qcc targets: x86-64 (this machine's features), x86-64-avx2, x86-64-avx512, aarch64,
/// cuda.
llvm::ArrayRef<const char *> qccTargetNames();
/// The Halide target string of the kernels for a qcc target; std::nullopt when unknown.
std::optional<std::string> halideTargetFor(llvm::StringRef qccTarget);
/// The LLVM triple of the glue and runtime for a qcc target (cuda's host side is x86-64).
std::string llvmTripleFor(llvm::StringRef qccTarget);
/// True when the target's kernels run on a GPU.
bool targetUsesGPU(llvm::StringRef qccTarget);

/// Each tensor of an embedded weight blob starts at a multiple of this.
constexpr uint64_t kWeightBlobAlign = 64;

/// The distinct weights @forward reads, in first-use order (the blob's order).
mlir::FailureOr<std::vector<std::string>> forwardWeightNames(mlir::ModuleOp module);

/// Offsets of `names` in the blob: each aligned to kWeightBlobAlign; the last entry is the
/// blob's size. Fails when a name is not in `source`.
llvm::Expected<std::vector<uint64_t>> weightBlobOffsets(const ModelSource &source,
                                                        llvm::ArrayRef<std::string> names);

/// Writes the blob (the tensors' stored bytes at weightBlobOffsets, zero padding between).
llvm::Error writeWeightBlob(const ModelSource &source, llvm::ArrayRef<std::string> names,
                            llvm::raw_ostream &os);

/// Translates a module holding only LLVM dialect (the pass's result) to LLVM IR and writes an
/// object file for the qcc target's triple (position independent, optimised at `optLevel`
/// 0..3). Not atomic: `path` is meant to be in a temporary folder.
llvm::Error emitObjectFile(mlir::ModuleOp module, llvm::StringRef qccTarget, int optLevel,
                           llvm::StringRef path);

} // namespace qcc

#endif // QCC_CONVERSION_QLLMTOLLVM_QLLMTOLLVM_H
