//===- qcc-opt.cpp - mlir-opt for qllm modules ----------------------------===//
//
// Parses, verifies, transforms and prints qllm modules: the qllm, func, arith, tensor and llvm
// dialects, the qcc passes (convert-qllm-to-llvm included) and MLIR's generic transforms
// (canonicalize, cse, ...).
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Conversion/Passes.h"
#include "qcc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringRef.h"

#include <vector>

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<qcc::qllm::QLlmDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::LLVM::LLVMDialect>();
  mlir::registerTransformsPasses();
  qcc::registerQccPasses();
  qcc::registerQccConversionPasses();
  // qcc's passes report on whole modules (a model is thousands of lines): diagnostics do not
  // print the operation unless asked to with --mlir-print-op-on-diagnostic.
  std::vector<char *> args(argv, argv + argc);
  bool given = false;
  for (char *a : args)
    given |= llvm::StringRef(a).contains("mlir-print-op-on-diagnostic");
  static char quiet[] = "--mlir-print-op-on-diagnostic=false";
  if (!given)
    args.insert(args.begin() + 1, quiet);
  return mlir::asMainReturnCode(mlir::MlirOptMain(int(args.size()), args.data(),
                                                  "qcc-opt: qllm modules through MLIR passes\n",
                                                  registry));
}
