//===- BPETokenizer.cpp - byte-level BPE as llama.cpp's llm_tokenizer_bpe ----===//
//
// Port of llama.cpp's llm_tokenizer_bpe_session (llama-vocab.cpp @ c392e50) for the LLaMA-3
// pre-tokenizer. llama.cpp works on GPT-2 byte-to-unicode text where every byte is one code point;
// we work on the raw bytes directly, which is the same computation without the detour.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Support/MappedFile.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <queue>

using namespace llvm;

namespace qcc::tok {
namespace {

// LLaMA-3's pre-tokenizer (tokenizer.json / tiktoken pat_str), with the case-insensitive
// contraction group spelled out as llama.cpp does: under PCRE2_UCP, (?i:'s) would also match
// "'ſ" (U+017F folds to s) and "'K" (Kelvin sign), which neither tiktoken nor llama.cpp do.
constexpr const char *kLlama3Pattern =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
    "|\\p{N}{1,3}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)"
    "|\\s+";

/// Pre-tokenizer names (tokenizer.ggml.pre) that llama.cpp maps to LLAMA_VOCAB_PRE_TYPE_LLAMA3.
bool isLlama3PreTokenizer(StringRef name) {
  return name == "llama-bpe" || name == "llama3" || name == "llama-v3" || name == "falcon3";
}

struct CodeDeleter {
  void operator()(pcre2_code *code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data *md) const { pcre2_match_data_free(md); }
};

struct Symbol {
  int prev;
  int next;
  const char *text;
  size_t n;
};

struct Bigram {
  int left;
  int right;
  StringRef text;  ///< Points into the word being merged; compared to detect stale entries.
  int32_t rank;
};

/// Lowest rank first; on equal ranks the leftmost pair (llm_bigram_bpe::comparator).
struct BigramOrder {
  bool operator()(const Bigram &l, const Bigram &r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

class BPETokenizer final : public Tokenizer {
public:
  BPETokenizer(Vocab vocab, pcre2_code *regex) : Tokenizer(std::move(vocab)), regex_(regex) {}

protected:
  void encodeFragment(StringRef text, bool /*afterSpecial*/,
                      std::vector<int32_t> &out) const override {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
        pcre2_match_data_create_from_pattern(regex_.get(), nullptr));
    const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t offset = 0;
    while (offset < text.size()) {
      int rc = pcre2_match(regex_.get(), subject, text.size(), offset, 0, md.get(), nullptr);
      // No match (or a PCRE2 resource limit, not seen even on 200k-character runs): the rest of
      // the text is one word, so nothing is lost and the output still decodes to the input.
      size_t start = text.size(), end = text.size();
      if (rc >= 0) {
        PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(md.get());
        start = ovector[0];
        end = ovector[1];
      }
      // Bytes no alternative matches (only invalid UTF-8, which PCRE2_MATCH_INVALID_UTF skips)
      // become a word of their own, so no input byte is ever dropped.
      if (start > offset)
        encodeWord(text.slice(offset, start), out);
      if (end == start) {  // the pattern cannot match empty; guard against looping anyway
        if (start >= text.size())
          break;
        end = start + std::min(utf8SequenceLength(text[start]), text.size() - start);
      }
      encodeWord(text.slice(start, end), out);
      offset = end;
    }
  }

private:
  int32_t pairRank(StringRef left, StringRef right) const {
    if (vocab_.ranksFromConcat) {
      // tiktoken: a pair merges when its concatenation is a token; its id is its rank.
      std::string joined = (left + right).str();
      int32_t id = vocab_.find(joined);
      return id >= 0 && vocab_.types[id] == TokenType::Normal ? id : -1;
    }
    auto it = vocab_.pairRanks.find(Vocab::pairKey(left, right));
    return it == vocab_.pairRanks.end() ? -1 : it->second;
  }

  void encodeWord(StringRef word, std::vector<int32_t> &out) const {
    if (word.empty())
      return;
    // ignore_merges (LLaMA-3): a word that is already a token is emitted whole.
    if (int32_t id = vocab_.find(word); id >= 0) {
      out.push_back(id);
      return;
    }
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
      int index = static_cast<int>(i);
      symbols.push_back({index - 1, i + 1 == word.size() ? -1 : index + 1, word.data() + i, 1});
    }
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto addBigram = [&](int left, int right) {
      if (left == -1 || right == -1)
        return;
      StringRef l(symbols[left].text, symbols[left].n);
      StringRef r(symbols[right].text, symbols[right].n);
      int32_t rank = pairRank(l, r);
      if (rank >= 0)
        queue.push({left, right, StringRef(l.data(), l.size() + r.size()), rank});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i)
      addBigram(i - 1, i);

    while (!queue.empty()) {
      Bigram bigram = queue.top();
      queue.pop();
      Symbol &left = symbols[bigram.left];
      Symbol &right = symbols[bigram.right];
      if (left.n == 0 || right.n == 0)
        continue;
      // Symbols are contiguous slices of `word`, so the pair is current exactly when the two
      // sides still span the queued text.
      if (left.text != bigram.text.data() || left.n + right.n != bigram.text.size() ||
          right.text != left.text + left.n)
        continue;
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0)
        symbols[right.next].prev = bigram.left;
      addBigram(left.prev, bigram.left);
      addBigram(bigram.left, left.next);
    }

    for (int i = 0; i != -1; i = symbols[i].next) {
      StringRef piece(symbols[i].text, symbols[i].n);
      if (int32_t id = vocab_.find(piece); id >= 0) {
        out.push_back(id);
        continue;
      }
      for (char c : piece)  // unmergeable remainder: one token per byte where one exists
        if (int32_t id = vocab_.find(StringRef(&c, 1)); id >= 0)
          out.push_back(id);
    }
  }

  std::unique_ptr<pcre2_code, CodeDeleter> regex_;
};

} // namespace

Expected<std::unique_ptr<Tokenizer>> makeBPETokenizer(Vocab vocab, StringRef source) {
  if (!isLlama3PreTokenizer(vocab.preTokenizer))
    return fileError(source, "unsupported BPE pre-tokenizer '" + vocab.preTokenizer +
                                 "' (supported: llama-bpe, llama3, llama-v3, falcon3)");
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  pcre2_code *regex = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kLlama3Pattern),
                                    PCRE2_ZERO_TERMINATED,
                                    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &errorCode,
                                    &errorOffset, nullptr);
  if (!regex) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(errorCode, message, sizeof(message));
    return fileError(source, "cannot compile the pre-tokenizer regex at offset " +
                                 Twine(errorOffset) + ": " +
                                 reinterpret_cast<const char *>(message));
  }
  // JIT is an optimisation only: without it (unsupported CPU or build) matching is interpreted.
  (void)pcre2_jit_compile(regex, PCRE2_JIT_COMPLETE);
  return std::make_unique<BPETokenizer>(std::move(vocab), regex);
}

} // namespace qcc::tok
