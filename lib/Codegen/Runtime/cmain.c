/*===- cmain.c - the C driver of executables for cross targets ----------------===*
 *
 *   ./model logits --tokens FILE.i32 [--batch B] --out FILE.f32 [--json] [--threads N]
 *   ./model bench [--prompt N] [--gen N] [--batch B,B2,...] [--repeat R] [--warmup W]
 *                 [--seed S] [--roofline] [--profile] [--threads T] [--json]
 *
 * The same commands, defaults, text and JSON as the C++ evaluation driver (lib/Driver,
 * docs/Driver.md) for targets whose sysroot has no C++ library (aarch64 here), over the runtime's
 * C API (qcc_rt.h). Without a tokenizer: ppl and generate (and bench --text) need the host
 * driver. JSON objects are printed as llvm::json prints them (keys sorted, two-space indent,
 * doubles with 17 significant digits), so the two drivers' outputs compare directly. The random
 * bench prompt is drawn like the C++ driver's (std::mt19937_64 and libstdc++'s
 * uniform_int_distribution), so a seed gives the same prompt on both.
 *
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "qcc/Codegen/qcc_rt.h"

#include "cjson.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *g_tool = "model";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: error: ", g_tool);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*--- Options ---------------------------------------------------------------------------*/

static long long parse_int(const char *flag, const char *v) {
  char *end;
  long long x;
  errno = 0;
  x = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    die("%s: '%s' is not an integer", flag, v);
  return x;
}

typedef struct {
  const char *cmd;
  int json, threads, roofline, profile;
  const char *tokens, *out;
  long long batch;
  long long prompt, gen, repeat, warmup;
  unsigned long long seed;
  long long batches[32];
  int n_batches;
} options;

static void parse_batches(options *o, const char *v) {
  char buf[512], *tok, *save = NULL;
  snprintf(buf, sizeof buf, "%s", v);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (o->n_batches == 32)
      die("--batch: at most 32 sizes");
    o->batches[o->n_batches++] = parse_int("--batch", tok);
  }
}

static void parse(options *o, int argc, char **argv) {
  int i;
  const int logits = strcmp(o->cmd, "logits") == 0;
  for (i = 2; i < argc; ++i) {
    const char *a = argv[i], *v = NULL, *eq;
    char name[64];
    if (a[0] != '-' || a[1] == '\0')
      die("unexpected argument '%s'", a);
    a += a[1] == '-' ? 2 : 1;
    eq = strchr(a, '=');
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
    if (strcmp(name, "json") == 0) {
      if (eq)
        die("--json takes no value");
      o->json = 1;
      continue;
    }
    if (!logits && strcmp(name, "profile") == 0) {
      if (eq)
        die("--profile takes no value");
      o->profile = 1;
      continue;
    }
    if (!logits && strcmp(name, "roofline") == 0) {
      if (eq)
        die("--roofline takes no value");
      o->roofline = 1;
      continue;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
      printf("usage: %s logits --tokens FILE.i32 [--batch B] --out FILE.f32 [--json] "
             "[--threads N]\n       %s bench [--prompt N] [--gen N] [--batch B,...] "
             "[--repeat R] [--warmup W] [--seed S] [--roofline] [--profile] [--threads N] "
             "[--json]\n",
             g_tool, g_tool);
      exit(0);
    }
    if (eq)
      v = eq + 1;
    else if (i + 1 < argc)
      v = argv[++i];
    else
      die("option '--%s' needs a value", name);
    if (strcmp(name, "threads") == 0) {
      long long t = parse_int("--threads", v);
      if (t < 0 || t > 4096)
        die("--threads must be positive");
      o->threads = (int)t;
    } else if (logits && strcmp(name, "tokens") == 0) {
      o->tokens = v;
    } else if (logits && strcmp(name, "out") == 0) {
      o->out = v;
    } else if (logits && strcmp(name, "batch") == 0) {
      o->batch = parse_int("--batch", v);
    } else if (!logits && strcmp(name, "batch") == 0) {
      parse_batches(o, v);
    } else if (!logits && strcmp(name, "prompt") == 0) {
      o->prompt = parse_int("--prompt", v);
      if (o->prompt <= 0)
        die("--prompt must be positive");
    } else if (!logits && strcmp(name, "gen") == 0) {
      o->gen = parse_int("--gen", v);
      if (o->gen <= 0)
        die("--gen must be positive");
    } else if (!logits && strcmp(name, "repeat") == 0) {
      o->repeat = parse_int("--repeat", v);
    } else if (!logits && strcmp(name, "warmup") == 0) {
      o->warmup = parse_int("--warmup", v);
    } else if (!logits && strcmp(name, "seed") == 0) {
      o->seed = (unsigned long long)parse_int("--seed", v);
    } else if (!logits && strcmp(name, "text") == 0) {
      die("bench --text needs the host driver (this executable was built for %s, whose driver "
          "has no tokenizer)",
          qcc_model_string(1));
    } else {
      die("unknown option '--%s' for '%s'", name, o->cmd);
    }
  }
}

/*--- Model ---------------------------------------------------------------------------*/

static qcc_model *open_model(int threads) {
  char err[1024];
  qcc_model *m = qcc_model_open(threads, err, sizeof err);
  if (!m)
    die("%s", err);
  return m;
}

static qcc_ctx *new_ctx(qcc_model *m) {
  qcc_ctx *c = qcc_ctx_new(m);
  if (!c)
    die("out of memory");
  return c;
}

static void check_ctx(qcc_ctx *c, int rc) {
  if (rc)
    die("%s", qcc_ctx_error(c));
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    die("out of memory (%zu bytes)", n);
  return p;
}

/*--- logits --------------------------------------------------------------------------*/

static int run_logits(const options *o) {
  const int64_t vocab = qcc_model_info[QCC_INFO_VOCAB], max_seq = qcc_model_info[QCC_INFO_MAX_SEQ];
  FILE *f;
  long size;
  int32_t *tokens;
  float *logits;
  int64_t n, T;
  qcc_model *m;
  qcc_ctx *c;
  double t0, seconds;
  char tmp[4096];
  if (!o->tokens)
    die("logits: --tokens FILE.i32 is required");
  if (!o->out)
    die("logits: --out FILE.f32 is required");
  if (!(f = fopen(o->tokens, "rb")))
    die("%s: %s", o->tokens, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    die("%s: %s", o->tokens, strerror(errno));
  if (size % 4 != 0 || size == 0)
    die("%s: size %ld is not a positive multiple of 4", o->tokens, size);
  n = size / 4;
  tokens = (int32_t *)xmalloc((size_t)size);
  if (fread(tokens, 4, (size_t)n, f) != (size_t)n)
    die("%s: read error", o->tokens);
  fclose(f);
  if (o->batch <= 0 || n % o->batch != 0)
    die("%s: %lld tokens do not split into %lld rows", o->tokens, (long long)n, o->batch);
  T = n / o->batch;
  m = open_model(o->threads);
  c = new_ctx(m);
  check_ctx(c, qcc_ctx_reset(c, o->batch, T < max_seq ? T : max_seq));
  logits = (float *)xmalloc((size_t)n * (size_t)vocab * sizeof(float));
  t0 = now_s();
  check_ctx(c, qcc_ctx_forward(c, tokens, o->batch, T, 0, logits));
  seconds = now_s() - t0;
  /* Atomically: a temporary file next to the output, renamed over it once complete. */
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", o->out, (long)getpid());
  if (!(f = fopen(tmp, "wb")))
    die("%s: %s", o->out, strerror(errno));
  if (fwrite(logits, sizeof(float), (size_t)(n * vocab), f) != (size_t)(n * vocab) ||
      fclose(f) != 0) {
    remove(tmp);
    die("%s: write error", o->out);
  }
  if (rename(tmp, o->out) != 0) {
    int e = errno;
    remove(tmp);
    die("%s: %s", o->out, strerror(e));
  }
  if (o->json) {
    jobj j = {0};
    jstr(&j, "model", qcc_model_string(0));
    jstr(&j, "tokens", o->tokens);
    jstr(&j, "out", o->out);
    jint(&j, "batch", o->batch);
    jint(&j, "seq_len", T);
    jint(&j, "vocab_size", vocab);
    jnum(&j, "seconds", seconds);
    jint(&j, "threads", qcc_model_threads(m));
    jprint(&j, 0);
    putchar('\n');
  }
  free(logits);
  free(tokens);
  qcc_ctx_free(c);
  qcc_model_close(m);
  return 0;
}

/*--- bench ---------------------------------------------------------------------------*/

/* std::mt19937_64. */
typedef struct {
  uint64_t mt[312];
  int i;
} mt64;

static void mt64_seed(mt64 *r, uint64_t seed) {
  int i;
  r->mt[0] = seed;
  for (i = 1; i < 312; ++i)
    r->mt[i] = 6364136223846793005ULL * (r->mt[i - 1] ^ (r->mt[i - 1] >> 62)) + (uint64_t)i;
  r->i = 312;
}

static uint64_t mt64_next(mt64 *r) {
  uint64_t x;
  if (r->i >= 312) {
    int k;
    for (k = 0; k < 312; ++k) {
      uint64_t y = (r->mt[k] & 0xFFFFFFFF80000000ULL) | (r->mt[(k + 1) % 312] & 0x7FFFFFFFULL);
      r->mt[k] = r->mt[(k + 156) % 312] ^ (y >> 1) ^ ((y & 1) ? 0xB5026F5AA96619E9ULL : 0);
    }
    r->i = 0;
  }
  x = r->mt[r->i++];
  x ^= (x >> 29) & 0x5555555555555555ULL;
  x ^= (x << 17) & 0x71D67FFFEDA60000ULL;
  x ^= (x << 37) & 0xFFF7EEE000000000ULL;
  x ^= x >> 43;
  return x;
}

__extension__ typedef unsigned __int128 u128;

/* libstdc++'s uniform_int_distribution<int32_t>(0, n-1) over a 64-bit engine (Lemire). */
static int32_t uniform_below(mt64 *r, uint64_t n) {
  u128 product = (u128)mt64_next(r) * n;
  uint64_t low = (uint64_t)product;
  if (low < n) {
    uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = (u128)mt64_next(r) * n;
      low = (uint64_t)product;
    }
  }
  return (int32_t)(product >> 64);
}

typedef struct {
  size_t count;
  double mean, stddev, min, max, p50, p95, p99;
} summary;

static int dcmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* numpy.percentile's default (linear, type 7) of sorted samples. */
static double pct(const double *s, size_t n, double p) {
  double h = (double)(n - 1) * p / 100.0;
  size_t lo = (size_t)floor(h);
  if (lo + 1 >= n)
    return s[n - 1];
  return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

static summary summarize(double *s, size_t n) {
  summary r;
  size_t i;
  double sum = 0, sq = 0;
  memset(&r, 0, sizeof r);
  r.count = n;
  if (n == 0)
    return r;
  qsort(s, n, sizeof *s, dcmp);
  for (i = 0; i < n; ++i)
    sum += s[i];
  r.mean = sum / (double)n;
  for (i = 0; i < n; ++i)
    sq += (s[i] - r.mean) * (s[i] - r.mean);
  r.stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0;
  r.min = s[0];
  r.max = s[n - 1];
  r.p50 = pct(s, n, 50);
  r.p95 = pct(s, n, 95);
  r.p99 = pct(s, n, 99);
  return r;
}

static jobj *latency_json(const summary *s) {
  jobj *j = (jobj *)calloc(1, sizeof *j);
  if (!j)
    die("out of memory");
  jnum(j, "mean", s->mean);
  jnum(j, "p50", s->p50);
  jnum(j, "p95", s->p95);
  jnum(j, "p99", s->p99);
  jnum(j, "min", s->min);
  jnum(j, "max", s->max);
  jnum(j, "stddev", s->stddev);
  jint(j, "samples", (long long)s->count);
  return j;
}

static int32_t argmax(const float *row, int64_t V) {
  int64_t k, best = 0;
  for (k = 1; k < V; ++k)
    if (row[k] > row[best])
      best = k;
  return (int32_t)best;
}

/*--- bench --profile: kernel counts grouped as the C++ driver groups them (lib/Driver) -----*/

/* One row: an op, for matmuls per weight role (the name without "blk.<n>." and ".weight") and
 * format; sums over the samples. */
typedef struct {
  const char *op, *format;
  char weights[64];
  int64_t tensors;
  uint64_t calls, ns, bytes;
} prof_group;

/* The groups of one kind of sample (decode steps or prefill calls). */
typedef struct {
  prof_group g[64];
  int n;
  uint8_t *seen;            /* per weight: counted in a group's tensors */
  qcc_profile_row *rows;    /* take buffer */
  int64_t cap;
} prof_part;

static void prof_init(prof_part *p) {
  const int64_t nw = qcc_model_info[QCC_INFO_N_WEIGHTS];
  memset(p, 0, sizeof *p);
  p->cap = nw + 16;
  p->seen = (uint8_t *)xmalloc((size_t)(nw > 0 ? nw : 1));
  memset(p->seen, 0, (size_t)(nw > 0 ? nw : 1));
  p->rows = (qcc_profile_row *)xmalloc((size_t)p->cap * sizeof(qcc_profile_row));
}

static void role_of(const char *name, char *out, size_t n) {
  const char *s = name, *d;
  size_t len;
  if (strncmp(s, "blk.", 4) == 0) {
    for (d = s + 4; *d >= '0' && *d <= '9'; ++d)
      ;
    if (d > s + 4 && *d == '.')
      s = d + 1;
  }
  len = strlen(s);
  if (len >= 7 && strcmp(s + len - 7, ".weight") == 0)
    len -= 7;
  snprintf(out, n, "%.*s", (int)len, s);
}

/* Takes the model's counts since the last take; adds them to `p` unless it is NULL. */
static void prof_take(qcc_model *m, prof_part *p, prof_part *buf) {
  const int64_t n = qcc_model_profile_take(m, buf->rows, buf->cap);
  int64_t i;
  int k;
  if (n > buf->cap)
    die("kernel profile: %lld rows, more than the %lld expected", (long long)n,
        (long long)buf->cap);
  for (i = 0; p && i < n; ++i) {
    const qcc_profile_row *r = &buf->rows[i];
    char role[64] = "";
    const char *format = r->weight >= 0 ? qcc_model_weight_format(m, r->weight) : "";
    if (r->weight >= 0)
      role_of(qcc_model_weight_name(m, r->weight), role, sizeof role);
    for (k = 0; k < p->n; ++k)
      if (strcmp(p->g[k].op, r->op) == 0 && strcmp(p->g[k].weights, role) == 0 &&
          strcmp(p->g[k].format, format) == 0)
        break;
    if (k == p->n) {
      if (p->n == 64)
        die("kernel profile: more than 64 kinds of kernel call");
      memset(&p->g[k], 0, sizeof p->g[k]);
      p->g[k].op = r->op;
      p->g[k].format = format;
      snprintf(p->g[k].weights, sizeof p->g[k].weights, "%s", role);
      ++p->n;
    }
    if (r->weight >= 0 && !p->seen[r->weight]) {
      p->seen[r->weight] = 1;
      ++p->g[k].tensors;
    }
    p->g[k].calls += r->calls;
    p->g[k].ns += r->ns;
    p->g[k].bytes += r->bytes;
  }
}

/* Most time first, then by op, weights, format (as the C++ driver). */
static int prof_cmp(const void *pa, const void *pb) {
  const prof_group *a = (const prof_group *)pa, *b = (const prof_group *)pb;
  int c;
  if (a->ns != b->ns)
    return a->ns > b->ns ? -1 : 1;
  if ((c = strcmp(a->op, b->op)) != 0)
    return c;
  if ((c = strcmp(a->weights, b->weights)) != 0)
    return c;
  return strcmp(a->format, b->format);
}

/* `samples` samples of `seconds` in all: the JSON object (when j) or the table. */
static void prof_report(prof_part *p, const char *what, size_t samples, double seconds, jobj *j) {
  const double n = (double)samples, ms = seconds * 1e3 / n;
  double kernel_ms = 0;
  int k;
  jobj **rows = j ? (jobj **)xmalloc((size_t)(p->n > 0 ? p->n : 1) * sizeof(jobj *)) : NULL;
  jval *arr;
  qsort(p->g, (size_t)p->n, sizeof p->g[0], prof_cmp);
  for (k = 0; k < p->n; ++k)
    kernel_ms += (double)p->g[k].ns * 1e-6 / n;
  if (!j) {
    printf("profile   %s: %.3f ms per %s (%zu samples), kernels %.3f ms (%.1f%%)\n", what, ms,
           strcmp(what, "decode") == 0 ? "step" : "call", samples, kernel_ms,
           ms > 0 ? 100 * kernel_ms / ms : 0.0);
    printf("  op          weights          format         tensors    calls         ms   share     "
           "GB/s\n");
  }
  for (k = 0; k < p->n; ++k) {
    const prof_group *g = &p->g[k];
    const int mm = strcmp(g->op, "matmul") == 0;
    const double gms = (double)g->ns * 1e-6 / n, gbs = g->ns ? (double)g->bytes / g->ns : 0;
    if (!j) {
      char t[32] = "-", r[32] = "       -";
      if (mm) {
        snprintf(t, sizeof t, "%lld", (long long)g->tensors);
        snprintf(r, sizeof r, "%8.2f", gbs);
      }
      printf("  %-10s  %-15s  %-13s  %7s  %7.1f  %9.3f  %5.1f%%  %s\n", g->op,
             g->weights[0] ? g->weights : "-", g->format[0] ? g->format : "-", t,
             (double)g->calls / n, gms, ms > 0 ? 100 * gms / ms : 0.0, r);
      continue;
    }
    rows[k] = (jobj *)xmalloc(sizeof(jobj));
    memset(rows[k], 0, sizeof(jobj));
    jstr(rows[k], "op", g->op);
    jnum(rows[k], "calls", (double)g->calls / n);
    jnum(rows[k], "ms", gms);
    jnum(rows[k], "fraction", ms > 0 ? gms / ms : 0);
    if (mm) {
      jstr(rows[k], "weights", g->weights);
      jstr(rows[k], "format", g->format);
      jint(rows[k], "tensors", (long long)g->tensors);
      jnum(rows[k], "bytes", (double)g->bytes / n);
      jnum(rows[k], "gb_s", gbs);
    }
  }
  if (!j)
    return;
  jint(j, "samples", (long long)samples);
  jnum(j, "ms", ms);
  jnum(j, "kernel_ms", kernel_ms);
  arr = jadd(j, "rows", J_ARR);
  arr->arr = rows;
  arr->n_arr = p->n;
}

/* Result of the measured rounds at one batch size. */
typedef struct {
  double prefill, decode;  /* total seconds */
  double *ttft, *steps;    /* ms: per round, per step */
  size_t n_steps;
  uint64_t kv_bytes;
  double *reads;           /* with a read model: each step's read pass, ms (bench --roofline) */
  uint64_t read_bytes;
} rounds;

/* `read_model` non-NULL: each decode step is followed by a timed qcc_model_read_streamed (as the
 * C++ driver's bench --roofline). `prof` non-NULL (with `prof_model`): the kernel counts taken
 * after the prefill (into prof[1]) and each decode step (prof[0]), outside the timed spans
 * (bench --profile). */
static void run_rounds(qcc_ctx *c, const int32_t *prompt, int64_t P, int64_t B, const options *o,
                       qcc_model *read_model, qcc_model *prof_model, prof_part *prof, rounds *r) {
  const int64_t V = qcc_model_info[QCC_INFO_VOCAB];
  int32_t *tokens = (int32_t *)xmalloc((size_t)(B * P) * sizeof(int32_t));
  int32_t *next = (int32_t *)xmalloc((size_t)B * sizeof(int32_t));
  float *logits = (float *)xmalloc((size_t)(B * P * V) * sizeof(float));
  int64_t b, i, round;
  memset(r, 0, sizeof *r);
  r->ttft = (double *)xmalloc((size_t)o->repeat * sizeof(double));
  r->steps = (double *)xmalloc((size_t)(o->repeat * o->gen) * sizeof(double));
  if (read_model)
    r->reads = (double *)xmalloc((size_t)(o->repeat * o->gen) * sizeof(double));
  for (b = 0; b < B; ++b)
    memcpy(tokens + b * P, prompt, (size_t)P * sizeof(int32_t));
  for (round = 0; round < o->warmup + o->repeat; ++round) {
    const int measured = round >= o->warmup;
    double t0, pre;
    check_ctx(c, qcc_ctx_reset(c, B, P + o->gen));
    t0 = now_s();
    check_ctx(c, qcc_ctx_forward(c, tokens, B, P, 0, logits));
    pre = now_s() - t0;
    for (b = 0; b < B; ++b)
      next[b] = argmax(logits + (b * P + P - 1) * V, V);
    if (measured) {
      r->prefill += pre;
      r->ttft[round - o->warmup] = (now_s() - t0) * 1e3;
    }
    if (prof)
      prof_take(prof_model, measured ? &prof[1] : NULL, &prof[0]);
    for (i = 0; i < o->gen; ++i) {
      double ts = now_s(), step;
      check_ctx(c, qcc_ctx_forward(c, next, B, 1, P + i, logits));
      for (b = 0; b < B; ++b)
        next[b] = argmax(logits + b * V, V);
      step = now_s() - ts;
      if (prof)
        prof_take(prof_model, measured ? &prof[0] : NULL, &prof[0]);
      if (read_model) {
        double tr = now_s(), read;
        uint64_t bytes = qcc_model_read_streamed(read_model);
        read = now_s() - tr;
        if (bytes == 0)
          die("--roofline: the decode step streamed no weights from host memory");
        if (r->read_bytes != 0 && bytes != r->read_bytes)
          die("--roofline: the decode steps streamed %llu then %llu bytes",
              (unsigned long long)r->read_bytes, (unsigned long long)bytes);
        r->read_bytes = bytes;
        if (measured)
          r->reads[r->n_steps] = read * 1e3;
      }
      if (measured) {
        r->decode += step;
        r->steps[r->n_steps++] = step * 1e3;
      }
    }
  }
  r->kv_bytes = qcc_ctx_kv_bytes(c);
  free(tokens);
  free(next);
  free(logits);
}

static void mib(char *buf, size_t n, uint64_t bytes) {
  snprintf(buf, n, "%.2f MiB", (double)bytes / (1 << 20));
}

static int run_bench(options *o) {
  const int64_t V = qcc_model_info[QCC_INFO_VOCAB], max_seq = qcc_model_info[QCC_INFO_MAX_SEQ];
  const char *name = qcc_model_string(0);
  double start, seconds;
  int32_t *prompt;
  int64_t i, k;
  qcc_model *m;
  qcc_ctx *c;
  rounds lat, batched[32];
  summary ttft, steps, bsteps[32], read_gbs, step_fraction;
  double fraction = 0, roofline_tok_s = 0;
  prof_part prof[2]; /* decode, prefill */
  struct rusage ru;
  uint64_t peak = 0;
  mt64 rng;
  if (o->repeat <= 0 || o->warmup < 0)
    die("--repeat must be positive and --warmup not negative");
  for (k = 0; k < o->n_batches; ++k)
    if (o->batches[k] <= 0)
      die("--batch sizes must be positive");
  m = open_model(o->threads);
  start = now_s();
  c = new_ctx(m);
  if (o->prompt == 0)
    o->prompt = max_seq / 2 < 128 ? (max_seq / 2 > 1 ? max_seq / 2 : 1) : 128;
  if (o->gen == 0)
    o->gen = max_seq / 4 < 64 ? (max_seq / 4 > 1 ? max_seq / 4 : 1) : 64;
  if (o->prompt + o->gen > max_seq)
    die("--prompt %lld + --gen %lld exceeds the model's maximum sequence length %lld", o->prompt,
        o->gen, (long long)max_seq);
  prompt = (int32_t *)xmalloc((size_t)o->prompt * sizeof(int32_t));
  mt64_seed(&rng, o->seed);
  for (i = 0; i < o->prompt; ++i)
    prompt[i] = uniform_below(&rng, (uint64_t)V);
  if (o->roofline && qcc_model_info[QCC_INFO_USES_GPU])
    die("--roofline reads host memory; this executable's kernels read device copies of the "
        "weights (--target=cuda)");
  if (o->profile) {
    prof_init(&prof[0]);
    prof_init(&prof[1]);
    qcc_model_profile(m, 1);
  }
  run_rounds(c, prompt, o->prompt, 1, o, o->roofline ? m : NULL, m, o->profile ? prof : NULL,
             &lat);
  qcc_model_profile(m, 0);
  if (o->roofline) {
    /* Before summarize sorts the steps: the pairs are read in step order. */
    double *gbs = (double *)xmalloc(lat.n_steps * sizeof(double));
    double *fr = (double *)xmalloc(lat.n_steps * sizeof(double)), read = 0, step = 0;
    for (i = 0; i < (int64_t)lat.n_steps; ++i) {
      gbs[i] = (double)lat.read_bytes / (lat.reads[i] * 1e-3) / 1e9;
      fr[i] = lat.reads[i] / lat.steps[i];
      read += lat.reads[i];
      step += lat.steps[i];
    }
    read_gbs = summarize(gbs, lat.n_steps);
    step_fraction = summarize(fr, lat.n_steps);
    fraction = read / step;
    roofline_tok_s = (double)lat.n_steps / (read * 1e-3);
    free(gbs);
    free(fr);
  }
  ttft = summarize(lat.ttft, (size_t)o->repeat);
  steps = summarize(lat.steps, lat.n_steps);
  for (k = 0; k < o->n_batches; ++k) {
    run_rounds(c, prompt, o->prompt, o->batches[k], o, NULL, NULL, NULL, &batched[k]);
    bsteps[k] = summarize(batched[k].steps, batched[k].n_steps);
  }
  seconds = now_s() - start;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    peak = (uint64_t)ru.ru_maxrss * 1024;
  {
    const double prefill_tok_s = (double)(o->prompt * o->repeat) / lat.prefill;
    const double decode_tok_s = (double)lat.n_steps / lat.decode;
    if (o->json) {
      jobj j = {0}, *bj[32];
      jval *arr;
      jstr(&j, "model", name);
      jstr(&j, "name", name);
      jint(&j, "threads", qcc_model_threads(m));
      jint(&j, "prompt_tokens", o->prompt);
      jint(&j, "gen_tokens", o->gen);
      jint(&j, "repeat", o->repeat);
      jint(&j, "warmup", o->warmup);
      jstr(&j, "prompt_source", "random");
      jint(&j, "seed", (long long)o->seed);
      jnum(&j, "prefill_tok_s", prefill_tok_s);
      jnum(&j, "ttft_ms", ttft.mean);
      jnum(&j, "decode_tok_s", decode_tok_s);
      jsub(&j, "decode_latency_ms", latency_json(&steps));
      jint(&j, "weights_bytes", (long long)qcc_model_weights_bytes(m));
      jint(&j, "file_bytes", (long long)qcc_model_file_bytes(m));
      jint(&j, "kv_cache_bytes", (long long)lat.kv_bytes);
      jint(&j, "peak_rss_bytes", (long long)peak);
      for (k = 0; k < o->n_batches; ++k) {
        const rounds *r = &batched[k];
        bj[k] = (jobj *)calloc(1, sizeof(jobj));
        if (!bj[k])
          die("out of memory");
        jint(bj[k], "batch", o->batches[k]);
        jnum(bj[k], "prefill_tok_s", (double)(o->batches[k] * o->prompt * o->repeat) / r->prefill);
        jnum(bj[k], "decode_tok_s", (double)(o->batches[k] * (int64_t)r->n_steps) / r->decode);
        jsub(bj[k], "step_latency_ms", latency_json(&bsteps[k]));
        jint(bj[k], "kv_cache_bytes", (long long)r->kv_bytes);
      }
      arr = jadd(&j, "batched", J_ARR);
      arr->arr = bj;
      arr->n_arr = o->n_batches;
      jadd(&j, "concurrent", J_ARR); /* no --concurrency here: empty, as the C++ driver's */
      if (o->roofline) {
        jobj *rj = (jobj *)calloc(1, sizeof(jobj));
        if (!rj)
          die("out of memory");
        jint(rj, "streamed_bytes", (long long)lat.read_bytes);
        jsub(rj, "read_gb_s", latency_json(&read_gbs));
        jnum(rj, "decode_gb_s", (double)lat.read_bytes * decode_tok_s / 1e9);
        jnum(rj, "fraction", fraction);
        jsub(rj, "step_fraction", latency_json(&step_fraction));
        jnum(rj, "roofline_tok_s", roofline_tok_s);
        jsub(&j, "roofline", rj);
      }
      if (o->profile) {
        jobj *pj = (jobj *)calloc(3, sizeof(jobj));
        if (!pj)
          die("out of memory");
        prof_report(&prof[0], "decode", lat.n_steps, lat.decode, &pj[1]);
        prof_report(&prof[1], "prefill", (size_t)o->repeat, lat.prefill, &pj[2]);
        jsub(&pj[0], "decode", &pj[1]);
        jsub(&pj[0], "prefill", &pj[2]);
        jsub(&j, "profile", &pj[0]);
      }
      jnum(&j, "seconds", seconds);
      jprint(&j, 0);
      putchar('\n');
    } else {
      char a[64], b[64], d[64], e[64];
      printf("bench %s (%s): %d threads; prompt %lld tokens (random, seed %llu), %lld decode "
             "steps; %lld rounds after %lld warmup\n",
             name, name, qcc_model_threads(m), o->prompt, o->seed, o->gen, o->repeat, o->warmup);
      printf("prefill   %10.1f tok/s   ttft %.3f ms\n", prefill_tok_s, ttft.mean);
      printf("decode    %10.1f tok/s   latency ms: mean %.3f  p50 %.3f  p95 %.3f  p99 %.3f\n",
             decode_tok_s, steps.mean, steps.p50, steps.p95, steps.p99);
      if (o->n_batches) {
        printf("batch  prefill tok/s  decode tok/s  step ms p50  step ms p99      KV cache\n");
        for (k = 0; k < o->n_batches; ++k) {
          const rounds *r = &batched[k];
          mib(a, sizeof a, r->kv_bytes);
          printf("%5lld  %13.1f  %12.1f  %11.3f  %11.3f  %12s\n", o->batches[k],
                 (double)(o->batches[k] * o->prompt * o->repeat) / r->prefill,
                 (double)(o->batches[k] * (int64_t)r->n_steps) / r->decode, bsteps[k].p50,
                 bsteps[k].p99, a);
        }
      }
      if (o->roofline)
        printf("roofline  %.3f GB streamed per step: read %.2f GB/s (p50 of %zu passes), decode "
               "%.2f GB/s = %.1f%% of the paired reads (per step p50 %.1f%%, min %.1f%%, max "
               "%.1f%%); %.2f tok/s allowed\n",
               (double)lat.read_bytes / 1e9, read_gbs.p50, read_gbs.count,
               (double)lat.read_bytes * decode_tok_s / 1e9, 100 * fraction,
               100 * step_fraction.p50, 100 * step_fraction.min, 100 * step_fraction.max,
               roofline_tok_s);
      if (o->profile) {
        prof_report(&prof[0], "decode", lat.n_steps, lat.decode, NULL);
        prof_report(&prof[1], "prefill", (size_t)o->repeat, lat.prefill, NULL);
      }
      mib(a, sizeof a, qcc_model_weights_bytes(m));
      mib(b, sizeof b, qcc_model_file_bytes(m));
      mib(d, sizeof d, lat.kv_bytes);
      mib(e, sizeof e, peak);
      printf("memory    weights %s, files %s, KV cache %s, peak RSS %s\n", a, b, d, e);
    }
  }
  qcc_ctx_free(c);
  qcc_model_close(m);
  return 0;
}

int main(int argc, char **argv) {
  options o;
  const char *slash = strrchr(argv[0], '/');
  g_tool = slash ? slash + 1 : argv[0];
  memset(&o, 0, sizeof o);
  o.batch = 4;
  o.repeat = 3;
  o.warmup = 1;
  if (argc < 2)
    die("usage: %s logits|bench [options] (see --help)", g_tool);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    printf("usage: %s logits|bench [options] (see %s CMD --help)\n", g_tool, g_tool);
    return 0;
  }
  o.cmd = argv[1];
  if (strcmp(o.cmd, "ppl") == 0 || strcmp(o.cmd, "generate") == 0)
    die("'%s' needs the host driver (this executable was built for %s, whose driver has no "
        "tokenizer)",
        o.cmd, qcc_model_string(1));
  if (strcmp(o.cmd, "logits") != 0 && strcmp(o.cmd, "bench") != 0)
    die("unknown command '%s' (ppl, logits, generate, bench)", o.cmd);
  parse(&o, argc, argv);
  return strcmp(o.cmd, "logits") == 0 ? run_logits(&o) : run_bench(&o);
}
