//===- ErrorTest.cpp - bad tokenizer files give errors naming file and problem ===//
#include "TokenizerTestUtil.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace qcc;
using namespace qcc::test;

namespace {

/// Expects `loaded` to be an error whose message contains `path` and `problem`.
template <typename T>
void expectError(llvm::Expected<T> loaded, llvm::StringRef path, llvm::StringRef problem) {
  ASSERT_FALSE(static_cast<bool>(loaded)) << "loading " << path.str() << " should fail";
  std::string message = llvm::toString(loaded.takeError());
  EXPECT_NE(message.find(path.str()), std::string::npos) << message;
  EXPECT_NE(message.find(problem.str()), std::string::npos) << message;
}

std::string appendInt(std::string s, int32_t v) {
  s.append(reinterpret_cast<const char *>(&v), 4);
  return s;
}

std::string appendToken(std::string s, float score, llvm::StringRef text) {
  s.append(reinterpret_cast<const char *>(&score), 4);
  s = appendInt(std::move(s), static_cast<int32_t>(text.size()));
  return s + text.str();
}

/// A well-formed tokenizer.bin: <unk>, BOS, EOS, 256 byte tokens, then `extra`.
std::string tinyLlama2cFile(llvm::ArrayRef<const char *> extra) {
  std::string f = appendInt("", 7);
  f = appendToken(f, 0, "<unk>");
  f = appendToken(f, 0, "\n<s>\n");
  f = appendToken(f, 0, "\n</s>\n");
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    f = appendToken(f, 0, buf);
  }
  float score = -1;
  for (const char *piece : extra)
    f = appendToken(f, score--, piece);
  return f;
}

TEST(TokenizerErrors, MissingFile) {
  std::string path = dataPath("models/does-not-exist/tokenizer.bin");
  expectError(Tokenizer::fromLlama2c(path, 512), path, "cannot open");
  expectError(Tokenizer::fromTiktoken(path), path, "cannot open");
  expectError(Tokenizer::fromSentencePieceModel(path), path, "cannot open");
  expectError(Tokenizer::load(path, "gguf", 0), path, "");
  expectError(Tokenizer::load(path, "bogus", 0), path, "unknown tokenizer kind");
}

TEST(TokenizerErrors, Llama2cSyntheticFileWorks) {
  std::string path = writeTempFile("tok-ok", tinyLlama2cFile({" a", "b", " ab"}));
  auto t = Tokenizer::fromLlama2c(path, 262);
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ((*t)->encode("ab", true), (std::vector<int32_t>{1, 261}));
  // Reading to the end of the file when no size is given.
  auto all = Tokenizer::fromLlama2c(path, 0);
  ASSERT_TRUE(static_cast<bool>(all)) << llvm::toString(all.takeError());
  EXPECT_EQ((*all)->vocabSize(), 262);
}

TEST(TokenizerErrors, Llama2cTruncated) {
  std::string good = tinyLlama2cFile({" a", "b"});
  // Cut inside the last token's text, inside its length field and inside the header.
  for (size_t cut : {good.size() - 1, good.size() - 3 - 1, size_t(2)}) {
    std::string path = writeTempFile("tok-trunc", llvm::StringRef(good).take_front(cut));
    expectError(Tokenizer::fromLlama2c(path, 261), path, "truncated");
  }
  // Asking for more tokens than the file holds.
  std::string path = writeTempFile("tok-short", good);
  expectError(Tokenizer::fromLlama2c(path, 300), path, "truncated");
}

TEST(TokenizerErrors, Llama2cCorrupt) {
  std::string good = tinyLlama2cFile({" a"});
  // A negative length on the first token.
  std::string negative = good;
  int32_t bad = -5;
  std::memcpy(&negative[4 + 4], &bad, 4);
  std::string path = writeTempFile("tok-neg", negative);
  expectError(Tokenizer::fromLlama2c(path, 260), path, "length -5");
  // A length beyond max_token_length.
  std::string huge = good;
  int32_t big = 1000;
  std::memcpy(&huge[4 + 4], &big, 4);
  path = writeTempFile("tok-huge", huge);
  expectError(Tokenizer::fromLlama2c(path, 260), path, "max_token_length");
  // A nonsense header.
  std::string header = good;
  int32_t zero = 0;
  std::memcpy(&header[0], &zero, 4);
  path = writeTempFile("tok-hdr", header);
  expectError(Tokenizer::fromLlama2c(path, 260), path, "max_token_length");
  // Wrong vocab size: the file has more tokens than asked for.
  path = writeTempFile("tok-more", good);
  expectError(Tokenizer::fromLlama2c(path, 100), path, "wrong vocab size");
  // Empty file.
  path = writeTempFile("tok-empty", "");
  expectError(Tokenizer::fromLlama2c(path, 512), path, "truncated");
}

TEST(TokenizerErrors, WrongVocabSizeHint) {
  std::string path = dataPath("models/llama2c/stories260K/tok512.bin");
  expectError(Tokenizer::load(path, "llama2c", 32000), path, "truncated");
  std::string sp = dataPath("models/tokenizers/llama2/tokenizer.model");
  expectError(Tokenizer::load(sp, "sentencepiece", 512), sp, "wrong vocab size");
}

TEST(TokenizerErrors, TiktokenBadLines) {
  struct Case {
    const char *text;
    const char *problem;
  };
  const Case cases[] = {
      {"IQ== 0\nIg== 1\n!!!! 2\n", "line 3: bad base64"},
      {"IQ== 0\nIg==\n", "line 2: expected 'base64 rank'"},
      {"IQ== 0\nIg== x\n", "line 2: rank 'x'"},
      {"IQ== 0\nIg== 0\n", "line 2: rank 0 appears twice"},
      {"IQ== 0\nIg== 999999\n", "line 2: rank 999999 is outside"},
      {"IQ== 0\nIg== 1\n", "wrong vocab size: 2 ranked tokens"},
      {"", "wrong vocab size: 0 ranked tokens"},
  };
  for (const Case &c : cases) {
    std::string path = writeTempFile("tiktoken", c.text);
    expectError(Tokenizer::fromTiktoken(path), path, c.problem);
  }
}

TEST(TokenizerErrors, SentencePieceCorrupt) {
  auto model = readFile(dataPath("models/tokenizers/llama2/tokenizer.model"));
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  // Truncated in the middle of the pieces.
  std::string path = writeTempFile("spm-trunc", llvm::StringRef(*model).take_front(1001));
  expectError(Tokenizer::fromSentencePieceModel(path), path, "truncated");
  // Not a protobuf at all.
  path = writeTempFile("spm-text", "this is not a protobuf");
  expectError(Tokenizer::fromSentencePieceModel(path), path, "protobuf");
  // A llama2.c file handed to the SentencePiece loader.
  path = dataPath("models/llama2c/stories260K/tok512.bin");
  expectError(Tokenizer::fromSentencePieceModel(path), path, "");
}

} // namespace
