//===- LoadLlama2c.cpp - llama2.c tokenizer.bin -> SPM vocabulary ---------===//
//
// Format (llama2.c tokenizer.py export, read by run.c build_tokenizer): int32 max_token_length,
// then per token: float32 score, int32 byte length, the bytes. There is no token count; run.c
// takes it from the model header. Pieces use a real space where SentencePiece has U+2581, BOS/EOS
// are spelled "\n<s>\n"/"\n</s>\n", ids 3..258 are "<0x00>".."<0xFF>", and there are no token
// types. We turn it back into the SentencePiece spelling so it tokenizes exactly like the
// tokenizer.model / GGUF vocabulary it was exported from.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Support/MappedFile.h"

using namespace llvm;

namespace qcc {

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromLlama2c(StringRef tokenizerBin,
                                                            int32_t vocabSize) {
  auto file = MappedFile::open(tokenizerBin);
  if (!file)
    return file.takeError();
  ByteReader in((*file)->data(), (*file)->size(), tokenizerBin);
  auto maxTokenLength = in.read<int32_t>("max_token_length");
  if (!maxTokenLength)
    return maxTokenLength.takeError();
  if (*maxTokenLength <= 0 || *maxTokenLength > (1 << 20))
    return fileError(tokenizerBin, "implausible max_token_length " + Twine(*maxTokenLength) +
                                       " (not a llama2.c tokenizer.bin?)");

  Vocab vocab;
  vocab.kind = TokenizerKind::SPM;
  for (int32_t id = 0; vocabSize > 0 ? id < vocabSize : in.remaining() > 0; ++id) {
    std::string what = "token " + std::to_string(id);
    auto score = in.read<float>(what + " score");
    if (!score)
      return score.takeError();
    auto length = in.read<int32_t>(what + " length");
    if (!length)
      return length.takeError();
    if (*length < 0 || *length > *maxTokenLength)
      return in.error(what, "length " + Twine(*length) + " is outside 0.." +
                                Twine(*maxTokenLength) + " (max_token_length)");
    auto bytes = in.readBytes(static_cast<uint64_t>(*length), what + " text");
    if (!bytes)
      return bytes.takeError();
    vocab.add(std::move(*bytes), *score, TokenType::Normal);
  }
  if (vocabSize > 0 && in.remaining() > 0)
    return fileError(tokenizerBin, "wrong vocab size: " + Twine(in.remaining()) +
                                       " bytes remain after " + Twine(vocabSize) +
                                       " tokens (the file holds more tokens)");
  if (vocab.size() < 3)
    return fileError(tokenizerBin, "only " + Twine(vocab.size()) +
                                       " tokens; expected <unk>, <s>, </s> at least");

  vocab.unkId = 0;
  vocab.bosId = 1;
  vocab.eosId = 2;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    std::string &piece = vocab.pieces[id];
    if (id == vocab.bosId || id == vocab.eosId) {
      piece = StringRef(piece).trim("\n").str();  // "\n<s>\n" -> "<s>"
      vocab.types[id] = TokenType::Control;
    } else if (id == vocab.unkId) {
      vocab.types[id] = TokenType::Unknown;
    } else if (id >= 3 && id < 3 + 256 && tok::parseByteToken(piece) == id - 3) {
      vocab.types[id] = TokenType::Byte;
    } else {
      piece = tok::replaceAll(piece, " ", tok::kSpaceSymbol);
    }
  }
  vocab.rebuildIndex();
  return fromVocab(std::move(vocab), tokenizerBin);
}

} // namespace qcc
