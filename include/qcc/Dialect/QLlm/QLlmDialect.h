//===- QLlmDialect.h - qllm dialect -----------------------------*- C++ -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMDIALECT_H
#define QCC_DIALECT_QLLM_QLLMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "qcc/Dialect/QLlm/QLlmDialect.h.inc"

#endif // QCC_DIALECT_QLLM_QLLMDIALECT_H
