//===- GGMLBlocks.h - ggml's block layouts, byte for byte -------------------===//
//
// The structs mirror ggml-common.h (llama.cpp c392e50): same fields, same order, same size, no
// padding. Half-precision fields hold the fp16 bit pattern (ggml_fp16_t); decode them with
// fp16ToFp32. Multi-byte fields are little-endian, as in GGUF; the library assumes a
// little-endian host (checked at compile time where blocks are decoded).
//
// Blocks inside a row are packed back to back, so they are often misaligned (an 18-byte q4_0
// block): copy a block out with memcpy rather than dereferencing a cast pointer.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANT_GGMLBLOCKS_H
#define QCC_QUANT_GGMLBLOCKS_H

#include <cstddef>
#include <cstdint>

namespace qcc::ggml {

/// Values per block of the "legacy" formats (QK4_0 ... QK8_1) and of iq4_nl (QK4_NL).
constexpr int64_t kBlockSize = 32;
/// Values per super-block of the k-quants (QK_K).
constexpr int64_t kSuperBlockSize = 256;
/// Bytes of packed 6-bit scales and mins in q4_K / q5_K super-blocks (K_SCALE_SIZE).
constexpr int64_t kKScaleBytes = 12;

/// x = d · (q - 8), q a 4-bit unsigned value. qs[j] holds value j (low nibble) and j + 16 (high).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kBlockSize / 2];
};

/// x = d · q + m, q a 4-bit unsigned value, nibbles as q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kBlockSize / 2];
};

/// x = d · (q - 16), q 5 bits: the low 4 as q4_0, bit 4 of value j is bit j of qh (LE uint32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kBlockSize / 2];
};

/// x = d · q + m, q 5 bits as in q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kBlockSize / 2];
};

/// x = d · q, q a signed byte.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kBlockSize];
};

/// As q8_0, with s = d · Σq (an activation format: ggml has no dequantizer for it).
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kBlockSize];
};

/// 16 sub-blocks of 16: x = d · sc · q - dmin · m, with sc (low nibble) and m (high nibble) in
/// scales[i], q 2 bits. Byte qs[32·h + l] (l < 32) holds value 128·h + 32·k + l in bits
/// 2k..2k+1.
struct BlockQ2_K {
  uint8_t scales[kSuperBlockSize / 16];
  uint8_t qs[kSuperBlockSize / 4];
  uint16_t d;
  uint16_t dmin;
};

/// 16 sub-blocks of 16: x = d · (sc - 32) · (q - 4·!hbit), q's low 2 bits packed as q2_K,
/// the high bit of value 32·k + l in bit k of hmask[l]. The 6-bit scales: low 4 bits in the
/// nibbles of scales[0..7], high 2 bits in scales[8..11].
struct BlockQ3_K {
  uint8_t hmask[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 4];
  uint8_t scales[12];
  uint16_t d;
};

/// 8 sub-blocks of 32: x = d · sc · q - dmin · m, 6-bit sc and m packed as get_scale_min_k4
/// reads them, q 4 bits: qs[32·p + l] holds value 64·p + l (low) and 64·p + 32 + l (high).
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kSuperBlockSize / 2];
};

/// As q4_K with a fifth bit: bit 2p (low-nibble value) / 2p+1 (high) of qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 2];
};

/// 16 sub-blocks of 16: x = d · scales[i] · (q - 32), q 6 bits: low 4 in ql, high 2 in qh.
struct BlockQ6_K {
  uint8_t ql[kSuperBlockSize / 2];
  uint8_t qh[kSuperBlockSize / 4];
  int8_t scales[kSuperBlockSize / 16];
  uint16_t d;
};

/// The k-quant activation format: x = d · q with an fp32 d, and per-16 sums of q.
struct BlockQ8_K {
  float d;
  int8_t qs[kSuperBlockSize];
  int16_t bsums[kSuperBlockSize / 16];
};

/// x = d · kIQ4NLValues[q], q a 4-bit index, nibbles as q4_0.
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kBlockSize / 2];
};

/// The non-linear 4-bit grid of iq4_nl (ggml's kvalues_iq4nl).
constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};

// ggml's static_asserts, restated: the sizes are the on-disk format.
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20, "legacy 4-bit blocks");
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24, "legacy 5-bit blocks");
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36, "legacy 8-bit blocks");
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110, "q2_K / q3_K");
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176, "q4_K / q5_K");
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292, "q6_K / q8_K");
static_assert(sizeof(BlockIQ4_NL) == 18, "iq4_nl");
static_assert(offsetof(BlockQ2_K, d) == 80 && offsetof(BlockQ3_K, d) == 108, "k-quant d");
static_assert(offsetof(BlockQ6_K, d) == 208 && offsetof(BlockQ8_K, bsums) == 260, "k-quant d");

} // namespace qcc::ggml

#endif // QCC_QUANT_GGMLBLOCKS_H
