//===- TokenizerImpl.h - shared pieces of the tokenizer library (not installed) -===//
#ifndef QCC_LIB_TOKENIZER_TOKENIZERIMPL_H
#define QCC_LIB_TOKENIZER_TOKENIZERIMPL_H

#include "qcc/Tokenizer/Tokenizer.h"

namespace qcc::tok {

/// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
inline constexpr llvm::StringLiteral kSpaceSymbol("\xE2\x96\x81");

/// Length of the UTF-8 sequence a lead byte announces, from its high nibble, exactly as
/// llama.cpp's unicode_len_utf8: continuation and invalid bytes count as 1, so splitting never
/// stalls and the lengths still sum to the input size (callers clamp at the end).
inline size_t utf8SequenceLength(char leadByte) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[static_cast<uint8_t>(leadByte) >> 4];
}

/// Replaces every occurrence of `from` with `to`.
std::string replaceAll(llvm::StringRef text, llvm::StringRef from, llvm::StringRef to);

/// "<0xAB>" -> 0xAB; -1 when `piece` is not a byte-token spelling.
int parseByteToken(llvm::StringRef piece);

/// GPT-2's byte-to-unicode table, inverted: decodes a GGUF "gpt2" token (each byte spelled as
/// one code point) back to raw bytes. Code points outside the table are kept as UTF-8, which
/// only happens for tokens that were never byte-encoded.
std::string gpt2TextToBytes(llvm::StringRef text);
/// The other way: raw bytes in GPT-2's alphabet (each byte one code point), as GGUF "gpt2"
/// vocabularies spell tokens and merges.
std::string bytesToGpt2Text(llvm::StringRef bytes);

std::unique_ptr<Tokenizer> makeSPMTokenizer(Vocab vocab);
/// Fails when the vocabulary's pre-tokenizer is unknown or its regex does not compile.
llvm::Expected<std::unique_ptr<Tokenizer>> makeBPETokenizer(Vocab vocab, llvm::StringRef source);

/// Opens a GGUF file and builds its tokenizer (kept beside fromGGUF so only LoadGGUF.cpp needs
/// the GGUF reader).
llvm::Expected<std::unique_ptr<Tokenizer>> loadGGUFTokenizer(llvm::StringRef path);

} // namespace qcc::tok

#endif // QCC_LIB_TOKENIZER_TOKENIZERIMPL_H
