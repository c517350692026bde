//===- GPTQSequential.h - GPTQ stage by stage on quantized inputs ------------===//
//
// GPTQ as the reference llama.py runs it: the Hessian of a layer's linears comes from inputs
// that already went through the quantized layers before it. Calibration streams stage by stage
// (Calibration::runStreaming); after each stage its decoder linears are quantized with that
// stage's XᵀX, the XᵀX is freed, the executor runs them quantized and the stage is re-run so
// the next stage sees quantized activations. Peak memory: one stage's XᵀX plus the hidden
// states of all windows (twice: a stage's input and output), instead of every XᵀX at once.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_LIB_QUANTIZE_GPTQSEQUENTIAL_H
#define QCC_LIB_QUANTIZE_GPTQSEQUENTIAL_H

#include "qcc/Exec/Calibration.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/QuantAlgo/GPTQ.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace qcc {

/// Quantizes every decoder linear of `src` (LayerTensors wq..wDown; not the output head) with
/// GPTQ over the calibration windows of `calibTokens` (`co`: samples, seqlen, seed, batch;
/// collectXtX is implied). With `simulate` the dequantized f32 weights go to `out`, otherwise the
/// packed IntGroup rows (source row order) go to `packed`; as QuantizeModel's GPTQ, act-order
/// runs with static groups when packing. `tokensSeen`: calibration tokens used. `peakBytes`,
/// if given: the streaming calibration's peak of statistics + hidden states.
llvm::Error gptqSequential(mlir::ModuleOp module, const ModelSource &src,
                           llvm::ArrayRef<int32_t> calibTokens, const CalibrationOptions &co,
                           const quantalgo::IntGroupFormat &fmt, const quantalgo::GPTQOptions &go,
                           bool simulate, llvm::StringMap<std::vector<float>> &out,
                           llvm::StringMap<std::vector<uint8_t>> &packed, int64_t &tokensSeen,
                           uint64_t *peakBytes = nullptr);

} // namespace qcc

#endif // QCC_LIB_QUANTIZE_GPTQSEQUENTIAL_H
