//===- LlamaCppReferenceTest.cpp - bit-exact against llama.cpp's own output -===//
//
// reference/llamacpp-blocks (see its README.md): 8 rows × 512 of input, quantized by llama.cpp
// (with and without an imatrix), and llama.cpp's dequantization of each. Every dequantized
// value must have the same bits. A missing file fails the test.
//
//===----------------------------------------------------------------------===//
#include "ReferenceBlocks.h"

#include "qcc/Quant/Float16.h"
#include "qcc/Quant/GGMLBlocks.h"
#include "qcc/Quant/GGMLFormats.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

#include <cstring>
#include <ostream>
#include <set>
#include <string>
#include <vector>

using namespace qcc;
using namespace qcc::test;

namespace {

// Every .dequant.f32 the README lists. q8_0, f16 and bf16 ignore the imatrix (no variant).
const RefCase kCases[] = {
    {"q4_0", false}, {"q4_0", true},   {"q4_1", false}, {"q4_1", true},   {"q5_0", false},
    {"q5_0", true},  {"q5_1", false},  {"q5_1", true},  {"q8_0", false},  {"q2_K", false},
    {"q2_K", true},  {"q3_K", false},  {"q3_K", true},  {"q4_K", false},  {"q4_K", true},
    {"q5_K", false}, {"q5_K", true},   {"q6_K", false}, {"q6_K", true},   {"iq4_nl", false},
    {"iq4_nl", true}, {"f16", false},  {"bf16", false},
};

// Formats with no llama.cpp dequantization to compare against, and why.
const std::set<std::string> kNoReference = {
    "f32",  // the identity
    "q8_1", // ggml has no to_float for it
    "q8_K", // activation format: checked against d·q below
    "i8",   // plain int8 (also qcc's raw packed rows): FormatTable.I8IsPlainInt8
};

class LlamaCppDequant : public ::testing::TestWithParam<RefCase> {};

TEST_P(LlamaCppDequant, BitExact) {
  const RefCase &c = GetParam();
  const FormatInfo *f = lookupFormat(c.type);
  ASSERT_NE(f, nullptr) << c.type;
  const int64_t row = rowBytes(f->type, kCols);

  std::vector<uint8_t> quantized = readBinary<uint8_t>(refPath(c.stem() + ".bin"));
  std::vector<uint32_t> expected = readBinary<uint32_t>(refPath(c.stem() + ".dequant.f32"));
  ASSERT_EQ(int64_t(quantized.size()), kRows * row) << c.stem() << ".bin size";
  ASSERT_EQ(int64_t(expected.size()), kRows * kCols) << c.stem() << ".dequant.f32 size";

  std::vector<float> out(size_t(kRows * kCols));
  for (int64_t r = 0; r < kRows; ++r)
    ASSERT_FALSE(bool(dequantizeRow(f->type, quantized.data() + r * row,
                                    out.data() + r * kCols, kCols)));
  int64_t mismatches = 0;
  for (int64_t i = 0; i < kRows * kCols; ++i) {
    uint32_t got;
    std::memcpy(&got, &out[size_t(i)], 4);
    if (got != expected[size_t(i)] && mismatches++ < 5) {
      float want;
      std::memcpy(&want, &expected[size_t(i)], 4);
      ADD_FAILURE() << c.stem() << " row " << i / kCols << " col " << i % kCols << ": got "
                    << out[size_t(i)] << " (0x" << std::hex << got << "), llama.cpp " << want
                    << " (0x" << expected[size_t(i)] << ")" << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0) << c.stem();
}

INSTANTIATE_TEST_SUITE_P(Reference, LlamaCppDequant, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RefCase> &info) {
                           return std::string(info.param.type) +
                                  (info.param.imatrix ? "_imatrix" : "");
                         });

TEST(LlamaCppReference, EveryFormatIsCovered) {
  for (const FormatInfo &f : allFormats()) {
    bool listed = kNoReference.count(f.name) != 0;
    for (const RefCase &c : kCases)
      listed |= std::string(c.type) == f.name;
    EXPECT_TRUE(listed) << f.name << " has no reference case and no stated reason";
  }
}

// f16.bin and bf16.bin are llama.cpp's narrowing of input.f32: they check fp32ToFp16 and
// fp32ToBf16 against ggml on real data.
TEST(LlamaCppReference, NarrowingMatchesGGML) {
  std::vector<float> input = readBinary<float>(refPath("input.f32"));
  ASSERT_EQ(int64_t(input.size()), kRows * kCols);
  std::vector<uint16_t> f16 = readBinary<uint16_t>(refPath("f16.bin"));
  std::vector<uint16_t> bf16 = readBinary<uint16_t>(refPath("bf16.bin"));
  ASSERT_EQ(f16.size(), input.size());
  ASSERT_EQ(bf16.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(fp32ToFp16(input[i]), f16[i]) << "f16 value " << i;
    ASSERT_EQ(fp32ToBf16(input[i]), bf16[i]) << "bf16 value " << i;
  }
}

// q8_K has no .dequant: check the layout against llama.cpp's blocks (bsums are the per-16 sums
// of qs) and the kernel against the plain formula x = d · q.
TEST(LlamaCppReference, Q8_KIsDTimesQ) {
  const int64_t row = rowBytes(GGMLType::Q8_K, kCols);
  std::vector<uint8_t> quantized = readBinary<uint8_t>(refPath("q8_K.bin"));
  ASSERT_EQ(int64_t(quantized.size()), kRows * row);
  std::vector<float> out(static_cast<size_t>(kCols));
  for (int64_t r = 0; r < kRows; ++r) {
    const uint8_t *src = quantized.data() + r * row;
    ASSERT_FALSE(bool(dequantizeRow(GGMLType::Q8_K, src, out.data(), kCols)));
    for (int64_t b = 0; b < kCols / ggml::kSuperBlockSize; ++b) {
      ggml::BlockQ8_K block;
      std::memcpy(&block, src + b * int64_t(sizeof(block)), sizeof(block));
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j)
          sum += block.qs[16 * g + j];
        EXPECT_EQ(block.bsums[g], sum) << "row " << r << " block " << b << " group " << g;
      }
      for (int j = 0; j < ggml::kSuperBlockSize; ++j) {
        const float want = block.d * float(block.qs[j]);
        const float got = out[size_t(b * ggml::kSuperBlockSize + j)];
        ASSERT_EQ(llvm::bit_cast<uint32_t>(got), llvm::bit_cast<uint32_t>(want))
            << "row " << r << " value " << b * ggml::kSuperBlockSize + j;
      }
    }
  }
}

} // namespace
