//===- OpsTest.cpp - AOT add / RoPE / attention kernels against rt:: ---------===//
//
// qcc_add must equal rt::add exactly. RoPE and attention are compared with
// |got − ref| ≤ 1e-5 · max|ref| (expectClose): the cos/sin tables are computed in double as the
// reference does, but Halide may contract x0·c − x1·s into an FMA and sums in another order.
// The KV cache contents written by qcc_attention must equal rt::attention's bit for bit.
// Each op is also checked at a lower -O level (opt=0 or 1: scalar / serial schedules).
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "qcc_test_add.h"
#include "qcc_test_add_o1.h"
#include "qcc_test_attention.h"
#include "qcc_test_attention_o0.h"
#include "qcc_test_attention_o1.h"
#include "qcc_test_rope_interleaved.h"
#include "qcc_test_rope_interleaved_o0.h"
#include "qcc_test_rope_rotate_half_ff.h"
#include "qcc_test_rope_rotate_half_ff_o1.h"

#include "HalideBuffer.h"
#include "gtest/gtest.h"

using namespace qcc;
using namespace qcc::kerneltest;
using Halide::Runtime::Buffer;

namespace {

TEST(Ops, AddMatchesReferenceExactly) {
  for (auto fn : {qcc_test_add, qcc_test_add_o1})
  for (int64_t n : {int64_t(10007), int64_t(3)}) {
    std::vector<float> a = gaussian(size_t(n), 91), b = gaussian(size_t(n), 92);
    std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    rt::add(a.data(), b.data(), ref.data(), n);
    Buffer<float> ab(a.data(), int(n)), bb(b.data(), int(n)), yb(got.data(), int(n));
    ASSERT_EQ(fn(ab, bb, yb), 0);
    EXPECT_EQ(got, ref);
  }
}

/// The 5-D pair view qcc_rope takes of x [B, T, heads·hd] (AttentionGenerators.cpp).
Buffer<float> ropeView(float *x, rt::RopeStyle style, int B, int T, int heads, int hd) {
  const int d = heads * hd;
  halide_dimension_t dims[5];
  if (style == rt::RopeStyle::Interleaved) {
    dims[0] = {0, 2, 1};
    dims[1] = {0, hd / 2, 2};
  } else {
    dims[0] = {0, hd / 2, 1};
    dims[1] = {0, 2, hd / 2};
  }
  dims[2] = {0, heads, hd};
  dims[3] = {0, T, d};
  dims[4] = {0, B, T * d};
  return Buffer<float>(x, 5, dims);
}

TEST(Ops, RopeInterleavedMatchesReference) {
  for (auto fn : {qcc_test_rope_interleaved, qcc_test_rope_interleaved_o0})
  for (int hd : {8, 64}) {
    const int B = 2, T = 3, heads = 4, pos = 7;
    rt::RopeParams p;
    p.headDim = hd;
    p.theta = 10000.0;
    p.style = rt::RopeStyle::Interleaved;
    std::vector<float> x = gaussian(size_t(B * T * heads * hd), 101), ref = x;
    std::vector<float> got(x.size(), -1.0f);
    rt::rope(ref.data(), B, T, heads * hd, pos, p);
    Buffer<float> xb = ropeView(x.data(), p.style, B, T, heads, hd);
    Buffer<float> yb = ropeView(got.data(), p.style, B, T, heads, hd);
    ASSERT_EQ(fn(xb, pos, p.theta, yb), 0);
    expectClose(got, ref, 1e-5, "rope interleaved hd=" + std::to_string(hd));
  }
}

TEST(Ops, RopeRotateHalfWithLlama3FactorsMatchesReference) {
  for (auto fn : {qcc_test_rope_rotate_half_ff, qcc_test_rope_rotate_half_ff_o1})
  for (int hd : {16, 128}) {
    const int B = 1, T = 5, heads = 3, pos = 1000;
    rt::RopeParams p;
    p.headDim = hd;
    p.theta = 500000.0;
    p.style = rt::RopeStyle::RotateHalf;
    p.freqFactors = rt::llama3RopeFactors(hd, p.theta, 8.0, 1.0, 4.0, 8192);
    std::vector<float> x = gaussian(size_t(B * T * heads * hd), 102), ref = x;
    std::vector<float> got(x.size(), -1.0f);
    rt::rope(ref.data(), B, T, heads * hd, pos, p);
    Buffer<float> xb = ropeView(x.data(), p.style, B, T, heads, hd);
    Buffer<float> yb = ropeView(got.data(), p.style, B, T, heads, hd);
    Buffer<float> fb(p.freqFactors.data(), hd / 2);
    ASSERT_EQ(fn(xb, pos, p.theta, fb, yb), 0);
    expectClose(got, ref, 1e-5, "rope rotate_half hd=" + std::to_string(hd));
  }
}

/// [B, T, heads, hd] as the 4-D (d, h, t, b) buffer qcc_attention takes for k and v.
Buffer<float> headsView(float *x, int B, int T, int heads, int hd) {
  halide_dimension_t dims[4] = {
      {0, hd, 1}, {0, heads, hd}, {0, T, heads * hd}, {0, B, T * heads * hd}};
  return Buffer<float>(x, 4, dims);
}

/// [B, T, heads, hd] as the 5-D (d, g, kh, t, b) view for q and out: head h = kh · group + g.
Buffer<float> groupedHeadsView(float *x, int B, int T, int heads, int kvHeads, int hd) {
  const int group = heads / kvHeads;
  halide_dimension_t dims[5] = {{0, hd, 1},
                                {0, group, hd},
                                {0, kvHeads, group * hd},
                                {0, T, heads * hd},
                                {0, B, T * heads * hd}};
  return Buffer<float>(x, 5, dims);
}

/// One layer of the cache as (d, s, kh, b); with T > 0, the crop s ∈ [pos, pos + T), b < B.
Buffer<float> cacheView(float *layerBase, const rt::KVCache &c, int pos = 0, int T = 0,
                        int B = 0) {
  const int hd = int(c.headDim()), seq = int(c.maxSeq()), kvh = int(c.kvHeads());
  halide_dimension_t dims[4] = {{0, hd, 1},
                                {T ? pos : 0, T ? T : seq, hd},
                                {0, kvh, seq * hd},
                                {0, B ? B : int(c.batch()), kvh * seq * hd}};
  return Buffer<float>(layerBase + (T ? pos * hd : 0), 4, dims);
}

TEST(Ops, AttentionMatchesReferenceAndWritesCache) {
  const int layers = 2, batch = 3, kvh = 2, maxSeq = 24, layer = 1;
  for (auto [level, fn] : {std::make_pair("O3", qcc_test_attention),
                           std::make_pair("O1", qcc_test_attention_o1),
                           std::make_pair("O0", qcc_test_attention_o0)})
  for (int hd : {16, 64}) {
    for (int heads : {8, 2}) { // GQA (4 query heads per kv head) and plain MHA
      rt::KVCache refCache(layers, batch, kvh, maxSeq, hd), gotCache(layers, batch, kvh, maxSeq, hd);
      int pos = 0;
      // Prefill 6 tokens, one decode step, then 4 more tokens, with B = 2 of 3 cache rows.
      for (int T : {6, 1, 4}) {
        const int B = 2;
        unsigned seed = unsigned(1000 + 10 * pos + hd + heads);
        std::vector<float> q = gaussian(size_t(B * T * heads * hd), seed);
        std::vector<float> k = gaussian(size_t(B * T * kvh * hd), seed + 1);
        std::vector<float> v = gaussian(size_t(B * T * kvh * hd), seed + 2);
        std::vector<float> ref(q.size()), got(q.size(), -1.0f);
        rt::attention(q.data(), k.data(), v.data(), B, T, pos, heads, refCache, layer, ref.data());

        float *kBase = gotCache.k(layer, 0, 0, 0), *vBase = gotCache.v(layer, 0, 0, 0);
        Buffer<float> qb = groupedHeadsView(q.data(), B, T, heads, kvh, hd);
        Buffer<float> kb = headsView(k.data(), B, T, kvh, hd);
        Buffer<float> vb = headsView(v.data(), B, T, kvh, hd);
        Buffer<float> outb = groupedHeadsView(got.data(), B, T, heads, kvh, hd);
        Buffer<float> kc = cacheView(kBase, gotCache), vc = cacheView(vBase, gotCache);
        Buffer<float> kOut = cacheView(kBase, gotCache, pos, T, B);
        Buffer<float> vOut = cacheView(vBase, gotCache, pos, T, B);
        ASSERT_EQ(fn(qb, kb, vb, kc, vc, pos, outb, kOut, vOut), 0);
        std::string what = std::string("attention ") + level + " hd=" + std::to_string(hd) + " heads=" +
                           std::to_string(heads) + " pos=" + std::to_string(pos) +
                           " T=" + std::to_string(T);
        expectClose(got, ref, 1e-5, what);
        pos += T;
        for (int b = 0; b < batch; ++b)
          for (int h = 0; h < kvh; ++h)
            for (int s = 0; s < maxSeq; ++s)
              for (int d = 0; d < hd; ++d) {
                ASSERT_EQ(gotCache.k(layer, b, h, s)[d], refCache.k(layer, b, h, s)[d]) << what;
                ASSERT_EQ(gotCache.v(layer, b, h, s)[d], refCache.v(layer, b, h, s)[d]) << what;
              }
      }
    }
  }
}

} // namespace
