/*===- qcc_rt_internal.h - shared by the C runtime's files --------------------===*
 *
 * The model (qcc_rt_model.c: weight files, weight pointers, f32 copies of small f16/bf16
 * weights, threads, the CUDA check) and the pieces the kernel entries (qcc_rt.c) share with it.
 * Not installed, not part of the glue's ABI (include/qcc/Codegen/qcc_rt.h is).
 *
 *===----------------------------------------------------------------------===*/
#ifndef QCC_LIB_CODEGEN_RUNTIME_QCC_RT_INTERNAL_H
#define QCC_LIB_CODEGEN_RUNTIME_QCC_RT_INTERNAL_H

#include "qcc/Codegen/qcc_rt.h"

#include <stddef.h>
#include <stdint.h>

/* f16/bf16 weights with at most this many elements get an f32 copy at open. */
#define QCC_CONVERT_MAX 65536

/* The ggml type ids of qcc_weight_table's column 3 the runtime distinguishes. */
enum { GGML_F32 = 0, GGML_F16 = 1, GGML_BF16 = 30 };

/* Kernel kinds of the profile, in qcc_profile_take's order (names: qcc_rt_prof_names). */
enum { QCC_PROF_MATMUL, QCC_PROF_ATTENTION, QCC_PROF_RMS_NORM, QCC_PROF_ROPE, QCC_PROF_SWIGLU,
       QCC_PROF_ADD, QCC_PROF_EMBED, QCC_PROF_OPS };

struct qcc_model {
  int threads;                /* Halide's pool size now */
  int64_t n_files, n_weights;
  void **maps;                /* per file: the mapping (NULL for an empty file) */
  size_t *map_sizes;
  const char **file_paths;    /* per file, into qcc_file_paths */
  const char **weight_names;  /* per weight, into qcc_weight_names */
  const char **weight_formats; /* per weight, into qcc_weight_formats */
  const uint8_t **weights;    /* per weight: its stored bytes */
  float **converted;          /* per weight: f32 copy of a small f16/bf16 weight, or NULL */
  /* per weight: 1 once a kernel entry has read it whole (qcc_rt_matmul), for
   * qcc_model_read_streamed; written by the forward calls (one at a time per model) */
  uint8_t *streamed;
  /* the read pass's lists (qcc_model_read_streamed), allocated at open: per weight */
  const uint8_t **read_ptrs;
  uint64_t *read_sizes;
  /* kernel profile (qcc_model_profile): on/off, the calls and nanoseconds per op kind
   * (QCC_PROF_*; matmuls not: they count per weight); written by the kernel entries (qcc_rt.c) */
  int profiling;
  uint64_t prof_calls[QCC_PROF_OPS], prof_ns[QCC_PROF_OPS];
  uint64_t *prof_w_calls, *prof_w_ns; /* per weight */
  uint64_t weights_bytes, file_bytes;
  void *cuda;                 /* dlopen handle of libcuda.so.1 (--target=cuda) */
};

static inline int64_t info(int i) { return qcc_model_info[i]; }

/* Weight w's 5 table values (qcc_rt.h: file, offset, bytes, ggml type, elements). */
static inline const int64_t *weight_entry(int64_t w) { return &qcc_weight_table[5 * w]; }

/* qcc_rt_model.c: the profile's op names, indexed by QCC_PROF_*. */
extern const char *const qcc_rt_prof_names[QCC_PROF_OPS];

/* Halide's error handler (qcc_rt.c): keeps the last message for the failing kernel entry. */
void qcc_rt_halide_error_hook(void *user_context, const char *msg);

#endif /* QCC_LIB_CODEGEN_RUNTIME_QCC_RT_INTERNAL_H */
