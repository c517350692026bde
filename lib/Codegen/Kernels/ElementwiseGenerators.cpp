//===- ElementwiseGenerators.cpp - RMSNorm and SwiGLU ---------------------===//
//
// qcc_rms_norm: y(k, i) = (x(k, i) · s_i) · gamma(k), s_i = float(1 / sqrt(Σ_k x² / d + eps))
//   with the sum of squares in double, as rt::rmsNorm. x, y: float [d, n] (row-major [n, d]);
//   gamma: float [d]; eps: scalar input. GeneratorParam `dim` fixes d (0 = dynamic).
//   Schedule: rows in parallel; the sum of squares is rfactor'ed into 8 double lanes
//   (vectorised), the scaling loop is vectorised by the natural vector width. GPU: one thread
//   per row sums in a register, then one thread per element.
//
// qcc_swiglu: y(k) = gate(k) / (1 + exp(-gate(k))) · up(k) over flat float vectors, as
//   rt::swiglu. Vectorised and split into parallel chunks of 4096 values.
//
// qcc_add: y(k) = a(k) + b(k) over flat float vectors (rt::add, residual connections); same
//   schedule as qcc_swiglu.
//
// Every generator takes opt=0..3 (OptLevel.h): O0 scalar serial loops (RMSNorm still computes
// its sum of squares once per row, in one scalar loop), O1 vectorised, O2 and O3 + parallel.
//
//===----------------------------------------------------------------------===//
#include "OptLevel.h"

#include "Halide.h"

using namespace Halide;
using namespace qcc::kernels;

namespace {

class RmsNormGenerator : public Generator<RmsNormGenerator> {
public:
  GeneratorParam<int> dim{"dim", 0};
  GeneratorParam<int> opt{"opt", 3};

  Input<Buffer<float>> x{"x", 2};
  Input<Buffer<float>> gamma{"gamma", 1};
  Input<float> eps{"eps"};
  Output<Buffer<float>> y{"y", 2};

  void generate() {
    const OptLevel o = checkedOptLevel(opt, "qcc_rms_norm");
    Var k("k"), i("i"), u("u");
    Expr d = dim > 0 ? Expr(int(dim)) : x.dim(0).extent();
    RDom rk(0, d, "rk");
    Func ss("ss");
    Expr xv = cast<double>(x(rk, i));
    ss(i) = cast<double>(0);
    ss(i) += xv * xv;
    Func scale("scale");
    scale(i) = cast<float>(Expr(1.0) / sqrt(ss(i) / cast<double>(d) + cast<double>(eps)));
    y(k, i) = (x(k, i) * scale(i)) * gamma(k);

    x.dim(0).set_min(0);
    gamma.dim(0).set_min(0);
    y.dim(0).set_min(0);
    if (dim > 0) {
      x.dim(0).set_extent(dim);
      gamma.dim(0).set_extent(dim);
      y.bound(k, 0, dim);
    }

    if (get_target().has_gpu_feature()) {
      // One thread per row for the sum of squares (its own kernel; the reduction in the
      // thread's registers, stored once by a wrapper), then one per element.
      Var ko("ko"), ki("ki"), io("io"), ii("ii");
      Func rowSS = ss.in();
      rowSS.compute_root().gpu_tile(i, io, ii, 64, TailStrategy::GuardWithIf);
      ss.compute_at(rowSS, ii);
      y.gpu_tile(k, i, ko, io, ki, ii, 64, 1, TailStrategy::GuardWithIf);
      return;
    }
    scale.compute_at(y, i);
    ss.compute_at(y, i);
    if (o.parallel())
      y.parallel(i);
    if (!o.vectorize())
      return;
    const int vec = natural_vector_size<float>();
    y.vectorize(k, vec, TailStrategy::GuardWithIf);
    RVar rko("rko"), rki("rki");
    ss.update().split(rk, rko, rki, 8, TailStrategy::GuardWithIf);
    Func lanes = ss.update().rfactor(rki, u);
    lanes.compute_at(y, i).vectorize(u);
    lanes.update().vectorize(u);
  }
};

/// Flat elementwise schedule: parallel chunks of 4096, vectorised (GPU: blocks of 256).
void scheduleFlat(Func y, Var k, const Target &target, OptLevel o) {
  Var ko("ko"), ki("ki");
  if (target.has_gpu_feature()) {
    y.gpu_tile(k, ko, ki, 256, TailStrategy::GuardWithIf);
    return;
  }
  if (!o.vectorize())
    return;
  const int vec = target.natural_vector_size<float>();
  y.split(k, ko, ki, 4096, TailStrategy::GuardWithIf);
  if (o.parallel())
    y.parallel(ko);
  y.vectorize(ki, vec, TailStrategy::GuardWithIf);
}

class SwiGluGenerator : public Generator<SwiGluGenerator> {
public:
  Input<Buffer<float>> gate{"gate", 1};
  Input<Buffer<float>> up{"up", 1};
  Output<Buffer<float>> y{"y", 1};
  GeneratorParam<int> opt{"opt", 3};

  void generate() {
    Var k("k");
    Expr g = gate(k);
    y(k) = g / (1.0f + exp(-g)) * up(k);
    scheduleFlat(y, k, get_target(), checkedOptLevel(opt, "qcc_swiglu"));
  }
};

class AddGenerator : public Generator<AddGenerator> {
public:
  Input<Buffer<float>> a{"a", 1};
  Input<Buffer<float>> b{"b", 1};
  Output<Buffer<float>> y{"y", 1};
  GeneratorParam<int> opt{"opt", 3};

  void generate() {
    Var k("k");
    y(k) = a(k) + b(k);
    scheduleFlat(y, k, get_target(), checkedOptLevel(opt, "qcc_add"));
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(RmsNormGenerator, qcc_rms_norm)
HALIDE_REGISTER_GENERATOR(SwiGluGenerator, qcc_swiglu)
HALIDE_REGISTER_GENERATOR(AddGenerator, qcc_add)
