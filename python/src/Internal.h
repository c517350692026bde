//===- Internal.h - helpers shared by Core.cpp and Model.cpp ----------------===//
#ifndef QCC_PYTHON_INTERNAL_H
#define QCC_PYTHON_INTERNAL_H

#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ScopedDiagnosticHandler;
}

namespace qcc::python {

/// Sets `err` to the error's message; returns false.
bool fail(std::string &err, llvm::Error e);
/// Pretty-printed as the tools print --json objects.
std::string toJSONText(llvm::json::Object o);

/// A context with every dialect of a qllm module loaded and every pass qcc-opt knows registered.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Collects the diagnostics emitted on `ctx` while it lives, one line each ("file:line:col: msg").
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext *ctx);
  ~DiagnosticCollector();
  /// The errors joined by newlines, or `fallback` when none was emitted.
  std::string message(llvm::StringRef fallback) const;
  std::vector<std::string> errors, others;

private:
  std::unique_ptr<mlir::ScopedDiagnosticHandler> handler_;
};

} // namespace qcc::python

#endif // QCC_PYTHON_INTERNAL_H
