//===- Passes.h - qcc passes ------------------------------------*- C++ -*-===//
#ifndef QCC_TRANSFORMS_PASSES_H
#define QCC_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace qcc {

#define GEN_PASS_DECL
#include "qcc/Transforms/Passes.h.inc"

/// registerQccPasses(): makes every qcc pass available to pass pipelines and qcc-opt.
#define GEN_PASS_REGISTRATION
#include "qcc/Transforms/Passes.h.inc"

} // namespace qcc

#endif // QCC_TRANSFORMS_PASSES_H
