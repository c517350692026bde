//===- KernelKey.h - names and cache keys of the generated Halide kernels ---===//
//
// The lowering asks for one kernel per distinct (op, weight format, shape, target) and caches it
// by that key. The kernels come from the `qcc-kernel-gen` Halide generator executable
// (lib/Codegen/Kernels), one generator per op family:
//   qcc_matmul    y[n, rows] = x[n, cols] · W[rows, cols]ᵀ, W read as stored.
//                 params: format (ggml name or int<b>_g<G>_<sym|asym>), rows, cols, batch,
//                 act_quant (only when set: int8_per_token = W8A8, format int8_g0_sym;
//                 q8_block = decode GEMVs of q4_0/int4 groups (activations quantized to
//                 int8 per 32 columns) and q4_K/q6_K (per 256), q8ActivationsSupported)
//   qcc_embed     y[n, cols] = table[tokens[i], :] dequantized; params: format, cols
//   qcc_rms_norm  params: dim
//   qcc_swiglu    no params
//   qcc_add       no params
//   qcc_rope      params: style (interleaved | rotate_half), freq_factors (true: an extra
//                 freq_factors input); x/y are 5-D pair views (AttentionGenerators.cpp)
//   qcc_attention no params; q/out 5-D grouped-head views, k/v 4-D, the layer's KV cache in
//                 and its crop [pos, pos+T) out (AttentionGenerators.cpp)
// Every generator also takes opt=0..3 (KernelKey::optLevel, qcc -O0..-O3; O0 scalar serial
// loops, O1 vectorised, O2 + parallel, O3 the tuned schedules; lib/Codegen/Kernels/OptLevel.h).
// A shape parameter of 0 means dynamic (taken from the buffers at run time). This header is
// Halide-free and MLIR-free: it only builds names and command lines.
//
// Runtime. Kernels are generated without a Halide runtime (target <t>-no_runtime); the
// executable links one runtime per target, qcc_halide_runtime.a (runtimeCommand):
//   <gen> -r qcc_halide_runtime -o <dir> -e static_library target=<t>
//   <gen> -g <generator> -f <functionName> -o <dir> -e static_library,c_header
//         target=<t>-no_runtime <params...>      (per kernel: <functionName>.a and .h)
//   clang++ ... <kernel>.a ... <dir>/qcc_halide_runtime.a -lpthread -ldl
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

enum class KernelOp { MatMul, Embed, RmsNorm, SwiGlu, Add, Rope, Attention };

enum class RopeKernelStyle { Interleaved, RotateHalf };

struct KernelKey {
  KernelOp op = KernelOp::MatMul;
  /// MatMul and Embed: the generator's format name (matmulFormatName).
  std::string format;
  /// 0 = dynamic. MatMul uses rows/cols/batch, Embed and RmsNorm use cols (the row length).
  int64_t rows = 0, cols = 0, batch = 0;
  /// MatMul only: quantize the activations per token to int8 (W8A8; format int8_g0_sym).
  bool int8Activations = false;
  /// MatMul decode kernels only: act_quant=q8_block (activations quantized to int8 per block
  /// of 32 columns, integer dot products; q8ActivationsSupported must hold).
  bool q8Activations = false;
  /// Rope only.
  RopeKernelStyle ropeStyle = RopeKernelStyle::Interleaved;
  bool ropeFreqFactors = false;
  /// A Halide target string: "host", "x86-64-linux-avx2", "x86-64-linux-avx512_skylake",
  /// "arm-64-linux", "host-cuda-cuda_capability_86", ...
  std::string target = "host";
  /// 0..3: the generators' opt param (qcc -O<n>). Only a level other than 3 appears in the
  /// params and the cache key; functionName() ignores it (qcc's cache has a folder per level).
  int optLevel = 3;

  /// The generator registered in qcc-kernel-gen ("qcc_matmul", ...).
  std::string generatorName() const;
  /// The generator's param=value arguments (shape params only when fixed; "opt=N" last, only
  /// when optLevel != 3).
  std::vector<std::string> generatorParams() const;
  /// Canonical key: generator, params and target, e.g.
  /// "qcc_matmul:format=q4_0:rows=4096:cols=4096:batch=1@x86-64-linux-avx2" (at -O1:
  /// "...:batch=1:opt=1@x86-64-linux-avx2"). Equal keys are the same kernel.
  std::string cacheKey() const;
  /// A C identifier unique per cacheKey(): "qcc_matmul_q4_0_r4096_c4096_b1_" followed by a
  /// sanitized target ("x86_64_linux_avx2"); "d" stands for a dynamic extent. W8A8 matmuls
  /// insert "a8_" after the format, q8-activation matmuls "q8a_", ropes are "qcc_rope_interleaved[_ff]_", embeddings
  /// "qcc_embed_<format>_c<cols>_".
  std::string functionName() const;
  /// The qcc-kernel-gen command line emitting `<outDir>/<functionName()>.a` and `.h`, for
  /// target `<target>-no_runtime` (the kernel references the Halide runtime's symbols; link
  /// it with the runtime of runtimeCommand(..., target), generated once per target):
  ///   {generatorPath, "-g", generatorName(), "-f", functionName(), "-o", outDir,
  ///    "-e", "static_library,c_header", "target=<target>-no_runtime", params...}
  /// With `bitcode`, `<functionName()>.bc` instead of the library ("-e", "bitcode,c_header"),
  /// for qcc's own LLVM to compile (KernelObject.h); matmuls then add
  /// "half_extern=true" (HalfToFloat.h).
  std::vector<std::string> generatorCommand(const std::string &generatorPath,
                                            const std::string &outDir, bool bitcode = false) const;
};

/// The file name runtimeCommand writes into its outDir: "qcc_halide_runtime.a".
inline constexpr const char *kHalideRuntimeLibrary = "qcc_halide_runtime.a";

/// The qcc-kernel-gen command line writing `<outDir>/qcc_halide_runtime.a`: Halide's runtime
/// (thread pool, allocation, error handling; the CUDA driver glue for a cuda target) for Halide
/// target `target` (the same string as KernelKey::target), to be linked once into an
/// executable next to every kernel generated by KernelKey::generatorCommand for that target:
///   {generatorPath, "-r", "qcc_halide_runtime", "-o", outDir, "-e", "static_library",
///    "target=<target>"}
std::vector<std::string> runtimeCommand(const std::string &generatorPath,
                                        const std::string &outDir, const std::string &target);

/// The qcc_matmul format name for a ggml type, or for qcc's integer groups when `intFormat` is
/// set; std::nullopt when the generator does not implement that format yet.
std::optional<std::string> matmulFormatName(GGMLType type,
                                            const std::optional<quantalgo::IntGroupFormat> &intFormat);

/// Whether qcc_matmul has an act_quant=q8_block kernel for this format (a matmulFormatName),
/// row length, batch and Halide target: q4_K and q6_K (cols a multiple of 256), q4_0 (of 128) and
/// int4_g<G>_<sym|asym> (G a power of two >= 32, cols a multiple of max(G, 128)); a fixed
/// batch of 1..8; x86-64 and arm-64 targets (not CUDA).
bool q8ActivationsSupported(const std::string &format, int64_t cols, int64_t batch,
                            const std::string &target);

/// The Halide target string for this machine, to use instead of Halide's "host". On x86-64 Linux
/// it is built from the /proc/cpuinfo flags (e.g. "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-
/// avx512_skylake-avx512_cannonlake"): Halide 14 reports avx512_sapphirerapids for any CPU with
/// AVX512-VNNI and AVX512-BF16, and its own LLVM then compiles for a Sapphire Rapids CPU, with
/// AVX512-FP16 and AVX-VNNI instructions such CPUs (Cooper Lake, Zen 4) lack. So that feature
/// is given only when all four are there, unless `ownLlvm`: the kernels are compiled by qcc's
/// LLVM for the real CPU (KernelObject.h), and avx512_sapphirerapids only lets Halide select
/// AVX512-VNNI and -BF16 patterns: given for every CPU with both. Elsewhere "host".
std::string hostKernelTarget(bool ownLlvm = false);

/// The same from a /proc/cpuinfo "flags" line (space-separated flags), for x86-64 Linux.
std::string x86KernelTargetFromFlags(const std::string &flags, bool ownLlvm = false);

/// The Halide target of the runtime linked with kernels of Halide target `kernelTarget` that
/// qcc's LLVM compiled (the runtime is always Halide's own object): without
/// avx512_sapphirerapids, which the runtime does not need and which would make Halide's LLVM
/// compile it for a Sapphire Rapids CPU.
std::string runtimeTargetForOwnLlvm(const std::string &kernelTarget);

} // namespace qcc::codegen

#endif // QCC_CODEGEN_KERNELKEY_H
