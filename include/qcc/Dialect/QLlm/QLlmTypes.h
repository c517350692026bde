//===- QLlmTypes.h - qllm types ---------------------------------*- C++ -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMTYPES_H
#define QCC_DIALECT_QLLM_QLLMTYPES_H

#include "qcc/Dialect/QLlm/QLlmAttrs.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "qcc/Dialect/QLlm/QLlmTypes.h.inc"

#endif // QCC_DIALECT_QLLM_QLLMTYPES_H
