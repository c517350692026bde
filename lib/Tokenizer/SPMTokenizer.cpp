//===- SPMTokenizer.cpp - SentencePiece BPE as llama.cpp's llm_tokenizer_spm --===//
//
// Port of llama.cpp's llm_tokenizer_spm_session (llama-vocab.cpp @ c392e50). llama2.c's run.c
// encoder (dummy prefix, then greedy highest-score merges, byte fallback +3) computes the same
// thing, so tokenizer.bin, tokenizer.model and GGUF "llama" vocabularies all come through here.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "llvm/ADT/StringMap.h"

#include <queue>

using namespace llvm;

namespace qcc::tok {
namespace {

/// A run of the escaped text; merged-away symbols keep n == 0.
struct Symbol {
  int prev;
  int next;
  const char *text;
  size_t n;
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;
};

/// Highest score first; on equal scores the leftmost pair (llm_bigram_spm::comparator).
struct BigramOrder {
  bool operator()(const Bigram &l, const Bigram &r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

class SPMSession {
public:
  explicit SPMSession(const Vocab &vocab) : vocab_(vocab) {}

  void tokenize(StringRef text, std::vector<int32_t> &out) {
    // Split into UTF-8 characters (by lead byte, clamped at the end like llama.cpp).
    for (size_t offs = 0; offs < text.size();) {
      size_t n = std::min(utf8SequenceLength(text[offs]), text.size() - offs);
      int index = static_cast<int>(symbols_.size());
      symbols_.push_back({index - 1, offs + n == text.size() ? -1 : index + 1,
                          text.data() + offs, n});
      offs += n;
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i)
      tryAddBigram(i - 1, i);

    while (!queue_.empty()) {
      Bigram bigram = queue_.top();
      queue_.pop();
      Symbol &left = symbols_[bigram.left];
      Symbol &right = symbols_[bigram.right];
      // Stale entry: one side was merged away or grew since the pair was queued.
      if (left.n == 0 || right.n == 0 || left.n + right.n != bigram.size)
        continue;
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0)
        symbols_[right.next].prev = bigram.left;
      tryAddBigram(left.prev, bigram.left);
      tryAddBigram(bigram.left, left.next);
    }

    if (symbols_.empty())
      return;
    for (int i = 0; i != -1; i = symbols_[i].next)
      resegment(symbols_[i], out, /*depth=*/0);
  }

private:
  void tryAddBigram(int left, int right) {
    if (left == -1 || right == -1)
      return;
    StringRef text(symbols_[left].text, symbols_[left].n + symbols_[right].n);
    int32_t id = vocab_.find(text);
    if (id < 0)
      return;
    queue_.push({left, right, vocab_.scores[id], text.size()});
    revMerge_.insert_or_assign(text, std::make_pair(left, right));
  }

  void resegment(const Symbol &symbol, std::vector<int32_t> &out, int depth) {
    StringRef text(symbol.text, symbol.n);
    int32_t id = vocab_.find(text);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    auto it = revMerge_.find(text);
    // The depth bound only guards against a malformed vocabulary; llama.cpp recurses freely.
    if (it == revMerge_.end() || depth > 64) {
      for (char c : text)
        pushByte(static_cast<uint8_t>(c), out);
      return;
    }
    resegment(symbols_[it->second.first], out, depth + 1);
    resegment(symbols_[it->second.second], out, depth + 1);
  }

  /// llama.cpp's byte_to_token: "<0xXX>", else the byte as a one-character piece, else <unk>.
  void pushByte(uint8_t byte, std::vector<int32_t> &out) const {
    static const char kHex[] = "0123456789ABCDEF";
    const char spelled[6] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
    int32_t id = vocab_.find(StringRef(spelled, 6));
    if (id < 0) {
      char raw = static_cast<char>(byte);
      id = vocab_.find(StringRef(&raw, 1));
    }
    if (id < 0)
      id = vocab_.unkId;
    if (id >= 0)
      out.push_back(id);
  }

  const Vocab &vocab_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
  StringMap<std::pair<int, int>> revMerge_;
};

class SPMTokenizer final : public Tokenizer {
public:
  explicit SPMTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {}

protected:
  void encodeFragment(StringRef text, bool afterSpecial,
                      std::vector<int32_t> &out) const override {
    // The dummy prefix goes before the first fragment and after every special token.
    std::string prefixed;
    if (vocab_.addSpacePrefix && afterSpecial)
      prefixed = " ";
    prefixed += text;
    std::string escaped = replaceAll(prefixed, " ", kSpaceSymbol);
    SPMSession(vocab_).tokenize(escaped, out);
  }
};

} // namespace

std::unique_ptr<Tokenizer> makeSPMTokenizer(Vocab vocab) {
  return std::make_unique<SPMTokenizer>(std::move(vocab));
}

} // namespace qcc::tok
