//===- QLlmOps.h - qllm operations (and everything else of the dialect) -*- C++ -*-===//
//
// Including this header gives the whole dialect: dialect class, enums, attributes, types, ops.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DIALECT_QLLM_QLLMOPS_H
#define QCC_DIALECT_QLLM_QLLMOPS_H

#include "qcc/Dialect/QLlm/QLlmAttrs.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Dialect/QLlm/QLlmTypes.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "qcc/Dialect/QLlm/QLlmOps.h.inc"

#endif // QCC_DIALECT_QLLM_QLLMOPS_H
