//===- QLlmTypes.cpp - !qllm.weight and !qllm.kv_cache --------------------===//
#include "qcc/Dialect/QLlm/QLlmTypes.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qcc::qllm;

#define GET_TYPEDEF_CLASSES
#include "qcc/Dialect/QLlm/QLlmTypes.cpp.inc"

void QLlmDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "qcc/Dialect/QLlm/QLlmTypes.cpp.inc"
      >();
}

/// Prints `AxBxC`, the shape spelling of both types.
static void printShape(raw_ostream &os, ArrayRef<int64_t> shape) {
  llvm::interleave(shape, os, "x");
}

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printShape(os, shape);
  return s;
}

/// Parses `<AxB..., ` and leaves the parser before the element that follows the comma.
static ParseResult parseShapePrefix(AsmParser &parser, SmallVectorImpl<int64_t> &shape) {
  return failure(parser.parseLess() ||
                 parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                           /*withTrailingX=*/false) ||
                 parser.parseComma());
}

//===----------------------------------------------------------------------===//
// WeightType
//===----------------------------------------------------------------------===//

/// `!qllm.weight<768x256, q4_K>`: a llama.cpp format is its bare keyword, any other format the
/// full attribute.
Type WeightType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  if (failed(parseShapePrefix(parser, shape)))
    return {};
  Attribute format;
  SMLoc formatLoc = parser.getCurrentLocation();
  StringRef keyword;
  if (succeeded(parser.parseOptionalKeyword(&keyword))) {
    std::optional<GGMLFormat> ggml = symbolizeGGMLFormat(keyword);
    if (!ggml) {
      parser.emitError(formatLoc, "unknown weight format '") << keyword << "'";
      return {};
    }
    format = GGMLFormatAttr::get(parser.getContext(), *ggml);
  } else if (parser.parseAttribute(format)) {
    return {};
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<WeightType>(loc, parser.getContext(), shape, format);
}

void WeightType::print(AsmPrinter &printer) const {
  printer << '<';
  printShape(printer.getStream(), getShape());
  printer << ", ";
  if (auto ggml = llvm::dyn_cast<GGMLFormatAttr>(getFormat()))
    printer << stringifyGGMLFormat(ggml.getValue());
  else
    printer.printAttribute(getFormat());
  printer << '>';
}

LogicalResult WeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, Attribute format) {
  if (shape.size() != 1 && shape.size() != 2)
    return emitError() << "weight must have rank 1 (vector) or 2 (matrix), got rank "
                       << shape.size();
  if (llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "weight dimensions must be static and positive, got "
                       << formatShape(shape);
  auto fmt = llvm::dyn_cast_or_null<WeightFormatAttrInterface>(format);
  if (!fmt)
    return emitError() << "weight format " << format
                       << " does not implement WeightFormatAttrInterface";
  int64_t block = fmt.getBlockSize();
  if (block <= 0 || fmt.getBlockBytes() <= 0)
    return emitError() << "weight format " << fmt.getFormatName() << " has no block geometry";
  // An integer group format's block is one group: say so in the field's words.
  StringRef blockWord = llvm::isa<IntGroupFormatAttr>(format) ? "group" : "block";
  if (shape.back() % block != 0)
    return emitError() << "row length " << shape.back() << " is not a multiple of the "
                       << fmt.getFormatName() << " " << blockWord << " size " << block;
  return success();
}

int64_t WeightType::getNumRows() const {
  int64_t rows = 1;
  for (int64_t d : getShape().drop_back())
    rows *= d;
  return rows;
}

int64_t WeightType::getNumElements() const { return getNumRows() * getRowLength(); }

int64_t WeightType::getStorageBytes() const {
  return getFormatInterface().getStorageBytes(getShape());
}

//===----------------------------------------------------------------------===//
// KVCacheType
//===----------------------------------------------------------------------===//

Type KVCacheType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  if (failed(parseShapePrefix(parser, shape)) || parser.parseType(elementType) ||
      parser.parseGreater())
    return {};
  return parser.getChecked<KVCacheType>(loc, parser.getContext(), shape, elementType);
}

void KVCacheType::print(AsmPrinter &printer) const {
  printer << '<';
  printShape(printer.getStream(), getShape());
  printer << ", " << getElementType() << '>';
}

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> shape, Type elementType) {
  if (shape.size() != 4)
    return emitError() << "kv cache shape must be layers x kv_heads x max_seq x head_dim, got "
                          "rank "
                       << shape.size();
  if (llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "kv cache dimensions must be static and positive, got "
                       << formatShape(shape);
  if (!elementType || !(elementType.isF32() || elementType.isF16()))
    return emitError() << "kv cache element type must be f32 or f16, got " << elementType;
  return success();
}
