// gemv-shape-harness: times one AOT qcc_matmul kernel (function `qcc_gemv_under_test`, generated
// and linked by gemv-shape.sh) on random weights at its own shape, batch 1. The weights are
// rotated over enough copies to fill 600 MB, so every call streams them from memory as a decode
// step does (no cache flush in between: nothing else runs). Prints the median and best GB/s
// (weight bytes / call time) over `reps` calls after 2 warm-up calls. GEMV_SHAPE_COPIES=N sets the
// number of copies instead: 1 keeps a small shape's weights in cache (the kernel's compute rate).
//   usage: gemv-shape-harness ROWS COLS ELEMENT_BYTES REPS
// ELEMENT_BYTES: 1 (uint8 rows), 2 (f16/bf16 bits) or 4 (f32); the row length comes from the
// kernel itself (a Halide bounds query). Halide's HL_NUM_THREADS sets the threads.
#include "HalideBuffer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" int qcc_gemv_under_test(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ROWS COLS ELEMENT_BYTES REPS\n", argv[0]);
    return 1;
  }
  const int rows = std::atoi(argv[1]), cols = std::atoi(argv[2]);
  const int eb = std::atoi(argv[3]), reps = std::atoi(argv[4]);
  if (rows <= 0 || cols <= 0 || (eb != 1 && eb != 2 && eb != 4) || reps <= 0) {
    std::fprintf(stderr, "gemv-shape-harness: error: bad arguments\n");
    return 1;
  }
  Halide::Runtime::Buffer<float> x(cols, 1), y(rows, 1);
  for (int k = 0; k < cols; ++k)
    x(k, 0) = float(k % 13) * 0.1f - 0.5f;
  const halide_type_t type = eb == 1   ? halide_type_t(halide_type_uint, 8)
                             : eb == 2 ? halide_type_t(halide_type_uint, 16)
                                       : halide_type_t(halide_type_float, 32);
  long elems = 0;
  {
    // Bounds query: a weight buffer without storage gets the region the kernel reads.
    Halide::Runtime::Buffer<void> query(type, nullptr, 0, 0);
    if (qcc_gemv_under_test(x, query, y) != 0 || query.dim(1).extent() != rows) {
      std::fprintf(stderr, "gemv-shape-harness: error: the kernel's bounds query failed\n");
      return 1;
    }
    elems = query.dim(0).extent();
  }
  const double bytes = double(rows) * double(elems) * eb;
  // Enough copies to fill 600 MB (at most 1024: tiny shapes stay in cache whatever is done).
  int copies = std::min(1024, std::max(2, int(600e6 / bytes) + 1));
  if (const char *env = std::getenv("GEMV_SHAPE_COPIES")) {
    copies = std::atoi(env);
    if (copies < 1 || copies > 1024) {
      std::fprintf(stderr, "gemv-shape-harness: error: GEMV_SHAPE_COPIES must be 1..1024\n");
      return 1;
    }
  }
  std::vector<Halide::Runtime::Buffer<void>> weights;
  uint32_t state = 12345;
  for (int c = 0; c < copies; ++c) {
    Halide::Runtime::Buffer<void> w(type, int(elems), rows);
    uint8_t *p = static_cast<uint8_t *>(w.data());
    const size_t n = size_t(elems) * size_t(rows) * size_t(eb);
    for (size_t k = 0; k < n; ++k) {
      state = state * 1664525u + 1013904223u;
      p[k] = uint8_t(state >> 24);
    }
    if (eb == 2) // finite halves (exponent bits kept small); the conversion cost is the same
      for (size_t k = 0; k < n / 2; ++k)
        reinterpret_cast<uint16_t *>(p)[k] = (reinterpret_cast<uint16_t *>(p)[k] & 0x83ff) | 0x3000;
    if (eb == 4)
      for (size_t k = 0; k < n / 4; ++k)
        reinterpret_cast<float *>(p)[k] = float(k % 7) * 0.01f;
    weights.push_back(std::move(w));
  }
  std::vector<double> times;
  for (int r = -2; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const int err = qcc_gemv_under_test(x, weights[size_t(r + 2) % weights.size()], y);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (err != 0) {
      std::fprintf(stderr, "gemv-shape-harness: error: the kernel returned %d\n", err);
      return 1;
    }
    if (r >= 0)
      times.push_back(dt);
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::printf("%dx%d, %.2f MB weights x %d copies: median %.3f ms %.2f GB/s, best %.2f GB/s\n",
              rows, cols, bytes / 1e6, copies, median * 1e3, bytes / median / 1e9,
              bytes / times[0] / 1e9);
  return 0;
}
