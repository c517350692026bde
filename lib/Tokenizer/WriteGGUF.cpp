//===- WriteGGUF.cpp - tokenizer.ggml.* keys for GGUF output ----------------===//
//
// What llama.cpp's convert scripts write for an SPM vocabulary: model "llama", the pieces with
// U+2581 for spaces, scores, token types (GGUF numbering), special ids and the add_* flags.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/GGUF.h"
#include "qcc/Tokenizer/Tokenizer.h"

using namespace llvm;

namespace qcc {

Error Tokenizer::writeGGUFKeys(gguf::Writer &w) const {
  const Vocab &v = vocab_;
  if (v.kind != TokenizerKind::SPM)
    return createStringError(inconvertibleErrorCode(),
                             "writing a BPE vocabulary to GGUF is not supported yet");
  w.setString("tokenizer.ggml.model", "llama");
  w.setString("tokenizer.ggml.pre", "default");
  w.setStringArray("tokenizer.ggml.tokens", v.pieces);
  w.setFloat32Array("tokenizer.ggml.scores", v.scores);
  std::vector<int32_t> types;
  for (TokenType t : v.types)
    types.push_back(int32_t(t));
  w.setInt32Array("tokenizer.ggml.token_type", types);
  if (v.bosId >= 0)
    w.setUInt32("tokenizer.ggml.bos_token_id", uint32_t(v.bosId));
  if (v.eosId >= 0)
    w.setUInt32("tokenizer.ggml.eos_token_id", uint32_t(v.eosId));
  if (v.unkId >= 0)
    w.setUInt32("tokenizer.ggml.unknown_token_id", uint32_t(v.unkId));
  w.setBool("tokenizer.ggml.add_bos_token", v.addBos);
  w.setBool("tokenizer.ggml.add_eos_token", v.addEos);
  w.setBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix);
  return Error::success();
}

} // namespace qcc
