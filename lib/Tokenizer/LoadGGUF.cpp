//===- LoadGGUF.cpp - tokenizer.ggml.* metadata -> vocabulary -------------===//
//
// Follows llama.cpp's llama_vocab::impl::load (llama-vocab.cpp @ c392e50): model "llama" is SPM
// (defaults bos 1, eos 2, unk 0, add_bos true, add_space_prefix true); model "gpt2" is byte-level
// BPE whose tokens and merges are spelled in GPT-2's byte-to-unicode alphabet, which we decode to
// raw bytes so the BPE core is shared with tiktoken. Unlike llama.cpp, a special-token id outside
// the vocabulary is an error rather than a warning.
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Import/GGUF.h"
#include "qcc/Support/MappedFile.h"

using namespace llvm;

namespace qcc {

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromGGUF(const gguf::Reader &file) {
  StringRef path = file.path();
  std::optional<std::string> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return fileError(path, "no tokenizer.ggml.model key (the file has no tokenizer)");

  Vocab vocab;
  if (*model == "llama") {
    vocab.kind = TokenizerKind::SPM;
    vocab.bosId = 1;
    vocab.eosId = 2;
    vocab.unkId = 0;
    vocab.addBos = true;
    vocab.addSpacePrefix = true;
  } else if (*model == "gpt2") {
    vocab.kind = TokenizerKind::BPE;
    vocab.addBos = false;
    vocab.addSpacePrefix = false;
    vocab.preTokenizer = file.getString("tokenizer.ggml.pre").value_or("default");
    // llama.cpp turns add_bos on for the LLaMA-3 pre-tokenizer before reading add_bos_token.
    StringRef pre = vocab.preTokenizer;
    if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "falcon3")
      vocab.addBos = true;
  } else {
    return fileError(path, "unsupported tokenizer.ggml.model '" + *model +
                               "' (supported: llama, gpt2)");
  }

  const gguf::Value *tokens = file.get("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != gguf::ValueType::Array ||
      tokens->arrayType != gguf::ValueType::String)
    return fileError(path, "tokenizer.ggml.tokens is missing or not a string array");
  size_t n = tokens->strings.size();
  if (n == 0 || n > static_cast<size_t>(INT32_MAX))
    return fileError(path, "tokenizer.ggml.tokens has " + Twine(n) + " entries");

  const gguf::Value *scores = file.get("tokenizer.ggml.scores");
  if (scores && scores->floats.size() != n)
    return fileError(path, "tokenizer.ggml.scores has " + Twine(scores->floats.size()) +
                               " entries for " + Twine(n) + " tokens");
  const gguf::Value *types = file.get("tokenizer.ggml.token_type");
  if (types && types->ints.size() != n)
    return fileError(path, "tokenizer.ggml.token_type has " + Twine(types->ints.size()) +
                               " entries for " + Twine(n) + " tokens");

  vocab.pieces.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TokenType type = TokenType::Normal;
    if (types) {
      int64_t t = types->ints[i];
      // llama.cpp maps unknown type numbers to "undefined", which behaves like unused.
      type = t >= 1 && t <= 6 ? static_cast<TokenType>(t) : TokenType::Unused;
    }
    std::string piece = tokens->strings[i];
    if (piece.empty())  // llama.cpp's placeholder, so such a token can never match text
      piece = "[EMPTY_" + std::to_string(i) + "]";
    bool literal =
        type == TokenType::Control || type == TokenType::UserDefined || type == TokenType::Unknown;
    if (vocab.kind == TokenizerKind::BPE && !literal)
      piece = tok::gpt2TextToBytes(piece);
    vocab.add(std::move(piece), scores ? static_cast<float>(scores->floats[i]) : 0.0f, type);
  }

  if (vocab.kind == TokenizerKind::BPE) {
    const gguf::Value *merges = file.get("tokenizer.ggml.merges");
    if (!merges || merges->arrayType != gguf::ValueType::String)
      return fileError(path, "gpt2 tokenizer without a tokenizer.ggml.merges string array");
    for (size_t rank = 0; rank < merges->strings.size(); ++rank) {
      StringRef merge = merges->strings[rank];
      size_t space = merge.find(' ', 1);  // the left side may itself be a space
      if (space == StringRef::npos)
        return fileError(path, "tokenizer.ggml.merges[" + Twine(rank) + "] '" + merge +
                                   "' is not 'left right'");
      std::string left = tok::gpt2TextToBytes(merge.take_front(space));
      std::string right = tok::gpt2TextToBytes(merge.drop_front(space + 1));
      vocab.pairRanks.try_emplace(Vocab::pairKey(left, right), static_cast<int32_t>(rank));
    }
  }

  auto readId = [&](StringRef key, int32_t &id) -> Error {
    std::optional<int64_t> v = file.getInt(key);
    if (!v)
      return Error::success();
    if (*v < 0 || *v >= static_cast<int64_t>(n))
      return fileError(path, key + " = " + Twine(*v) + " is outside the vocabulary of " +
                                 Twine(n) + " tokens");
    id = static_cast<int32_t>(*v);
    return Error::success();
  };
  if (Error err = readId("tokenizer.ggml.bos_token_id", vocab.bosId))
    return std::move(err);
  if (Error err = readId("tokenizer.ggml.eos_token_id", vocab.eosId))
    return std::move(err);
  if (Error err = readId("tokenizer.ggml.unknown_token_id", vocab.unkId))
    return std::move(err);
  if (Error err = readId("tokenizer.ggml.eot_token_id", vocab.eotId))
    return std::move(err);
  if (vocab.eotId < 0)  // llama.cpp finds EOT by its text when the key is absent
    for (StringRef text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"})
      if (int32_t id = vocab.find(text); id >= 0) {
        vocab.eotId = id;
        vocab.types[id] = TokenType::Control;
        break;
      }
  if (std::optional<bool> b = file.getBool("tokenizer.ggml.add_bos_token"))
    vocab.addBos = *b;
  if (std::optional<bool> b = file.getBool("tokenizer.ggml.add_eos_token"))
    vocab.addEos = *b;
  if (std::optional<bool> b = file.getBool("tokenizer.ggml.add_space_prefix"))
    vocab.addSpacePrefix = *b;

  return fromVocab(std::move(vocab), path);
}

Expected<std::unique_ptr<Tokenizer>> tok::loadGGUFTokenizer(StringRef path) {
  auto reader = gguf::Reader::open(path);
  if (!reader)
    return reader.takeError();
  return Tokenizer::fromGGUF(**reader);
}

} // namespace qcc
