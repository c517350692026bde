//===- FormatTableTest.cpp - the format table, lookups, errors, row bounds --===//
#include "qcc/Quant/GGMLFormats.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

using namespace qcc;

namespace {

// ggml's own numbers (ggml.h enum ggml_type, ggml.c type_traits), restated independently of
// the table under test.
struct Expected {
  GGMLType type;
  uint32_t id;
  const char *name;
  int64_t blockSize, blockBytes;
  bool isQuantized;
};
const Expected kGGML[] = {
    {GGMLType::F32, 0, "f32", 1, 4, false},        {GGMLType::F16, 1, "f16", 1, 2, false},
    {GGMLType::Q4_0, 2, "q4_0", 32, 18, true},     {GGMLType::Q4_1, 3, "q4_1", 32, 20, true},
    {GGMLType::Q5_0, 6, "q5_0", 32, 22, true},     {GGMLType::Q5_1, 7, "q5_1", 32, 24, true},
    {GGMLType::Q8_0, 8, "q8_0", 32, 34, true},     {GGMLType::Q8_1, 9, "q8_1", 32, 36, true},
    {GGMLType::Q2_K, 10, "q2_K", 256, 84, true},   {GGMLType::Q3_K, 11, "q3_K", 256, 110, true},
    {GGMLType::Q4_K, 12, "q4_K", 256, 144, true},  {GGMLType::Q5_K, 13, "q5_K", 256, 176, true},
    {GGMLType::Q6_K, 14, "q6_K", 256, 210, true},  {GGMLType::Q8_K, 15, "q8_K", 256, 292, true},
    {GGMLType::IQ4_NL, 20, "iq4_nl", 32, 18, true}, {GGMLType::I8, 24, "i8", 1, 1, false},
    {GGMLType::BF16, 30, "bf16", 1, 2, false},
};

TEST(FormatTable, MatchesGGML) {
  ASSERT_EQ(allFormats().size(), std::size(kGGML));
  for (const Expected &e : kGGML) {
    SCOPED_TRACE(e.name);
    const FormatInfo *f = lookupFormat(e.type);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(uint32_t(f->type), e.id);
    EXPECT_STREQ(f->name, e.name);
    EXPECT_EQ(f->blockSize, e.blockSize);
    EXPECT_EQ(f->blockBytes, e.blockBytes);
    EXPECT_EQ(f->isQuantized, e.isQuantized);
    EXPECT_NE(f->dequantizeRow, nullptr);
  }
}

TEST(FormatTable, RowsAreConsistent) {
  std::set<uint32_t> ids;
  std::set<std::string> names;
  uint32_t previous = 0;
  for (const FormatInfo &f : allFormats()) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(ids.insert(uint32_t(f.type)).second) << "duplicate id";
    EXPECT_TRUE(names.insert(llvm::StringRef(f.name).lower()).second) << "duplicate name";
    EXPECT_TRUE(ids.size() == 1 || uint32_t(f.type) > previous) << "table not sorted by id";
    previous = uint32_t(f.type);
    EXPECT_GT(f.blockSize, 0);
    EXPECT_GT(f.blockBytes, 0);
    EXPECT_EQ(lookupFormat(f.type), &f);
    EXPECT_EQ(lookupFormat(llvm::StringRef(f.name)), &f);
    EXPECT_EQ(lookupFormat(llvm::StringRef(f.name).upper()), &f);
    EXPECT_EQ(ggmlTypeFromId(uint32_t(f.type)), f.type);
    EXPECT_EQ(rowBytes(f.type, 0), 0);
    EXPECT_EQ(rowBytes(f.type, 4096), 4096 / f.blockSize * f.blockBytes);
  }
}

TEST(FormatTable, LookupByName) {
  EXPECT_EQ(lookupFormat("q4_K"), lookupFormat(GGMLType::Q4_K));
  EXPECT_EQ(lookupFormat("Q4_K"), lookupFormat(GGMLType::Q4_K));
  EXPECT_EQ(lookupFormat("q4_k"), lookupFormat(GGMLType::Q4_K));
  EXPECT_EQ(lookupFormat("IQ4_NL"), lookupFormat(GGMLType::IQ4_NL));
  EXPECT_EQ(lookupFormat("BF16"), lookupFormat(GGMLType::BF16));
  EXPECT_EQ(lookupFormat("F32"), lookupFormat(GGMLType::F32));
  EXPECT_EQ(lookupFormat(""), nullptr);
  EXPECT_EQ(lookupFormat("q4"), nullptr);
  EXPECT_EQ(lookupFormat("q4_K "), nullptr);
  EXPECT_EQ(lookupFormat("iq2_xxs"), nullptr);
}

TEST(FormatTable, UnknownIds) {
  for (uint32_t id : {4u, 5u, 16u, 17u, 19u, 21u, 29u, 31u, 39u, 1000u, 0xFFFFFFFFu})
    EXPECT_EQ(ggmlTypeFromId(id), std::nullopt) << id;
  EXPECT_EQ(lookupFormat(static_cast<GGMLType>(4)), nullptr);
  EXPECT_EQ(ggmlTypeFromId(12), GGMLType::Q4_K);
}

TEST(FormatTable, RowBytes) {
  EXPECT_EQ(rowBytes(GGMLType::F32, 7), 28);
  EXPECT_EQ(rowBytes(GGMLType::F16, 3), 6);
  EXPECT_EQ(rowBytes(GGMLType::BF16, 4096), 8192);
  EXPECT_EQ(rowBytes(GGMLType::Q4_0, 512), 16 * 18);
  EXPECT_EQ(rowBytes(GGMLType::Q8_0, 4096), 128 * 34);
  EXPECT_EQ(rowBytes(GGMLType::Q4_K, 512), 2 * 144);
  EXPECT_EQ(rowBytes(GGMLType::Q6_K, 14336), 56 * 210);
  EXPECT_EQ(rowBytes(GGMLType::IQ4_NL, 64), 36);
}

TEST(FormatTable, BitsPerWeight) {
  EXPECT_DOUBLE_EQ(lookupFormat(GGMLType::Q4_0)->bitsPerWeight(), 4.5);
  EXPECT_DOUBLE_EQ(lookupFormat(GGMLType::Q4_K)->bitsPerWeight(), 4.5);
  EXPECT_DOUBLE_EQ(lookupFormat(GGMLType::Q6_K)->bitsPerWeight(), 6.5625);
  EXPECT_DOUBLE_EQ(lookupFormat(GGMLType::F16)->bitsPerWeight(), 16.0);
}

std::string errorText(llvm::Error e) { return llvm::toString(std::move(e)); }

TEST(Dequantize, RejectsPartialBlocks) {
  std::vector<uint8_t> src(4096);
  std::vector<float> dst(1024, 42.0f);
  std::string msg = errorText(dequantizeRow(GGMLType::Q4_0, src.data(), dst.data(), 100));
  EXPECT_NE(msg.find("q4_0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block size 32"), std::string::npos) << msg;
  EXPECT_FALSE(errorText(dequantizeRow(GGMLType::Q4_K, src.data(), dst.data(), 32)).empty());
  EXPECT_FALSE(errorText(dequantizeRow(GGMLType::Q6_K, src.data(), dst.data(), 257)).empty());
  EXPECT_FALSE(errorText(dequantizeRow(GGMLType::Q8_0, src.data(), dst.data(), -32)).empty());
  for (float v : dst)
    ASSERT_EQ(v, 42.0f) << "a rejected call wrote output";
  // Any length works for the float formats; an empty row is a no-op.
  EXPECT_FALSE(bool(dequantizeRow(GGMLType::F16, src.data(), dst.data(), 3)));
  EXPECT_FALSE(bool(dequantizeRow(GGMLType::Q4_K, nullptr, nullptr, 0)));
}

TEST(Dequantize, RejectsUnknownType) {
  std::vector<uint8_t> src(64);
  std::vector<float> dst(32);
  std::string msg =
      errorText(dequantizeRow(static_cast<GGMLType>(4), src.data(), dst.data(), 32));
  EXPECT_NE(msg.find("unknown GGML type id 4"), std::string::npos) << msg;
}

/// rowBytes bytes placed flush against an inaccessible page: reading one byte past the row
/// faults, so a kernel that over-reads crashes the test.
class GuardedRow {
public:
  explicit GuardedRow(size_t bytes) : page_(size_t(sysconf(_SC_PAGESIZE))) {
    dataPages_ = (bytes + page_ - 1) / page_;
    size_ = (dataPages_ + 1) * page_;
    void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t *>(p);
    if (base_ && mprotect(base_ + dataPages_ * page_, page_, PROT_NONE) != 0) {
      munmap(base_, size_);
      base_ = nullptr;
    }
    data_ = base_ ? base_ + dataPages_ * page_ - bytes : nullptr;
  }
  ~GuardedRow() {
    if (base_)
      munmap(base_, size_);
  }
  uint8_t *data() const { return data_; }

private:
  size_t page_, dataPages_ = 0, size_ = 0;
  uint8_t *base_ = nullptr, *data_ = nullptr;
};

TEST(Dequantize, NeverReadsPastTheRow) {
  std::mt19937 rng(1234);
  for (const FormatInfo &f : allFormats()) {
    SCOPED_TRACE(f.name);
    for (int64_t blocks : {1, 3, 16}) {
      const int64_t n = f.blockSize == 1 ? blocks : blocks * f.blockSize;
      const int64_t bytes = rowBytes(f.type, n);
      GuardedRow row{size_t(bytes)};
      ASSERT_NE(row.data(), nullptr);
      for (int64_t i = 0; i < bytes; ++i)
        row.data()[i] = uint8_t(rng());
      // A sentinel after the n outputs checks the kernel writes exactly n values.
      std::vector<float> out(size_t(n) + 8, 0.0f);
      const uint32_t sentinel = 0x7FA5A5A5u;
      for (int64_t i = n; i < n + 8; ++i)
        std::memcpy(&out[size_t(i)], &sentinel, 4);
      ASSERT_FALSE(bool(dequantizeRow(f.type, row.data(), out.data(), n)));
      for (int64_t i = n; i < n + 8; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &out[size_t(i)], 4);
        ASSERT_EQ(bits, sentinel) << "wrote past " << n << " values";
      }
    }
  }
}

TEST(FormatTable, I8IsPlainInt8) {
  const int8_t raw[5] = {-128, -1, 0, 1, 127};
  float out[5];
  ASSERT_FALSE(bool(dequantizeRow(GGMLType::I8, raw, out, 5)));
  EXPECT_EQ(out[0], -128.0f);
  EXPECT_EQ(out[4], 127.0f);
  const float in[5] = {-300.0f, -1.5f, 0.4f, 2.5f, 1e9f};
  int8_t q[5];
  ASSERT_FALSE(bool(quantizeRow(GGMLType::I8, in, q, 5)));
  EXPECT_EQ(q[0], -128);
  EXPECT_EQ(q[1], -2); // half to even
  EXPECT_EQ(q[2], 0);
  EXPECT_EQ(q[3], 2);
  EXPECT_EQ(q[4], 127);
  EXPECT_EQ(rowBytes(GGMLType::I8, 7), 7);
}

} // namespace
