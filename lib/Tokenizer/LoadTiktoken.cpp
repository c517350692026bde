//===- LoadTiktoken.cpp - LLaMA-3 tiktoken file -> BPE vocabulary ---------===//
//
// The file holds one "base64(token bytes) rank" line per token, ranks 0..127999; a token's rank is
// its id and its merge priority. The 256 special tokens and the pre-tokenizer regex are not in the
// file: they are defined in Meta's llama3 tokenizer.py, which we follow here.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Support/MappedFile.h"

#include "llvm/Support/Base64.h"

using namespace llvm;

namespace qcc {

/// LLaMA-3 has exactly this many ranked tokens before its special tokens.
static constexpr int32_t kLlama3RankedTokens = 128000;
static constexpr int32_t kLlama3SpecialTokens = 256;

/// Meta's llama3 tokenizer.py: the named specials, then reserved ones filling up to 256.
static std::vector<std::string> llama3SpecialTokens() {
  std::vector<std::string> names = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|reserved_special_token_2|>",
      "<|reserved_special_token_3|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|reserved_special_token_4|>",
      "<|eot_id|>",
  };
  for (int i = 5; names.size() < static_cast<size_t>(kLlama3SpecialTokens); ++i)
    names.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  return names;
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromTiktoken(StringRef tokenizerModel) {
  auto file = MappedFile::open(tokenizerModel);
  if (!file)
    return file.takeError();
  StringRef data(reinterpret_cast<const char *>((*file)->data()), (*file)->size());

  std::vector<std::string> byRank(kLlama3RankedTokens);
  std::vector<bool> seen(kLlama3RankedTokens, false);
  int32_t count = 0;
  size_t lineNo = 0;
  while (!data.empty()) {
    auto [rawLine, rest] = data.split('\n');
    data = rest;
    ++lineNo;
    StringRef line = rawLine.rtrim("\r");
    if (line.trim().empty())
      continue;
    auto bad = [&](const Twine &why) {
      return fileError(tokenizerModel, "line " + Twine(lineNo) + ": " + why);
    };
    auto [encoded, rankText] = line.split(' ');
    if (rankText.empty())
      return bad("expected 'base64 rank', got '" + line.take_front(60) + "'");
    uint32_t rank = 0;
    if (rankText.trim().getAsInteger(10, rank))
      return bad("rank '" + rankText.take_front(20) + "' is not a non-negative integer");
    if (rank >= static_cast<uint32_t>(kLlama3RankedTokens))
      return bad("rank " + Twine(rank) + " is outside 0.." + Twine(kLlama3RankedTokens - 1) +
                 " (not a LLaMA-3 tokenizer.model?)");
    if (seen[rank])
      return bad("rank " + Twine(rank) + " appears twice");
    std::vector<char> bytes;
    if (Error err = decodeBase64(encoded, bytes)) {
      consumeError(std::move(err));
      return bad("bad base64 '" + encoded.take_front(60) + "'");
    }
    if (bytes.empty())
      return bad("empty token");
    byRank[rank].assign(bytes.begin(), bytes.end());
    seen[rank] = true;
    ++count;
  }
  if (count != kLlama3RankedTokens)
    return fileError(tokenizerModel, "wrong vocab size: " + Twine(count) + " ranked tokens, " +
                                         "LLaMA-3 has " + Twine(kLlama3RankedTokens));

  Vocab vocab;
  vocab.kind = TokenizerKind::BPE;
  vocab.pieces.reserve(kLlama3RankedTokens + kLlama3SpecialTokens);
  for (std::string &piece : byRank)
    vocab.add(std::move(piece), 0.0f, TokenType::Normal);
  for (std::string &name : llama3SpecialTokens())
    vocab.add(std::move(name), 0.0f, TokenType::Control);
  vocab.bosId = kLlama3RankedTokens + 0;  // <|begin_of_text|>
  vocab.eosId = kLlama3RankedTokens + 1;  // <|end_of_text|>
  vocab.eotId = kLlama3RankedTokens + 9;  // <|eot_id|>
  vocab.addBos = true;
  vocab.addEos = false;
  vocab.addSpacePrefix = false;
  vocab.ranksFromConcat = true;
  vocab.preTokenizer = "llama-bpe";
  return fromVocab(std::move(vocab), tokenizerModel);
}

} // namespace qcc
