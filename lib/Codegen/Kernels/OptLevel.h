//===- OptLevel.h - what the generators' `opt` GeneratorParam switches on --===//
//
// Every qcc generator has GeneratorParam<int> opt{"opt", 3} (qcc -O0..-O3, KernelKey::optLevel).
// The algorithm (and so the result, up to the order of float sums) is the same at every level;
// only the CPU schedule changes:
//   O0  plain scalar code: serial loops, no vectorize / parallel / unroll (the loop nests and the
//       compute_at levels are kept where the default would recompute a reduction per element)
//   O1  O0 + vectorised inner loops (and the lane-split reductions that need them)
//   O2  O1 + parallel outer loops (Halide's thread pool)
//   O3  O2 + unrolling (the decode batch, the K-quant steps): the best schedules
// GPU targets always get their GPU schedule (there is no serial GPU kernel).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_CODEGEN_KERNELS_OPTLEVEL_H
#define QCC_LIB_CODEGEN_KERNELS_OPTLEVEL_H

#include <cstdlib>
#include <iostream>
#include <string>

namespace qcc::kernels {

struct OptLevel {
  int level = 3;
  bool vectorize() const { return level >= 1; }
  bool parallel() const { return level >= 2; }
  bool unroll() const { return level >= 3; }
};

/// The checked opt GeneratorParam of generator `who`: exits with a message outside 0..3.
inline OptLevel checkedOptLevel(int opt, const char *who) {
  if (opt < 0 || opt > 3) {
    std::cerr << who << ": opt must be 0, 1, 2 or 3, got " << opt << "\n";
    std::exit(1);
  }
  return OptLevel{opt};
}

} // namespace qcc::kernels

#endif // QCC_LIB_CODEGEN_KERNELS_OPTLEVEL_H
