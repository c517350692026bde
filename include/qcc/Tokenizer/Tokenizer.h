//===- Tokenizer.h - LLaMA-family tokenizers (SentencePiece BPE and byte-level BPE) -===//
//
// Two algorithms, each a port of llama.cpp's llama-vocab.cpp (commit c392e50) so token ids agree
// with llama.cpp exactly:
//   - "spm": LLaMA-1/2 SentencePiece BPE. Text gets a dummy-prefix space, spaces become U+2581,
//     then adjacent symbols are merged by highest piece score; leftovers fall back to <0xXX>.
//   - "bpe": LLaMA-3 byte-level BPE. A pre-tokenizer regex splits the text, then adjacent byte
//     strings are merged by lowest rank.
// Every loader (llama2.c tokenizer.bin, SentencePiece tokenizer.model, tiktoken, GGUF) fills the
// same Vocab, so one vocabulary read from different files tokenizes identically.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_TOKENIZER_TOKENIZER_H
#define QCC_TOKENIZER_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qcc {

namespace gguf {
class Reader;
class Writer;
} // namespace gguf

/// Token kinds, numbered as GGUF's tokenizer.ggml.token_type and SentencePiece's
/// ModelProto.SentencePiece.Type.
enum class TokenType : uint8_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

enum class TokenizerKind : uint8_t { SPM, BPE };

/// One vocabulary, whatever file it came from.
///
/// Piece text conventions: for SPM, pieces are SentencePiece text (spaces spelled U+2581, byte
/// tokens spelled "<0xXX>"). For BPE, Normal pieces hold the raw token bytes (GGUF's GPT-2
/// byte-to-unicode spelling is undone at load time); Control/UserDefined/Unknown pieces hold their
/// literal text ("<|eot_id|>").
struct Vocab {
  TokenizerKind kind = TokenizerKind::SPM;
  std::vector<std::string> pieces;
  std::vector<float> scores;  ///< SPM merge priority (higher merges first); 0 for BPE.
  std::vector<TokenType> types;
  /// Piece text -> id, over all tokens; on duplicate text the lowest id wins.
  llvm::StringMap<int32_t> pieceToId;

  int32_t bosId = -1;
  int32_t eosId = -1;
  int32_t eotId = -1;
  int32_t unkId = -1;
  bool addBos = true;
  bool addEos = false;
  bool addSpacePrefix = true;  ///< SPM dummy prefix (and its removal when decoding).

  /// BPE merge ranks. With `ranksFromConcat` (tiktoken) the rank of a pair is the id of its
  /// concatenation if that is a Normal token; otherwise pairRanks (GGUF merges) holds the rank
  /// under pairKey(left, right).
  bool ranksFromConcat = false;
  llvm::StringMap<int32_t> pairRanks;
  /// BPE pre-tokenizer name (tokenizer.ggml.pre); only "llama-bpe" style is supported.
  std::string preTokenizer;

  int32_t size() const { return static_cast<int32_t>(pieces.size()); }
  /// Appends a token; keeps pieceToId in step.
  void add(std::string piece, float score, TokenType type);
  /// Rebuilds pieceToId from pieces (after pieces were edited in place).
  void rebuildIndex();
  int32_t find(llvm::StringRef piece) const;
  static std::string pairKey(llvm::StringRef left, llvm::StringRef right);
};

class Tokenizer {
public:
  virtual ~Tokenizer();

  /// addBos/addEos: prepend/append BOS/EOS. parseSpecial: recognise the text of Control tokens
  /// (e.g. "<|eot_id|>", "<s>") in the input as those tokens; UserDefined tokens are always
  /// recognised, as in llama.cpp.
  virtual std::vector<int32_t> encode(llvm::StringRef text, bool addBos, bool addEos = false,
                                      bool parseSpecial = false) const;
  /// Concatenated token text: Control and Unknown tokens render as nothing, SPM U+2581 becomes a
  /// space and byte tokens become their byte. With a dummy prefix, the leading U+2581 of the
  /// first piece written is dropped, once, as SentencePiece's Decode does, so
  /// decode(encode(x)) == x. Out-of-range ids are skipped.
  virtual std::string decode(llvm::ArrayRef<int32_t> ids) const;
  /// Display text of one token as llama.cpp's token_to_piece(special=true) gives it: SPM U+2581
  /// as space, a byte token as its single byte, BPE as raw bytes, special tokens as their text.
  /// Empty for out-of-range ids.
  virtual std::string tokenToPiece(int32_t id) const;

  int32_t vocabSize() const { return vocab_.size(); }
  int32_t bosId() const { return vocab_.bosId; }
  int32_t eosId() const { return vocab_.eosId; }
  /// End-of-turn id (LLaMA-3 "<|eot_id|>"); -1 when the vocabulary has none.
  int32_t eotId() const { return vocab_.eotId; }
  int32_t unkId() const { return vocab_.unkId; }
  bool addBosByDefault() const { return vocab_.addBos; }
  bool addEosByDefault() const { return vocab_.addEos; }
  /// True for ids that end generation (EOS, EOT).
  bool isEndOfGeneration(int32_t id) const;
  /// "spm" or "bpe".
  llvm::StringRef kind() const;
  const Vocab &vocab() const { return vocab_; }

  /// llama2.c tokenizer.bin. vocabSize > 0 demands exactly that many entries; <= 0 reads to EOF.
  static llvm::Expected<std::unique_ptr<Tokenizer>> fromLlama2c(llvm::StringRef tokenizerBin,
                                                                int32_t vocabSize);
  /// LLaMA-1/2 SentencePiece tokenizer.model (protobuf ModelProto).
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromSentencePieceModel(llvm::StringRef tokenizerModel);
  /// LLaMA-3 tiktoken file (lines "base64(bytes) rank"); adds Meta's 256 special tokens.
  static llvm::Expected<std::unique_ptr<Tokenizer>> fromTiktoken(llvm::StringRef tokenizerModel);
  /// tokenizer.ggml.* keys; model "llama" (SPM) or "gpt2" (BPE).
  static llvm::Expected<std::unique_ptr<Tokenizer>> fromGGUF(const gguf::Reader &file);
  /// kind: "gguf", "llama2c", "sentencepiece" or "tiktoken". vocabSizeHint > 0 must equal the
  /// loaded vocabulary size (it is also the entry count for llama2c).
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  load(llvm::StringRef path, llvm::StringRef kind, int32_t vocabSizeHint);
  /// Builds the tokenizer matching vocab.kind; `source` names the file in errors.
  static llvm::Expected<std::unique_ptr<Tokenizer>> fromVocab(Vocab vocab,
                                                              llvm::StringRef source);

  /// Writes llama.cpp's tokenizer.ggml.* keys for this vocabulary: SPM as model "llama" (pieces,
  /// scores, types); BPE as model "gpt2" the way llama.cpp's convert_hf_to_gguf writes LLaMA-3
  /// (tokens and merges in GPT-2's byte-to-unicode alphabet, special tokens as their text, token
  /// types, tokenizer.ggml.pre). A tiktoken vocabulary has no merges list: it is rebuilt as
  /// transformers' TikTokenConverter does (for each token in rank order, every split into two
  /// ranked tokens), which fromGGUF reads back into the same tokenization.
  llvm::Error writeGGUFKeys(gguf::Writer &w) const;
  /// Whether writeGGUFKeys can write this vocabulary; cheap, so that a tool writing a GGUF can
  /// refuse before doing its work rather than after.
  llvm::Error checkGGUFWritable() const;

protected:
  explicit Tokenizer(Vocab vocab);
  /// Tokenizes a run of plain text (no special tokens in it). `afterSpecial` is true at the start
  /// of the input and after each special token (SPM adds its dummy prefix there).
  virtual void encodeFragment(llvm::StringRef text, bool afterSpecial,
                              std::vector<int32_t> &out) const = 0;

  Vocab vocab_;
  /// Control/UserDefined/Unknown ids, longest text first (llama.cpp's cache_special_tokens).
  std::vector<int32_t> specialTokens_;
};

} // namespace qcc

#endif // QCC_TOKENIZER_TOKENIZER_H
