//===- QuantizeInternal.h - helpers shared by lib/Quantize's files ----------===//
#ifndef QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H
#define QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H

#include "qcc/Exec/Calibration.h"
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/QuantAlgo/IntGroup.h"

#include "llvm/ADT/StringMap.h"

#include <map>
#include <string>
#include <vector>

namespace qcc {

/// The f32 weights of `name` in the source (any stored format, dequantized).
std::vector<float> loadF32(const ModelSource &src, llvm::StringRef name);

/// AWQ for one decoder layer (without searchScales: s = 1, the scales were folded before, only
/// the clipping is searched) (lib/Quantize/AWQLayer.cpp): scaled/clipped f32 linears in `scaled`,
/// folded norm weights in `out`. `seqlen`: the calibration window length, the samples being
/// whole windows in order (the q/k/v search runs attention over them; 0 = unknown).
llvm::Error awqLayer(const ModelSource &src, const LayerTensors &l,
                     const quantalgo::IntGroupFormat &fmt, const Calibration *cal,
                     int64_t seqlen, bool searchScales, bool clip,
                     std::map<std::string, std::vector<float>> &scaled,
                     llvm::StringMap<std::vector<float>> &out);

/// Budget mode (lib/Quantize/BudgetChoice.cpp): the format of every tensor of `report` under
/// opts.budget into `types`, report.predictedError/measuredError set. With `ex` and calibration
/// tokens the sensitivities are KLs, else importance-weighted weight errors.
llvm::Error chooseBudgetTypes(const ModelSource &src, const QuantizeOptions &opts,
                              const Calibration *cal, QuantizeReport &report,
                              std::vector<GGMLType> &types, ReferenceExecutor *ex,
                              llvm::ArrayRef<int32_t> calibTokens);

} // namespace qcc

#endif // QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H
