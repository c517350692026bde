//===- QLlmOps.cpp - qllm operations: verifiers and builders --------------===//
//
// Shape conventions the verifiers rely on: weights are [out_features, in_features] with the row
// last; activations are tensor<...xDxf32> with the feature dimension last (B x T x D for the ops
// that need batch and sequence).
//
//===----------------------------------------------------------------------===//
#include "qcc/Dialect/QLlm/QLlmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/Support/Format.h"

using namespace mlir;
using namespace qcc::qllm;

#define GET_OP_CLASSES
#include "qcc/Dialect/QLlm/QLlmOps.cpp.inc"

/// The feature (last) dimension; dynamic if the type is unranked-like or rank 0.
static int64_t featureDim(Type t) {
  auto ranked = cast<RankedTensorType>(t);
  return ranked.getRank() == 0 ? ShapedType::kDynamic : ranked.getShape().back();
}

/// All dimensions but the last (B, T for activations).
static ArrayRef<int64_t> leadingDims(Type t) {
  return cast<RankedTensorType>(t).getShape().drop_back();
}

/// Shortest readable spelling of a double for diagnostics (`1e-05`, `4`).
static std::string formatDouble(const llvm::APFloat &v) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%g", v.convertToDouble());
  return s;
}

static std::string formatDims(ArrayRef<int64_t> dims) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      dims, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << '?';
        else
          os << d;
      },
      "x");
  return s;
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty tensor name");
  if (std::optional<WeightFormatAttrInterface> to = getQuantizeTo()) {
    // The planned format must be a valid type for this tensor: reuse the type's verifier.
    ArrayRef<int64_t> shape = getType().getShape();
    if (failed(WeightType::verify([&] { return emitOpError("quantize_to: "); }, shape, *to)))
      return failure();
  }
  return success();
}

/// Results read as the tensor they name: `%blk.0.attn_q.weight`.
void WeightOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), getName());
}

//===----------------------------------------------------------------------===//
// EmbedOp
//===----------------------------------------------------------------------===//

void EmbedOp::build(OpBuilder &builder, OperationState &state, Value table, Value tokens) {
  auto tokensTy = cast<RankedTensorType>(tokens.getType());
  auto tableTy = cast<WeightType>(table.getType());
  auto resultTy = RankedTensorType::get(
      {tokensTy.getDimSize(0), tokensTy.getDimSize(1), tableTy.getRowLength()},
      builder.getF32Type());
  build(builder, state, resultTy, table, tokens);
}

LogicalResult EmbedOp::verify() {
  WeightType table = getTable().getType();
  if (table.getRank() != 2)
    return emitOpError("table must be a matrix [vocab, dim], got rank ") << table.getRank();
  int64_t dim = table.getShape()[1];
  if (featureDim(getType()) != dim)
    return emitOpError("result feature dimension ")
           << formatDims(featureDim(getType())) << " does not match the table's row length " << dim;
  ArrayRef<int64_t> tokens = getTokens().getType().getShape();
  if (failed(verifyCompatibleShape(tokens, leadingDims(getType()))))
    return emitOpError("result batch and sequence dimensions ")
           << formatDims(leadingDims(getType())) << " do not match the tokens' "
           << formatDims(tokens);
  return success();
}

//===----------------------------------------------------------------------===//
// RMSNormOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  auto inputTy = getInput().getType();
  if (inputTy.getRank() == 0)
    return emitOpError("input must have a feature dimension");
  int64_t dim = featureDim(inputTy);
  if (ShapedType::isDynamic(dim))
    return emitOpError("input feature dimension must be static");
  WeightType gamma = getGamma().getType();
  if (gamma.getRank() != 1 || gamma.getShape()[0] != dim)
    return emitOpError("gamma must be a vector of the feature dimension ")
           << dim << ", got " << gamma;
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError("eps must be positive, got ") << formatDouble(getEps());
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

void LinearOp::build(OpBuilder &builder, OperationState &state, Value input, Value weight) {
  auto inputTy = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(inputTy.getShape());
  shape.back() = cast<WeightType>(weight.getType()).getShape()[0];
  build(builder, state, RankedTensorType::get(shape, inputTy.getElementType()), input, weight);
}

LogicalResult LinearOp::verify() {
  if (auto aq = getActQuant(); aq && *aq != "int8_per_token")
    return emitOpError("unknown act_quant '") << *aq << "' (int8_per_token is supported)";
  WeightType w = getWeight().getType();
  if (w.getRank() != 2)
    return emitOpError("weight must be a matrix [out_features, in_features], got ") << w;
  int64_t outFeatures = w.getShape()[0], inFeatures = w.getShape()[1];
  auto inputTy = getInput().getType();
  auto resultTy = getType();
  if (inputTy.getRank() == 0 || inputTy.getRank() != resultTy.getRank())
    return emitOpError("input and result must have the same rank of at least 1, got ")
           << inputTy.getRank() << " and " << resultTy.getRank();
  if (featureDim(inputTy) != inFeatures)
    return emitOpError("input feature dimension ")
           << formatDims(featureDim(inputTy)) << " does not match the weight's in_features "
           << inFeatures << " (weight is [out, in] = [" << outFeatures << ", " << inFeatures
           << "])";
  if (featureDim(resultTy) != outFeatures)
    return emitOpError("result feature dimension ")
           << formatDims(featureDim(resultTy)) << " does not match the weight's out_features "
           << outFeatures << " (weight is [out, in] = [" << outFeatures << ", " << inFeatures
           << "])";
  if (failed(verifyCompatibleShape(leadingDims(inputTy), leadingDims(resultTy))))
    return emitOpError("leading dimensions of input ")
           << formatDims(leadingDims(inputTy)) << " and result "
           << formatDims(leadingDims(resultTy)) << " differ";
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDimAttr().getInt();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << headDim;
  int64_t features = featureDim(getInput().getType());
  if (ShapedType::isDynamic(features) || features % headDim != 0)
    return emitOpError("feature dimension ")
           << formatDims(features) << " is not a multiple of head_dim " << headDim;
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive, got ") << formatDouble(getTheta());
  if (Value factors = getFreqFactors()) {
    auto ty = cast<WeightType>(factors.getType());
    if (ty.getRank() != 1 || ty.getShape()[0] != headDim / 2)
      return emitOpError("freq_factors must be a vector of head_dim/2 = ")
             << headDim / 2 << " factors, got " << ty;
    if (!ty.getFormatInterface().isFloatFormat())
      return emitOpError("freq_factors must be stored as floats, got ") << ty;
    RopeScalingAttr scaling = getScalingAttr();
    if (scaling && scaling.getKind() == RopeScalingKind::llama3)
      return emitOpError("has both freq_factors and llama3 scaling; they describe the same "
                         "factors, keep one");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  int64_t layer = getLayerAttr().getInt(), nHeads = getNHeadsAttr().getInt();
  int64_t nKVHeads = getNKvHeadsAttr().getInt(), headDim = getHeadDimAttr().getInt();
  if (nHeads <= 0 || nKVHeads <= 0 || headDim <= 0)
    return emitOpError("n_heads, n_kv_heads and head_dim must be positive, got ")
           << nHeads << ", " << nKVHeads << ", " << headDim;
  if (nHeads % nKVHeads != 0)
    return emitOpError("n_heads (")
           << nHeads << ") must be a multiple of n_kv_heads (" << nKVHeads << ")";
  KVCacheType cache = getCache().getType();
  if (layer < 0 || layer >= cache.getNumLayers())
    return emitOpError("layer ") << layer << " is out of range for a cache of "
                                 << cache.getNumLayers() << " layers";
  if (cache.getNumKVHeads() != nKVHeads)
    return emitOpError("n_kv_heads ")
           << nKVHeads << " does not match the cache's " << cache.getNumKVHeads() << " kv heads";
  if (cache.getHeadDim() != headDim)
    return emitOpError("head_dim ")
           << headDim << " does not match the cache's head_dim " << cache.getHeadDim();
  if (featureDim(getQ().getType()) != nHeads * headDim)
    return emitOpError("q feature dimension ")
           << formatDims(featureDim(getQ().getType()))
           << " must be n_heads x head_dim = " << nHeads * headDim;
  if (featureDim(getK().getType()) != nKVHeads * headDim)
    return emitOpError("k and v feature dimension ")
           << formatDims(featureDim(getK().getType()))
           << " must be n_kv_heads x head_dim = " << nKVHeads * headDim;
  if (failed(verifyCompatibleShape(leadingDims(getQ().getType()), leadingDims(getK().getType()))))
    return emitOpError("batch and sequence dimensions of q ")
           << formatDims(leadingDims(getQ().getType())) << " and k "
           << formatDims(leadingDims(getK().getType())) << " differ";
  return success();
}
