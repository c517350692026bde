//===- AttentionGenerators.cpp - RoPE and causal GQA attention over a KV cache ===//
//
// qcc_rope: rotary position embedding, as rt::rope, out of place.
//   The activations [B, T, heads·hd] are passed as a 5-D view (a, c, h, t, b) that splits each
//   head into its rotation pairs, so both styles are plain strided buffers:
//     interleaved  (pair (2i, 2i+1)):  a = member e ∈ {0, 1} (stride 1), c = pair i (stride 2)
//     rotate_half  (pair (i, i+hd/2)): a = pair i (stride 1), c = member e (stride hd/2)
//   then h (stride hd), t (stride heads·hd), b (stride T·heads·hd).
//   Input  x float 5-D as above; Input pos int32 (token (b, t) is at position pos + t);
//   Input  theta float64; Input freq_factors float [hd/2] when GeneratorParam freq_factors is
//          true (per-frequency divisors, e.g. rt::llama3RopeFactors);
//   Output y float 5-D, same view (may not alias x).
//   GeneratorParam style = interleaved | rotate_half.
//   cos/sin per (pair, t) are computed in double exactly as rt::ropeInvFreqs / rt::rope
//   (θ^(-2i/hd) / factor_i, angle = (pos + t) · inv) into a small table, then
//   y0 = x0·c − x1·s, y1 = x0·s + x1·c in float.
//   Schedule: parallel over (h, t, b); interleaved vectorises both members and 8 pairs at once
//   (dense load, deinterleave, interleave, dense store), rotate_half vectorises pairs; the
//   cos/sin table is computed once per call at every -O level.
//
// qcc_attention: one layer of causal attention with grouped-query heads over a KV cache laid
//   out as rt::KVCache ([layers][batch][kvHeads][maxSeq][hd]; the caller passes one layer).
//   Input  q        float (d, g, kh, t, b) = [B, T, heads, hd] with query head h = kh·group + g
//                   (group = heads / kvHeads), i.e. the heads dimension split in two
//   Input  k, v     float (d, kh, t, b)   = [B, T, kvHeads, hd], the new tokens
//   Input  k_cache, v_cache float (d, s, kh, b) = the layer's cache [batch][kvHeads][maxSeq][hd]
//   Input  pos      int32: the new tokens are at positions pos .. pos+T-1
//   Output out      float (d, g, kh, t, b), the same view of [B, T, heads, hd]
//   Output k_cache_out, v_cache_out float (d, s, kh, b): the cache crop s ∈ [pos, pos+T),
//          b < B (same memory as k_cache/v_cache, cropped with min pos on dimension 1);
//          the kernel writes the new K/V there, as rt::attention does first.
//   Semantics (rt::attention): query head h reads kv head h / (heads / kvHeads); token t
//   attends over s ≤ pos + t with softmax(q·K_s / sqrt(hd)); keys/values at s < pos come from
//   the cache, those at s ≥ pos from k/v directly (so the kernel never reads what it writes).
//   Schedule (CPU): parallel over (kv head, t, b), each task serving the kv head's whole query
//   group (every K/V row is loaded once and used by all of them); the scores over s use the
//   q·K dot product split into 8 vector lanes, then max/exp/sum over s and Σ_s p_s · V_s
//   vectorised over d. GPU: one kernel per stage with one thread per value and every
//   reduction in registers (scheduleGpu below).
//
// Both generators take opt=0..3 (OptLevel.h): O0 scalar serial loops (attention keeps its
// per-(kv head, token, sequence) staging of the scores), O1 vectorised, O2 and O3 + parallel.
//
//===----------------------------------------------------------------------===//
#include "OptLevel.h"

#include "Halide.h"

#include <cstdlib>
#include <iostream>

using namespace Halide;
using namespace qcc::kernels;

namespace {

class RopeGenerator : public Generator<RopeGenerator> {
public:
  GeneratorParam<std::string> style{"style", "interleaved"};
  GeneratorParam<bool> freq_factors{"freq_factors", false};
  GeneratorParam<int> opt{"opt", 3};

  Input<Buffer<float>> x{"x", 5};
  Input<int32_t> pos{"pos"};
  Input<double> theta{"theta"};
  Input<Buffer<float>> *factors = nullptr;
  Output<Buffer<float>> y{"y", 5};

  void configure() {
    if (freq_factors)
      factors = add_input<Buffer<float>>("freq_factors", 1);
  }

  void generate() {
    const OptLevel o = checkedOptLevel(opt, "qcc_rope");
    const std::string s = style;
    if (s != "interleaved" && s != "rotate_half") {
      std::cerr << "qcc_rope: style must be interleaved or rotate_half, got '" << s << "'\n";
      std::exit(1);
    }
    const bool inter = s == "interleaved";
    Var a("a"), c("c"), h("h"), t("t"), b("b"), i("i");
    // Pairs per head and the head dimension.
    Expr half = inter ? x.dim(1).extent() : x.dim(0).extent();
    Expr hd = 2 * half;

    Func inv("inv_freq");
    Expr e = pow(theta, -cast<double>(2 * i) / cast<double>(hd));
    if (factors)
      e = e / cast<double>((*factors)(i));
    inv(i) = e;
    Func tab("cos_sin");
    Expr angle = cast<double>(pos + t) * inv(i);
    tab(i, t) = {cast<float>(cos(angle)), cast<float>(sin(angle))};

    // Pair member m of pair p (m ∈ {0, 1}) in the view's coordinates.
    auto at = [&](Expr p, int m) {
      return inter ? x(m, p, h, t, b) : x(p, m, h, t, b);
    };
    Expr p = inter ? c : a, member = inter ? a : c;
    Expr x0 = at(p, 0), x1 = at(p, 1);
    Expr cs = tab(p, t)[0], sn = tab(p, t)[1];
    y(a, c, h, t, b) = select(member == 0, x0 * cs - x1 * sn, x0 * sn + x1 * cs);

    for (int d = 0; d < 5; ++d) {
      x.dim(d).set_min(0);
      y.dim(d).set_min(0);
    }
    int pairDim = inter ? 0 : 1;
    x.dim(pairDim).set_extent(2);
    y.dim(pairDim).set_extent(2);
    if (factors)
      factors->dim(0).set_min(0);

    Var ht("ht"), htb("htb"), po("po"), pi("pi");
    if (get_target().has_gpu_feature()) {
      Var to("to"), ti("ti");
      tab.compute_root().gpu_tile(i, t, po, to, pi, ti, 32, 1, TailStrategy::GuardWithIf);
      y.fuse(t, b, htb).gpu_tile(inter ? c : a, h, po, ht, pi, ti, 32, 1,
                                 TailStrategy::GuardWithIf);
      return;
    }
    tab.compute_root();
    inv.compute_root();
    y.fuse(h, t, ht).fuse(ht, b, htb);
    if (o.parallel()) {
      tab.parallel(t);
      y.parallel(htb);
    }
    if (!o.vectorize())
      return;
    if (inter) {
      y.bound(a, 0, 2);
      y.split(c, po, pi, 8, TailStrategy::GuardWithIf).reorder(a, pi, po).vectorize(a).vectorize(pi);
    } else {
      y.bound(c, 0, 2);
      y.reorder(a, c).unroll(c).vectorize(a, natural_vector_size<float>(),
                                          TailStrategy::GuardWithIf);
    }
  }
};

class AttentionGenerator : public Generator<AttentionGenerator> {
public:
  Input<Buffer<float>> q{"q", 5};
  Input<Buffer<float>> k{"k", 4};
  Input<Buffer<float>> v{"v", 4};
  Input<Buffer<float>> k_cache{"k_cache", 4};
  Input<Buffer<float>> v_cache{"v_cache", 4};
  Input<int32_t> pos{"pos"};
  Output<Buffer<float>> out{"out", 5};
  Output<Buffer<float>> k_cache_out{"k_cache_out", 4};
  Output<Buffer<float>> v_cache_out{"v_cache_out", 4};
  GeneratorParam<int> opt{"opt", 3};

  void generate() {
    const OptLevel o = checkedOptLevel(opt, "qcc_attention");
    // g: query head within its kv group; query head h = kh · group + g.
    Var d("d"), g("g"), kh("kh"), t("t"), b("b"), s("s");
    Expr hd = q.dim(0).extent(), T = q.dim(3).extent();

    // 1. The new tokens' K/V into the cache (the caller's crop [pos, pos + T)).
    k_cache_out(d, s, kh, b) = k(d, kh, s - pos, b);
    v_cache_out(d, s, kh, b) = v(d, kh, s - pos, b);

    // 2. Keys/values at any s < pos + T: old ones from the cache, new ones from k/v.
    auto kv = [&](const Input<Buffer<float>> &cache, const Input<Buffer<float>> &fresh, Expr dd,
                  Expr ss, Expr hh, Expr bb) {
      return select(ss < pos, cache(dd, ss, hh, bb), fresh(dd, hh, clamp(ss - pos, 0, T - 1), bb));
    };

    RDom rd(0, hd, "rd");
    Func score("score");
    score(s, g, kh, t, b) = 0.0f;
    score(s, g, kh, t, b) += q(rd, g, kh, t, b) * kv(k_cache, k, rd, s, kh, b);
    Expr scale = 1.0f / sqrt(cast<float>(hd));
    Func scaled("scaled");
    scaled(s, g, kh, t, b) = score(s, g, kh, t, b) * scale;

    // Causal reduction domain: s ≤ pos + t.
    RDom rs(0, pos + T, "rs");
    rs.where(rs <= pos + t);
    Func mx("mx");
    mx(g, kh, t, b) = Float(32).min();
    mx(g, kh, t, b) = max(mx(g, kh, t, b), scaled(rs, g, kh, t, b));
    Func ex("ex");
    ex(s, g, kh, t, b) = exp(scaled(s, g, kh, t, b) - mx(g, kh, t, b));
    Func sum("sum");
    sum(g, kh, t, b) = 0.0f;
    sum(g, kh, t, b) += ex(rs, g, kh, t, b);
    Func acc("acc");
    acc(d, g, kh, t, b) = 0.0f;
    acc(d, g, kh, t, b) += ex(rs, g, kh, t, b) * kv(v_cache, v, d, rs, kh, b);
    out(d, g, kh, t, b) = acc(d, g, kh, t, b) * (1.0f / sum(g, kh, t, b));

    // Shapes.
    for (int dim = 0; dim < 5; ++dim) {
      q.dim(dim).set_min(0);
      out.dim(dim).set_min(0);
    }
    for (auto *buf : {&k, &v, &k_cache, &v_cache})
      for (int dim = 0; dim < 4; ++dim)
        buf->dim(dim).set_min(0);
    k_cache_out.dim(0).set_min(0);
    v_cache_out.dim(0).set_min(0);

    if (get_target().has_gpu_feature()) {
      scheduleGpu(score, scaled, mx, sum, acc, d, g, kh, t, b, s);
      return;
    }
    // Schedule: one task per (kv head, token, sequence) handles the whole query group, so each
    // K/V row is loaded once per group and reused from L1 by its `group` query heads.
    Var kt("kt"), ktb("ktb"), u("u");
    out.fuse(kh, t, kt).fuse(kt, b, ktb);
    if (o.parallel())
      out.parallel(ktb);
    for (Func f : {mx, sum, ex, score, acc})
      f.compute_at(out, ktb);
    // Σ_s p_s · V_s: for each s, the V row is reused by every query head of the group.
    acc.update().reorder(d, g, rs);
    if (!o.vectorize())
      return; // O0: scalar loops, the dot products one product at a time
    const int vec = natural_vector_size<float>();
    out.vectorize(d, vec, TailStrategy::GuardWithIf);
    ex.vectorize(s, vec, TailStrategy::GuardWithIf);
    // Scores: for each s, every query head of the group against the same K row; the dot
    // product over d in 8 vector lanes (rfactor), reduced once per (s, g).
    RVar rdo("rdo"), rdi("rdi");
    score.update().split(rd, rdo, rdi, 8, TailStrategy::GuardWithIf);
    Func lanes = score.update().rfactor(rdi, u);
    score.update().reorder(g, s);
    lanes.compute_at(score, g).vectorize(u);
    lanes.update().vectorize(u);
    acc.vectorize(d, vec, TailStrategy::GuardWithIf);
    acc.update().vectorize(d, vec, TailStrategy::GuardWithIf);
    for (Func f : {Func(k_cache_out), Func(v_cache_out)})
      f.vectorize(d, vec, TailStrategy::GuardWithIf);
  }

private:
  /// GPU: one kernel per stage, one thread per value (or per value of the whole query group:
  /// the g loop runs inside the thread), every reduction computed inside its thread at the
  /// innermost loop, i.e. in registers. Only constant splits are used (no fused dimensions,
  /// whose div/mod by run-time extents would make the per-thread region non-constant and move
  /// the reductions to a heap buffer); the batch b stays a host loop (one launch per sequence).
  ///   cache rows     blocks (d/32, s, kv head), threads d%32
  ///   scaled scores  blocks (s/32, kv head, token), threads s%32, loop g: q·K over d
  ///   max, sum       blocks (kv head/8, token/8, seq), threads (kv head%8, token%8), loop g
  ///                  (wrappers of mx and sum: the reduction in registers, one store)
  ///   out            blocks (d/32, kv head, token), threads d%32, loop g: Σ_s p_s · V_s
  void scheduleGpu(Func score, Func scaled, Func mx, Func sum, Func acc, Var d, Var g, Var kh,
                   Var t, Var b, Var s) {
    const TailStrategy guard = TailStrategy::GuardWithIf;
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi");
    for (Func f : {Func(k_cache_out), Func(v_cache_out)})
      f.gpu_tile(d, s, xo, yo, xi, yi, 32, 1, guard).gpu_blocks(kh);

    scaled.compute_root()
        .split(s, xo, xi, 32, guard)
        .reorder(g, xi, xo, kh, t, b)
        .gpu_threads(xi)
        .gpu_blocks(xo, kh, t);
    score.compute_at(scaled, g);

    for (Func red : {mx, sum}) {
      Func wrapper = red.in();
      const std::vector<Var> a = wrapper.args(); // (g, kh, t, b)
      wrapper.compute_root()
          .split(a[1], xo, xi, 8, guard)
          .split(a[2], yo, yi, 8, guard)
          .reorder(a[0], xi, yi, xo, yo, a[3])
          .gpu_threads(xi, yi)
          .gpu_blocks(xo, yo, a[3]);
      red.compute_at(wrapper, a[0]);
    }

    out.split(d, xo, xi, 32, guard)
        .reorder(g, xi, xo, kh, t, b)
        .gpu_threads(xi)
        .gpu_blocks(xo, kh, t);
    acc.compute_at(out, g);
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(RopeGenerator, qcc_rope)
HALIDE_REGISTER_GENERATOR(AttentionGenerator, qcc_attention)
