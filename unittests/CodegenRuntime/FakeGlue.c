/*===- FakeGlue.c - qcc_forward of the runtime tests' tiny model ---------------===*
 *
 * What the convert-qllm-to-llvm glue does for a LLaMA model, written by hand over the test
 * kernels (see FakeModel.h). Every qcc_rt_* entry returns at once after a failure, so the body
 * runs straight through and the status is checked once at the end, as the real glue does.
 *
 *===----------------------------------------------------------------------===*/
#include "FakeModel.h"

#include "qcc/Codegen/qcc_rt.h"

#include "HalideRuntime.h"

typedef struct halide_buffer_t hb;
int qcc_test_embed_f32(hb *, hb *, hb *);
int qcc_test_matmul_f32(hb *, hb *, hb *);
int qcc_test_rms_norm(hb *, hb *, float, hb *);
int qcc_test_rope_rotate_half_ff(hb *, int32_t, double, hb *, hb *);
int qcc_test_attention(hb *, hb *, hb *, hb *, hb *, int32_t, hb *, hb *, hb *);
int qcc_test_add(hb *, hb *, hb *);
int qcc_test_swiglu(hb *, hb *, hb *);

int qcc_fake_mode = 0;
int64_t qcc_fake_matmul_calls[4][5];

/* Mode 3's kernels: the float test kernel (any batch), each call counted by which kernel
 * qcc_rt_matmul chose (0 decode, 1 prefill, 2 decode2, 3 decode4) and its row count (≤ 4, else
 * counted as 0). */
#define COUNTING_KERNEL(name, which)                                                            \
  static int name(hb *x, hb *w, hb *y) {                                                         \
    const int32_t n = x->dimensions > 1 ? x->dim[1].extent : 1;                                  \
    ++qcc_fake_matmul_calls[which][n >= 1 && n <= 4 ? n : 0];                                    \
    return qcc_test_matmul_f32(x, w, y);                                                         \
  }
COUNTING_KERNEL(count_decode, 0)
COUNTING_KERNEL(count_prefill, 1)
COUNTING_KERNEL(count_decode2, 2)
COUNTING_KERNEL(count_decode4, 3)

static int failing_kernel(hb *a, hb *b, hb *y) {
  (void)a;
  (void)b;
  (void)y;
  halide_error(NULL, "Input buffer a is accessed at 99, which is beyond the max (9)\n");
  return -27;
}

#define MM(w, x, y, rows, cols)                                                                \
  (qcc_fake_mode == 3                                                                            \
       ? qcc_rt_matmul(ctx, (void *)count_decode, (void *)count_prefill, (void *)count_decode2,   \
                       (void *)count_decode4, w, x, y, rows, cols)                               \
       : qcc_rt_matmul(ctx, (void *)qcc_test_matmul_f32, (void *)qcc_test_matmul_f32, NULL,      \
                       NULL, w, x, y, rows, cols))

int32_t qcc_forward(qcc_ctx *ctx, const int32_t *tokens, float *logits) {
  float *x = qcc_rt_slot(ctx, 0), *h = qcc_rt_slot(ctx, 1), *q = qcc_rt_slot(ctx, 2);
  float *k = qcc_rt_slot(ctx, 3), *v = qcc_rt_slot(ctx, 4), *qr = qcc_rt_slot(ctx, 5);
  float *kr = qcc_rt_slot(ctx, 6), *att = qcc_rt_slot(ctx, 7), *o = qcc_rt_slot(ctx, 8);
  float *g = qcc_rt_slot(ctx, 9), *u = qcc_rt_slot(ctx, 10), *s = qcc_rt_slot(ctx, 11);
  const float *factors;
  int64_t l;
  if (qcc_fake_mode == 1) {
    qcc_rt_add(ctx, (void *)failing_kernel, x, x, h, FAKE_DIM);
    qcc_rt_add(ctx, (void *)qcc_test_add, x, x, h, FAKE_DIM); /* not reached */
    return qcc_ctx_error(ctx)[0] != '\0';
  }
  if (qcc_fake_mode == 2) {
    MM(FAKE_W_OUTPUT, x, logits, FAKE_VOCAB + 1, FAKE_DIM);
    return qcc_ctx_error(ctx)[0] != '\0';
  }
  factors = qcc_rt_weight_f32(ctx, FAKE_W_ROPE_FREQS);
  qcc_rt_embed(ctx, (void *)qcc_test_embed_f32, FAKE_W_EMBD, tokens, x, FAKE_DIM);
  for (l = 0; l < FAKE_LAYERS; ++l) {
    const int64_t w = 1 + FAKE_PER_LAYER * l;
    qcc_rt_rms_norm(ctx, (void *)qcc_test_rms_norm, x, w + FAKE_L_ATTN_NORM, h, FAKE_DIM,
                    FAKE_EPS);
    MM(w + FAKE_L_WQ, h, q, FAKE_DIM, FAKE_DIM);
    MM(w + FAKE_L_WK, h, k, FAKE_KV_DIM, FAKE_DIM);
    MM(w + FAKE_L_WV, h, v, FAKE_KV_DIM, FAKE_DIM);
    qcc_rt_rope(ctx, (void *)qcc_test_rope_rotate_half_ff, q, qr, FAKE_DIM, FAKE_HEAD_DIM,
                FAKE_THETA, 0, factors);
    qcc_rt_rope(ctx, (void *)qcc_test_rope_rotate_half_ff, k, kr, FAKE_KV_DIM, FAKE_HEAD_DIM,
                FAKE_THETA, 0, factors);
    qcc_rt_attention(ctx, (void *)qcc_test_attention, qr, kr, v, att, l, FAKE_HEADS,
                     FAKE_KV_HEADS, FAKE_HEAD_DIM);
    MM(w + FAKE_L_WO, att, o, FAKE_DIM, FAKE_DIM);
    qcc_rt_add(ctx, (void *)qcc_test_add, x, o, x, FAKE_DIM);
    qcc_rt_rms_norm(ctx, (void *)qcc_test_rms_norm, x, w + FAKE_L_FFN_NORM, h, FAKE_DIM,
                    FAKE_EPS);
    MM(w + FAKE_L_GATE, h, g, FAKE_FFN, FAKE_DIM);
    MM(w + FAKE_L_UP, h, u, FAKE_FFN, FAKE_DIM);
    qcc_rt_swiglu(ctx, (void *)qcc_test_swiglu, g, u, s, FAKE_FFN);
    MM(w + FAKE_L_DOWN, s, o, FAKE_DIM, FAKE_FFN);
    qcc_rt_add(ctx, (void *)qcc_test_add, x, o, x, FAKE_DIM);
  }
  qcc_rt_rms_norm(ctx, (void *)qcc_test_rms_norm, x, FAKE_W_OUT_NORM, h, FAKE_DIM, FAKE_EPS);
  MM(FAKE_W_OUTPUT, h, logits, FAKE_VOCAB, FAKE_DIM);
  return qcc_ctx_error(ctx)[0] != '\0';
}
