//===- ConformanceTest.cpp - llama.cpp tokenizer conformance cases --------===//
//
// The 46 cases of llama.cpp's models/ggml-vocab-llama-{spm,bpe}.gguf.{inp,out} (commit c392e50),
// encoded without BOS and without special-token parsing, as tests/test-tokenizer-0 does. The SPM
// cases must pass with every file that holds the LLaMA-2 vocabulary.
//
//===----------------------------------------------------------------------===//
#include "TokenizerTestUtil.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include "gtest/gtest.h"

#include <cstdio>

using namespace qcc;
using namespace qcc::test;

namespace {

struct Source {
  const char *name;
  const char *path;  ///< relative to the data folder
  const char *kind;
  int32_t vocabSize;
  const char *cases;  ///< conformance file stem, relative to the data folder
};

// gtest prints parameters in failure lines; the name says which file it was.
void PrintTo(const Source &source, std::ostream *os) { *os << source.name; }

const Source kSources[] = {
    {"SpmGGUF", "models/gguf-vocab/ggml-vocab-llama-spm.gguf", "gguf", 32000,
     "models/gguf-vocab/ggml-vocab-llama-spm.gguf"},
    {"SpmSentencePiece", "models/tokenizers/llama2/tokenizer.model", "sentencepiece", 32000,
     "models/gguf-vocab/ggml-vocab-llama-spm.gguf"},
    {"SpmLlama2c", "models/llama2c/tokenizer.bin", "llama2c", 32000,
     "models/gguf-vocab/ggml-vocab-llama-spm.gguf"},
    {"BpeTiktoken", "models/tokenizers/llama3/tokenizer.model", "tiktoken", 128256,
     "models/gguf-vocab/ggml-vocab-llama-bpe.gguf"},
};

class Conformance : public ::testing::TestWithParam<Source> {
protected:
  const Tokenizer *tokenizer() {
    std::string error;
    const Tokenizer *t =
        cachedTokenizer(dataPath(GetParam().path), GetParam().kind, GetParam().vocabSize, &error);
    EXPECT_NE(t, nullptr) << error;
    return t;
  }
  std::vector<ConformanceCase> cases() {
    std::string stem = dataPath(GetParam().cases);
    auto c = readConformanceCases(stem + ".inp", stem + ".out");
    if (!c) {
      ADD_FAILURE() << llvm::toString(c.takeError());
      return {};
    }
    EXPECT_EQ(c->size(), 46u);
    return std::move(*c);
  }
};

TEST_P(Conformance, EncodeMatchesLlamaCpp) {
  const Tokenizer *t = tokenizer();
  ASSERT_NE(t, nullptr);
  std::vector<ConformanceCase> all = cases();
  ASSERT_FALSE(all.empty());
  size_t passed = 0;
  for (const ConformanceCase &c : all) {
    std::vector<int32_t> got = t->encode(c.text, /*addBos=*/false);
    if (got == c.ids)
      ++passed;
    else
      ADD_FAILURE() << "input '" << c.text << "'\n  expected " << idsToString(c.ids)
                    << "\n  got      " << idsToString(got);
  }
  std::printf("[ conformance ] %s: %zu/%zu\n", GetParam().name, passed, all.size());
  EXPECT_EQ(passed, all.size());
}

TEST_P(Conformance, DecodeRoundTrips) {
  const Tokenizer *t = tokenizer();
  ASSERT_NE(t, nullptr);
  for (const ConformanceCase &c : cases()) {
    EXPECT_EQ(t->decode(t->encode(c.text, /*addBos=*/false)), c.text);
    EXPECT_EQ(t->decode(t->encode(c.text, /*addBos=*/true, /*addEos=*/true)), c.text);
    EXPECT_EQ(t->decode(c.ids), c.text);
  }
}

TEST_P(Conformance, BosEosAndSpecialText) {
  const Tokenizer *t = tokenizer();
  ASSERT_NE(t, nullptr);
  std::vector<int32_t> plain = t->encode("Hello world", false);
  std::vector<int32_t> withBos = t->encode("Hello world", true);
  ASSERT_EQ(withBos.size(), plain.size() + 1);
  EXPECT_EQ(withBos.front(), t->bosId());
  std::vector<int32_t> both = t->encode("Hello world", true, true);
  EXPECT_EQ(both.back(), t->eosId());
  EXPECT_EQ(t->encode("", true), std::vector<int32_t>{t->bosId()});
  EXPECT_TRUE(t->encode("", false).empty());
  EXPECT_TRUE(t->addBosByDefault());
  EXPECT_FALSE(t->addEosByDefault());

  // The BOS text is only a token with parseSpecial; otherwise it is ordinary text.
  std::string bosText = t->tokenToPiece(t->bosId());
  std::vector<int32_t> special = t->encode(bosText + "Hello world", false, false, true);
  ASSERT_FALSE(special.empty());
  EXPECT_EQ(special.front(), t->bosId());
  std::vector<int32_t> literal = t->encode(bosText + "Hello world", false);
  for (int32_t id : literal)
    EXPECT_NE(id, t->bosId());
  EXPECT_EQ(t->decode(literal), bosText + "Hello world");
}

// A megabyte of WikiText-2 (CRLF-free, many " \n" lines and unicode) survives a round trip.
TEST_P(Conformance, WikiTextRoundTrip) {
  const Tokenizer *t = tokenizer();
  ASSERT_NE(t, nullptr);
  auto text = readFile(dataPath("text/wikitext-2-raw/wiki.test.raw"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  std::vector<int32_t> ids = t->encode(*text, true);
  EXPECT_GT(ids.size(), text->size() / 8);
  EXPECT_LT(ids.size(), text->size() / 2);
  EXPECT_EQ(t->decode(ids), *text);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Conformance, ::testing::ValuesIn(kSources),
                         [](const ::testing::TestParamInfo<Source> &info) {
                           return std::string(info.param.name);
                         });

// The three LLaMA-2 files hold one vocabulary: after loading they must agree token by token.
TEST(SpmVocab, AllLlama2SourcesAgree) {
  std::string e1, e2, e3;
  const Tokenizer *sp = cachedTokenizer(dataPath("models/tokenizers/llama2/tokenizer.model"),
                                        "sentencepiece", 32000, &e1);
  const Tokenizer *l2c =
      cachedTokenizer(dataPath("models/llama2c/tokenizer.bin"), "llama2c", 32000, &e2);
  const Tokenizer *gg = cachedTokenizer(
      dataPath("models/gguf-vocab/ggml-vocab-llama-spm.gguf"), "gguf", 32000, &e3);
  ASSERT_NE(sp, nullptr) << e1;
  ASSERT_NE(l2c, nullptr) << e2;
  ASSERT_NE(gg, nullptr) << e3;
  for (const Tokenizer *other : {l2c, gg}) {
    EXPECT_EQ(other->kind(), "spm");
    EXPECT_EQ(other->bosId(), 1);
    EXPECT_EQ(other->eosId(), 2);
    EXPECT_EQ(other->unkId(), 0);
    ASSERT_EQ(other->vocabSize(), sp->vocabSize());
    for (int32_t id = 0; id < sp->vocabSize(); ++id) {
      ASSERT_EQ(other->vocab().pieces[id], sp->vocab().pieces[id]) << "id " << id;
      ASSERT_EQ(other->vocab().scores[id], sp->vocab().scores[id]) << "id " << id;
      ASSERT_EQ(other->vocab().types[id], sp->vocab().types[id]) << "id " << id;
    }
  }
  EXPECT_EQ(sp->tokenToPiece(1), "<s>");
  EXPECT_EQ(sp->tokenToPiece(3), std::string(1, '\0'));
  EXPECT_EQ(sp->tokenToPiece(sp->vocab().find("\xE2\x96\x81the")), " the");
}

TEST(BpeVocab, Llama3SpecialTokens) {
  std::string error;
  const Tokenizer *t = cachedTokenizer(dataPath("models/tokenizers/llama3/tokenizer.model"),
                                       "tiktoken", 128256, &error);
  ASSERT_NE(t, nullptr) << error;
  EXPECT_EQ(t->kind(), "bpe");
  EXPECT_EQ(t->vocabSize(), 128256);
  EXPECT_EQ(t->bosId(), 128000);
  EXPECT_EQ(t->eosId(), 128001);
  EXPECT_EQ(t->eotId(), 128009);
  EXPECT_TRUE(t->isEndOfGeneration(128009));
  EXPECT_EQ(t->tokenToPiece(128006), "<|start_header_id|>");
  EXPECT_EQ(t->tokenToPiece(128008), "<|reserved_special_token_4|>");
  EXPECT_EQ(t->tokenToPiece(128010), "<|reserved_special_token_5|>");
  EXPECT_EQ(t->tokenToPiece(128255), "<|reserved_special_token_250|>");

  std::vector<int32_t> chat = t->encode(
      "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true, false, true);
  ASSERT_GE(chat.size(), 6u);
  EXPECT_EQ(chat[0], 128000);
  EXPECT_EQ(chat[1], 128006);
  EXPECT_EQ(chat.back(), 128009);
  // Without parseSpecial the markers are plain text and decode back to themselves.
  std::vector<int32_t> literal = t->encode("<|eot_id|>", false);
  EXPECT_GT(literal.size(), 1u);
  EXPECT_EQ(t->decode(literal), "<|eot_id|>");
  // Control tokens are invisible when decoding.
  EXPECT_EQ(t->decode(chat), "user\n\nHi");
}

/// tiktoken's _byte_pair_merge, quadratic and obvious: merge the lowest-ranked adjacent pair
/// (leftmost on ties) until no adjacent pair concatenates to a token.
std::vector<int32_t> tiktokenReference(const Vocab &vocab, llvm::StringRef piece) {
  if (int32_t id = vocab.find(piece); id >= 0)
    return {id};
  std::vector<std::string> parts;
  for (char c : piece)
    parts.emplace_back(1, c);
  while (parts.size() > 1) {
    int32_t best = -1;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      int32_t rank = vocab.find(parts[i] + parts[i + 1]);
      if (rank >= 0 && (best < 0 || rank < best)) {
        best = rank;
        at = i;
      }
    }
    if (best < 0)
      break;
    parts[at] += parts[at + 1];
    parts.erase(parts.begin() + at + 1);
  }
  std::vector<int32_t> ids;
  for (const std::string &p : parts)
    ids.push_back(vocab.find(p));
  return ids;
}

// Every " word" of letters is one pre-tokenizer piece, so the whole encode is one BPE run.
TEST(BpeVocab, MatchesTiktokenMergeOnWords) {
  std::string error;
  const Tokenizer *t = cachedTokenizer(dataPath("models/tokenizers/llama3/tokenizer.model"),
                                       "tiktoken", 128256, &error);
  ASSERT_NE(t, nullptr) << error;
  auto text = readFile(dataPath("text/wikitext-2-raw/wiki.test.raw"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  llvm::SmallVector<llvm::StringRef> words;
  llvm::StringRef(*text).split(words, ' ', -1, /*KeepEmpty=*/false);
  llvm::StringSet<> seen;
  size_t checked = 0;
  for (llvm::StringRef word : words) {
    if (!llvm::all_of(word, [](char c) { return llvm::isAlpha(c); }) || !seen.insert(word).second)
      continue;
    std::string piece = " " + word.str();
    ASSERT_EQ(t->encode(piece, false), tiktokenReference(t->vocab(), piece)) << piece;
    ++checked;
  }
  EXPECT_GT(checked, 10000u);
}

} // namespace
