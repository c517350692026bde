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

#include <vector>

namespace qcc {

struct KernelUse {
  codegen::KernelKey key;
  mlir::Operation *firstUse = nullptr;
  int64_t uses = 0;
};

/// The distinct kernels of `module`'s @forward for `target` (a Halide target string), in order
/// of first use. An op whose weight format has no kernel gets a diagnostic naming the op and the
/// format, and the result is failure.
mlir::FailureOr<std::vector<KernelUse>> collectKernels(mlir::ModuleOp module,
                                                      const std::string &target);

} // namespace qcc

#endif // QCC_CONVERSION_QLLMTOKERNELS_KERNELSET_H
