//===- HalfToFloat.h - f16 conversions left to qcc's LLVM ---------*- C++ -*-===//
//
// Halide 14 has no F16C code generation on x86: its Float(16) casts, and qcc's own bit
// arithmetic (WeightDecoders.cpp, halfBitsToFloat / halfToFloat), convert f16 values with
// integer and float operations, which made f16 GEMVs compute-bound and cost the K-quant GEMVs
// ~60 scalar instructions per super-block for d and dmin. Kernels that qcc's LLVM compiles
// (KernelObject.h) instead call this pure extern function on the 16-bit patterns (every
// qcc_matmul that qcc compiles from bitcode: half_extern=true); Halide calls it lane by lane,
// and compileKernelBitcode turns every complete lane-by-lane vector of calls into one
// `fpext <N x half>` (vcvtph2ps) and any other call into a scalar fpext, so no call remains in
// the object. Where such a vector's 16-bit patterns are Halide's byte pairs (w[b] | w[b+1] << 8
// over a run of b), they are read from memory as halves instead (loadedHalves).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_CODEGEN_HALFTOFLOAT_H
#define QCC_CODEGEN_HALFTOFLOAT_H

namespace qcc::codegen {

/// float qcc_f16_to_f32(uint16_t bits): the IEEE binary16 value of `bits`, exactly.
inline constexpr const char *kHalfToFloatExtern = "qcc_f16_to_f32";

} // namespace qcc::codegen

#endif // QCC_CODEGEN_HALFTOFLOAT_H
