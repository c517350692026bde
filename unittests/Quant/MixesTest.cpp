//===- MixesTest.cpp - named mixes against llama-quantize's own choices ----===//
//
// reference/mixes/<model>-<MIX>.txt: what llama-quantize (c392e50, no imatrix) wrote for each
// tensor, one line each in file order: `name TYPE dims bytes`, dims in ggml order joined by 'x'.
// The model's F32 or F16 listing gives the source tensors. Every listing in the folder must be
// matched type for type and byte for byte; a missing or unrecognised file fails.
//
//===----------------------------------------------------------------------===//
#include "../TestData.h"

#include "qcc/Quant/Mixes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace llvm;
using namespace qcc;
using namespace qcc::test;

namespace {

struct ListedTensor {
  MixTensor tensor;
  int64_t bytes = 0;
};

/// Parses a listing; fails the test (returning what it could read) on a malformed line.
std::vector<ListedTensor> readListing(const std::string &path) {
  std::vector<ListedTensor> out;
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/true);
  EXPECT_TRUE(bool(buf)) << "cannot read " << path;
  if (!buf)
    return out;
  SmallVector<StringRef> lines;
  (*buf)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (StringRef line : lines) {
    SmallVector<StringRef> fields;
    line.trim().split(fields, ' ', -1, false);
    if (fields.empty())
      continue;
    const FormatInfo *format = fields.size() == 4 ? lookupFormat(fields[1]) : nullptr;
    EXPECT_TRUE(format) << path << ": bad line '" << line.str() << "'";
    if (!format)
      continue;
    ListedTensor t;
    t.tensor.name = fields[0].str();
    t.tensor.sourceType = format->type;
    SmallVector<StringRef> dims;
    fields[2].split(dims, 'x');
    for (StringRef d : dims) {
      int64_t v = 0;
      EXPECT_FALSE(d.getAsInteger(10, v)) << path << ": bad dims in '" << line.str() << "'";
      t.tensor.ne.push_back(v);
    }
    EXPECT_FALSE(fields[3].getAsInteger(10, t.bytes)) << path << ": bad bytes";
    out.push_back(std::move(t));
  }
  return out;
}

int64_t tensorBytes(GGMLType type, ArrayRef<int64_t> ne) {
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i)
    rows *= ne[i];
  return rowBytes(type, ne[0]) * rows;
}

/// The models the folder holds: listing prefix, the unquantized listing, heads (not in the
/// listings; the models' configs).
struct RefModel {
  const char *prefix;
  const char *sourceMix;
  int64_t nHeads, nKVHeads;
};
const RefModel kModels[] = {
    {"student4M", "F32", 8, 4},
    {"stories260K", "F16", 8, 4},
    {"stories110M-shape", "F16", 12, 12},
    {"smollm2-135M-shape", "F16", 9, 3},
};

MixModelInfo modelInfo(const RefModel &model, ArrayRef<ListedTensor> source) {
  MixModelInfo info;
  std::set<int> layers;
  for (const ListedTensor &t : source) {
    StringRef name = t.tensor.name;
    if (!name.consume_front("blk."))
      continue;
    int layer = 0;
    if (!name.substr(0, name.find('.')).getAsInteger(10, layer))
      layers.insert(layer);
  }
  info.nLayers = int64_t(layers.size());
  info.nHeads = model.nHeads;
  info.nKVHeads = model.nKVHeads;
  return info;
}

std::string mixesDir() { return dataPath("reference/mixes"); }

/// Every `<model>-<MIX>.txt` in the folder, keyed by file name.
std::vector<std::string> listingFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(mixesDir(), ec), end; it != end && !ec; it.increment(ec))
    if (StringRef(it->path()).ends_with(".txt"))
      files.push_back(sys::path::filename(it->path()).str());
  EXPECT_FALSE(ec) << "cannot list " << mixesDir() << ": " << ec.message();
  std::sort(files.begin(), files.end());
  return files;
}

TEST(MixNames, KnownAndUnknown) {
  ArrayRef<const char *> names = namedMixes();
  for (const char *required : {"q2_k", "q3_k_s", "q3_k_m", "q3_k_l", "q4_0", "q4_1", "q5_0",
                               "q5_1", "q8_0", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k",
                               "f16", "f32"})
    EXPECT_TRUE(is_contained(names, StringRef(required))) << required;
  for (const char *name : names) {
    EXPECT_TRUE(isNamedMix(name));
    EXPECT_TRUE(isNamedMix(StringRef(name).upper()));
  }
  EXPECT_TRUE(isNamedMix("Q4_K")); // llama-quantize's alias of Q4_K_M

  MixTensor t{"blk.0.attn_q.weight", {256, 256}, GGMLType::F32};
  for (const char *bad : {"q4_k_x", "", "q7_0", "iq2_xxs", "q4_k_m "}) {
    auto types = chooseMixTypes(bad, {t}, MixModelInfo{});
    ASSERT_FALSE(bool(types)) << bad;
    std::string message = toString(types.takeError());
    EXPECT_NE(message.find("unknown quantization mix"), std::string::npos) << message;
    EXPECT_NE(message.find("q4_k_m"), std::string::npos) << "lists known mixes: " << message;
  }
  EXPECT_FALSE(bool(mixDefaultType("nope")));
  consumeError(mixDefaultType("nope").takeError());
  auto q4km = mixDefaultType("q4_k_m");
  ASSERT_TRUE(bool(q4km));
  EXPECT_EQ(*q4km, GGMLType::Q4_K);
}

TEST(MixReference, EveryListingMatchesLlamaQuantize) {
  std::vector<std::string> files = listingFiles();
  ASSERT_FALSE(files.empty()) << "no listings in " << mixesDir();
  std::map<std::string, int> perModel;
  int matched = 0;
  for (const std::string &file : files) {
    SCOPED_TRACE(file);
    const RefModel *model = nullptr;
    std::string mix;
    for (const RefModel &m : kModels) {
      std::string prefix = std::string(m.prefix) + "-";
      StringRef rest(file);
      // The longest prefix wins ("stories110M-shape" over a hypothetical "stories110M").
      if (rest.consume_front(prefix) && rest.consume_back(".txt") &&
          (!model || strlen(m.prefix) > strlen(model->prefix))) {
        model = &m;
        mix = rest.str();
      }
    }
    ASSERT_TRUE(model) << "listing of an unknown model: " << file;
    ASSERT_TRUE(isNamedMix(mix)) << "unknown mix in " << file;

    std::vector<ListedTensor> source =
        readListing(mixesDir() + "/" + model->prefix + "-" + model->sourceMix + ".txt");
    std::vector<ListedTensor> expected = readListing(mixesDir() + "/" + file);
    ASSERT_FALSE(source.empty());
    ASSERT_EQ(source.size(), expected.size());

    // The source keeps the converter's order; llama-quantize writes its own (sorted) order.
    std::map<std::string, const ListedTensor *> byName;
    for (const ListedTensor &t : expected)
      byName[t.tensor.name] = &t;
    ASSERT_EQ(byName.size(), expected.size()) << "duplicate names";
    std::vector<MixTensor> tensors;
    std::vector<const ListedTensor *> want;
    for (const ListedTensor &t : source) {
      auto it = byName.find(t.tensor.name);
      ASSERT_NE(it, byName.end()) << t.tensor.name << " is not in " << file;
      ASSERT_EQ(t.tensor.ne, it->second->tensor.ne) << t.tensor.name;
      tensors.push_back(t.tensor);
      want.push_back(it->second);
    }
    MixModelInfo info = modelInfo(*model, source);
    auto plan = planMix(mix, tensors, info);
    ASSERT_TRUE(bool(plan)) << toString(plan.takeError());
    ASSERT_EQ(plan->types.size(), tensors.size());

    int64_t chosenBytes = 0, listedBytes = 0;
    int mismatches = 0, quantized = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      GGMLType wantType = want[i]->tensor.sourceType, got = plan->types[i];
      if (got != wantType && ++mismatches <= 10)
        ADD_FAILURE() << tensors[i].name << ": chose " << lookupFormat(got)->name
                      << ", llama-quantize " << lookupFormat(wantType)->name;
      int64_t bytes = tensorBytes(got, tensors[i].ne);
      EXPECT_EQ(tensorBytes(wantType, tensors[i].ne), want[i]->bytes) << tensors[i].name;
      chosenBytes += bytes;
      listedBytes += want[i]->bytes;
      quantized += lookupFormat(wantType)->isQuantized;
    }
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(chosenBytes, listedBytes);
    // Every tensor given a block type was either K-quantized as chosen or fell back.
    if (lookupFormat(*mixDefaultType(mix))->isQuantized)
      EXPECT_LE(quantized, plan->nKQuantized + plan->nFallback);

    // The counters follow llama.cpp's visiting order, not the order the tensors come in.
    std::vector<MixTensor> reversed(tensors.rbegin(), tensors.rend());
    auto again = chooseMixTypes(mix, reversed, info);
    ASSERT_TRUE(bool(again)) << toString(again.takeError());
    std::vector<GGMLType> back(again->rbegin(), again->rend());
    EXPECT_EQ(back, plan->types);

    if (mismatches == 0 && chosenBytes == listedBytes)
      ++matched;
    ++perModel[model->prefix];
  }
  // All four models and all the files were seen.
  EXPECT_EQ(perModel.size(), std::size(kModels));
  EXPECT_EQ(matched, int(files.size())) << matched << " of " << files.size() << " listings match";
}

TEST(MixRules, FallbackAndUnsupportedRows) {
  MixModelInfo info;
  info.nLayers = 1;
  info.nHeads = info.nKVHeads = 4;
  // A 172-long row: Q3_K -> IQ4_NL does not fit 32 either, so F16 (stories260K's ffn_down).
  std::vector<MixTensor> tensors = {
      {"blk.0.ffn_down.weight", {172, 64}, GGMLType::F32},
      {"blk.0.ffn_norm.weight", {64}, GGMLType::F32},
  };
  auto plan = planMix("q2_k", tensors, info);
  ASSERT_TRUE(bool(plan)) << toString(plan.takeError());
  EXPECT_EQ(plan->types[0], GGMLType::F16);
  EXPECT_EQ(plan->types[1], GGMLType::F32);
  EXPECT_EQ(plan->nFallback, 1);
  EXPECT_EQ(plan->nKQuantized, 0);

  // Q4_0 has no fallback: llama-quantize refuses such a row.
  auto refused = chooseMixTypes("q4_0", tensors, info);
  ASSERT_FALSE(bool(refused));
  std::string message = toString(refused.takeError());
  EXPECT_NE(message.find("blk.0.ffn_down.weight"), std::string::npos) << message;

  // --pure: the default type everywhere it fits, no promotions.
  MixOptions pure;
  pure.pure = true;
  std::vector<MixTensor> square = {{"output.weight", {256, 512}, GGMLType::F32},
                                   {"blk.0.attn_v.weight", {256, 256}, GGMLType::F32}};
  auto pureTypes = chooseMixTypes("q4_k_m", square, info, pure);
  ASSERT_TRUE(bool(pureTypes)) << toString(pureTypes.takeError());
  EXPECT_EQ((*pureTypes)[0], GGMLType::Q4_K);
  EXPECT_EQ((*pureTypes)[1], GGMLType::Q4_K);
}

} // namespace
