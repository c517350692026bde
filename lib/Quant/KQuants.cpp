//===- KQuants.cpp - q2_K, q3_K, q4_K, q5_K, q6_K, q8_K rows ----------------===//
//
// Super-blocks of 256 values: an fp16 super-scale d (and dmin) times small integer sub-block
// scales. Each kernel walks the super-block in ggml's order (halves of 128, then the 2-bit
// planes or nibbles within them) and forms every float exactly as ggml's dequantize_row_*:
// the sub-block scale dl = d · sc (and ml = dmin · m) first, then dl · q (- ml). Integers are
// converted to float only where ggml converts them; no FMA contraction.
//
//===----------------------------------------------------------------------===//
#include "RowKernels.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"

#pragma STDC FP_CONTRACT OFF

namespace qcc::ggml {

void dequantizeRowQ2_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ2_K>(src, i);
    const float d = fp16ToFp32(block.d);
    const float dmin = fp16ToFp32(block.dmin);
    const uint8_t *q = block.qs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      // Four 2-bit planes per 32 bytes; each plane is two sub-blocks of 16 with own scales.
      for (int shift = 0; shift < 8; shift += 2) {
        for (int sub = 0; sub < 2; ++sub) {
          const uint8_t sc = block.scales[is++];
          const float dl = d * float(sc & 0xF);
          const float ml = dmin * float(sc >> 4);
          for (int l = 0; l < 16; ++l)
            *dst++ = dl * float(int8_t((q[l + 16 * sub] >> shift) & 3)) - ml;
        }
      }
    }
  }
}

/// The 16 signed 6-bit scales of a q3_K super-block. Scale j: low 4 bits are the low nibble of
/// scales[j] (j < 8) or the high nibble of scales[j - 8]; high 2 bits are bits 2·(j/4) of
/// scales[8 + j % 4]; stored with a bias of 32. (ggml unpacks the same bits with the
/// kmask1/kmask2 word trick; the integers are identical.)
static void unpackQ3KScales(const uint8_t packed[12], int scales[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = (low | (high << 4)) - 32;
  }
}

void dequantizeRowQ3_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ3_K>(src, i);
    const float dAll = fp16ToFp32(block.d);
    int scales[16];
    unpackQ3KScales(block.scales, scales);
    const uint8_t *q = block.qs;
    const uint8_t *hm = block.hmask;
    uint8_t m = 1; // the hmask bit of the current 32-value plane
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int sub = 0; sub < 2; ++sub) {
          const float dl = dAll * float(scales[is++]);
          for (int l = 16 * sub; l < 16 * sub + 16; ++l) {
            // A clear high bit means the 3-bit value is q - 4.
            const int value = int8_t((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *dst++ = dl * float(value);
          }
        }
      }
    }
  }
}

/// ggml's get_scale_min_k4: 6-bit scale and min j (< 8) of a q4_K / q5_K super-block. The
/// first four sit in the low 6 bits of bytes j and j + 4; the last four put their low 4 bits in
/// the nibbles of byte j + 4 and their top 2 bits in the spare top bits of bytes j - 4 and j.
static void scaleMinK4(int j, const uint8_t *q, uint8_t &scale, uint8_t &min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    min = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void dequantizeRowQ4_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ4_K>(src, i);
    const float d = fp16ToFp32(block.d);
    const float dmin = fp16ToFp32(block.dmin);
    const uint8_t *q = block.qs;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      scaleMinK4(is, block.scales, sc, m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scaleMinK4(is + 1, block.scales, sc, m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l)
        *dst++ = d1 * float(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l)
        *dst++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequantizeRowQ5_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ5_K>(src, i);
    const float d = fp16ToFp32(block.d);
    const float dmin = fp16ToFp32(block.dmin);
    const uint8_t *ql = block.qs;
    const uint8_t *qh = block.qh;
    uint8_t u1 = 1, u2 = 2; // fifth-bit masks of the low- and high-nibble sub-blocks
    for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      scaleMinK4(is, block.scales, sc, m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scaleMinK4(is + 1, block.scales, sc, m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l)
        *dst++ = d1 * float((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        *dst++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void dequantizeRowQ6_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ6_K>(src, i);
    const float d = fp16ToFp32(block.d);
    for (int half = 0; half < 2; ++half, dst += 128) {
      // 128 values: 64 bytes of nibbles, 32 bytes holding four 2-bit high parts, 8 scales.
      const uint8_t *ql = block.ql + 64 * half;
      const uint8_t *qh = block.qh + 32 * half;
      const int8_t *sc = block.scales + 8 * half;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int8_t q1 = int8_t(int8_t((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        const int8_t q2 = int8_t(int8_t((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        const int8_t q3 = int8_t(int8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        const int8_t q4 = int8_t(int8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        // (d · scale) · q, left to right as in ggml.
        dst[l] = d * float(sc[is]) * float(q1);
        dst[l + 32] = d * float(sc[is + 2]) * float(q2);
        dst[l + 64] = d * float(sc[is + 4]) * float(q3);
        dst[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

void dequantizeRowQ8_K(const void *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const auto block = loadBlock<BlockQ8_K>(src, i);
    for (int j = 0; j < kSuperBlockSize; ++j)
      *dst++ = block.d * float(block.qs[j]);
  }
}

} // namespace qcc::ggml
