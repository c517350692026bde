//===- IntGroupTest.cpp - integer group format: layout, packing, RTN ------===//

#include "qcc/QuantAlgo/IntGroup.h"

#include "RandomData.h"

#include "qcc/Quant/Float16.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

using namespace qcc;
using namespace qcc::quantalgo;

namespace {

using FormatParam = std::tuple<int, int64_t, bool>;

class IntGroupFormatTest : public ::testing::TestWithParam<FormatParam> {
protected:
  IntGroupFormat format() const {
    auto [bits, group, symmetric] = GetParam();
    return IntGroupFormat{bits, group, symmetric};
  }
};

constexpr int64_t kCols = 256;

TEST_P(IntGroupFormatTest, RowBytesFollowsTheDocumentedFormula) {
  IntGroupFormat f = format();
  const int64_t groups = f.groupSize == 0 ? 1 : kCols / f.groupSize;
  EXPECT_EQ(rowBytes(f, kCols), groups * (f.symmetric ? 2 : 4) + (kCols * f.bits + 7) / 8);
}

TEST_P(IntGroupFormatTest, PackUnpackRoundTripsCodesAndParams) {
  IntGroupFormat f = format();
  ASSERT_FALSE(bool(f.validate(kCols)));
  std::mt19937 rng(f.bits * 1000 + f.groupSize + f.symmetric);
  std::uniform_int_distribution<int> code(0, f.maxCode());
  std::vector<uint8_t> codes(kCols);
  for (uint8_t &c : codes)
    c = uint8_t(code(rng));
  std::vector<GroupParams> params(f.numGroups(kCols));
  for (size_t g = 0; g < params.size(); ++g) {
    params[g].scale = fp16ToFp32(fp32ToFp16(0.001f * float(g + 1)));
    params[g].zero = f.symmetric ? float(1 << (f.bits - 1)) : float(code(rng));
  }
  std::vector<uint8_t> row(rowBytes(f, kCols));
  packRow(f, codes.data(), params.data(), row.data(), kCols);
  std::vector<uint8_t> codesBack(kCols);
  std::vector<GroupParams> paramsBack(params.size());
  unpackRow(f, row.data(), codesBack.data(), paramsBack.data(), kCols);
  EXPECT_EQ(codes, codesBack);
  for (size_t g = 0; g < params.size(); ++g) {
    EXPECT_EQ(params[g].scale, paramsBack[g].scale);
    EXPECT_EQ(params[g].zero, paramsBack[g].zero);
  }
  // Unused high bits of the last code byte stay zero.
  const int tailBits = int((kCols * f.bits) % 8);
  if (tailBits != 0)
    EXPECT_EQ(row.back() >> tailBits, 0);
}

TEST_P(IntGroupFormatTest, RTNErrorWithinHalfAStep) {
  IntGroupFormat f = format();
  const int64_t rows = 8;
  std::vector<float> w = testdata::gaussian(rows * kCols, 7 + f.bits, 0.02f);
  w[3] = 0.2f; // an outlier in group 0
  const int64_t bytes = rowBytes(f, kCols), length = f.groupLength(kCols);
  std::vector<uint8_t> packed(rows * bytes);
  quantizeMatrixRTN(f, w.data(), rows, kCols, packed.data());
  std::vector<float> back(rows * kCols), fake(rows * kCols);
  dequantizeMatrix(f, packed.data(), rows, kCols, back.data());
  fakeQuantizeMatrixRTN(f, w.data(), rows, kCols, fake.data());
  EXPECT_EQ(back, fake);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<uint8_t> codes(kCols);
    std::vector<GroupParams> params(f.numGroups(kCols));
    unpackRow(f, packed.data() + r * bytes, codes.data(), params.data(), kCols);
    // Repacking the unpacked row gives the same bytes.
    std::vector<uint8_t> repacked(bytes);
    packRow(f, codes.data(), params.data(), repacked.data(), kCols);
    EXPECT_TRUE(std::equal(repacked.begin(), repacked.end(), packed.begin() + r * bytes));
    for (int64_t g = 0; g < f.numGroups(kCols); ++g) {
      const float *wg = w.data() + r * kCols + g * length;
      const float lo = std::min(0.0f, *std::min_element(wg, wg + length));
      const float hi = std::max(0.0f, *std::max_element(wg, wg + length));
      // Half a step, plus what rounding the scale to f16 can move the clamped end by.
      const float bound = 0.5f * params[g].scale + (hi - lo) * 1e-3f;
      for (int64_t k = 0; k < length; ++k) {
        const int64_t i = r * kCols + g * length + k;
        ASSERT_LE(std::fabs(w[i] - back[i]), bound) << "row " << r << " col " << g * length + k;
      }
    }
  }
}

std::string formatName(const ::testing::TestParamInfo<FormatParam> &info) {
  auto [bits, group, symmetric] = info.param;
  return "b" + std::to_string(bits) + (group == 0 ? std::string("_perchannel")
                                                  : "_g" + std::to_string(group)) +
         (symmetric ? "_sym" : "_asym");
}

INSTANTIATE_TEST_SUITE_P(AllFormats, IntGroupFormatTest,
                         ::testing::Combine(::testing::Range(2, 9),
                                            ::testing::Values<int64_t>(32, 64, 128, 0),
                                            ::testing::Bool()),
                         formatName);

TEST(IntGroupLayout, BitStreamIsLsbFirst) {
  IntGroupFormat f{3, 0, true};
  const uint8_t codes[8] = {1, 2, 3, 4, 5, 6, 7, 0};
  GroupParams params{1.0f, 4.0f};
  uint8_t row[2 + 3];
  packRow(f, codes, &params, row, 8);
  uint32_t stream = 0;
  for (int i = 0; i < 8; ++i)
    stream |= uint32_t(codes[i]) << (3 * i);
  EXPECT_EQ(row[0], 0x00); // f16 1.0 = 0x3C00, little endian
  EXPECT_EQ(row[1], 0x3C);
  EXPECT_EQ(row[2], stream & 0xFF);
  EXPECT_EQ(row[3], (stream >> 8) & 0xFF);
  EXPECT_EQ(row[4], (stream >> 16) & 0xFF);
  EXPECT_EQ(row[2], 0xD1);
}

TEST(IntGroupLayout, RowBytesExamples) {
  EXPECT_EQ(rowBytes({4, 128, true}, 4096), 32 * 2 + 2048);
  EXPECT_EQ(rowBytes({4, 128, false}, 4096), 32 * 4 + 2048);
  EXPECT_EQ(rowBytes({3, 0, true}, 100), 2 + 38);
  EXPECT_EQ(rowBytes({8, 32, false}, 64), 2 * 4 + 64);
}

TEST(IntGroupLayout, SymmetricCodesAreOffsetBinary) {
  IntGroupFormat f{4, 0, true};
  const float w[4] = {-1.0f, 0.0f, 0.5f, 1.0f};
  uint8_t row[2 + 2];
  quantizeRowRTN(f, w, row, 4);
  uint8_t codes[4];
  GroupParams params;
  unpackRow(f, row, codes, &params, 4);
  EXPECT_EQ(params.zero, 8.0f);
  EXPECT_EQ(codes[1], 8); // 0 ↦ signed 0
  EXPECT_EQ(codes[3], 15); // +amax: the top code, half a step short
  // −amax is −7.5 steps: it rounds to signed −8 (code 0) or −7, within half a step either way.
  EXPECT_LE(codes[0], 1);
}

TEST(IntGroupLayout, AllZeroGroupDequantizesToZero) {
  for (bool symmetric : {true, false}) {
    IntGroupFormat f{4, 32, symmetric};
    std::vector<float> w(64, 0.0f), back(64, 1.0f);
    std::vector<uint8_t> row(rowBytes(f, 64));
    quantizeRowRTN(f, w.data(), row.data(), 64);
    dequantizeRow(f, row.data(), back.data(), 64);
    for (float v : back)
      EXPECT_EQ(v, 0.0f);
  }
}

TEST(IntGroupLayout, ClipRatioShrinksTheScale) {
  IntGroupFormat f{4, 0, true};
  std::vector<float> w = testdata::gaussian(128, 3);
  GroupParams full = findGroupParams(f, w.data(), 128);
  GroupParams clipped = findGroupParams(f, w.data(), 128, 0.5f);
  EXPECT_NEAR(clipped.scale, 0.5f * full.scale, full.scale * 2e-3f);
}

TEST(IntGroupLayout, ValidateRejectsBadFormats) {
  auto message = [](IntGroupFormat f, int64_t cols) {
    llvm::Error err = f.validate(cols);
    return err ? llvm::toString(std::move(err)) : std::string();
  };
  EXPECT_EQ(message({4, 128, true}, 4096), "");
  EXPECT_EQ(message({4, 0, false}, 100), "");
  EXPECT_NE(message({1, 128, true}, 4096).find("bits must be in 2..8"), std::string::npos);
  EXPECT_NE(message({9, 128, true}, 4096).find("bits must be in 2..8"), std::string::npos);
  EXPECT_NE(message({4, 48, true}, 256).find("does not divide"), std::string::npos);
  EXPECT_NE(message({4, -32, true}, 256).find("negative group size"), std::string::npos);
  EXPECT_NE(message({4, 32, true}, 0).find("must be positive"), std::string::npos);
}

} // namespace
