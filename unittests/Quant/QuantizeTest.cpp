//===- QuantizeTest.cpp - the quantizers against llama.cpp, byte for byte ---===//
//
// reference/llamacpp-blocks (see its README.md): input.f32 (8 × 512) quantized by llama.cpp's
// ggml_quantize_chunk without (<type>.bin) and with (<type>.imatrix.bin) imatrix.f32. Our
// quantizers must write the same bytes. Then table-driven properties: quantize → dequantize
// error bounds on Gaussian rows, thread-count independence of quantizeRows, and refusals.
//
//===----------------------------------------------------------------------===//
#include "ReferenceBlocks.h"

#include "qcc/Quant/GGMLFormats.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

using namespace qcc;
using namespace qcc::test;

namespace {

// Every .bin the README lists.
const RefCase kCases[] = {
    {"q4_0", false}, {"q4_0", true},  {"q4_1", false},   {"q4_1", true},   {"q5_0", false},
    {"q5_0", true},  {"q5_1", false}, {"q5_1", true},    {"q8_0", false},  {"q2_K", false},
    {"q2_K", true},  {"q3_K", false}, {"q3_K", true},    {"q4_K", false},  {"q4_K", true},
    {"q5_K", false}, {"q5_K", true},  {"q6_K", false},   {"q6_K", true},   {"iq4_nl", false},
    {"iq4_nl", true}, {"f16", false}, {"bf16", false},   {"q8_K", false},
};

/// Fails with the first differing block and byte (and a count) when got != want.
void expectSameBytes(const std::vector<uint8_t> &got, const std::vector<uint8_t> &want,
                     const FormatInfo &f, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const int64_t rowBytesN = rowBytes(f.type, kCols);
  int64_t differing = 0, first = -1;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i] && differing++ == 0)
      first = int64_t(i);
  if (differing == 0)
    return;
  const int64_t row = first / rowBytesN;
  const int64_t block = (first % rowBytesN) / f.blockBytes;
  const int64_t byte = (first % rowBytesN) % f.blockBytes;
  ADD_FAILURE() << what << ": " << differing << " bytes differ; first at row " << row
                << " block " << block << " byte " << byte << " (offset " << first
                << "): got 0x" << std::hex << int(got[size_t(first)]) << ", llama.cpp 0x"
                << int(want[size_t(first)]) << std::dec;
}

class LlamaCppQuantize : public ::testing::TestWithParam<RefCase> {};

TEST_P(LlamaCppQuantize, ByteExact) {
  const RefCase &c = GetParam();
  const FormatInfo *f = lookupFormat(c.type);
  ASSERT_NE(f, nullptr) << c.type;
  std::vector<float> input = readBinary<float>(refPath("input.f32"));
  std::vector<float> imatrix = readBinary<float>(refPath("imatrix.f32"));
  std::vector<uint8_t> want = readBinary<uint8_t>(refPath(c.stem() + ".bin"));
  ASSERT_EQ(int64_t(input.size()), kRows * kCols);
  ASSERT_EQ(int64_t(imatrix.size()), kCols);
  ASSERT_EQ(int64_t(want.size()), kRows * rowBytes(f->type, kCols)) << c.stem() << ".bin";

  std::vector<uint8_t> got(want.size(), 0xA5);
  ASSERT_FALSE(bool(quantizeRows(f->type, input.data(), got.data(), kRows, kCols,
                                 c.imatrix ? imatrix.data() : nullptr)));
  expectSameBytes(got, want, *f, c.stem());

  // Formats without an .imatrix file ignore the importance weights in ggml: same bytes.
  if (!c.imatrix && !llvm::sys::fs::exists(
                        dataDir() + "/reference/llamacpp-blocks/" + c.type + ".imatrix.bin")) {
    std::fill(got.begin(), got.end(), 0x5A);
    ASSERT_FALSE(bool(
        quantizeRows(f->type, input.data(), got.data(), kRows, kCols, imatrix.data())));
    expectSameBytes(got, want, *f, c.stem() + " given the imatrix");
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, LlamaCppQuantize, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RefCase> &info) {
                           return std::string(info.param.type) +
                                  (info.param.imatrix ? "_imatrix" : "");
                         });

TEST(Quantize, EveryFormatHasAQuantizer) {
  for (const FormatInfo &f : allFormats())
    EXPECT_NE(f.quantizeRow, nullptr) << f.name;
}

//===----------------------------------------------------------------------===//
// Round trip on Gaussian rows
//===----------------------------------------------------------------------===//

std::vector<float> gaussianRows(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = normal(rng);
  return v;
}

/// RMS(dequant(quant(x)) - x) / RMS(x), over all rows.
double relativeRmsError(const FormatInfo &f, const std::vector<float> &x, int64_t nrows,
                        int64_t nPerRow, const float *importance) {
  std::vector<uint8_t> q(size_t(nrows * rowBytes(f.type, nPerRow)));
  EXPECT_FALSE(bool(quantizeRows(f.type, x.data(), q.data(), nrows, nPerRow, importance)));
  std::vector<float> y(x.size());
  for (int64_t r = 0; r < nrows; ++r)
    EXPECT_FALSE(bool(dequantizeRow(f.type, q.data() + r * rowBytes(f.type, nPerRow),
                                    y.data() + r * nPerRow, nPerRow)));
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(y[i]) - double(x[i])) * (double(y[i]) - double(x[i]));
    ref += double(x[i]) * double(x[i]);
  }
  return std::sqrt(err / ref);
}

// Measured on 16 × 1024 N(0, 1) values (seed 1234), then given ~1.5x headroom.
const std::map<std::string, double> kRmsBound = {
    {"f32", 0.0},     {"f16", 3.2e-4},  {"bf16", 2.5e-3}, {"q4_0", 0.13},  {"q4_1", 0.12},
    {"q5_0", 0.064},  {"q5_1", 0.057},  {"q8_0", 8e-3},   {"q8_1", 8e-3},  {"q2_K", 0.45},
    {"q3_K", 0.23},   {"q4_K", 0.11},   {"q5_K", 0.054},  {"q6_K", 0.027}, {"q8_K", 0.011},
    {"iq4_nl", 0.115},
    {"i8", 0.45}, // integers: N(0,1) rounds with RMS error ~0.29
};

TEST(Quantize, RoundTripErrorIsBounded) {
  constexpr int64_t nrows = 16, nPerRow = 1024;
  const std::vector<float> x = gaussianRows(nrows * nPerRow, 1234);
  std::vector<float> importance(static_cast<size_t>(nPerRow));
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> uniform(0.5f, 2.0f);
  for (float &w : importance)
    w = uniform(rng);
  for (const FormatInfo &f : allFormats()) {
    auto bound = kRmsBound.find(f.name);
    ASSERT_NE(bound, kRmsBound.end()) << f.name << " has no round-trip bound";
    const double plain = relativeRmsError(f, x, nrows, nPerRow, nullptr);
    const double weighted = relativeRmsError(f, x, nrows, nPerRow, importance.data());
    EXPECT_LE(plain, bound->second) << f.name;
    EXPECT_LE(weighted, bound->second) << f.name << " with importance";
    std::printf("  %-7s rel. RMS error %.5f (imatrix %.5f), bound %.5f\n", f.name, plain,
                weighted, bound->second);
  }
}

//===----------------------------------------------------------------------===//
// quantizeRows: threads, per-row equivalence, refusals
//===----------------------------------------------------------------------===//

TEST(Quantize, RowsDoNotDependOnThreadCount) {
  constexpr int64_t nrows = 37, nPerRow = 512;
  const std::vector<float> x = gaussianRows(nrows * nPerRow, 7);
  const std::vector<float> importance = gaussianRows(nPerRow, 8);
  std::vector<float> positive(importance.size());
  for (size_t i = 0; i < importance.size(); ++i)
    positive[i] = std::fabs(importance[i]) + 0.1f;
  for (const FormatInfo &f : allFormats()) {
    for (const float *imatrix : {static_cast<const float *>(nullptr),
                                  static_cast<const float *>(positive.data())}) {
      const int64_t rb = rowBytes(f.type, nPerRow);
      // Row by row through quantizeRow is the reference schedule.
      std::vector<uint8_t> serial(size_t(nrows * rb));
      for (int64_t r = 0; r < nrows; ++r)
        ASSERT_FALSE(bool(quantizeRow(f.type, x.data() + r * nPerRow, serial.data() + r * rb,
                                      nPerRow, imatrix)));
      for (unsigned threads : {0u, 1u, 2u, 3u, 8u}) {
        std::vector<uint8_t> out(serial.size(), 0xCD);
        ASSERT_FALSE(bool(quantizeRows(f.type, x.data(), out.data(), nrows, nPerRow, imatrix,
                                       threads)));
        EXPECT_EQ(out, serial) << f.name << " with " << threads << " threads"
                               << (imatrix ? ", imatrix" : "");
      }
    }
  }
}

std::string errorText(llvm::Error e) { return llvm::toString(std::move(e)); }

TEST(Quantize, RefusesBadShapes) {
  std::vector<float> x(1024, 1.0f);
  std::vector<uint8_t> out(4096, 0x11);
  const std::vector<uint8_t> untouched = out;

  std::string msg = errorText(quantizeRows(GGMLType::Q4_K, x.data(), out.data(), 2, 100));
  EXPECT_NE(msg.find("q4_K row of 100 values"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block size 256"), std::string::npos) << msg;

  msg = errorText(quantizeRow(GGMLType::Q8_0, x.data(), out.data(), 33));
  EXPECT_NE(msg.find("q8_0 row of 33 values"), std::string::npos) << msg;

  msg = errorText(quantizeRows(static_cast<GGMLType>(4), x.data(), out.data(), 1, 32));
  EXPECT_NE(msg.find("unknown GGML type id 4"), std::string::npos) << msg;

  msg = errorText(quantizeRows(GGMLType::Q8_0, x.data(), out.data(), -1, 32));
  EXPECT_NE(msg.find("negative row count"), std::string::npos) << msg;

  EXPECT_EQ(out, untouched) << "a refused call wrote output";

  // Empty work is fine and writes nothing.
  EXPECT_FALSE(bool(quantizeRows(GGMLType::Q4_0, x.data(), out.data(), 0, 32)));
  EXPECT_FALSE(bool(quantizeRows(GGMLType::Q4_0, x.data(), out.data(), 3, 0)));
  EXPECT_EQ(out, untouched);
}

// All-zero blocks (row 7 of the reference starts with 32 zeros) quantize to zero scales and
// dequantize to exact zeros in every format.
TEST(Quantize, ZeroRowsStayZero) {
  std::vector<float> zeros(512, 0.0f), back(512, 1.0f);
  for (const FormatInfo &f : allFormats()) {
    std::vector<uint8_t> q(size_t(rowBytes(f.type, 512)));
    ASSERT_FALSE(bool(quantizeRow(f.type, zeros.data(), q.data(), 512)));
    ASSERT_FALSE(bool(dequantizeRow(f.type, q.data(), back.data(), 512)));
    for (float v : back)
      ASSERT_EQ(v, 0.0f) << f.name;
  }
}

} // namespace
