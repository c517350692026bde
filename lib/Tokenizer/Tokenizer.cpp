//===- Tokenizer.cpp - vocabulary, special-token partitioning, decoding ---===//
#include "TokenizerImpl.h"

#include "qcc/Support/MappedFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ConvertUTF.h"

#include <algorithm>

using namespace llvm;

namespace qcc {

//===----------------------------------------------------------------------===//
// Vocab
//===----------------------------------------------------------------------===//

void Vocab::add(std::string piece, float score, TokenType type) {
  int32_t id = size();
  pieceToId.try_emplace(piece, id);
  pieces.push_back(std::move(piece));
  scores.push_back(score);
  types.push_back(type);
}

void Vocab::rebuildIndex() {
  pieceToId.clear();
  for (int32_t id = 0, n = size(); id < n; ++id)
    pieceToId.try_emplace(pieces[id], id);
}

int32_t Vocab::find(StringRef piece) const {
  auto it = pieceToId.find(piece);
  return it == pieceToId.end() ? -1 : it->second;
}

// Byte strings may hold any value, so the pair is keyed by the left length, then both sides.
std::string Vocab::pairKey(StringRef left, StringRef right) {
  std::string key;
  key.reserve(4 + left.size() + right.size());
  uint32_t n = static_cast<uint32_t>(left.size());
  key.append(reinterpret_cast<const char *>(&n), sizeof(n));
  key += left;
  key += right;
  return key;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace tok {

std::string replaceAll(StringRef text, StringRef from, StringRef to) {
  std::string out;
  out.reserve(text.size());
  while (true) {
    size_t pos = text.find(from);
    if (pos == StringRef::npos)
      break;
    out += text.take_front(pos);
    out += to;
    text = text.drop_front(pos + from.size());
  }
  out += text;
  return out;
}

int parseByteToken(StringRef piece) {
  if (piece.size() != 6 || !piece.starts_with("<0x") || !piece.ends_with(">"))
    return -1;
  unsigned value = 0;
  if (piece.substr(3, 2).getAsInteger(16, value))
    return -1;
  return static_cast<int>(value);
}

// GPT-2 (and tiktoken-derived HF vocabularies) spell byte b as code point b when b is a printable
// Latin-1 character (0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF) and as 0x100 + k for the k-th other byte.
static const std::vector<int> &gpt2CodePointToByte() {
  static const std::vector<int> table = [] {
    std::vector<int> t(0x200, -1);
    int next = 0x100;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      t[printable ? b : next++] = b;
    }
    return t;
  }();
  return table;
}

std::string gpt2TextToBytes(StringRef text) {
  const std::vector<int> &table = gpt2CodePointToByte();
  std::string out;
  out.reserve(text.size());
  const auto *p = reinterpret_cast<const UTF8 *>(text.begin());
  const auto *end = reinterpret_cast<const UTF8 *>(text.end());
  while (p < end) {
    UTF32 cp = 0;
    const UTF8 *start = p;
    if (convertUTF8Sequence(&p, end, &cp, strictConversion) != conversionOK) {
      out += static_cast<char>(*start);  // not UTF-8 at all: keep the byte
      p = start + 1;
      continue;
    }
    if (cp < table.size() && table[cp] >= 0)
      out += static_cast<char>(table[cp]);
    else
      out.append(reinterpret_cast<const char *>(start), p - start);
  }
  return out;
}

std::string bytesToGpt2Text(StringRef bytes) {
  static const std::vector<std::string> spelling = [] {
    const std::vector<int> &table = gpt2CodePointToByte();
    std::vector<std::string> t(256);
    for (size_t cp = 0; cp < table.size(); ++cp)
      if (table[cp] >= 0) {
        std::string &utf8 = t[size_t(table[cp])];
        if (cp < 0x80) {
          utf8 += char(cp);
        } else { // the table stops below 0x800: two bytes
          utf8 += char(0xC0 | (cp >> 6));
          utf8 += char(0x80 | (cp & 0x3F));
        }
      }
    return t;
  }();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes)
    out += spelling[uint8_t(c)];
  return out;
}

} // namespace tok

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  // llama.cpp's cache_special_tokens: every Control/UserDefined/Unknown token, longest text first
  // so that "<|reserved_special_token_10|>" is cut out before "<|reserved_special_token_1|>".
  for (int32_t id = 0, n = vocab_.size(); id < n; ++id) {
    TokenType t = vocab_.types[id];
    if ((t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) &&
        !vocab_.pieces[id].empty())
      specialTokens_.push_back(id);
  }
  std::sort(specialTokens_.begin(), specialTokens_.end(), [&](int32_t a, int32_t b) {
    size_t la = vocab_.pieces[a].size(), lb = vocab_.pieces[b].size();
    return la != lb ? la > lb : a < b;
  });
}

Tokenizer::~Tokenizer() = default;

StringRef Tokenizer::kind() const { return vocab_.kind == TokenizerKind::SPM ? "spm" : "bpe"; }

bool Tokenizer::isEndOfGeneration(int32_t id) const {
  return id >= 0 && (id == vocab_.eosId || id == vocab_.eotId);
}

namespace {
/// A run of input text, or a special token cut out of it (id >= 0).
struct Fragment {
  int32_t id = -1;
  StringRef text;
};
} // namespace

std::vector<int32_t> Tokenizer::encode(StringRef text, bool addBos, bool addEos,
                                       bool parseSpecial) const {
  // llama.cpp's tokenizer_st_partition: for each special token (longest first), cut every
  // occurrence out of the text fragments that are left. Control and Unknown tokens only take
  // part with parseSpecial; UserDefined ones always do.
  std::vector<Fragment> fragments;
  if (!text.empty())
    fragments.push_back({-1, text});
  for (int32_t special : specialTokens_) {
    if (!parseSpecial && vocab_.types[special] != TokenType::UserDefined)
      continue;
    StringRef needle = vocab_.pieces[special];
    std::vector<Fragment> next;
    next.reserve(fragments.size());
    for (const Fragment &f : fragments) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      StringRef rest = f.text;
      for (size_t pos = rest.find(needle); pos != StringRef::npos; pos = rest.find(needle)) {
        if (pos > 0)
          next.push_back({-1, rest.take_front(pos)});
        next.push_back({special, StringRef()});
        rest = rest.drop_front(pos + needle.size());
      }
      if (!rest.empty())
        next.push_back({-1, rest});
    }
    fragments = std::move(next);
  }

  std::vector<int32_t> out;
  if (addBos && vocab_.bosId >= 0)
    out.push_back(vocab_.bosId);
  bool afterSpecial = true;  // the start of the input counts as "after a special token"
  for (const Fragment &f : fragments) {
    if (f.id >= 0) {
      out.push_back(f.id);
      afterSpecial = true;
    } else {
      encodeFragment(f.text, afterSpecial, out);
      afterSpecial = false;
    }
  }
  if (addEos && vocab_.eosId >= 0)
    out.push_back(vocab_.eosId);
  return out;
}

std::string Tokenizer::tokenToPiece(int32_t id) const {
  if (id < 0 || id >= vocab_.size())
    return {};
  const std::string &piece = vocab_.pieces[id];
  switch (vocab_.types[id]) {
  case TokenType::Control:
  case TokenType::Unknown:
  case TokenType::UserDefined:
    return piece;
  case TokenType::Normal:
    return vocab_.kind == TokenizerKind::SPM ? tok::replaceAll(piece, tok::kSpaceSymbol, " ")
                                             : piece;
  case TokenType::Byte:
    if (vocab_.kind == TokenizerKind::SPM) {
      int byte = tok::parseByteToken(piece);
      return byte < 0 ? std::string() : std::string(1, static_cast<char>(byte));
    }
    return {};
  case TokenType::Unused:
    return {};
  }
  return {};
}

std::string Tokenizer::decode(ArrayRef<int32_t> ids) const {
  // SentencePiece's Decode (sentencepiece_processor.cc): control and unknown tokens are invisible
  // here, and the first piece that starts with U+2581 before any text has been written loses it
  // (the dummy prefix), once. Byte tokens neither consume nor end that expectation by themselves,
  // but the text they write does.
  std::string out;
  bool expectPrefix = vocab_.kind == TokenizerKind::SPM && vocab_.addSpacePrefix;
  bool prefixSeen = false;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_.size())
      continue;
    TokenType type = vocab_.types[id];
    if (type == TokenType::Byte) {
      out += tokenToPiece(id);
      continue;
    }
    if (prefixSeen || !out.empty())
      expectPrefix = false;
    prefixSeen = false;
    if (type == TokenType::Control || type == TokenType::Unknown)
      continue;
    std::string piece = tokenToPiece(id);
    StringRef view = piece;
    if (expectPrefix && (type == TokenType::Normal || type == TokenType::UserDefined) &&
        StringRef(vocab_.pieces[id]).starts_with(tok::kSpaceSymbol)) {
      view = view.drop_front();  // the U+2581 is a single space in `piece`
      prefixSeen = true;
    }
    out += view;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromVocab(Vocab vocab, StringRef source) {
  int32_t n = vocab.size();
  if (n == 0)
    return fileError(source, "tokenizer vocabulary is empty");
  if (vocab.scores.size() != static_cast<size_t>(n) || vocab.types.size() != static_cast<size_t>(n))
    return fileError(source, "tokenizer vocabulary arrays disagree in length");
  for (auto [name, id] : {std::pair<const char *, int32_t>{"BOS", vocab.bosId},
                          {"EOS", vocab.eosId}, {"EOT", vocab.eotId}, {"UNK", vocab.unkId}})
    if (id >= n)
      return fileError(source, Twine(name) + " token id " + Twine(id) +
                                   " is outside the vocabulary of " + Twine(n) + " tokens");
  if (vocab.kind == TokenizerKind::SPM)
    return tok::makeSPMTokenizer(std::move(vocab));
  return tok::makeBPETokenizer(std::move(vocab), source);
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::load(StringRef path, StringRef kind,
                                                     int32_t vocabSizeHint) {
  Expected<std::unique_ptr<Tokenizer>> result = [&]() -> Expected<std::unique_ptr<Tokenizer>> {
    if (kind == "llama2c")
      return fromLlama2c(path, vocabSizeHint);
    if (kind == "sentencepiece")
      return fromSentencePieceModel(path);
    if (kind == "tiktoken")
      return fromTiktoken(path);
    if (kind == "gguf")
      return tok::loadGGUFTokenizer(path);
    return fileError(path, "unknown tokenizer kind '" + kind +
                               "' (expected gguf, llama2c, sentencepiece or tiktoken)");
  }();
  if (!result)
    return result.takeError();
  if (vocabSizeHint > 0 && (*result)->vocabSize() != vocabSizeHint)
    return fileError(path, "wrong vocab size: the tokenizer has " +
                               Twine((*result)->vocabSize()) + " tokens, the model expects " +
                               Twine(vocabSizeHint));
  return result;
}

} // namespace qcc
