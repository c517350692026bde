//===- QLlmAttrs.cpp - qllm enums, attributes and their verifiers ---------===//
#include "qcc/Dialect/QLlm/QLlmAttrs.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Quant/GGMLFormats.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace qcc::qllm;

#include "qcc/Dialect/QLlm/QLlmAttrInterfaces.cpp.inc"
#include "qcc/Dialect/QLlm/QLlmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qcc/Dialect/QLlm/QLlmAttrs.cpp.inc"

void QLlmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qcc/Dialect/QLlm/QLlmAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// GGMLFormatAttr
//===----------------------------------------------------------------------===//

/// Block geometry comes from qcc/Quant's table of formats, the one place a format is described;
/// the enum values are ggml's type ids, so the cast is the lookup key. A case the table lacks
/// reports block size 0, which WeightType's verifier rejects.
static const qcc::FormatInfo *lookupRow(GGMLFormat format) {
  return qcc::lookupFormat(static_cast<qcc::GGMLType>(static_cast<uint32_t>(format)));
}

int64_t GGMLFormatAttr::getBlockSize() const {
  const qcc::FormatInfo *row = lookupRow(getValue());
  return row ? row->blockSize : 0;
}

int64_t GGMLFormatAttr::getBlockBytes() const {
  const qcc::FormatInfo *row = lookupRow(getValue());
  return row ? row->blockBytes : 0;
}

StringRef GGMLFormatAttr::getFormatName() const { return stringifyGGMLFormat(getValue()); }

bool GGMLFormatAttr::isFloatFormat() const {
  const qcc::FormatInfo *row = lookupRow(getValue());
  return row && !row->isQuantized;
}

//===----------------------------------------------------------------------===//
// IntGroupFormatAttr
//===----------------------------------------------------------------------===//

/// One group is one block: its f16 parameters and its codes, which fill whole bytes because the
/// verifier keeps a non-zero group a power of two >= 16. Per-channel formats have no block that
/// carries the row's parameters: block size 1, and the code bytes rounded up as a nominal figure.
int64_t IntGroupFormatAttr::getBlockSize() const { return isPerChannel() ? 1 : getGroup(); }

int64_t IntGroupFormatAttr::getBlockBytes() const {
  if (isPerChannel())
    return (getBits() + 7) / 8;
  return (getSym() ? 2 : 4) + getGroup() * getBits() / 8;
}

/// Rows are independent byte spans (IntGroup.h's layout), so the tensor is rows x rowBytes.
int64_t IntGroupFormatAttr::getStorageBytes(ArrayRef<int64_t> shape) const {
  if (shape.empty() || shape.back() <= 0)
    return 0;
  int64_t rows = 1;
  for (int64_t d : shape.drop_back())
    rows *= d;
  return rows * qcc::quantalgo::rowBytes(getFormat(), shape.back());
}

/// `int3_g128_asym`, `int4_ch_sym`; interned in the context so the StringRef outlives the call.
StringRef IntGroupFormatAttr::getFormatName() const {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "int" << getBits() << '_';
  if (isPerChannel())
    os << "ch";
  else
    os << 'g' << getGroup();
  os << (getSym() ? "_sym" : "_asym");
  return StringAttr::get(getContext(), name).getValue();
}

bool IntGroupFormatAttr::isFloatFormat() const { return false; }

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

/// Shortest readable spelling of a double for diagnostics (`1e-05`, `4`).
static std::string formatDouble(const llvm::APFloat &v) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%g", v.convertToDouble());
  return s;
}

static bool isPositive(const llvm::APFloat &v) { return v.convertToDouble() > 0.0; }

LogicalResult RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                      RopeScalingKind kind, llvm::APFloat factor,
                                      llvm::APFloat lowFreqFactor, llvm::APFloat highFreqFactor,
                                      int64_t originalMaxPosition) {
  if (kind == RopeScalingKind::none)
    return success();
  if (!isPositive(factor))
    return emitError() << "rope scaling factor must be positive, got " << formatDouble(factor);
  if (kind != RopeScalingKind::llama3)
    return success();
  if (!isPositive(lowFreqFactor) || !isPositive(highFreqFactor))
    return emitError() << "llama3 rope scaling needs positive low_freq_factor and "
                          "high_freq_factor";
  if (highFreqFactor.convertToDouble() <= lowFreqFactor.convertToDouble())
    return emitError() << "llama3 rope scaling needs high_freq_factor ("
                       << formatDouble(highFreqFactor) << ") > low_freq_factor ("
                       << formatDouble(lowFreqFactor) << ")";
  if (originalMaxPosition <= 0)
    return emitError() << "llama3 rope scaling needs a positive original_max_position, got "
                       << originalMaxPosition;
  return success();
}

LogicalResult ModelConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef arch,
                                      StringRef name, int64_t dim, int64_t ffnDim, int64_t nLayers,
                                      int64_t nHeads, int64_t nKVHeads, int64_t headDim,
                                      int64_t vocabSize, int64_t maxSeqLen, llvm::APFloat ropeTheta,
                                      RopeStyle ropeStyle, RopeScalingAttr ropeScaling,
                                      llvm::APFloat normEps, bool tiedEmbeddings) {
  if (arch.empty())
    return emitError() << "model config needs a non-empty arch";
  std::pair<StringRef, int64_t> sizes[] = {{"dim", dim},
                                           {"ffn_dim", ffnDim},
                                           {"n_layers", nLayers},
                                           {"n_heads", nHeads},
                                           {"n_kv_heads", nKVHeads},
                                           {"head_dim", headDim},
                                           {"vocab_size", vocabSize},
                                           {"max_seq_len", maxSeqLen}};
  for (auto [key, value] : sizes)
    if (value <= 0)
      return emitError() << "model config " << key << " must be positive, got " << value;
  if (nHeads % nKVHeads != 0)
    return emitError() << "model config n_heads (" << nHeads
                       << ") must be a multiple of n_kv_heads (" << nKVHeads << ")";
  if (headDim % 2 != 0)
    return emitError() << "model config head_dim must be even for RoPE, got " << headDim;
  if (!isPositive(ropeTheta))
    return emitError() << "model config rope_theta must be positive, got "
                       << formatDouble(ropeTheta);
  if (!isPositive(normEps))
    return emitError() << "model config norm_eps must be positive, got " << formatDouble(normEps);
  return success();
}

LogicalResult IntGroupFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                         int64_t bits, int64_t group, bool sym) {
  if (bits < 2 || bits > 8)
    return emitError() << "integer format bits must be in [2, 8], got " << bits;
  if (group < 0)
    return emitError() << "integer format group must be 0 (per output channel) or positive, got "
                       << group;
  if (group != 0 && (group < 16 || !llvm::isPowerOf2_64(group)))
    return emitError() << "integer format group must be 0 (per output channel) or a power of "
                          "two >= 16, got "
                       << group;
  return success();
}

LogicalResult WeightFileAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef path,
                                     StringRef container, int64_t size, StringRef fingerprint) {
  if (path.empty())
    return emitError() << "weight file needs a non-empty path";
  if (!llvm::is_contained({"gguf", "safetensors", "llama2c"}, container))
    return emitError() << "weight file container must be gguf, safetensors or llama2c, got '"
                       << container << "'";
  if (size < 0)
    return emitError() << "weight file size must not be negative, got " << size;
  return success();
}

LogicalResult TokenizerAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef path,
                                    StringRef kind) {
  if (path.empty())
    return emitError() << "tokenizer needs a non-empty path";
  if (!llvm::is_contained({"gguf", "llama2c", "sentencepiece", "tiktoken"}, kind))
    return emitError() << "tokenizer kind must be gguf, llama2c, sentencepiece or tiktoken, "
                          "got '"
                       << kind << "'";
  return success();
}
