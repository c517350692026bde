//===- GGUFTest.cpp - tokenizers from GGUF tokenizer.ggml.* metadata ------===//
//
// The LLaMA-2 SPM vocabulary GGUF is real (llama.cpp's ggml-vocab-llama-spm.gguf, covered by
// ConformanceTest). llama.cpp's LLaMA-3 vocabulary GGUF could not be obtained, so here we build
// one the way HF/llama.cpp converters do from the tiktoken ranks: tokens spelled with GPT-2's
// byte-to-unicode table, merges from transformers' TikTokenConverter. With merge ranks instead
// of tiktoken's concatenation ranks it must still reproduce the 46 LLaMA-3 cases.
//
//===----------------------------------------------------------------------===//
#include "TokenizerTestUtil.h"

#include "qcc/Import/GGUF.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace qcc;
using namespace qcc::test;

namespace {

/// GPT-2's bytes_to_unicode(), written out independently of the library's inverse table.
std::string gpt2Encode(llvm::StringRef bytes) {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool keep = ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF);
      unsigned cp = keep ? b : 256 + extra++;
      std::string utf8;
      if (cp < 0x80) {
        utf8 += static_cast<char>(cp);
      } else {
        utf8 += static_cast<char>(0xC0 | (cp >> 6));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
      }
      t[b] = utf8;
    }
    return t;
  }();
  std::string out;
  for (char c : bytes)
    out += table[static_cast<uint8_t>(c)];
  return out;
}

/// transformers' TikTokenConverter: for each token (in rank order), every split into two tokens,
/// ordered by the ranks of the left then the right part. This is how LLaMA-3's tokenizer.json
/// got its merges, and llama.cpp's GGUF copies them.
void appendMerges(const Vocab &vocab, int32_t id, std::vector<std::string> &merges) {
  llvm::StringRef token = vocab.pieces[id];
  std::vector<std::pair<int32_t, int32_t>> splits;
  for (size_t i = 1; i < token.size(); ++i) {
    int32_t l = vocab.find(token.take_front(i)), r = vocab.find(token.drop_front(i));
    if (l >= 0 && r >= 0)
      splits.push_back({l, r});
  }
  std::sort(splits.begin(), splits.end());
  for (auto [l, r] : splits)
    merges.push_back(gpt2Encode(vocab.pieces[l]) + " " + gpt2Encode(vocab.pieces[r]));
}

/// The arrays of a llama.cpp-style "gpt2"/"llama-bpe" GGUF vocabulary built from the tiktoken
/// file, independently of the library's writer.
struct Llama3Arrays {
  std::vector<std::string> tokens, merges;
  std::vector<int32_t> types;
};

Llama3Arrays llama3Arrays(const Tokenizer &tiktoken) {
  const Vocab &vocab = tiktoken.vocab();
  Llama3Arrays a;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    bool special = vocab.types[id] == TokenType::Control;
    a.tokens.push_back(special ? vocab.pieces[id] : gpt2Encode(vocab.pieces[id]));
    a.types.push_back(special ? 3 : 1);
    if (!special)
      appendMerges(vocab, id, a.merges);
  }
  return a;
}

/// Writes that vocabulary as a GGUF.
std::string writeLlama3GGUF(const Tokenizer &tiktoken, std::string *error) {
  Llama3Arrays a = llama3Arrays(tiktoken);
  gguf::Writer writer;
  writer.setString("general.architecture", "llama");
  writer.setString("tokenizer.ggml.model", "gpt2");
  writer.setString("tokenizer.ggml.pre", "llama-bpe");
  writer.setStringArray("tokenizer.ggml.tokens", a.tokens);
  writer.setInt32Array("tokenizer.ggml.token_type", a.types);
  writer.setStringArray("tokenizer.ggml.merges", a.merges);
  writer.setUInt32("tokenizer.ggml.bos_token_id", 128000);
  writer.setUInt32("tokenizer.ggml.eos_token_id", 128001);
  std::string path = writeTempFile("llama3-vocab", "");
  if (llvm::Error err = writer.write(path)) {
    *error = llvm::toString(std::move(err));
    return {};
  }
  return path;
}

TEST(GGUFTokenizer, Llama3BpeFromMergesMatchesConformance) {
  std::string error;
  const Tokenizer *tiktoken = cachedTokenizer(dataPath("models/tokenizers/llama3/tokenizer.model"),
                                              "tiktoken", 128256, &error);
  ASSERT_NE(tiktoken, nullptr) << error;
  std::string path = writeLlama3GGUF(*tiktoken, &error);
  ASSERT_FALSE(path.empty()) << error;
  auto loaded = Tokenizer::load(path, "gguf", 128256);
  ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
  const Tokenizer &t = **loaded;
  EXPECT_EQ(t.kind(), "bpe");
  EXPECT_EQ(t.bosId(), 128000);
  EXPECT_EQ(t.eosId(), 128001);
  EXPECT_EQ(t.eotId(), 128009);  // found by its text
  EXPECT_TRUE(t.addBosByDefault());
  // Tokens decoded from the GPT-2 alphabet are the tiktoken bytes again.
  for (int32_t id : {0, 220, 1917, 9906, 127999, 128000, 128009})
    EXPECT_EQ(t.tokenToPiece(id), tiktoken->tokenToPiece(id)) << "id " << id;

  std::string stem = dataPath("models/gguf-vocab/ggml-vocab-llama-bpe.gguf");
  auto cases = readConformanceCases(stem + ".inp", stem + ".out");
  ASSERT_TRUE(static_cast<bool>(cases)) << llvm::toString(cases.takeError());
  size_t passed = 0;
  for (const ConformanceCase &c : *cases) {
    std::vector<int32_t> got = t.encode(c.text, false);
    if (got == c.ids)
      ++passed;
    else
      ADD_FAILURE() << "input '" << c.text << "'\n  expected " << idsToString(c.ids)
                    << "\n  got      " << idsToString(got);
    EXPECT_EQ(t.decode(got), c.text);
  }
  std::printf("[ conformance ] BpeGGUF (merges rebuilt from tiktoken): %zu/%zu\n", passed,
              cases->size());
  EXPECT_EQ(passed, cases->size());

  // Merge ranks and tiktoken's concatenation ranks agree on a megabyte of real text.
  auto text = readFile(dataPath("text/wikitext-2-raw/wiki.test.raw"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  EXPECT_EQ(t.encode(*text, true), tiktoken->encode(*text, true));
}

// stories260K's GGUF (converted by llama.cpp from llama2.c) carries tok512: same vocabulary, same
// tokens as the llama2.c tokenizer.bin.
TEST(GGUFTokenizer, Stories260KMatchesTok512) {
  std::string e1, e2;
  const Tokenizer *gg =
      cachedTokenizer(dataPath("models/gguf/stories260K-f32.gguf"), "gguf", 512, &e1);
  const Tokenizer *bin =
      cachedTokenizer(dataPath("models/llama2c/stories260K/tok512.bin"), "llama2c", 512, &e2);
  ASSERT_NE(gg, nullptr) << e1;
  ASSERT_NE(bin, nullptr) << e2;
  for (int32_t id = 0; id < 512; ++id) {
    ASSERT_EQ(gg->vocab().pieces[id], bin->vocab().pieces[id]) << "id " << id;
    ASSERT_EQ(gg->vocab().scores[id], bin->vocab().scores[id]) << "id " << id;
    ASSERT_EQ(gg->vocab().types[id], bin->vocab().types[id]) << "id " << id;
  }
  auto text = readFile(dataPath("text/tinystories/tinystories_sample.txt"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  EXPECT_EQ(gg->encode(*text, true), bin->encode(*text, true));
}

/// Tokenizer::writeGGUFKeys into a file of its own.
std::string writeKeys(const Tokenizer &t) {
  gguf::Writer w;
  w.setString("general.architecture", "llama");
  llvm::Error err = t.writeGGUFKeys(w);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  std::string path = writeTempFile("written-vocab", "");
  err = w.write(path);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  return path;
}

// The library writes LLaMA-3's tiktoken vocabulary as llama.cpp does: the same tokens, types and
// merges as the independent construction above (which reproduces llama.cpp's ids), and reading
// the file back gives the tiktoken tokenizer's vocabulary and ids.
TEST(GGUFTokenizer, WriteLlama3BpeRoundTrips) {
  std::string error;
  const Tokenizer *tiktoken = cachedTokenizer(dataPath("models/tokenizers/llama3/tokenizer.model"),
                                              "tiktoken", 128256, &error);
  ASSERT_NE(tiktoken, nullptr) << error;
  ASSERT_FALSE(static_cast<bool>(tiktoken->checkGGUFWritable()));
  std::string path = writeKeys(*tiktoken);
  auto file = gguf::Reader::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const gguf::Reader &r = **file;
  EXPECT_EQ(r.getString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(r.getString("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(r.getInt("tokenizer.ggml.bos_token_id"), 128000);
  EXPECT_EQ(r.getInt("tokenizer.ggml.eos_token_id"), 128001);
  EXPECT_EQ(r.getInt("tokenizer.ggml.eot_token_id"), 128009);
  EXPECT_EQ(r.getBool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(r.get("tokenizer.ggml.scores"), nullptr);
  Llama3Arrays want = llama3Arrays(*tiktoken);
  ASSERT_NE(r.get("tokenizer.ggml.tokens"), nullptr);
  ASSERT_NE(r.get("tokenizer.ggml.merges"), nullptr);
  ASSERT_NE(r.get("tokenizer.ggml.token_type"), nullptr);
  EXPECT_TRUE(r.get("tokenizer.ggml.tokens")->strings == want.tokens);
  EXPECT_EQ(r.get("tokenizer.ggml.merges")->strings.size(), want.merges.size());
  EXPECT_TRUE(r.get("tokenizer.ggml.merges")->strings == want.merges);
  EXPECT_EQ(r.get("tokenizer.ggml.token_type")->ints,
            std::vector<int64_t>(want.types.begin(), want.types.end()));

  auto loaded = Tokenizer::fromGGUF(r);
  ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
  const Tokenizer &t = **loaded;
  ASSERT_EQ(t.vocabSize(), tiktoken->vocabSize());
  for (int32_t id = 0; id < t.vocabSize(); ++id) {
    ASSERT_EQ(t.vocab().pieces[id], tiktoken->vocab().pieces[id]) << "id " << id;
    ASSERT_EQ(t.vocab().types[id], tiktoken->vocab().types[id]) << "id " << id;
  }
  EXPECT_EQ(t.eotId(), 128009);
  std::string stem = dataPath("models/gguf-vocab/ggml-vocab-llama-bpe.gguf");
  auto cases = readConformanceCases(stem + ".inp", stem + ".out");
  ASSERT_TRUE(static_cast<bool>(cases)) << llvm::toString(cases.takeError());
  for (const ConformanceCase &c : *cases)
    EXPECT_EQ(t.encode(c.text, false), c.ids) << "input '" << c.text << "'";
  auto text = readFile(dataPath("text/tinystories/tinystories_sample.txt"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  EXPECT_EQ(t.encode(*text, true), tiktoken->encode(*text, true));

  // A BPE vocabulary read from a GGUF (merge ranks, not concatenation ranks) writes the same.
  std::string again = writeKeys(t);
  auto file2 = gguf::Reader::open(again);
  ASSERT_TRUE(static_cast<bool>(file2)) << llvm::toString(file2.takeError());
  for (const char *key : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"}) {
    ASSERT_NE((*file2)->get(key), nullptr) << key;
    EXPECT_TRUE((*file2)->get(key)->strings == r.get(key)->strings) << key;
  }
}

// An SPM vocabulary (tok512) written and read back tokenizes as the original.
TEST(GGUFTokenizer, WriteSpmRoundTrips) {
  std::string error;
  const Tokenizer *bin =
      cachedTokenizer(dataPath("models/llama2c/stories260K/tok512.bin"), "llama2c", 512, &error);
  ASSERT_NE(bin, nullptr) << error;
  auto t = Tokenizer::load(writeKeys(*bin), "gguf", 512);
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ((*t)->kind(), "spm");
  for (int32_t id = 0; id < 512; ++id) {
    ASSERT_EQ((*t)->vocab().pieces[id], bin->vocab().pieces[id]) << "id " << id;
    ASSERT_EQ((*t)->vocab().scores[id], bin->vocab().scores[id]) << "id " << id;
  }
  auto text = readFile(dataPath("text/tinystories/tinystories_sample.txt"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  EXPECT_EQ((*t)->encode(*text, true), bin->encode(*text, true));
}

/// A small valid "llama" vocabulary to mutate in the error tests.
gguf::Writer smallSpmWriter() {
  gguf::Writer w;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "\xE2\x96\x81" "a"};
  w.setString("tokenizer.ggml.model", "llama");
  w.setStringArray("tokenizer.ggml.tokens", tokens);
  w.setFloat32Array("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3});
  w.setInt32Array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1});
  return w;
}

std::string writeGGUF(const gguf::Writer &w) {
  std::string path = writeTempFile("vocab", "");
  llvm::Error err = w.write(path);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  return path;
}

TEST(GGUFTokenizer, SmallSpmVocab) {
  auto t = Tokenizer::load(writeGGUF(smallSpmWriter()), "gguf", 6);
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ((*t)->kind(), "spm");
  EXPECT_EQ((*t)->encode("a a", true), (std::vector<int32_t>{1, 5, 5}));
  EXPECT_EQ((*t)->decode({1, 5, 5}), "a a");
}

TEST(GGUFTokenizer, Errors) {
  auto expectLoadError = [](const gguf::Writer &w, llvm::StringRef problem) {
    std::string path = writeGGUF(w);
    auto t = Tokenizer::load(path, "gguf", 0);
    ASSERT_FALSE(static_cast<bool>(t)) << "expected: " << problem.str();
    std::string message = llvm::toString(t.takeError());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(problem.str()), std::string::npos) << message;
  };
  {
    gguf::Writer w;
    w.setString("general.architecture", "llama");
    expectLoadError(w, "no tokenizer.ggml.model");
  }
  {
    gguf::Writer w = smallSpmWriter();
    w.setString("tokenizer.ggml.model", "bert");
    expectLoadError(w, "unsupported tokenizer.ggml.model 'bert'");
  }
  {
    gguf::Writer w = smallSpmWriter();
    w.setFloat32Array("tokenizer.ggml.scores", {0, 0});
    expectLoadError(w, "tokenizer.ggml.scores has 2 entries for 6 tokens");
  }
  {
    gguf::Writer w = smallSpmWriter();
    w.setUInt32("tokenizer.ggml.eos_token_id", 99);
    expectLoadError(w, "tokenizer.ggml.eos_token_id = 99 is outside");
  }
  {
    gguf::Writer w = smallSpmWriter();
    w.setString("tokenizer.ggml.model", "gpt2");
    w.setString("tokenizer.ggml.pre", "llama-bpe");
    expectLoadError(w, "merges");
    w.setStringArray("tokenizer.ggml.merges", std::vector<std::string>{"a"});
    expectLoadError(w, "tokenizer.ggml.merges[0] 'a' is not 'left right'");
    w.setStringArray("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
    w.setString("tokenizer.ggml.pre", "qwen2");
    expectLoadError(w, "unsupported BPE pre-tokenizer 'qwen2'");
  }
  std::string notGGUF = writeTempFile("not-gguf", "definitely not a gguf file");
  auto t = Tokenizer::load(notGGUF, "gguf", 0);
  ASSERT_FALSE(static_cast<bool>(t));
  EXPECT_NE(llvm::toString(t.takeError()).find(notGGUF), std::string::npos);
}

} // namespace
