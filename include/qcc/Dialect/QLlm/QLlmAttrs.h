//===- QLlmAttrs.h - qllm enums, attributes, attribute interfaces -*- C++ -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMATTRS_H
#define QCC_DIALECT_QLLM_QLLMATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "qcc/QuantAlgo/IntGroup.h"

#include "qcc/Dialect/QLlm/QLlmAttrInterfaces.h.inc"
#include "qcc/Dialect/QLlm/QLlmEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qcc/Dialect/QLlm/QLlmAttrs.h.inc"

#endif // QCC_DIALECT_QLLM_QLLMATTRS_H
