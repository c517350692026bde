/*===- qcc_rt_model.c - the model of the executables' C runtime ---------------===*
 *
 * qcc_model_* of include/qcc/Codegen/qcc_rt.h: the weight files mapped read-only (each checked
 * against the size the executable was built for) or the embedded blob; one pointer per weight;
 * f32 copies of the small f16/bf16 weights (≤ QCC_CONVERT_MAX elements: norm gammas, rope
 * factors) made once at open; Halide's thread pool size; for --target=cuda, a CUDA driver and
 * device checked; the read pass over the streamed weights (bench --roofline); the kernel
 * profile's counts (bench --profile). The kernel entries are in qcc_rt.c. C99 plus POSIX (mmap,
 * dlopen).
 *
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "qcc_rt_internal.h"

#include "HalideRuntime.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*--- Helpers ---------------------------------------------------------------------------*/

static void fmt_to(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  if (!buf || size == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}

/* Pointers to `count` NUL-terminated strings stored one after the other. */
static const char **split_strings(const char *s, int64_t count) {
  const char **out = (const char **)calloc((size_t)(count > 0 ? count : 1), sizeof(char *));
  int64_t i;
  if (!out)
    return NULL;
  for (i = 0; i < count; ++i) {
    out[i] = s;
    s += strlen(s) + 1;
  }
  return out;
}

/*--- f16 / bf16 ------------------------------------------------------------------------*/

static float bits_to_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0) {
    /* zero or subnormal: man · 2^-24, exact in f32 */
    float v = (float)man * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31)
    return bits_to_f32(sign | 0x7f800000u | (man << 13));
  return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

static float bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }

/*--- Model -----------------------------------------------------------------------------*/

static int set_threads(qcc_model *m, int threads) {
  if (threads < 0)
    threads = 0;
  /* halide_set_num_threads returns the previous count: the second call reads back the count
   * the first one settled on (0 = the default: HL_NUM_THREADS or the number of cores). */
  halide_set_num_threads(threads);
  m->threads = halide_set_num_threads(threads);
  return m->threads;
}

int qcc_model_set_threads(qcc_model *m, int threads) { return set_threads(m, threads); }
int qcc_model_threads(const qcc_model *m) { return m->threads; }
uint64_t qcc_model_weights_bytes(const qcc_model *m) { return m->weights_bytes; }
uint64_t qcc_model_file_bytes(const qcc_model *m) { return m->file_bytes; }

/*--- Read pass over the streamed weights ------------------------------------------------*/

/* One thread's share of the read pass: bytes [begin, end) of the streamed weights laid end to
 * end (regions: n pointers and sizes). */
typedef struct {
  const uint8_t *const *ptrs;
  const uint64_t *sizes;
  int64_t n;
  uint64_t begin, end, sum;
} read_share;

/* Sums [p, p + bytes) as 64-bit words with 8 independent accumulators (the loads, not the adds,
 * limit it; clang vectorises it), the unaligned head and the tail bytewise. */
static uint64_t sum_bytes(const uint8_t *p, uint64_t bytes) {
  uint64_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, total = 0, i, words;
  const uint64_t *w;
  while (bytes > 0 && ((uintptr_t)p & 7u) != 0) {
    total += *p++;
    --bytes;
  }
  w = (const uint64_t *)(const void *)p;
  words = bytes / 8;
  for (i = 0; i + 8 <= words; i += 8) {
    s[0] += w[i];
    s[1] += w[i + 1];
    s[2] += w[i + 2];
    s[3] += w[i + 3];
    s[4] += w[i + 4];
    s[5] += w[i + 5];
    s[6] += w[i + 6];
    s[7] += w[i + 7];
  }
  for (; i < words; ++i)
    total += w[i];
  for (i = words * 8; i < bytes; ++i)
    total += p[i];
  return total + s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

/* Halide task `share` of the read pass: its bytes of the laid-out weights. */
static int read_share_run(void *user_context, int share, uint8_t *closure) {
  read_share *r = (read_share *)closure + share;
  uint64_t at = 0; /* offset of region k in the laid-out bytes */
  int64_t k;
  (void)user_context;
  for (k = 0; k < r->n && at < r->end; at += r->sizes[k], ++k) {
    uint64_t lo = r->begin > at ? r->begin - at : 0;
    uint64_t hi = r->end - at < r->sizes[k] ? r->end - at : r->sizes[k];
    if (lo < hi)
      r->sum += sum_bytes(r->ptrs[k] + lo, hi - lo);
  }
  return 0;
}

/* Keeps the sums observable, so that the reads are not optimised away. */
volatile uint64_t qcc_rt_read_checksum;

/* Tasks of the read pass at most (more threads than this read in this many shares). */
#define QCC_READ_SHARES_MAX 256

uint64_t qcc_model_read_streamed(qcc_model *m) {
  const uint8_t **ptrs = m->read_ptrs;
  uint64_t *sizes = m->read_sizes, total = 0, sum = 0;
  read_share shares[QCC_READ_SHARES_MAX];
  int64_t n = 0, w;
  int t, threads = m->threads > 0 ? m->threads : 1;
  if (info(QCC_INFO_USES_GPU))
    return 0;
  if (threads > QCC_READ_SHARES_MAX)
    threads = QCC_READ_SHARES_MAX;
  for (w = 0; w < m->n_weights; ++w)
    if (m->streamed[w] && weight_entry(w)[2] > 0) {
      ptrs[n] = m->weights[w];
      sizes[n] = (uint64_t)weight_entry(w)[2];
      total += sizes[n++];
    }
  /* Contiguous shares, split at 64-byte multiples of the laid-out bytes, one task each on
   * Halide's thread pool: the threads the kernels run on. */
  for (t = 0; t < threads; ++t) {
    shares[t].ptrs = ptrs;
    shares[t].sizes = sizes;
    shares[t].n = n;
    shares[t].begin = t == 0 ? 0 : shares[t - 1].end;
    shares[t].end = t + 1 == threads ? total
                                     : (total / (uint64_t)threads * (uint64_t)(t + 1)) & ~(uint64_t)63;
    shares[t].sum = 0;
  }
  halide_do_par_for(NULL, read_share_run, 0, threads, (uint8_t *)shares);
  for (t = 0; t < threads; ++t)
    sum += shares[t].sum;
  qcc_rt_read_checksum = sum;
  return total;
}

/*--- Kernel profile --------------------------------------------------------------------*/

const char *const qcc_rt_prof_names[QCC_PROF_OPS] = {"matmul", "attention", "rms_norm", "rope",
                                                     "swiglu", "add",       "embed"};

static void profile_clear(qcc_model *m) {
  memset(m->prof_calls, 0, sizeof m->prof_calls);
  memset(m->prof_ns, 0, sizeof m->prof_ns);
  memset(m->prof_w_calls, 0, (size_t)(m->n_weights > 0 ? m->n_weights : 1) * sizeof(uint64_t));
  memset(m->prof_w_ns, 0, (size_t)(m->n_weights > 0 ? m->n_weights : 1) * sizeof(uint64_t));
}

void qcc_model_profile(qcc_model *m, int on) {
  m->profiling = on != 0;
  if (m->profiling)
    profile_clear(m);
}

int64_t qcc_model_profile_take(qcc_model *m, qcc_profile_row *rows, int64_t cap) {
  int64_t n = 0, w;
  int k;
  /* The ops but matmul (counted per weight, below; its op counts stay 0). */
  for (k = 0; k < QCC_PROF_OPS; ++k)
    if (m->prof_calls[k] > 0) {
      if (n < cap) {
        rows[n].op = qcc_rt_prof_names[k];
        rows[n].weight = -1;
        rows[n].calls = m->prof_calls[k];
        rows[n].ns = m->prof_ns[k];
        rows[n].bytes = 0;
      }
      ++n;
    }
  for (w = 0; w < m->n_weights; ++w)
    if (m->prof_w_calls[w] > 0) {
      if (n < cap) {
        rows[n].op = qcc_rt_prof_names[QCC_PROF_MATMUL];
        rows[n].weight = w;
        rows[n].calls = m->prof_w_calls[w];
        rows[n].ns = m->prof_w_ns[w];
        rows[n].bytes = m->prof_w_calls[w] * (uint64_t)weight_entry(w)[2];
      }
      ++n;
    }
  profile_clear(m);
  return n;
}

const char *qcc_model_weight_name(const qcc_model *m, int64_t w) {
  return w >= 0 && w < m->n_weights ? m->weight_names[w] : "";
}

const char *qcc_model_weight_format(const qcc_model *m, int64_t w) {
  return w >= 0 && w < m->n_weights ? m->weight_formats[w] : "";
}

/* --target=cuda: a CUDA driver and at least one device, checked through the driver API the
 * Halide runtime itself loads (libcuda.so.1). */
static int check_cuda(qcc_model *m, char *err, size_t err_size) {
  typedef int (*cu_init_t)(unsigned);
  typedef int (*cu_count_t)(int *);
  const char *pre = "this executable was built for --target=cuda and needs an NVIDIA GPU";
  cu_init_t cu_init;
  cu_count_t cu_count;
  int rc, count = 0;
  m->cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!m->cuda) {
    fmt_to(err, err_size, "%s: libcuda.so.1 not found", pre);
    return 1;
  }
  cu_init = (cu_init_t)dlsym(m->cuda, "cuInit");
  cu_count = (cu_count_t)dlsym(m->cuda, "cuDeviceGetCount");
  if (!cu_init || !cu_count) {
    fmt_to(err, err_size, "%s: libcuda.so.1 lacks cuInit/cuDeviceGetCount", pre);
    return 1;
  }
  if ((rc = cu_init(0)) != 0) {
    fmt_to(err, err_size, "%s: cuInit failed (CUDA error %d)", pre, rc);
    return 1;
  }
  if ((rc = cu_count(&count)) != 0 || count <= 0) {
    fmt_to(err, err_size, "%s: no CUDA device found", pre);
    return 1;
  }
  return 0;
}

static int map_files(qcc_model *m, char *err, size_t err_size) {
  int64_t f;
  for (f = 0; f < m->n_files; ++f) {
    const char *path = m->file_paths[f];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      fmt_to(err, err_size, "model weights %s: %s", path, strerror(errno));
      return 1;
    }
    if (fstat(fd, &st) != 0) {
      fmt_to(err, err_size, "model weights %s: %s", path, strerror(errno));
      close(fd);
      return 1;
    }
    if ((int64_t)st.st_size != qcc_file_sizes[f]) {
      fmt_to(err, err_size,
             "model weights %s: size %lld differs from the %lld bytes this executable was "
             "built for",
             path, (long long)st.st_size, (long long)qcc_file_sizes[f]);
      close(fd);
      return 1;
    }
    m->map_sizes[f] = (size_t)st.st_size;
    if (st.st_size > 0) {
      void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        fmt_to(err, err_size, "model weights %s: cannot map: %s", path, strerror(errno));
        close(fd);
        return 1;
      }
      m->maps[f] = p;
    }
    close(fd);
    m->file_bytes += (uint64_t)st.st_size;
  }
  return 0;
}

static int resolve_weights(qcc_model *m, char *err, size_t err_size) {
  const int embedded = info(QCC_INFO_EMBEDDED) != 0;
  int64_t w;
  if (embedded && !qcc_weight_blob) {
    fmt_to(err, err_size, "this executable was built with embedded weights but has none");
    return 1;
  }
  for (w = 0; w < m->n_weights; ++w) {
    const int64_t *e = weight_entry(w);
    int64_t file = e[0], offset = e[1], bytes = e[2], type = e[3], elems = e[4];
    if (offset < 0 || bytes < 0 || elems < 0) {
      fmt_to(err, err_size, "weight %s: bad table entry", m->weight_names[w]);
      return 1;
    }
    if (embedded) {
      m->weights[w] = qcc_weight_blob + offset;
    } else {
      if (file < 0 || file >= m->n_files || (uint64_t)offset + (uint64_t)bytes > m->map_sizes[file]) {
        fmt_to(err, err_size, "weight %s: bytes %lld..%lld are outside its weight file",
               m->weight_names[w], (long long)offset, (long long)(offset + bytes));
        return 1;
      }
      m->weights[w] = (const uint8_t *)m->maps[file] + offset;
    }
    if ((type == GGML_F16 || type == GGML_BF16) && elems <= QCC_CONVERT_MAX) {
      const uint8_t *src = m->weights[w];
      float *dst;
      int64_t i;
      if (bytes < 2 * elems) {
        fmt_to(err, err_size, "weight %s: %lld bytes for %lld 16-bit values", m->weight_names[w],
               (long long)bytes, (long long)elems);
        return 1;
      }
      dst = (float *)malloc((size_t)(elems > 0 ? elems : 1) * sizeof(float));
      if (!dst) {
        fmt_to(err, err_size, "out of memory converting weight %s", m->weight_names[w]);
        return 1;
      }
      for (i = 0; i < elems; ++i) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2); /* little-endian hosts only, as GGUF */
        dst[i] = type == GGML_F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      m->converted[w] = dst;
    }
    m->weights_bytes += (uint64_t)bytes;
  }
  return 0;
}

qcc_model *qcc_model_open(int threads, char *err, size_t err_size) {
  qcc_model *m;
  struct stat st;
  int64_t nf, nw;
  fmt_to(err, err_size, "%s", "");
  if (info(QCC_INFO_ABI_VERSION) != QCC_ABI_VERSION) {
    fmt_to(err, err_size, "glue ABI version %lld, runtime ABI version %d: rebuild with one qcc",
           (long long)info(QCC_INFO_ABI_VERSION), QCC_ABI_VERSION);
    return NULL;
  }
  nf = info(QCC_INFO_EMBEDDED) ? 0 : info(QCC_INFO_N_FILES);
  nw = info(QCC_INFO_N_WEIGHTS);
  m = (qcc_model *)calloc(1, sizeof *m);
  if (!m) {
    fmt_to(err, err_size, "out of memory");
    return NULL;
  }
  m->n_files = nf;
  m->n_weights = nw;
  m->maps = (void **)calloc((size_t)(nf > 0 ? nf : 1), sizeof(void *));
  m->map_sizes = (size_t *)calloc((size_t)(nf > 0 ? nf : 1), sizeof(size_t));
  m->file_paths = split_strings(qcc_file_paths, nf);
  m->weight_names = split_strings(qcc_weight_names, nw);
  m->weight_formats = split_strings(qcc_weight_formats, nw);
  m->weights = (const uint8_t **)calloc((size_t)(nw > 0 ? nw : 1), sizeof(uint8_t *));
  m->converted = (float **)calloc((size_t)(nw > 0 ? nw : 1), sizeof(float *));
  m->streamed = (uint8_t *)calloc((size_t)(nw > 0 ? nw : 1), 1);
  m->read_ptrs = (const uint8_t **)calloc((size_t)(nw > 0 ? nw : 1), sizeof(uint8_t *));
  m->read_sizes = (uint64_t *)calloc((size_t)(nw > 0 ? nw : 1), sizeof(uint64_t));
  m->prof_w_calls = (uint64_t *)calloc((size_t)(nw > 0 ? nw : 1), sizeof(uint64_t));
  m->prof_w_ns = (uint64_t *)calloc((size_t)(nw > 0 ? nw : 1), sizeof(uint64_t));
  if (!m->maps || !m->map_sizes || !m->file_paths || !m->weight_names || !m->weight_formats ||
      !m->weights ||
      !m->converted || !m->streamed || !m->read_ptrs || !m->read_sizes || !m->prof_w_calls ||
      !m->prof_w_ns) {
    fmt_to(err, err_size, "out of memory");
    qcc_model_close(m);
    return NULL;
  }
  halide_set_error_handler(qcc_rt_halide_error_hook);
  if (info(QCC_INFO_USES_GPU) && check_cuda(m, err, err_size)) {
    qcc_model_close(m);
    return NULL;
  }
  if (map_files(m, err, err_size) || resolve_weights(m, err, err_size)) {
    qcc_model_close(m);
    return NULL;
  }
  if (stat("/proc/self/exe", &st) == 0)
    m->file_bytes += (uint64_t)st.st_size;
  set_threads(m, threads);
  return m;
}

void qcc_model_close(qcc_model *m) {
  int64_t i;
  if (!m)
    return;
  for (i = 0; m->maps && i < m->n_files; ++i)
    if (m->maps[i])
      munmap(m->maps[i], m->map_sizes[i]);
  for (i = 0; m->converted && i < m->n_weights; ++i)
    free(m->converted[i]);
  /* The CUDA driver stays loaded (dlclose of a driver the Halide runtime may use is unsafe). */
  free(m->maps);
  free(m->map_sizes);
  free((void *)m->file_paths);
  free((void *)m->weight_names);
  free((void *)m->weight_formats);
  free((void *)m->weights);
  free(m->converted);
  free(m->streamed);
  free((void *)m->read_ptrs);
  free(m->read_sizes);
  free(m->prof_w_calls);
  free(m->prof_w_ns);
  free(m);
}
