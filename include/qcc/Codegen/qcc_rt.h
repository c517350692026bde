/*===- qcc_rt.h - ABI of the executables qcc emits ---------------------------===*
 *
 * An executable emitted by `qcc model.mlir -o model` is three parts linked together:
 *
 *   1. the glue object, made by the convert-qllm-to-llvm pass (lib/Conversion/QLlmToLLVM) from
 *      the module's @forward and translated with LLVM: the function qcc_forward and the model's
 *      constant tables below (all symbols defined there are declared `extern` here);
 *   2. the Halide kernels (one static library per distinct kernel, no runtime each) and one
 *      Halide runtime for the target;
 *   3. this C runtime (lib/Codegen/Runtime/qcc_rt.c: KV cache, activation slots, the
 *      qcc_rt_* entries the glue calls; qcc_rt_model.c: the weights) and a driver: the C++
 *      evaluation driver (QCCDriver, host targets) or the C driver (cross targets).
 *
 * C only (C99): the runtime and this header also build for aarch64, whose cross sysroot on
 * these machines has no libstdc++.
 *
 * Activations are float32, row-major [B·T, width] (B sequences of T new tokens); logits are
 * [B, T, vocab]. The glue keeps every intermediate value in an activation *slot* (a float
 * buffer of slot_width × capacity floats, reused once the value is dead) and calls the qcc_rt_*
 * entries in program order. Those entries never return an error: the first failure is kept in
 * the context (qcc_ctx_error) and every later entry returns at once, so qcc_forward reports it.
 *
 *===----------------------------------------------------------------------===*/
#ifndef QCC_CODEGEN_QCC_RT_H
#define QCC_CODEGEN_QCC_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QCC_ABI_VERSION 3 /* 2: qcc_rt_matmul takes the batch-2 and batch-4 decode kernels,
                              QCC_INFO_PREFILL_Q8; 3: qcc_weight_formats */

typedef struct qcc_model qcc_model;  /* the weights (mapped files or the blob), shared */
typedef struct qcc_ctx qcc_ctx;      /* one instance: KV cache, activation slots, status */

/*--- Defined by the glue object (convert-qllm-to-llvm) ----------------------------------*/

/* qcc_model_info[i], indexed by these names. */
enum qcc_info_index {
  QCC_INFO_ABI_VERSION = 0, /* QCC_ABI_VERSION of the pass that wrote the glue */
  QCC_INFO_DIM,             /* model width */
  QCC_INFO_N_LAYERS,
  QCC_INFO_N_HEADS,
  QCC_INFO_N_KV_HEADS,
  QCC_INFO_HEAD_DIM,
  QCC_INFO_VOCAB,
  QCC_INFO_MAX_SEQ,         /* context length */
  QCC_INFO_N_WEIGHTS,
  QCC_INFO_N_FILES,         /* weight files (0 when the weights are embedded) */
  QCC_INFO_N_SLOTS,         /* activation slots */
  QCC_INFO_EMBEDDED,        /* 1: the weights are the blob qcc_weight_blob (--embed-weights) */
  QCC_INFO_USES_GPU,        /* 1: the kernels run on a CUDA device (--target=cuda) */
  QCC_INFO_WEIGHTS_BYTES,   /* Σ stored bytes of all weights */
  QCC_INFO_PREFILL_Q8,      /* 1: prefill matmuls too run through the q8 decode kernels
                               (qcc --act-quant=q8-all; qcc_rt_matmul) */
  QCC_INFO_COUNT
};
extern const int64_t qcc_model_info[QCC_INFO_COUNT];

/* NUL-terminated strings one after the other, in this order: model name, qcc --target,
 * Halide target, tokenizer path ("" when none), tokenizer kind ("gguf", "llama2c",
 * "sentencepiece", "tiktoken" or ""). */
extern const char qcc_model_strings[];

/* Per weight w (QCC_INFO_N_WEIGHTS of them), 5 values at qcc_weight_table[5 * w]:
 *   file index (into qcc_file_*; unused when embedded), byte offset (in that file, or in the
 *   blob), stored bytes, ggml type id (0 f32, 1 f16, 30 bf16, ... as GGMLType; qcc's integer
 *   groups are 24 = I8), element count. */
extern const int64_t qcc_weight_table[];
/* The weights' names, NUL-terminated one after the other (for messages). */
extern const char qcc_weight_names[];
/* Their formats as qllm names them ("f32", "q4_K", "int4_g128_sym", ...), in the same order. */
extern const char qcc_weight_formats[];
/* Weight files: paths NUL-terminated one after the other, and their sizes in bytes (checked
 * when the file is opened; a file of another size is refused). */
extern const char qcc_file_paths[];
extern const int64_t qcc_file_sizes[];
/* Floats per token of each activation slot. */
extern const int64_t qcc_slot_widths[];

/* The model's forward step: tokens [B, T] (ids), logits out [B, T, vocab]; B, T and pos are
 * the context's (qcc_ctx_forward sets them before calling it). Returns 0, or non-zero after a qcc_rt_* entry failed (the message
 * is qcc_ctx_error's). */
int32_t qcc_forward(struct qcc_ctx *ctx, const int32_t *tokens, float *logits);

/* With --embed-weights: the weight bytes (offsets in qcc_weight_table are into it). Weak: absent
 * (null) otherwise. */
extern const uint8_t qcc_weight_blob[] __attribute__((weak));

/*--- The runtime's API for drivers --------------------------------------------------------*/

/* (qcc_model and qcc_ctx are declared at the top: qcc_forward takes a qcc_ctx.) */

/* Opens the model described by the glue's tables: maps the weight files (checking their size)
 * or uses the blob, converts f16/bf16 norm vectors to f32 once, and for --target=cuda checks that
 * a CUDA driver and device are present. `threads` > 0 sets the kernels' thread count (Halide's
 * pool), 0 keeps the default. On failure returns NULL and writes a one-line message to `err`. */
qcc_model *qcc_model_open(int threads, char *err, size_t err_size);
void qcc_model_close(qcc_model *m);
/* Σ stored bytes of the weights. */
uint64_t qcc_model_weights_bytes(const qcc_model *m);
/* Bytes of the executable plus the weight files it maps. */
uint64_t qcc_model_file_bytes(const qcc_model *m);
/* Threads the kernels use (Halide's pool size: the `threads` given, or the default). */
int qcc_model_threads(const qcc_model *m);
/* Changes the kernels' thread count after open (same meaning as qcc_model_open's `threads`);
 * returns the count now in use. */
int qcc_model_set_threads(qcc_model *m, int threads);
/* Reads once every weight the forward calls so far have read whole (the matmul weights, the LM
 * head included; not an embedding table, of which a forward call reads only its tokens' rows):
 * the bytes a decode step streams, split in contiguous shares over the kernels' thread count
 * (qcc_model_threads), each summed as 64-bit words, as fast as the memory delivers them (bench
 * --roofline times it next to each decode step). Returns the bytes read: 0 before the first
 * forward call, and for --target=cuda (the kernels read device copies). Not while a forward call
 * runs. */
uint64_t qcc_model_read_streamed(qcc_model *m);
/* Kernel profile (bench --profile). While on, every kernel call of the forward calls is counted
 * and timed (CLOCK_MONOTONIC around the kernel alone), per op and, for matmuls, per weight;
 * turning it on clears the counts. Not while a forward call runs. */
void qcc_model_profile(qcc_model *m, int on);
typedef struct qcc_profile_row {
  const char *op;         /* "matmul", "attention", "rms_norm", "rope", "swiglu", "add", "embed" */
  int64_t weight;         /* matmul: the weight's index (qcc_weight_table); else -1 */
  uint64_t calls, ns;     /* kernel calls and their time */
  uint64_t bytes;         /* matmul: the weight's bytes × calls (what the calls streamed); else 0 */
} qcc_profile_row;
/* Writes the rows with calls since the last take (at most `cap` of them, ops first, then the
 * matmul weights in table order) and clears the counts. Returns the number of such rows. */
int64_t qcc_model_profile_take(qcc_model *m, qcc_profile_row *rows, int64_t cap);
/* Weight w's name (qcc_weight_names) and format (qcc_weight_formats), "" when out of range. */
const char *qcc_model_weight_name(const qcc_model *m, int64_t w);
const char *qcc_model_weight_format(const qcc_model *m, int64_t w);
/* The i-th string of qcc_model_strings (0 name, 1 qcc target, 2 Halide target, 3 tokenizer
 * path, 4 tokenizer kind). */
const char *qcc_model_string(int i);

/* An instance; its KV cache is allocated by qcc_ctx_reset. NULL when out of memory. */
qcc_ctx *qcc_ctx_new(qcc_model *m);
void qcc_ctx_free(qcc_ctx *c);
/* Starts `batch` empty sequences with room for `positions` positions each (1..max_seq).
 * Returns 0 or non-zero (message in qcc_ctx_error). */
int qcc_ctx_reset(qcc_ctx *c, int64_t batch, int64_t positions);
/* Bytes the KV cache holds now. */
uint64_t qcc_ctx_kv_bytes(const qcc_ctx *c);
/* One forward call: tokens [B, T] at positions pos..pos+T-1 of every sequence (B ≤ the reset's
 * batch, pos + T ≤ its positions, ids in [0, vocab)); writes logits [B, T, vocab]. Grows the
 * activation slots as needed and calls qcc_forward. Returns 0 or non-zero (qcc_ctx_error). */
int qcc_ctx_forward(qcc_ctx *c, const int32_t *tokens, int64_t B, int64_t T, int64_t pos,
                    float *logits);
const char *qcc_ctx_error(const qcc_ctx *c);

/*--- Entries the glue calls ---------------------------------------------------------------*
 * `fn` arguments are Halide AOT kernels (lib/Codegen/Kernels, signatures in their headers),
 * passed as plain function addresses; the runtime calls them with the buffer views each
 * generator documents. Weights are indices into qcc_weight_table. B, T and pos are the current
 * forward call's. */

/* Base of activation slot `slot` (float, capacity × width). */
float *qcc_rt_slot(qcc_ctx *c, int64_t slot);
/* y[B·T, cols] = table rows of tokens (qcc_embed). */
void qcc_rt_embed(qcc_ctx *c, void *fn, int64_t weight, const int32_t *tokens, float *y,
                  int64_t cols);
/* y[B·T, rows] = x[B·T, cols] · Wᵀ (qcc_matmul): `decode_fn` (batch fixed to 1) when B·T == 1;
 * a decode step of several sequences (T == 1, B > 1), and with QCC_INFO_PREFILL_Q8 any call, in
 * chunks of 4, then 2, then 1 rows through `decode4_fn`, `decode2_fn` and `decode_fn` when all
 * three are given (the q8 decode kernels: the weights read once per chunk); else `prefill_fn`
 * (dynamic batch). decode2_fn / decode4_fn may be NULL. */
void qcc_rt_matmul(qcc_ctx *c, void *decode_fn, void *prefill_fn, void *decode2_fn,
                   void *decode4_fn, int64_t weight, const float *x, float *y, int64_t rows,
                   int64_t cols);
/* y = rms_norm(x) · gamma over rows of `dim` (qcc_rms_norm); gamma is an f32/f16/bf16 weight. */
void qcc_rt_rms_norm(qcc_ctx *c, void *fn, const float *x, int64_t gamma, float *y, int64_t dim,
                     double eps);
/* RoPE of x [B·T, width] (heads of head_dim) into y (qcc_rope, out of place). interleaved: 1 for
 * pairs (2i, 2i+1), 0 for (i, i + head_dim/2). factors: head_dim/2 divisors or NULL (the kernel
 * `fn` was generated with freq_factors accordingly). */
void qcc_rt_rope(qcc_ctx *c, void *fn, const float *x, float *y, int64_t width, int64_t head_dim,
                 double theta, int64_t interleaved, const float *factors);
/* The f32 values of a small weight (a rope_freqs vector): mapped bytes when stored as f32, a
 * copy converted at open time when f16/bf16. */
const float *qcc_rt_weight_f32(qcc_ctx *c, int64_t weight);
/* Causal GQA attention of layer `layer` over the instance's KV cache (qcc_attention): q
 * [B·T, n_heads·head_dim], k/v [B·T, n_kv_heads·head_dim] (new tokens, written to the cache at
 * pos..pos+T-1), out [B·T, n_heads·head_dim]. */
void qcc_rt_attention(qcc_ctx *c, void *fn, const float *q, const float *k, const float *v,
                      float *out, int64_t layer, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim);
/* y = silu(gate) · up (qcc_swiglu) and y = a + b (qcc_add), over [B·T, width]. */
void qcc_rt_swiglu(qcc_ctx *c, void *fn, const float *gate, const float *up, float *y,
                   int64_t width);
void qcc_rt_add(qcc_ctx *c, void *fn, const float *a, const float *b, float *y, int64_t width);

#ifdef __cplusplus
}
#endif

#endif /* QCC_CODEGEN_QCC_RT_H */
