/*===- stream-read.c - STREAM-like read bandwidth (a benchmark, not a test) -===
 *
 * Sums a buffer much larger than the last-level cache (default 1 GiB of uint64) with every
 * OpenMP thread, static schedule, the same partition as the parallel first-touch initialisation;
 * best (and median) of N timed passes after one untimed pass. This is the read roofline that
 * bench/roofline/decode-roofline.sh and gemv-roofline.sh compare against: a decode step at
 * batch 1 streams every weight once, so no kernel can read faster than this.
 * Same approach as bench/kernels/gemv-bench's in-process read (8 independent accumulators per
 * thread, exact checksum), but with OpenMP, a 1 GiB buffer and its own executable.
 *
 *   usage: stream-read [--mib N] [--reps N] [--threads N] [--json]
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmpDouble(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void usage(void) {
  fprintf(stderr, "usage: stream-read [--mib N (default 1024)] [--reps N (default 10)] "
                  "[--threads N (default: all cores)] [--json]\n");
  exit(1);
}

int main(int argc, char **argv) {
  long mib = 1024;
  int reps = 10, threads = 0, json = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
      mib = atol(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else
      usage();
  }
  if (mib <= 0 || reps <= 0 || threads < 0)
    usage();
  if (threads > 0)
    omp_set_num_threads(threads);
  const size_t bytes = (size_t)mib << 20;
  const size_t n = bytes / sizeof(uint64_t);
  uint64_t *data = NULL;
  if (posix_memalign((void **)&data, (size_t)2 << 20, bytes) != 0) {
    fprintf(stderr, "stream-read: error: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  madvise(data, bytes, MADV_HUGEPAGE); /* fewer TLB misses; a hint, may be ignored */
  int nthreads = 1;
#pragma omp parallel
  {
#pragma omp single
    nthreads = omp_get_num_threads();
  }
  /* First touch by the thread that reads each part later (same static partition). */
#pragma omp parallel for schedule(static)
  for (size_t k = 0; k < n; ++k)
    data[k] = k;

  const uint64_t expect = (uint64_t)n * (uint64_t)(n - 1) / 2; /* mod 2^64 */
  double *times = malloc(sizeof(double) * (size_t)reps);
  int ok = 1;
  for (int rep = -1; rep < reps; ++rep) { /* rep -1: untimed warm-up (page faults, threads) */
    uint64_t total = 0;
    const double t0 = now();
#pragma omp parallel reduction(+ : total)
    {
      const size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
      /* Chunk boundaries as schedule(static) splits [0, n) (contiguous, near-equal parts). */
      const size_t lo = n / nt * t + (t < n % nt ? t : n % nt);
      const size_t hi = lo + n / nt + (t < n % nt);
      uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
      size_t k = lo;
      for (; k + 8 <= hi; k += 8) {
        a0 += data[k];
        a1 += data[k + 1];
        a2 += data[k + 2];
        a3 += data[k + 3];
        a4 += data[k + 4];
        a5 += data[k + 5];
        a6 += data[k + 6];
        a7 += data[k + 7];
      }
      for (; k < hi; ++k)
        a0 += data[k];
      total += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }
    const double dt = now() - t0;
    if (total != expect)
      ok = 0;
    if (rep >= 0)
      times[rep] = dt;
  }
  if (!ok) {
    fprintf(stderr, "stream-read: error: checksum mismatch\n");
    return 1;
  }
  qsort(times, (size_t)reps, sizeof(double), cmpDouble);
  const double best = (double)bytes / times[0] / 1e9;
  const double median = (double)bytes / times[reps / 2] / 1e9;
  const double worst = (double)bytes / times[reps - 1] / 1e9;
  if (json)
    printf("{\"benchmark\": \"stream-read\", \"bytes\": %zu, \"threads\": %d, \"reps\": %d, "
           "\"best_gb_s\": %.3f, \"median_gb_s\": %.3f, \"worst_gb_s\": %.3f}\n",
           bytes, nthreads, reps, best, median, worst);
  else
    printf("stream-read: %ld MiB, %d threads, %d reps: best %.2f GB/s, median %.2f GB/s, "
           "worst %.2f GB/s (GB = 1e9 bytes)\n",
           mib, nthreads, reps, best, median, worst);
  free(times);
  free(data);
  return 0;
}
