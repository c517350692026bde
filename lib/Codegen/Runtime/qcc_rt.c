/*===- qcc_rt.c - the C runtime of the executables qcc emits ------------------===*
 *
 * Implements include/qcc/Codegen/qcc_rt.h over the glue's tables, with qcc_rt_model.c:
 *
 *   model   (qcc_rt_model.c) the weight files mapped read-only or the embedded blob, one
 *           pointer per weight, f32 copies of the small f16/bf16 weights, Halide's thread pool
 *           size, the CUDA check for --target=cuda.
 *   ctx     the KV cache [layers][batch][kvHeads][positions][headDim] (k and v, float),
 *           activation slots of slot_width × capacity floats (capacity = B·T, grown on demand),
 *           the current call's B, T, pos and the first error.
 *   entries qcc_rt_* wrap the glue's pointers in halide_buffer_t views, exactly as each
 *           generator in lib/Codegen/Kernels documents them (and unittests/Codegen/OpsTest.cpp
 *           uses them), and call the AOT kernel through its address. A kernel's argument order is its
 *           generator's Inputs then Outputs, in declaration order. Weights are typed by format
 *           (weight_view: float32 for f32, uint16 bits for f16/bf16, bytes otherwise).
 *
 * C99: it also builds for aarch64 with the cross sysroot's C library.
 * Halide reports kernel errors through halide_error; the handler installed here keeps the last
 * message and the failing entry appends it to the context's error.
 *
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "qcc_rt_internal.h"

#include "HalideRuntime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QCC_ERR_SIZE 1024

struct qcc_ctx {
  qcc_model *m;
  float *k_cache, *v_cache;   /* NULL before the first reset */
  int64_t batch, positions;   /* of the last reset */
  size_t kv_floats;           /* per cache (k or v) */
  float **slots;
  int64_t n_slots, capacity;  /* rows (tokens) each slot holds */
  int64_t B, T, pos;          /* the current forward call */
  int gpu;
  int failed;
  uint64_t prof_t0;           /* profile: when the running kernel was called */
  int64_t prof_weight;        /* profile: the running matmul's weight, else -1 */
  char err[QCC_ERR_SIZE];
};

/*--- Messages --------------------------------------------------------------------------*/

/* Records the context's first error; later ones are dropped (the glue keeps calling). */
static void ctx_fail(qcc_ctx *c, const char *fmt, ...) {
  va_list ap;
  if (c->failed)
    return;
  c->failed = 1;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

/* The last message Halide reported (kernel errors: bounds, sizes, device failures). Static:
 * kernels report on the thread that called them, and instances are used one at a time. */
static char g_halide_msg[512];

void qcc_rt_halide_error_hook(void *user_context, const char *msg) {
  size_t n;
  (void)user_context;
  snprintf(g_halide_msg, sizeof g_halide_msg, "%s", msg ? msg : "");
  n = strlen(g_halide_msg);
  while (n > 0 && (g_halide_msg[n - 1] == '\n' || g_halide_msg[n - 1] == ' '))
    g_halide_msg[--n] = '\0';
}

/*--- Tables ----------------------------------------------------------------------------*/

const char *qcc_model_string(int i) {
  const char *s = qcc_model_strings;
  int k;
  if (i < 0 || i > 4)
    return "";
  for (k = 0; k < i; ++k)
    s += strlen(s) + 1;
  return s;
}

/*--- Instances -------------------------------------------------------------------------*/

qcc_ctx *qcc_ctx_new(qcc_model *m) {
  qcc_ctx *c = (qcc_ctx *)calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->m = m;
  c->prof_weight = -1;
  c->n_slots = info(QCC_INFO_N_SLOTS);
  c->gpu = info(QCC_INFO_USES_GPU) != 0;
  c->slots = (float **)calloc((size_t)(c->n_slots > 0 ? c->n_slots : 1), sizeof(float *));
  if (!c->slots) {
    free(c);
    return NULL;
  }
  return c;
}

void qcc_ctx_free(qcc_ctx *c) {
  int64_t i;
  if (!c)
    return;
  for (i = 0; i < c->n_slots; ++i)
    free(c->slots[i]);
  free(c->slots);
  free(c->k_cache);
  free(c->v_cache);
  free(c);
}

const char *qcc_ctx_error(const qcc_ctx *c) { return c->failed ? c->err : ""; }

uint64_t qcc_ctx_kv_bytes(const qcc_ctx *c) {
  return c->k_cache ? 2 * (uint64_t)c->kv_floats * sizeof(float) : 0;
}

int qcc_ctx_reset(qcc_ctx *c, int64_t batch, int64_t positions) {
  const int64_t max_seq = info(QCC_INFO_MAX_SEQ);
  size_t floats;
  c->failed = 0;
  c->err[0] = '\0';
  if (batch < 1) {
    ctx_fail(c, "batch %lld: must be at least 1", (long long)batch);
    return 1;
  }
  if (positions < 1 || positions > max_seq) {
    ctx_fail(c, "KV cache of %lld positions: must be 1..%lld (the model's context)",
             (long long)positions, (long long)max_seq);
    return 1;
  }
  floats = (size_t)info(QCC_INFO_N_LAYERS) * (size_t)batch * (size_t)info(QCC_INFO_N_KV_HEADS) *
           (size_t)positions * (size_t)info(QCC_INFO_HEAD_DIM);
  /* Halide strides are int32: one sequence's cache of a layer must stay below 2^31 floats. */
  if ((uint64_t)info(QCC_INFO_N_KV_HEADS) * (uint64_t)positions * (uint64_t)info(QCC_INFO_HEAD_DIM) *
          (uint64_t)batch > (uint64_t)INT32_MAX) {
    ctx_fail(c, "KV cache for batch %lld × %lld positions is too large", (long long)batch,
             (long long)positions);
    return 1;
  }
  if (c->k_cache && floats == c->kv_floats) {
    memset(c->k_cache, 0, floats * sizeof(float));
    memset(c->v_cache, 0, floats * sizeof(float));
  } else {
    free(c->k_cache);
    free(c->v_cache);
    c->k_cache = (float *)calloc(floats ? floats : 1, sizeof(float));
    c->v_cache = (float *)calloc(floats ? floats : 1, sizeof(float));
    c->kv_floats = floats;
    if (!c->k_cache || !c->v_cache) {
      free(c->k_cache);
      free(c->v_cache);
      c->k_cache = c->v_cache = NULL;
      c->kv_floats = 0;
      ctx_fail(c, "out of memory allocating the KV cache (%llu bytes)",
               (unsigned long long)(2 * floats * sizeof(float)));
      return 1;
    }
  }
  c->batch = batch;
  c->positions = positions;
  return 0;
}

/* Slots hold `rows` tokens each (realloc keeps nothing worth keeping, but is simplest). */
static int grow_slots(qcc_ctx *c, int64_t rows) {
  int64_t i;
  if (rows <= c->capacity)
    return 0;
  for (i = 0; i < c->n_slots; ++i) {
    size_t n = (size_t)qcc_slot_widths[i] * (size_t)rows;
    float *p = (float *)realloc(c->slots[i], (n ? n : 1) * sizeof(float));
    if (!p) {
      ctx_fail(c, "out of memory allocating activations for %lld tokens", (long long)rows);
      return 1;
    }
    c->slots[i] = p;
  }
  c->capacity = rows;
  return 0;
}

int qcc_ctx_forward(qcc_ctx *c, const int32_t *tokens, int64_t B, int64_t T, int64_t pos,
                    float *logits) {
  const int64_t vocab = info(QCC_INFO_VOCAB);
  int64_t i;
  int32_t rc;
  c->failed = 0;
  c->err[0] = '\0';
  if (!c->k_cache) {
    ctx_fail(c, "forward before reset (no KV cache)");
    return 1;
  }
  if (B < 1 || B > c->batch) {
    ctx_fail(c, "batch %lld: must be 1..%lld (the batch of the last reset)", (long long)B,
             (long long)c->batch);
    return 1;
  }
  if (T < 1 || pos < 0 || pos + T > c->positions) {
    ctx_fail(c, "positions %lld..%lld: outside the KV cache's %lld positions", (long long)pos,
             (long long)(pos + T - 1), (long long)c->positions);
    return 1;
  }
  if ((uint64_t)(B * T) * (uint64_t)vocab > (uint64_t)INT32_MAX) {
    ctx_fail(c, "%lld tokens × vocabulary %lld: too many logits for one call",
             (long long)(B * T), (long long)vocab);
    return 1;
  }
  for (i = 0; i < B * T; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      ctx_fail(c, "token id %d at [%lld, %lld] is outside the vocabulary [0, %lld)", tokens[i],
               (long long)(i / T), (long long)(i % T), (long long)vocab);
      return 1;
    }
  if (grow_slots(c, B * T))
    return 1;
  c->B = B;
  c->T = T;
  c->pos = pos;
  rc = qcc_forward(c, tokens, logits);
  if (rc != 0 && !c->failed)
    ctx_fail(c, "qcc_forward failed (code %d)", rc);
  return c->failed;
}

/*--- Halide buffers --------------------------------------------------------------------*/

static void view(halide_buffer_t *b, halide_dimension_t *dims, int nd, const void *host,
                 int code, int bits) {
  memset(b, 0, sizeof *b);
  b->host = (uint8_t *)(uintptr_t)host; /* kernels never write their inputs */
  b->type.code = (uint8_t)code;
  b->type.bits = (uint8_t)bits;
  b->type.lanes = 1;
  b->dimensions = nd;
  b->dim = dims;
}

static void dim(halide_dimension_t *d, int64_t min, int64_t extent, int64_t stride) {
  d->min = (int32_t)min;
  d->extent = (int32_t)extent;
  d->stride = (int32_t)stride;
  d->flags = 0;
}

#define F32 halide_type_float, 32

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The profile's count of the kernel that just returned (`which` names its entry). */
static void profile_count(qcc_ctx *c, const char *which) {
  const uint64_t ns = now_ns() - c->prof_t0;
  qcc_model *m = c->m;
  int k;
  for (k = 0; k < QCC_PROF_OPS && strcmp(which, qcc_rt_prof_names[k]) != 0; ++k)
    ;
  if (k == QCC_PROF_OPS)
    return;
  if (k == QCC_PROF_MATMUL) { /* per weight (qcc_rt_matmul sets prof_weight) */
    ++m->prof_w_calls[c->prof_weight];
    m->prof_w_ns[c->prof_weight] += ns;
  } else {
    ++m->prof_calls[k];
    m->prof_ns[k] += ns;
  }
}

/* After a kernel: the profile's count, the error with Halide's message, and for GPU kernels
 * the outputs copied back and every device allocation freed. (GPU: simple and correct but slow
 * — each call moves the weights to the device and back; a persistent device residency is
 * future work.) */
static void finish(qcc_ctx *c, const char *which, int rc, halide_buffer_t **bufs, int n,
                   int n_inputs) {
  int i;
  if (c->m->profiling)
    profile_count(c, which);
  if (c->gpu) {
    for (i = n_inputs; i < n && rc == 0; ++i)
      rc = halide_copy_to_host(NULL, bufs[i]);
    for (i = 0; i < n; ++i)
      if (bufs[i]->device)
        halide_device_free(NULL, bufs[i]);
  }
  if (rc != 0)
    ctx_fail(c, "kernel %s failed (Halide error %d)%s%s", which, rc, g_halide_msg[0] ? ": " : "",
             g_halide_msg);
}

/* Called right before a kernel: clears Halide's last message; GPU inputs are marked host-dirty
 * so the pipeline copies them to the device; the profile's start time. */
static void prepare(qcc_ctx *c, halide_buffer_t **bufs, int n_inputs) {
  int i;
  g_halide_msg[0] = '\0';
  if (c->gpu)
    for (i = 0; i < n_inputs; ++i)
      bufs[i]->flags |= halide_buffer_flag_host_dirty;
  if (c->m->profiling)
    c->prof_t0 = now_ns();
}

static int entry_ok(qcc_ctx *c, const char *which, void *fn, const void *p1, const void *p2) {
  if (c->failed)
    return 0;
  if (!fn || !p1 || !p2) {
    ctx_fail(c, "%s: null kernel or buffer", which);
    return 0;
  }
  if ((uint64_t)(c->B * c->T) > (uint64_t)INT32_MAX) {
    ctx_fail(c, "%s: too many tokens", which);
    return 0;
  }
  return 1;
}

static int weight_ok(qcc_ctx *c, const char *which, int64_t w) {
  if (w < 0 || w >= c->m->n_weights) {
    ctx_fail(c, "%s: weight index %lld out of range", which, (long long)w);
    return 0;
  }
  return 1;
}

typedef int (*fn3_t)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

float *qcc_rt_slot(qcc_ctx *c, int64_t slot) {
  if (slot < 0 || slot >= c->n_slots) {
    ctx_fail(c, "activation slot %lld out of range", (long long)slot);
    return NULL;
  }
  return c->slots[slot];
}

/* The view of weight `w` with rows of `cols` elements, as qcc_matmul / qcc_embed take it
 * (WeightDecoders.h): f32 weights as float32 [cols, rows], f16 and bf16 as uint16 bits
 * [cols, rows], every other format as the uint8 bytes [rowBytes, rows]. */
static int weight_view(qcc_ctx *c, const char *which, int64_t w, int64_t cols,
                       halide_buffer_t *b, halide_dimension_t *d, int64_t *rows_out) {
  const int64_t *e;
  int64_t rows, row_bytes, size = 1;
  int code = halide_type_uint;
  if (!weight_ok(c, which, w))
    return 0;
  e = weight_entry(w);
  if (cols <= 0 || e[4] % cols != 0) {
    ctx_fail(c, "%s: weight %s has %lld elements, not rows of %lld", which,
             c->m->weight_names[w], (long long)e[4], (long long)cols);
    return 0;
  }
  rows = e[4] / cols;
  if (rows == 0 || e[2] % rows != 0 || e[2] / rows > INT32_MAX || rows > INT32_MAX) {
    ctx_fail(c, "%s: weight %s: %lld bytes do not split into %lld rows", which,
             c->m->weight_names[w], (long long)e[2], (long long)rows);
    return 0;
  }
  row_bytes = e[2] / rows;
  if (e[3] == GGML_F32) {
    code = halide_type_float;
    size = 4;
  } else if (e[3] == GGML_F16 || e[3] == GGML_BF16) {
    size = 2;
  }
  if (size > 1 && row_bytes != cols * size) {
    ctx_fail(c, "%s: weight %s: rows of %lld bytes are not %lld elements of %lld bytes", which,
             c->m->weight_names[w], (long long)row_bytes, (long long)cols, (long long)size);
    return 0;
  }
  dim(&d[0], 0, row_bytes / size, 1);
  dim(&d[1], 0, rows, row_bytes / size);
  view(b, d, 2, c->m->weights[w], code, 8 * (int)size);
  *rows_out = rows;
  return 1;
}

void qcc_rt_embed(qcc_ctx *c, void *fn, int64_t weight, const int32_t *tokens, float *y,
                  int64_t cols) {
  halide_buffer_t tb, wb, yb, *bufs[3] = {&tb, &wb, &yb};
  halide_dimension_t td[1], wd[2], yd[2];
  const int64_t n = c->B * c->T;
  int64_t rows;
  if (!entry_ok(c, "embed", fn, tokens, y) || !weight_view(c, "embed", weight, cols, &wb, wd, &rows))
    return;
  dim(&td[0], 0, n, 1);
  view(&tb, td, 1, tokens, halide_type_int, 32);
  dim(&yd[0], 0, cols, 1);
  dim(&yd[1], 0, n, cols);
  view(&yb, yd, 2, y, F32);
  prepare(c, bufs, 2);
  finish(c, "embed", ((fn3_t)fn)(&tb, &wb, &yb), bufs, 3, 2);
}

/* QCC_DECODE_MATMULS=1 in the environment (accuracy checks): a matmul of n > 1 tokens that
 * would run the prefill kernel runs as n calls of its decode kernel, one token each, so that
 * ppl and logits see the batch-1 decode kernels' arithmetic (qcc --act-quant=q8: int8
 * activations) on every token. */
static int decode_matmuls(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("QCC_DECODE_MATMULS");
    v = e && *e && strcmp(e, "0") != 0;
  }
  return v;
}

/* One kernel call on rows [0, n) of x [n, cols] and y [n, rows]. */
static void matmul_call(qcc_ctx *c, void *fn, halide_buffer_t *wb, const float *x, float *y,
                        int64_t n, int64_t rows, int64_t cols) {
  halide_buffer_t xb, yb, *bufs[3] = {&xb, wb, &yb};
  halide_dimension_t xd[2], yd[2];
  dim(&xd[0], 0, cols, 1);
  dim(&xd[1], 0, n, cols);
  view(&xb, xd, 2, x, F32);
  dim(&yd[0], 0, rows, 1);
  dim(&yd[1], 0, n, rows);
  view(&yb, yd, 2, y, F32);
  prepare(c, bufs, 2);
  finish(c, "matmul", ((fn3_t)fn)(&xb, wb, &yb), bufs, 3, 2);
}

void qcc_rt_matmul(qcc_ctx *c, void *decode_fn, void *prefill_fn, void *decode2_fn,
                   void *decode4_fn, int64_t weight, const float *x, float *y, int64_t rows,
                   int64_t cols) {
  halide_buffer_t wb;
  halide_dimension_t wd[2];
  const int64_t n = c->B * c->T;
  /* batched: chunks through the decode kernels (decode steps of several sequences; with
   * --act-quant=q8-all every call); each: n calls of decode_fn; else one prefill call. */
  const int batched = n > 1 && decode_fn && decode2_fn && decode4_fn &&
                      (c->T == 1 || info(QCC_INFO_PREFILL_Q8));
  const int each = !batched && decode_fn && (n == 1 || decode_matmuls());
  int64_t wrows, t = 0;
  if (!entry_ok(c, "matmul", batched || each ? decode_fn : prefill_fn, x, y) ||
      !weight_view(c, "matmul", weight, cols, &wb, wd, &wrows))
    return;
  if (wrows != rows) {
    ctx_fail(c, "matmul: weight %s has %lld rows of %lld, not %lld", c->m->weight_names[weight],
             (long long)wrows, (long long)cols, (long long)rows);
    return;
  }
  c->m->streamed[weight] = 1;
  c->prof_weight = weight;
  if (batched) {
    /* Chunks of 4, then 2, then 1 tokens: each chunk reads the weights once. */
    while (t < n && !c->failed) {
      const int64_t k = n - t >= 4 ? 4 : n - t >= 2 ? 2 : 1;
      matmul_call(c, k == 4 ? decode4_fn : k == 2 ? decode2_fn : decode_fn, &wb, x + t * cols,
                  y + t * rows, k, rows, cols);
      t += k;
    }
  } else if (each) {
    for (t = 0; t < n && !c->failed; ++t)
      matmul_call(c, decode_fn, &wb, x + t * cols, y + t * rows, 1, rows, cols);
  } else {
    matmul_call(c, prefill_fn, &wb, x, y, n, rows, cols);
  }
  c->prof_weight = -1;
}

const float *qcc_rt_weight_f32(qcc_ctx *c, int64_t weight) {
  const int64_t *e;
  if (c->failed || !weight_ok(c, "weight", weight))
    return NULL;
  if (c->m->converted[weight])
    return c->m->converted[weight];
  e = weight_entry(weight);
  if (e[3] != GGML_F32 || e[2] < 4 * e[4]) {
    ctx_fail(c, "weight %s (ggml type %lld, %lld elements) is not an f32, f16 or bf16 vector",
             c->m->weight_names[weight], (long long)e[3], (long long)e[4]);
    return NULL;
  }
  return (const float *)c->m->weights[weight];
}

void qcc_rt_rms_norm(qcc_ctx *c, void *fn, const float *x, int64_t gamma, float *y, int64_t d,
                     double eps) {
  typedef int (*rms_t)(halide_buffer_t *, halide_buffer_t *, float, halide_buffer_t *);
  halide_buffer_t xb, gb, yb, *bufs[3] = {&xb, &gb, &yb};
  halide_dimension_t xd[2], gd[1], yd[2];
  const int64_t n = c->B * c->T;
  const float *g;
  if (!entry_ok(c, "rms_norm", fn, x, y) || !(g = qcc_rt_weight_f32(c, gamma)))
    return;
  if (weight_entry(gamma)[4] != d) {
    ctx_fail(c, "rms_norm: weight %s has %lld elements, not %lld", c->m->weight_names[gamma],
             (long long)weight_entry(gamma)[4], (long long)d);
    return;
  }
  dim(&xd[0], 0, d, 1);
  dim(&xd[1], 0, n, d);
  view(&xb, xd, 2, x, F32);
  dim(&gd[0], 0, d, 1);
  view(&gb, gd, 1, g, F32);
  dim(&yd[0], 0, d, 1);
  dim(&yd[1], 0, n, d);
  view(&yb, yd, 2, y, F32);
  prepare(c, bufs, 2);
  finish(c, "rms_norm", ((rms_t)fn)(&xb, &gb, (float)eps, &yb), bufs, 3, 2);
}

/* The 5-D pair view (a, c, h, t, b) qcc_rope takes of [B, T, heads·hd]. */
static void rope_view(halide_dimension_t *d, int interleaved, int64_t B, int64_t T,
                      int64_t width, int64_t hd) {
  if (interleaved) {
    dim(&d[0], 0, 2, 1);
    dim(&d[1], 0, hd / 2, 2);
  } else {
    dim(&d[0], 0, hd / 2, 1);
    dim(&d[1], 0, 2, hd / 2);
  }
  dim(&d[2], 0, width / hd, hd);
  dim(&d[3], 0, T, width);
  dim(&d[4], 0, B, T * width);
}

void qcc_rt_rope(qcc_ctx *c, void *fn, const float *x, float *y, int64_t width, int64_t head_dim,
                 double theta, int64_t interleaved, const float *factors) {
  typedef int (*rope_t)(halide_buffer_t *, int32_t, double, halide_buffer_t *);
  typedef int (*rope_ff_t)(halide_buffer_t *, int32_t, double, halide_buffer_t *,
                           halide_buffer_t *);
  halide_buffer_t xb, fb, yb, *bufs[3] = {&xb, &fb, &yb}, *bufs2[2] = {&xb, &yb};
  halide_dimension_t xd[5], fd[1], yd[5];
  int rc;
  if (!entry_ok(c, "rope", fn, x, y))
    return;
  if (head_dim <= 0 || head_dim % 2 != 0 || width % head_dim != 0) {
    ctx_fail(c, "rope: width %lld is not whole heads of an even head_dim %lld", (long long)width,
             (long long)head_dim);
    return;
  }
  rope_view(xd, interleaved != 0, c->B, c->T, width, head_dim);
  rope_view(yd, interleaved != 0, c->B, c->T, width, head_dim);
  view(&xb, xd, 5, x, F32);
  view(&yb, yd, 5, y, F32);
  if (factors) {
    dim(&fd[0], 0, head_dim / 2, 1);
    view(&fb, fd, 1, factors, F32);
    prepare(c, bufs, 2);
    rc = ((rope_ff_t)fn)(&xb, (int32_t)c->pos, theta, &fb, &yb);
    finish(c, "rope", rc, bufs, 3, 2);
  } else {
    prepare(c, bufs2, 1);
    rc = ((rope_t)fn)(&xb, (int32_t)c->pos, theta, &yb);
    finish(c, "rope", rc, bufs2, 2, 1);
  }
}

void qcc_rt_attention(qcc_ctx *c, void *fn, const float *q, const float *k, const float *v,
                      float *out, int64_t layer, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim) {
  typedef int (*attn_t)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                        halide_buffer_t *, halide_buffer_t *, int32_t, halide_buffer_t *,
                        halide_buffer_t *, halide_buffer_t *);
  halide_buffer_t qb, kb, vb, kc, vc, ob, ko, vo;
  halide_buffer_t *bufs[8] = {&qb, &kb, &vb, &kc, &vc, &ob, &ko, &vo};
  halide_dimension_t qd[5], kd[4], vd[4], kcd[4], vcd[4], od[5], kod[4], vod[4];
  const int64_t B = c->B, T = c->T, pos = c->pos, hd = head_dim, kvh = n_kv_heads;
  const int64_t seq = c->positions, group = n_kv_heads > 0 ? n_heads / n_kv_heads : 0;
  float *kbase, *vbase;
  size_t layer_floats;
  int i;
  if (!entry_ok(c, "attention", fn, q, out) || !entry_ok(c, "attention", fn, k, v))
    return;
  if (layer < 0 || layer >= info(QCC_INFO_N_LAYERS) || kvh != info(QCC_INFO_N_KV_HEADS) ||
      hd != info(QCC_INFO_HEAD_DIM) || group < 1 || group * kvh != n_heads) {
    ctx_fail(c, "attention: layer %lld, %lld heads / %lld kv heads of %lld do not match the "
                "model's KV cache",
             (long long)layer, (long long)n_heads, (long long)kvh, (long long)hd);
    return;
  }
  layer_floats = (size_t)c->batch * (size_t)kvh * (size_t)seq * (size_t)hd;
  kbase = c->k_cache + (size_t)layer * layer_floats;
  vbase = c->v_cache + (size_t)layer * layer_floats;
  /* q and out: (d, g, kh, t, b), query head h = kh·group + g. */
  dim(&qd[0], 0, hd, 1);
  dim(&qd[1], 0, group, hd);
  dim(&qd[2], 0, kvh, group * hd);
  dim(&qd[3], 0, T, n_heads * hd);
  dim(&qd[4], 0, B, T * n_heads * hd);
  memcpy(od, qd, sizeof qd);
  /* k and v: (d, kh, t, b). */
  dim(&kd[0], 0, hd, 1);
  dim(&kd[1], 0, kvh, hd);
  dim(&kd[2], 0, T, kvh * hd);
  dim(&kd[3], 0, B, T * kvh * hd);
  memcpy(vd, kd, sizeof kd);
  /* The layer's cache (d, s, kh, b), and its crop s ∈ [pos, pos+T), b < B. */
  dim(&kcd[0], 0, hd, 1);
  dim(&kcd[1], 0, seq, hd);
  dim(&kcd[2], 0, kvh, seq * hd);
  dim(&kcd[3], 0, c->batch, kvh * seq * hd);
  memcpy(vcd, kcd, sizeof kcd);
  memcpy(kod, kcd, sizeof kcd);
  dim(&kod[1], pos, T, hd);
  dim(&kod[3], 0, B, kvh * seq * hd);
  memcpy(vod, kod, sizeof kod);
  view(&qb, qd, 5, q, F32);
  view(&kb, kd, 4, k, F32);
  view(&vb, vd, 4, v, F32);
  view(&kc, kcd, 4, kbase, F32);
  view(&vc, vcd, 4, vbase, F32);
  view(&ob, od, 5, out, F32);
  view(&ko, kod, 4, kbase + pos * hd, F32);
  view(&vo, vod, 4, vbase + pos * hd, F32);
  prepare(c, bufs, 5);
  i = ((attn_t)fn)(&qb, &kb, &vb, &kc, &vc, (int32_t)pos, &ob, &ko, &vo);
  finish(c, "attention", i, bufs, 8, 5);
}

static void flat(qcc_ctx *c, const char *which, void *fn, const float *a, const float *b,
                 float *y, int64_t width) {
  halide_buffer_t ab, bb, yb, *bufs[3] = {&ab, &bb, &yb};
  halide_dimension_t ad[1], bd[1], yd[1];
  const int64_t n = c->B * c->T * width;
  if (!entry_ok(c, which, fn, a, b) || !entry_ok(c, which, fn, y, y))
    return;
  if (n > INT32_MAX) {
    ctx_fail(c, "%s: %lld values: too many for one call", which, (long long)n);
    return;
  }
  dim(&ad[0], 0, n, 1);
  dim(&bd[0], 0, n, 1);
  dim(&yd[0], 0, n, 1);
  view(&ab, ad, 1, a, F32);
  view(&bb, bd, 1, b, F32);
  view(&yb, yd, 1, y, F32);
  prepare(c, bufs, 2);
  finish(c, which, ((fn3_t)fn)(&ab, &bb, &yb), bufs, 3, 2);
}

void qcc_rt_swiglu(qcc_ctx *c, void *fn, const float *gate, const float *up, float *y,
                   int64_t width) {
  flat(c, "swiglu", fn, gate, up, y, width);
}

void qcc_rt_add(qcc_ctx *c, void *fn, const float *a, const float *b, float *y, int64_t width) {
  flat(c, "add", fn, a, b, y, width);
}
