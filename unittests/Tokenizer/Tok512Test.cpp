//===- Tok512Test.cpp - stories260K's 512-token llama2.c vocabulary -------===//
#include "TokenizerTestUtil.h"

#include "llvm/ADT/StringExtras.h"

#include "gtest/gtest.h"

using namespace qcc;
using namespace qcc::test;

namespace {

const Tokenizer *tok512() {
  std::string error;
  const Tokenizer *t =
      cachedTokenizer(dataPath("models/llama2c/stories260K/tok512.bin"), "llama2c", 512, &error);
  EXPECT_NE(t, nullptr) << error;
  return t;
}

std::string tinyStories() {
  auto text = readFile(dataPath("text/tinystories/tinystories_sample.txt"));
  if (!text) {
    ADD_FAILURE() << llvm::toString(text.takeError());
    return {};
  }
  EXPECT_GT(text->size(), 1000u);
  return std::move(*text);
}

/// llama2.c run.c encode(), transcribed: BOS, the dummy-prefix token, one token per code point
/// (bytes + 3 when the code point is not a token), then repeatedly merge the best-scoring adjacent
/// pair (the first one on ties) whose concatenation is a token. O(n^2); an independent check that
/// the SPM port computes what llama2.c does.
std::vector<int32_t> runCEncode(const Vocab &vocab, llvm::StringRef text) {
  std::vector<int32_t> tokens{1};
  if (text.empty())
    return tokens;
  std::string escaped = " " + text.str();
  std::string spaced;
  for (char c : escaped)
    spaced += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  for (size_t i = 0; i < spaced.size();) {
    size_t n = 1;
    while (i + n < spaced.size() && (static_cast<uint8_t>(spaced[i + n]) & 0xC0) == 0x80 && n < 4)
      ++n;
    int32_t id = vocab.find(llvm::StringRef(spaced).substr(i, n));
    if (id >= 0) {
      tokens.push_back(id);
    } else {
      for (size_t j = 0; j < n; ++j)
        tokens.push_back(static_cast<uint8_t>(spaced[i + j]) + 3);
    }
    i += n;
  }
  while (true) {
    float bestScore = -1e10f;
    int bestId = -1, bestIdx = -1;
    for (size_t i = 1; i + 1 < tokens.size(); ++i) {
      int32_t id = vocab.find(vocab.pieces[tokens[i]] + vocab.pieces[tokens[i + 1]]);
      if (id >= 0 && vocab.scores[id] > bestScore) {
        bestScore = vocab.scores[id];
        bestId = id;
        bestIdx = static_cast<int>(i);
      }
    }
    if (bestIdx == -1)
      break;
    tokens[bestIdx] = bestId;
    tokens.erase(tokens.begin() + bestIdx + 1);
  }
  return tokens;
}

TEST(Tok512, Loads) {
  const Tokenizer *t = tok512();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->vocabSize(), 512);
  EXPECT_EQ(t->kind(), "spm");
  EXPECT_EQ(t->bosId(), 1);
  EXPECT_EQ(t->eosId(), 2);
  EXPECT_EQ(t->tokenToPiece(1), "<s>");
  EXPECT_EQ(t->tokenToPiece(2), "</s>");
  EXPECT_EQ(t->tokenToPiece(3 + 'A'), "A");  // byte token <0x41>
  EXPECT_EQ(t->vocab().types[3 + 0x41], TokenType::Byte);
  EXPECT_EQ(t->tokenToPiece(t->vocab().find("\xE2\x96\x81t")), " t");
  EXPECT_EQ(t->tokenToPiece(-1), "");
  EXPECT_EQ(t->tokenToPiece(512), "");
}

TEST(Tok512, TinyStoriesRoundTrip) {
  const Tokenizer *t = tok512();
  ASSERT_NE(t, nullptr);
  std::string text = tinyStories();
  std::vector<int32_t> ids = t->encode(text, /*addBos=*/true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 1);
  EXPECT_LT(ids.size(), text.size() / 2);  // it compresses
  for (int32_t id : ids)
    ASSERT_TRUE(id >= 0 && id < 512);
  EXPECT_EQ(t->decode(ids), text);
  // Line by line too: every line starts a fresh dummy prefix.
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n');
  for (llvm::StringRef line : lines)
    EXPECT_EQ(t->decode(t->encode(line, true, true)), line);
}

TEST(Tok512, MatchesLlama2cRunC) {
  const Tokenizer *t = tok512();
  ASSERT_NE(t, nullptr);
  std::string text = tinyStories();
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n');
  for (llvm::StringRef line : lines)
    EXPECT_EQ(t->encode(line, true), runCEncode(t->vocab(), line)) << "line '" << line.str() << "'";
  for (llvm::StringRef s : {"Hello world", "  two  spaces ", "caf\xC3\xA9 \xF0\x9F\xA6\x99!", "x"})
    EXPECT_EQ(t->encode(s, true), runCEncode(t->vocab(), s)) << "'" << s.str() << "'";
}

TEST(Tok512, ByteFallback) {
  const Tokenizer *t = tok512();
  ASSERT_NE(t, nullptr);
  // U+1F999 (llama) and U+20AC (euro) are not in the 512-token vocabulary: their UTF-8 bytes come
  // out as <0xXX> tokens (id = byte + 3).
  std::string llama = "\xF0\x9F\xA6\x99";
  std::vector<int32_t> ids = t->encode(llama, false);
  std::vector<int32_t> bytes;
  for (char c : llama)
    bytes.push_back(static_cast<uint8_t>(c) + 3);
  ASSERT_GE(ids.size(), bytes.size());
  EXPECT_EQ(std::vector<int32_t>(ids.end() - bytes.size(), ids.end()), bytes);
  EXPECT_EQ(t->decode(ids), llama);

  std::string mixed = "The cost was 5\xE2\x82\xAC, \xF0\x9F\xA6\x99 said.\n\tTab\r\n";
  EXPECT_EQ(t->decode(t->encode(mixed, true, true)), mixed);
  // Invalid UTF-8 survives too.
  std::string invalid = "a\xFF\xC3(b\x80";
  EXPECT_EQ(t->decode(t->encode(invalid, false)), invalid);
}

TEST(Tok512, DummyPrefixAndDecodeSpaces) {
  const Tokenizer *t = tok512();
  ASSERT_NE(t, nullptr);
  // "Once" and " Once" differ only by the extra space, which survives the round trip.
  EXPECT_EQ(t->decode(t->encode("Once", true)), "Once");
  EXPECT_EQ(t->decode(t->encode(" Once", true)), " Once");
  EXPECT_EQ(t->decode(t->encode("  ", false)), "  ");
  EXPECT_NE(t->encode("Once", false), t->encode(" Once", false));
  // The first piece carries the dummy prefix: "▁Once"-style.
  std::vector<int32_t> ids = t->encode("the", false);
  ASSERT_FALSE(ids.empty());
  EXPECT_TRUE(llvm::StringRef(t->vocab().pieces[ids[0]]).starts_with("\xE2\x96\x81"));
}

} // namespace

// Long runs stress the BPE pre-tokenizer regex (backtracking in \s+(?!\S)) and SPM merging.
TEST(LongInput, RunsOfOneCharacter) {
  std::string error;
  const Tokenizer *bpe = cachedTokenizer(dataPath("models/tokenizers/llama3/tokenizer.model"),
                                         "tiktoken", 128256, &error);
  ASSERT_NE(bpe, nullptr) << error;
  const Tokenizer *spm = tok512();
  ASSERT_NE(spm, nullptr);
  for (const char *unit : {" ", "\n", "a", "7", "!", " \n"}) {
    std::string text;
    for (int i = 0; i < 200000; ++i)
      text += unit;
    text += "end";
    EXPECT_EQ(bpe->decode(bpe->encode(text, true)), text) << "unit '" << unit << "'";
    EXPECT_EQ(spm->decode(spm->encode(text, true)), text) << "unit '" << unit << "'";
  }
}
