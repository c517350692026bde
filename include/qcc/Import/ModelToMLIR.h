//===- ModelToMLIR.h - ModelSource -> qllm module ---------------------------===//
#ifndef QCC_IMPORT_MODELTOMLIR_H
#define QCC_IMPORT_MODELTOMLIR_H

#include "qcc/Import/ModelSource.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace qcc {

/// Builds the qllm module for `src`: module attributes qllm.config / qllm.weights /
/// qllm.tokenizer and `func.func @forward(tokens, pos, cache) -> logits`. Weights are referenced
/// by name, never copied. `weightPath` is what the module records as the weight file (an absolute
/// path). Returns null after emitting a diagnostic if the IR does not verify.
mlir::OwningOpRef<mlir::ModuleOp> buildModelModule(mlir::MLIRContext &ctx, const ModelSource &src,
                                                   llvm::StringRef weightPath);

/// Registers every dialect a qllm module uses.
void registerQccDialects(mlir::DialectRegistry &registry);

} // namespace qcc

#endif // QCC_IMPORT_MODELTOMLIR_H
