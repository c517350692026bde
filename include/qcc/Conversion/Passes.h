//===- Passes.h - qcc conversion passes -------------------------*- C++ -*-===//
#ifndef QCC_CONVERSION_PASSES_H
#define QCC_CONVERSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace qcc {

#define GEN_PASS_DECL
#include "qcc/Conversion/Passes.h.inc"

/// registerQccConversionPasses(): the lowering passes, for pipelines and qcc-opt.
#define GEN_PASS_REGISTRATION
#include "qcc/Conversion/Passes.h.inc"

} // namespace qcc

#endif // QCC_CONVERSION_PASSES_H
