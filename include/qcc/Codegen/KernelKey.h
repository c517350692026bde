//===- KernelKey.h - names and cache keys of the generated Halide kernels ---===//
//
// The lowering asks for one kernel per distinct (op, weight format, shape, target) and caches it
// by that key. The kernels come from the `qcc-kernel-gen` Halide generator executable
// (lib/Codegen/Kernels), one generator per op family:
//   qcc_matmul    y[n, rows] = x[n, cols] · W[rows, cols]ᵀ, W read as stored.
//                 params: format (ggml name or int<b>_g<G>_<sym|asym>), rows, cols, batch
//   qcc_rms_norm  params: dim
//   qcc_swiglu    no params
// A shape parameter of 0 means dynamic (taken from the buffers at run time). This header is
// Halide-free and MLIR-free: it only builds names and command lines.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_CODEGEN_KERNELKEY_H
#define QCC_CODEGEN_KERNELKEY_H

#include "qcc/Quant/GGMLFormats.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcc::codegen {

enum class KernelOp { MatMul, RmsNorm, SwiGlu };

struct KernelKey {
  KernelOp op = KernelOp::MatMul;
  /// MatMul only: the generator's format name (matmulFormatName).
  std::string format;
  /// 0 = dynamic. MatMul uses rows/cols/batch, RmsNorm uses cols (its dim).
  int64_t rows = 0, cols = 0, batch = 0;
  /// A Halide target string: "host", "x86-64-linux-avx2", "x86-64-linux-avx512_skylake",
  /// "arm-64-linux", "host-cuda-cuda_capability_86", ...
  std::string target = "host";

  /// The generator registered in qcc-kernel-gen ("qcc_matmul", ...).
  std::string generatorName() const;
  /// The generator's param=value arguments (shape params only when fixed).
  std::vector<std::string> generatorParams() const;
  /// Canonical key: generator, params and target, e.g.
  /// "qcc_matmul:format=q4_0:rows=4096:cols=4096:batch=1@x86-64-linux-avx2". Equal keys are the
  /// same kernel.
  std::string cacheKey() const;
  /// A C identifier unique per cacheKey(): "qcc_matmul_q4_0_r4096_c4096_b1_" followed by a
  /// sanitized target ("x86_64_linux_avx2"); "d" stands for a dynamic extent.
  std::string functionName() const;
  /// The qcc-kernel-gen command line emitting a static library and a header into `outDir`.
  std::vector<std::string> generatorCommand(const std::string &generatorPath,
                                            const std::string &outDir) const;
};

/// The qcc_matmul format name for a ggml type, or for qcc's integer groups when `intFormat` is
/// set; std::nullopt when the generator does not implement that format yet.
std::optional<std::string> matmulFormatName(GGMLType type,
                                            const std::optional<quantalgo::IntGroupFormat> &intFormat);

} // namespace qcc::codegen

#endif // QCC_CODEGEN_KERNELKEY_H
