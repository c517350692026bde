/*===- FakeModel.h - a tiny two-layer model for the runtime tests ------------===*
 *
 * FakeTables.c defines the glue's tables (qcc_rt.h) as *mutable* arrays so that each test can
 * describe another model (a weight file of the wrong size, embedded weights, a CUDA target);
 * FakeGlue.c is the qcc_forward a real glue would be: embed, then per layer
 * rms_norm → q/k/v matmuls → rope (rotate_half with f16 rope factors) → attention → wo → add →
 * rms_norm → gate/up → swiglu → down → add, then rms_norm → output matmul, through the qcc_rt_*
 * entries and the AOT test kernels (lib/Codegen/Kernels, qcc_test_*).
 *
 *===----------------------------------------------------------------------===*/
#ifndef QCC_UNITTESTS_CODEGENRUNTIME_FAKEMODEL_H
#define QCC_UNITTESTS_CODEGENRUNTIME_FAKEMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  FAKE_DIM = 32, FAKE_LAYERS = 2, FAKE_HEADS = 4, FAKE_KV_HEADS = 2, FAKE_HEAD_DIM = 8,
  FAKE_KV_DIM = FAKE_KV_HEADS * FAKE_HEAD_DIM, FAKE_FFN = 24, FAKE_VOCAB = 32, FAKE_MAX_SEQ = 16,
  FAKE_PER_LAYER = 9, FAKE_N_WEIGHTS = 1 + FAKE_PER_LAYER * FAKE_LAYERS + 3, FAKE_N_SLOTS = 12
};
/* Weight indices. */
enum { FAKE_W_EMBD = 0, FAKE_W_OUT_NORM = 1 + FAKE_PER_LAYER * FAKE_LAYERS, FAKE_W_OUTPUT,
       FAKE_W_ROPE_FREQS };
enum { FAKE_L_ATTN_NORM, FAKE_L_WQ, FAKE_L_WK, FAKE_L_WV, FAKE_L_WO, FAKE_L_FFN_NORM,
       FAKE_L_GATE, FAKE_L_UP, FAKE_L_DOWN };
#define FAKE_EPS 1e-5
#define FAKE_THETA 10000.0

/* Writes the weights to `path` (file mode) or into the blob (embedded != 0) and fills the
 * tables for them; the attention norms are f16 (layer 0) and bf16 (layer 1), the rope factors
 * f16. Returns 0 or -1 when the file cannot be written. */
int qcc_fake_setup(const char *path, int embedded);
/* The weight bytes written (offsets as in qcc_weight_table). */
const uint8_t *qcc_fake_bytes(size_t *size);

/* Changes to the tables (which the tests see through qcc_rt.h as const). */
void qcc_fake_set_info(int index, int64_t value);
void qcc_fake_set_file(const char *path, int64_t size);

/* What qcc_forward does: 0 the model; 1 calls qcc_rt_add with a kernel that fails through
 * halide_error; 2 asks qcc_rt_matmul for more rows than the weight has; 3 the model with
 * counting matmul kernels passed as decode, prefill, decode2 and decode4 (all the float test
 * kernel, so the logits equal mode 0's), counted in qcc_fake_matmul_calls[which][rows]
 * (which: 0 decode, 1 prefill, 2 decode2, 3 decode4; rows 1..4, 0 for more). */
extern int qcc_fake_mode;
extern int64_t qcc_fake_matmul_calls[4][5];

#ifdef __cplusplus
}
#endif

#endif
