//===- WriteGGUF.cpp - tokenizer.ggml.* keys for GGUF output ----------------===//
//
// What llama.cpp's convert scripts write:
//   - SPM: model "llama", the pieces with U+2581 for spaces, scores, token types (GGUF numbering),
//     special ids and the add_* flags;
//   - BPE: model "gpt2" and tokenizer.ggml.pre, tokens spelled in GPT-2's byte-to-unicode alphabet
//     (special tokens as their text), token types, merges "left right" in the same alphabet in
//     rank order, special ids and the add_* flags (no scores). LoadGGUF.cpp reads exactly this.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Import/GGUF.h"

#include <algorithm>
#include <cstring>

using namespace llvm;

namespace qcc {

namespace {

bool isLiteral(TokenType t) {
  return t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
}

/// Merges of a vocabulary, in GPT-2 spelling and rank order.
std::vector<std::string> bpeMerges(const Vocab &v) {
  std::vector<std::string> merges;
  auto add = [&](StringRef left, StringRef right) {
    merges.push_back(tok::bytesToGpt2Text(left) + " " + tok::bytesToGpt2Text(right));
  };
  if (v.ranksFromConcat) {
    // transformers' TikTokenConverter.extract_vocab_merges_from_model (how LLaMA-3's
    // tokenizer.json, hence llama.cpp's GGUF, got its merges): tokens in rank (= id) order; for
    // each, every split into two ranked tokens, ordered by the left then the right rank. A pair
    // then merges at the rank of its concatenation, tiktoken's rule.
    auto ranked = [&](StringRef piece) {
      int32_t id = v.find(piece);
      return id >= 0 && v.types[size_t(id)] == TokenType::Normal ? id : -1;
    };
    std::vector<std::pair<int32_t, int32_t>> splits;
    for (int32_t id = 0; id < v.size(); ++id) {
      StringRef token = v.pieces[size_t(id)];
      if (v.types[size_t(id)] != TokenType::Normal || token.size() < 2)
        continue;
      splits.clear();
      for (size_t i = 1; i < token.size(); ++i) {
        int32_t l = ranked(token.take_front(i)), r = ranked(token.drop_front(i));
        if (l >= 0 && r >= 0)
          splits.push_back({l, r});
      }
      std::sort(splits.begin(), splits.end());
      for (auto [l, r] : splits)
        add(v.pieces[size_t(l)], v.pieces[size_t(r)]);
    }
    return merges;
  }
  // Merges read from a GGUF: pairRanks holds pairKey(left, right) -> rank.
  std::vector<std::pair<int32_t, StringRef>> byRank;
  byRank.reserve(v.pairRanks.size());
  for (const auto &e : v.pairRanks)
    byRank.push_back({e.getValue(), e.getKey()});
  std::sort(byRank.begin(), byRank.end());
  for (auto [rank, key] : byRank) {
    (void)rank;
    uint32_t n = 0;
    std::memcpy(&n, key.data(), sizeof(n));
    StringRef pair = key.drop_front(sizeof(n));
    add(pair.take_front(n), pair.drop_front(n));
  }
  return merges;
}

} // namespace

Error Tokenizer::checkGGUFWritable() const {
  const Vocab &v = vocab_;
  if (v.kind == TokenizerKind::SPM)
    return Error::success();
  if (v.preTokenizer.empty())
    return createStringError(inconvertibleErrorCode(),
                             "cannot write the BPE vocabulary to GGUF: it has no pre-tokenizer "
                             "name (tokenizer.ggml.pre)");
  if (!v.ranksFromConcat && v.pairRanks.empty())
    return createStringError(inconvertibleErrorCode(),
                             "cannot write the BPE vocabulary to GGUF: it has no merge ranks");
  return Error::success();
}

Error Tokenizer::writeGGUFKeys(gguf::Writer &w) const {
  if (Error e = checkGGUFWritable())
    return e;
  const Vocab &v = vocab_;
  const bool bpe = v.kind == TokenizerKind::BPE;
  std::vector<int32_t> types;
  for (TokenType t : v.types)
    types.push_back(int32_t(t));
  if (bpe) {
    w.setString("tokenizer.ggml.model", "gpt2");
    w.setString("tokenizer.ggml.pre", v.preTokenizer);
    std::vector<std::string> tokens;
    tokens.reserve(v.pieces.size());
    for (size_t i = 0; i < v.pieces.size(); ++i)
      tokens.push_back(isLiteral(v.types[i]) ? v.pieces[i] : tok::bytesToGpt2Text(v.pieces[i]));
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setInt32Array("tokenizer.ggml.token_type", types);
    w.setStringArray("tokenizer.ggml.merges", bpeMerges(v));
  } else {
    w.setString("tokenizer.ggml.model", "llama");
    w.setString("tokenizer.ggml.pre", "default");
    w.setStringArray("tokenizer.ggml.tokens", v.pieces);
    w.setFloat32Array("tokenizer.ggml.scores", v.scores);
    w.setInt32Array("tokenizer.ggml.token_type", types);
  }
  if (v.bosId >= 0)
    w.setUInt32("tokenizer.ggml.bos_token_id", uint32_t(v.bosId));
  if (v.eosId >= 0)
    w.setUInt32("tokenizer.ggml.eos_token_id", uint32_t(v.eosId));
  if (v.unkId >= 0)
    w.setUInt32("tokenizer.ggml.unknown_token_id", uint32_t(v.unkId));
  if (bpe && v.eotId >= 0)
    w.setUInt32("tokenizer.ggml.eot_token_id", uint32_t(v.eotId));
  w.setBool("tokenizer.ggml.add_bos_token", v.addBos);
  w.setBool("tokenizer.ggml.add_eos_token", v.addEos);
  if (!bpe)
    w.setBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);
  return Error::success();
}

} // namespace qcc
