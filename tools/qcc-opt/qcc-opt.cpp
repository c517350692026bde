//===- qcc-opt.cpp - mlir-opt for qllm modules ----------------------------===//
//
// Parses, verifies, transforms and prints qllm modules: the qllm, func, arith and tensor
// dialects, the qcc passes and MLIR's generic transforms (canonicalize, cse, ...).
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<qcc::qllm::QLlmDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect>();
  mlir::registerTransformsPasses();
  qcc::registerQccPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qcc-opt: qllm modules through MLIR passes\n", registry));
}
