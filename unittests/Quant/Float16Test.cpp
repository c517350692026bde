//===- Float16Test.cpp - fp16 / bf16 conversions on special values ----------===//
#include "qcc/Quant/Float16.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

using namespace qcc;

namespace {

uint32_t bitsOf(float f) { return llvm::bit_cast<uint32_t>(f); }
float floatOf(uint32_t b) { return llvm::bit_cast<float>(b); }

TEST(Fp16, SignedZeros) {
  EXPECT_EQ(fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(bitsOf(fp16ToFp32(0x0000)), 0x00000000u);
  EXPECT_EQ(bitsOf(fp16ToFp32(0x8000)), 0x80000000u);
}

TEST(Fp16, NormalsAndLimits) {
  EXPECT_EQ(fp32ToFp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32ToFp16(-2.0f), 0xC000);
  EXPECT_EQ(fp32ToFp16(65504.0f), 0x7BFF);      // largest finite half
  EXPECT_EQ(fp32ToFp16(0x1.0p-14f), 0x0400);    // smallest normal
  EXPECT_EQ(fp16ToFp32(0x7BFF), 65504.0f);
  EXPECT_EQ(fp16ToFp32(0x0400), 0x1.0p-14f);
  EXPECT_EQ(fp16ToFp32(0x3555), 0x1.554p-2f);
}

TEST(Fp16, Subnormals) {
  EXPECT_EQ(fp16ToFp32(0x0001), 0x1.0p-24f);
  EXPECT_EQ(fp16ToFp32(0x03FF), 1023 * 0x1.0p-24f);
  EXPECT_EQ(fp16ToFp32(0x8001), -0x1.0p-24f);
  EXPECT_EQ(fp32ToFp16(0x1.0p-24f), 0x0001);
  EXPECT_EQ(fp32ToFp16(1023 * 0x1.0p-24f), 0x03FF);
  EXPECT_EQ(fp32ToFp16(-5 * 0x1.0p-24f), 0x8005);
  // Below half the smallest subnormal everything is zero, fp32 subnormals included.
  EXPECT_EQ(fp32ToFp16(0x1.0p-26f), 0x0000);
  EXPECT_EQ(fp32ToFp16(floatOf(0x00000001)), 0x0000);
  EXPECT_EQ(fp32ToFp16(-floatOf(0x007FFFFF)), 0x8000);
  // Just above half of 2^-24 rounds up; the largest subnormal's upper tie rounds to 0x0400.
  EXPECT_EQ(fp32ToFp16(std::nextafter(0x1.0p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(fp32ToFp16(1023.5f * 0x1.0p-24f), 0x0400);
}

TEST(Fp16, RoundingTies) {
  // Halfway between 1 and 1 + 2^-10: ties go to the even mantissa.
  EXPECT_EQ(fp32ToFp16(1.0f + 0x1.0p-11f), 0x3C00);
  EXPECT_EQ(fp32ToFp16(1.0f + 3 * 0x1.0p-11f), 0x3C02);
  EXPECT_EQ(fp32ToFp16(std::nextafter(1.0f + 0x1.0p-11f, 2.0f)), 0x3C01);
  EXPECT_EQ(fp32ToFp16(std::nextafter(1.0f + 3 * 0x1.0p-11f, 1.0f)), 0x3C01);
  // Subnormal ties: 2^-25 -> 0, 3·2^-25 -> 2·2^-24, 5·2^-25 -> 2·2^-24.
  EXPECT_EQ(fp32ToFp16(0x1.0p-25f), 0x0000);
  EXPECT_EQ(fp32ToFp16(3 * 0x1.0p-25f), 0x0002);
  EXPECT_EQ(fp32ToFp16(5 * 0x1.0p-25f), 0x0002);
  // A tie that carries into the exponent: 2047/1024 + 2^-11 -> 2.
  EXPECT_EQ(fp32ToFp16(2.0f - 0x1.0p-11f), 0x4000);
}

TEST(Fp16, InfinityAndOverflow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(fp32ToFp16(inf), 0x7C00);
  EXPECT_EQ(fp32ToFp16(-inf), 0xFC00);
  EXPECT_EQ(fp32ToFp16(65519.0f), 0x7BFF);  // below the tie: stays finite
  EXPECT_EQ(fp32ToFp16(65520.0f), 0x7C00);  // the tie rounds to even, which is inf
  EXPECT_EQ(fp32ToFp16(-1.0e10f), 0xFC00);
  EXPECT_EQ(fp32ToFp16(std::numeric_limits<float>::max()), 0x7C00);
  EXPECT_EQ(fp16ToFp32(0x7C00), inf);
  EXPECT_EQ(fp16ToFp32(0xFC00), -inf);
}

TEST(Fp16, NaN) {
  EXPECT_EQ(fp32ToFp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
  EXPECT_EQ(fp32ToFp16(floatOf(0xFFC00000)), 0xFE00);
  EXPECT_EQ(fp32ToFp16(floatOf(0x7F800001)), 0x7E00); // signalling, tiny payload
  EXPECT_EQ(fp32ToFp16(floatOf(0x7FFFFFFF)), 0x7E00);
  EXPECT_TRUE(std::isnan(fp16ToFp32(0x7E00)));
  EXPECT_EQ(bitsOf(fp16ToFp32(0x7E00)), 0x7FC00000u);
  EXPECT_EQ(bitsOf(fp16ToFp32(0xFE00)), 0xFFC00000u);
  // A signalling half NaN comes back quiet, payload kept.
  EXPECT_EQ(bitsOf(fp16ToFp32(0x7C01)), 0x7FC02000u);
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16ToFp32(uint16_t(h));
    if (std::isnan(f))
      continue;
    ASSERT_EQ(fp32ToFp16(f), h) << "half 0x" << std::hex << h;
  }
}

#if defined(__FLT16_MAX__)
// The compiler's _Float16 conversions are correctly rounded (IEEE round to nearest even): an
// independent oracle for every half and a sweep of floats that hits every exponent.
TEST(Fp16, AgreesWithCompilerFloat16) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    _Float16 half;
    uint16_t bits16 = uint16_t(h);
    std::memcpy(&half, &bits16, 2);
    const float expected = float(half);
    if (std::isnan(expected))
      continue;
    ASSERT_EQ(bitsOf(fp16ToFp32(uint16_t(h))), bitsOf(expected)) << std::hex << h;
  }
  auto check = [](uint32_t bits) {
    const float f = floatOf(bits);
    if (std::isnan(f))
      return;
    const _Float16 half = _Float16(f);
    uint16_t expected;
    std::memcpy(&expected, &half, 2);
    ASSERT_EQ(fp32ToFp16(f), expected) << "float bits 0x" << std::hex << bits;
  };
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 4099)
    check(uint32_t(bits));
  // Every midpoint between neighbouring halves, and the floats either side of it.
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const double mid = (double(fp16ToFp32(uint16_t(h))) + double(fp16ToFp32(uint16_t(h + 1)))) / 2;
    const uint32_t b = bitsOf(float(mid));
    for (uint32_t s : {0u, 0x80000000u}) {
      check((b - 1) | s);
      check(b | s);
      check((b + 1) | s);
    }
  }
}
#endif

TEST(Bf16, ExactWidening) {
  EXPECT_EQ(bitsOf(bf16ToFp32(0x3F80)), 0x3F800000u);
  EXPECT_EQ(bitsOf(bf16ToFp32(0x8000)), 0x80000000u);
  EXPECT_EQ(bitsOf(bf16ToFp32(0x0001)), 0x00010000u); // subnormal
  EXPECT_EQ(bitsOf(bf16ToFp32(0xFF80)), 0xFF800000u);
  EXPECT_EQ(bitsOf(bf16ToFp32(0x7FC1)), 0x7FC10000u);
}

TEST(Bf16, ZerosAndInfinities) {
  EXPECT_EQ(fp32ToBf16(0.0f), 0x0000);
  EXPECT_EQ(fp32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32ToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(fp32ToBf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  // The largest floats round up past the largest bf16: inf, as ggml.
  EXPECT_EQ(fp32ToBf16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_EQ(fp32ToBf16(floatOf(0x7F7F7FFF)), 0x7F7F);
}

TEST(Bf16, RoundingTies) {
  EXPECT_EQ(fp32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32ToBf16(floatOf(0x3F808000)), 0x3F80); // tie, even stays
  EXPECT_EQ(fp32ToBf16(floatOf(0x3F818000)), 0x3F82); // tie, odd rounds up
  EXPECT_EQ(fp32ToBf16(floatOf(0x3F808001)), 0x3F81);
  EXPECT_EQ(fp32ToBf16(floatOf(0x3F807FFF)), 0x3F80);
  EXPECT_EQ(fp32ToBf16(floatOf(0xBF818000)), 0xBF82);
  EXPECT_EQ(fp32ToBf16(floatOf(0x3FFF8000)), 0x4000); // carry into the exponent
}

TEST(Bf16, SubnormalsAreRoundedNotFlushed) {
  EXPECT_EQ(fp32ToBf16(floatOf(0x00000001)), 0x0000);
  EXPECT_EQ(fp32ToBf16(floatOf(0x00008000)), 0x0000); // tie to even (0)
  EXPECT_EQ(fp32ToBf16(floatOf(0x00018000)), 0x0002); // tie to even (2)
  EXPECT_EQ(fp32ToBf16(floatOf(0x00010000)), 0x0001);
  EXPECT_EQ(fp32ToBf16(floatOf(0x807FFFFF)), 0x8080); // rounds up to the smallest normal
}

TEST(Bf16, NaNIsQuietedKeepingTopBits) {
  EXPECT_EQ(fp32ToBf16(floatOf(0x7FC00000)), 0x7FC0);
  EXPECT_EQ(fp32ToBf16(floatOf(0xFFC00000)), 0xFFC0);
  EXPECT_EQ(fp32ToBf16(floatOf(0x7F800001)), 0x7FC0); // signalling: quiet bit forced
  EXPECT_EQ(fp32ToBf16(floatOf(0x7FA00000)), 0x7FE0);
  EXPECT_EQ(fp32ToBf16(floatOf(0x7FFFFFFF)), 0x7FFF); // no rounding carry into the sign
}

TEST(Bf16, EveryBf16RoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16ToFp32(uint16_t(h));
    if (std::isnan(f))
      continue;
    ASSERT_EQ(fp32ToBf16(f), h) << std::hex << h;
  }
}

} // namespace
