//===- KernelSet.h - the generated kernels a qllm module needs --------------===//
//
// First step of lowering qllm to kernel calls: every op of @forward maps to Halide kernels of
// lib/Codegen/Kernels, identified by a codegen::KernelKey (op family, weight format, fixed
// shapes, target). Each qllm.linear needs two matmuls: a decode kernel (batch 1, rows and cols
// fixed) and a prefill kernel (dynamic batch); embed/rms_norm/rope/attention/swiglu/add one each.
// Equal keys are one kernel.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_CONVERSION_QLLMTOKERNELS_KERNELSET_H
#define QCC_CONVERSION_QLLMTOKERNELS_KERNELSET_H

#include "qcc/Codegen/KernelKey.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace qcc {

struct KernelUse {
  codegen::KernelKey key;
  mlir::Operation *firstUse = nullptr;
  int64_t uses = 0;
};

/// Batch sizes of the extra q8 decode kernels of a linear (decode steps of several sequences
/// run in chunks of these, largest first, then batch 1).
inline constexpr int64_t kBatchedDecodeSizes[] = {2, 4};

/// The kernels one op of @forward needs, for `target`: a linear its decode kernel (batch 1)
/// then its prefill kernel (dynamic batch); qllm.weight and func.return none. With
/// `q8Activations`, a decode kernel whose format has one (codegen::q8ActivationsSupported) and
/// whose linear is not W8A8 quantizes its activations to int8 per 32 columns
/// (KernelKey::q8Activations; qcc --act-quant), and the linear also gets q8 decode kernels of
/// batch 2 and 4 (kBatchedDecodeSizes, where supported) for decode steps of several sequences.
/// An op with no lowering or a weight format with no kernel gets a diagnostic and the result is
/// failure.
mlir::FailureOr<llvm::SmallVector<codegen::KernelKey, 4>>
kernelsOf(mlir::Operation *op, const std::string &target, bool q8Activations = false);

/// The distinct kernels of `module`'s @forward for `target` (a Halide target string), in order
/// of first use. An op whose weight format has no kernel gets a diagnostic naming the op and the
/// format, and the result is failure.
mlir::FailureOr<std::vector<KernelUse>> collectKernels(mlir::ModuleOp module,
                                                      const std::string &target,
                                                      bool q8Activations = false);

} // namespace qcc

#endif // QCC_CONVERSION_QLLMTOKERNELS_KERNELSET_H
