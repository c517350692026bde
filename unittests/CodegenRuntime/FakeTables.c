/*===- FakeTables.c - the glue's tables of the runtime tests' tiny model -------===*
 *
 * Defined without const (and without including qcc_rt.h, which declares them const) so that the
 * tests can change them between cases; the runtime only reads them. See FakeModel.h.
 *
 *===----------------------------------------------------------------------===*/
#include "FakeModel.h"

#include <stdio.h>
#include <string.h>

/* QCC_INFO_* order (qcc_rt.h). */
int64_t qcc_model_info[15] = {1, FAKE_DIM, FAKE_LAYERS, FAKE_HEADS, FAKE_KV_HEADS,
                                          FAKE_HEAD_DIM, FAKE_VOCAB, FAKE_MAX_SEQ, FAKE_N_WEIGHTS,
                                          1, FAKE_N_SLOTS, 0, 0, 0, 0};
char qcc_model_strings[] = "fake\0x86-64\0host\0\0";
int64_t qcc_weight_table[5 * FAKE_N_WEIGHTS];
char qcc_weight_names[4096];
char qcc_weight_formats[4096];
char qcc_file_paths[4096];
int64_t qcc_file_sizes[1];
int64_t qcc_slot_widths[FAKE_N_SLOTS] = {FAKE_DIM,    FAKE_DIM,    FAKE_DIM, FAKE_KV_DIM,
                                         FAKE_KV_DIM, FAKE_DIM,    FAKE_KV_DIM, FAKE_DIM,
                                         FAKE_DIM,    FAKE_FFN,    FAKE_FFN, FAKE_FFN};
uint8_t qcc_weight_blob[1 << 16];

static uint8_t g_bytes[1 << 16];
static size_t g_size;
static uint32_t g_rng;
static char *g_formats; /* where the next weight's format goes in qcc_weight_formats */

static float uniform(float scale) {
  g_rng = g_rng * 1664525u + 1013904223u;
  return ((float)(g_rng >> 8) / 16777216.0f - 0.5f) * scale;
}

/* Appends a weight: type 0 (f32, random), 1 (f16) or 30 (bf16) (16-bit ones: values near 1,
 * exactly representable, written as bits). */
static void add_weight(int64_t w, const char *name, char **names, int type, int64_t elems,
                       float scale) {
  const char *format = type == 0 ? "f32" : type == 1 ? "f16" : "bf16";
  int64_t i, bytes = type == 0 ? 4 * elems : 2 * elems;
  strcpy(g_formats, format);
  g_formats += strlen(format) + 1;
  g_size = (g_size + 31) & ~(size_t)31;
  for (i = 0; i < elems; ++i) {
    uint8_t *p = g_bytes + g_size + (size_t)(type == 0 ? 4 : 2) * (size_t)i;
    if (type == 0) {
      float f = uniform(scale);
      memcpy(p, &f, 4);
    } else {
      /* 1 + k/128 (k < 32) and, every 5th, its negative half: f16 0x3c00 + 8k, bf16 0x3f80 + k. */
      uint16_t k = (uint16_t)((i * 7 + w) % 32), h;
      if (type == 1)
        h = (uint16_t)(i % 5 == 4 ? 0xb800 + 8 * k : 0x3c00 + 8 * k);
      else
        h = (uint16_t)(i % 5 == 4 ? 0xbf00 + k : 0x3f80 + k);
      memcpy(p, &h, 2);
    }
  }
  qcc_weight_table[5 * w + 0] = 0;
  qcc_weight_table[5 * w + 1] = (int64_t)g_size;
  qcc_weight_table[5 * w + 2] = bytes;
  qcc_weight_table[5 * w + 3] = type;
  qcc_weight_table[5 * w + 4] = elems;
  strcpy(*names, name);
  *names += strlen(name) + 1;
  g_size += (size_t)bytes;
}

int qcc_fake_setup(const char *path, int embedded) {
  static const char *layer_names[FAKE_PER_LAYER] = {"attn_norm", "attn_q",   "attn_k",
                                                    "attn_v",    "attn_output", "ffn_norm",
                                                    "ffn_gate",  "ffn_up",   "ffn_down"};
  char *names = qcc_weight_names, name[64];
  int64_t l, k;
  g_size = 0;
  g_rng = 12345;
  g_formats = qcc_weight_formats;
  add_weight(FAKE_W_EMBD, "token_embd.weight", &names, 0, FAKE_VOCAB * FAKE_DIM, 2.0f);
  for (l = 0; l < FAKE_LAYERS; ++l)
    for (k = 0; k < FAKE_PER_LAYER; ++k) {
      static const int64_t elems[FAKE_PER_LAYER] = {
          FAKE_DIM,           FAKE_DIM * FAKE_DIM, FAKE_KV_DIM * FAKE_DIM,
          FAKE_KV_DIM * FAKE_DIM, FAKE_DIM * FAKE_DIM, FAKE_DIM,
          FAKE_FFN * FAKE_DIM, FAKE_FFN * FAKE_DIM, FAKE_DIM * FAKE_FFN};
      int type = k == FAKE_L_ATTN_NORM ? (l == 0 ? 1 : 30) : 0;
      snprintf(name, sizeof name, "blk.%d.%s.weight", (int)l, layer_names[k]);
      add_weight(1 + FAKE_PER_LAYER * l + k, name, &names, type, elems[k], 1.0f);
    }
  add_weight(FAKE_W_OUT_NORM, "output_norm.weight", &names, 0, FAKE_DIM, 1.0f);
  add_weight(FAKE_W_OUTPUT, "output.weight", &names, 0, FAKE_VOCAB * FAKE_DIM, 1.0f);
  add_weight(FAKE_W_ROPE_FREQS, "rope_freqs.weight", &names, 1, FAKE_HEAD_DIM / 2, 0);
  qcc_model_info[13] = 0; /* QCC_INFO_WEIGHTS_BYTES */
  for (k = 0; k < FAKE_N_WEIGHTS; ++k)
    qcc_model_info[13] += qcc_weight_table[5 * k + 2];
  qcc_model_info[11] = embedded != 0; /* QCC_INFO_EMBEDDED */
  qcc_model_info[9] = embedded ? 0 : 1; /* QCC_INFO_N_FILES */
  if (embedded) {
    memcpy(qcc_weight_blob, g_bytes, g_size);
    return 0;
  }
  {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(g_bytes, 1, g_size, f) != g_size || fclose(f) != 0)
      return -1;
  }
  snprintf(qcc_file_paths, sizeof qcc_file_paths, "%s", path);
  qcc_file_sizes[0] = (int64_t)g_size;
  return 0;
}

const uint8_t *qcc_fake_bytes(size_t *size) {
  *size = g_size;
  return g_bytes;
}

void qcc_fake_set_info(int index, int64_t value) { qcc_model_info[index] = value; }

void qcc_fake_set_file(const char *path, int64_t size) {
  snprintf(qcc_file_paths, sizeof qcc_file_paths, "%s", path);
  qcc_file_sizes[0] = size;
}
