//===- LoadSentencePiece.cpp - SentencePiece tokenizer.model -> SPM vocabulary ===//
//
// tokenizer.model is a serialized sentencepiece.ModelProto. We read it with a small
// bounds-checked protobuf wire-format reader instead of libprotobuf or libsentencepiece because
// (1) we need six scalar fields out of three messages, not the whole schema; (2) libprotobuf would
// need protoc-generated code checked against the library version at build time, and both it and
// sentencepiece's headers expect RTTI/exceptions, which qcc builds without; (3) SentencePiece's
// own encoder is not what we want anyway: ids must match llama.cpp's SPM port, which is shared
// with the GGUF and llama2.c loaders.
//
// Fields used (sentencepiece_model.proto):
//   ModelProto     1: repeated SentencePiece pieces, 2: TrainerSpec, 3: NormalizerSpec
//   SentencePiece  1: string piece, 2: float score, 3: Type type (default NORMAL)
//   TrainerSpec    3: model_type (UNIGRAM=1 default, BPE=2), 40: unk_id (0), 41: bos_id (1),
//                  42: eos_id (2)
//   NormalizerSpec 3: add_dummy_prefix (default true)
//
//===----------------------------------------------------------------------===//
#include "TokenizerImpl.h"

#include "qcc/Support/MappedFile.h"

#include <cstring>

using namespace llvm;

namespace qcc {
namespace {

/// Protobuf wire types; kept as plain numbers because a corrupt file may hold any value.
constexpr uint32_t Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

/// One field of a message: its number, wire type and value (`varint`, or `bytes` for
/// length-delimited and fixed-width fields).
struct Field {
  uint32_t number = 0;
  uint32_t wire = Varint;
  uint64_t varint = 0;
  StringRef bytes;
};

/// Walks the fields of one message held in `data`; every length is checked against the bytes
/// that are left, and errors name the file and the absolute offset.
class WireReader {
public:
  WireReader(StringRef data, uint64_t baseOffset, StringRef file)
      : data_(data), base_(baseOffset), file_(file) {}

  bool atEnd() const { return pos_ >= data_.size(); }
  uint64_t offsetOf(StringRef inner) const { return base_ + (inner.data() - data_.data()); }

  Expected<Field> next() {
    Field f;
    uint64_t start = pos_;
    auto key = readVarint();
    if (!key)
      return key.takeError();
    f.number = static_cast<uint32_t>(*key >> 3);
    f.wire = static_cast<uint32_t>(*key & 7);
    if (f.number == 0)
      return error(start, "field number 0");
    if (f.wire == Varint) {
      auto v = readVarint();
      if (!v)
        return v.takeError();
      f.varint = *v;
      return f;
    }
    if (f.wire == Fixed64 || f.wire == Fixed32 || f.wire == LengthDelimited) {
      uint64_t n = f.wire == Fixed64 ? 8 : 4;
      if (f.wire == LengthDelimited) {
        auto len = readVarint();
        if (!len)
          return len.takeError();
        n = *len;
      }
      if (n > data_.size() - pos_)
        return error(pos_, "field " + Twine(f.number) + " needs " + Twine(n) + " bytes, " +
                               Twine(data_.size() - pos_) + " left (truncated file?)");
      f.bytes = data_.substr(pos_, n);
      pos_ += n;
      return f;
    }
    // Groups (3, 4) are not used by sentencepiece_model.proto; 6 and 7 do not exist.
    return error(start, "unsupported protobuf wire type " + Twine(f.wire) + " for field " +
                            Twine(f.number));
  }

private:
  Expected<uint64_t> readVarint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size())
        return error(pos_, "varint runs past the end of the message (truncated file?)");
      uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80))
        return value;
    }
    return error(pos_, "varint longer than 10 bytes");
  }

  Error error(uint64_t at, const Twine &why) const {
    return fileError(file_, "protobuf at offset " + Twine(base_ + at) + ": " + why);
  }

  StringRef data_;
  uint64_t pos_ = 0;
  uint64_t base_;
  StringRef file_;
};

/// Protobuf int32 fields hold negative values as 64-bit two's complement (10-byte varints).
int32_t asInt32(uint64_t v) { return static_cast<int32_t>(static_cast<int64_t>(v)); }

Error readPiece(WireReader &outer, const Field &field, StringRef file, Vocab &vocab) {
  WireReader in(field.bytes, outer.offsetOf(field.bytes), file);
  std::string piece;
  float score = 0;
  uint64_t type = static_cast<uint64_t>(TokenType::Normal);
  while (!in.atEnd()) {
    auto f = in.next();
    if (!f)
      return f.takeError();
    if (f->number == 1 && f->wire == LengthDelimited)
      piece = f->bytes.str();
    else if (f->number == 2 && f->wire == Fixed32)
      std::memcpy(&score, f->bytes.data(), sizeof(float));
    else if (f->number == 3 && f->wire == Varint)
      type = f->varint;
  }
  if (type < 1 || type > 6)
    return fileError(file, "piece " + Twine(vocab.size()) + " has unknown type " + Twine(type));
  vocab.add(std::move(piece), score, static_cast<TokenType>(type));
  return Error::success();
}

} // namespace

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromSentencePieceModel(StringRef tokenizerModel) {
  auto file = MappedFile::open(tokenizerModel);
  if (!file)
    return file.takeError();
  StringRef data(reinterpret_cast<const char *>((*file)->data()), (*file)->size());

  Vocab vocab;
  vocab.kind = TokenizerKind::SPM;
  uint64_t modelType = 1;  // proto default: UNIGRAM
  int32_t unkId = 0, bosId = 1, eosId = 2;
  bool addDummyPrefix = true;

  WireReader model(data, 0, tokenizerModel);
  while (!model.atEnd()) {
    auto field = model.next();
    if (!field)
      return field.takeError();
    if (field->wire != LengthDelimited)
      continue;
    if (field->number == 1) {
      if (Error err = readPiece(model, *field, tokenizerModel, vocab))
        return std::move(err);
      continue;
    }
    if (field->number != 2 && field->number != 3)
      continue;
    WireReader spec(field->bytes, model.offsetOf(field->bytes), tokenizerModel);
    while (!spec.atEnd()) {
      auto f = spec.next();
      if (!f)
        return f.takeError();
      if (f->wire != Varint)
        continue;
      if (field->number == 2) {  // TrainerSpec
        if (f->number == 3)
          modelType = f->varint;
        else if (f->number == 40)
          unkId = asInt32(f->varint);
        else if (f->number == 41)
          bosId = asInt32(f->varint);
        else if (f->number == 42)
          eosId = asInt32(f->varint);
      } else if (f->number == 3) {  // NormalizerSpec.add_dummy_prefix
        addDummyPrefix = f->varint != 0;
      }
    }
  }

  if (vocab.size() == 0)
    return fileError(tokenizerModel, "no pieces (not a SentencePiece tokenizer.model?)");
  if (modelType != 2)
    return fileError(tokenizerModel, "SentencePiece model_type " + Twine(modelType) +
                                         " is not supported (only BPE = 2, as LLaMA uses)");
  vocab.unkId = unkId;
  vocab.bosId = bosId;
  vocab.eosId = eosId;
  vocab.addSpacePrefix = addDummyPrefix;
  return fromVocab(std::move(vocab), tokenizerModel);
}

} // namespace qcc
