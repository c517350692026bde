//===- Kernels.h - float32 reference kernels for LLaMA-family layers --------===//
//
// The reference executor's maths, MLIR-free so the emitted executables can share it. Activations
// are row-major [rows, features] f32; weights are row-major [out, in] in any GGML format and are
// dequantized one row at a time (never the whole matrix). Loops are threaded with OpenMP;
// every reduction has a fixed order, so results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_RUNTIME_KERNELS_H
#define QCC_RUNTIME_KERNELS_H

#include "qcc/Quant/GGMLFormats.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include <optional>

#include <cstdint>
#include <vector>

namespace qcc::rt {

/// A weight matrix [rows, cols] (or a vector: rows = 1) stored in a GGML format.
struct WeightView {
  GGMLType type = GGMLType::F32;
  int64_t rows = 0, cols = 0;
  const uint8_t *data = nullptr;
  uint64_t rowBytes = 0;
  /// Set for qcc's packed integer group rows (then `type` is I8, the storage type).
  std::optional<quantalgo::IntGroupFormat> intFormat;
  const uint8_t *row(int64_t r) const { return data + uint64_t(r) * rowBytes; }
};

/// Fixed-order dot product (8 partial sums, then a fixed tree).
float dot(const float *a, const float *b, int64_t n);

/// y[i, r] = Σ_k x[i, k] · W[r, k] for i < n, r < W.rows; x is [n, W.cols].
void linear(const float *x, int64_t n, const WeightView &w, float *y);

/// y[i, :] = table[tokens[i], :]. Token ids must already be range-checked.
void embed(const int32_t *tokens, int64_t n, const WeightView &table, float *y);

/// Dequantizes a whole (small) weight, e.g. a norm vector, into f32.
std::vector<float> dequantizeAll(const WeightView &w);

/// y = x / sqrt(mean(x²) + eps) · gamma per row of d features (sum of squares in double).
void rmsNorm(const float *x, int64_t n, int64_t d, const float *gamma, float eps, float *y);

enum class RopeStyle { Interleaved, RotateHalf };
struct RopeParams {
  int64_t headDim = 0;
  double theta = 10000.0;
  RopeStyle style = RopeStyle::Interleaved;
  /// Per-frequency divisors (llama.cpp's rope_freqs / Llama-3 scaling folded in), headDim/2
  /// entries; empty = none.
  std::vector<float> freqFactors;
};
/// Inverse frequencies θ^(-2i/d) / factor_i, i < headDim/2, in double.
std::vector<double> ropeInvFreqs(const RopeParams &p);
/// Llama-3 scaling as transformers' _compute_llama3_parameters, expressed as divisors.
std::vector<float> llama3RopeFactors(int64_t headDim, double theta, double factor,
                                     double lowFreqFactor, double highFreqFactor,
                                     int64_t originalMaxPosition);
/// A model's RoPE scaling beyond its stored factors; the values of qllm's RopeScalingKind and
/// of the importers' RopeScaling::Kind (callers convert with a cast, checked where they do).
enum class RopeScale { None = 0, Linear = 1, Llama3 = 2 };
/// The divisors a RoPE op applies (RopeParams::freqFactors): `stored` (rope_freqs, headDim/2
/// values, or empty) with the scaling applied: Linear multiplies them by `factor` (ones where
/// none are stored), Llama3 computes them (llama3RopeFactors). Llama-3 scaling and stored
/// factors describe the same thing; both is an error: std::nullopt. The reference executor,
/// the codegen glue and AWQ's attention block all take their factors from here.
std::optional<std::vector<float>> scaledRopeFactors(std::vector<float> stored, int64_t headDim,
                                                    double theta, RopeScale kind, double factor,
                                                    double lowFreqFactor, double highFreqFactor,
                                                    int64_t originalMaxPosition);
/// Rotates x [B, T, d] in place; token (b, t) is at position pos + t; d % headDim == 0.
void rope(float *x, int64_t B, int64_t T, int64_t d, int64_t pos, const RopeParams &p);

/// W8A8's dynamic activation quantization, in place: per row s = max(max|x|, 1e-5) / 127,
/// x ← clamp(round(x / s), −127, 127) · s, round half to even (smoothquant's fake_quant.py).
void fakeQuantizeInt8PerRow(float *x, int64_t n, int64_t cols);

/// y = silu(gate) · up.
void swiglu(const float *gate, const float *up, float *y, int64_t n);
/// y = a + b.
void add(const float *a, const float *b, float *y, int64_t n);

/// K/V for every layer, batch row, kv head and position: [layers][batch][kvHeads][maxSeq][headDim].
class KVCache {
public:
  KVCache() = default;
  KVCache(int64_t layers, int64_t batch, int64_t kvHeads, int64_t maxSeq, int64_t headDim);
  int64_t layers() const { return layers_; }
  int64_t batch() const { return batch_; }
  int64_t kvHeads() const { return kvHeads_; }
  int64_t maxSeq() const { return maxSeq_; }
  int64_t headDim() const { return headDim_; }
  uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }
  float *k(int64_t l, int64_t b, int64_t h, int64_t s) { return &k_[index(l, b, h, s)]; }
  float *v(int64_t l, int64_t b, int64_t h, int64_t s) { return &v_[index(l, b, h, s)]; }

private:
  size_t index(int64_t l, int64_t b, int64_t h, int64_t s) const {
    return ((size_t(l * batch_ + b) * kvHeads_ + h) * maxSeq_ + s) * headDim_;
  }
  int64_t layers_ = 0, batch_ = 0, kvHeads_ = 0, maxSeq_ = 0, headDim_ = 0;
  std::vector<float> k_, v_;
};

/// Writes k/v [B, T, kvHeads·headDim] at positions pos..pos+T-1 of `layer`, then causal attention:
/// out[b, t, h] = softmax_s(q·K_s / sqrt(headDim)) · V over s ≤ pos + t, query head h reading kv
/// head h / (nHeads / kvHeads). Requires B ≤ cache batch and pos + T ≤ cache maxSeq.
void attention(const float *q, const float *k, const float *v, int64_t B, int64_t T, int64_t pos,
               int64_t nHeads, KVCache &cache, int64_t layer, float *out);

/// Number of threads kernels use (OpenMP); setThreads(0) keeps the default.
void setThreads(int n);
int numThreads();

} // namespace qcc::rt

#endif // QCC_RUNTIME_KERNELS_H
