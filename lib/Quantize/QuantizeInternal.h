//===- QuantizeInternal.h - helpers shared by lib/Quantize's files ----------===//
#ifndef QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H
#define QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H

#include "qcc/Exec/Calibration.h"
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

} // namespace qcc

#endif // QCC_LIB_QUANTIZE_QUANTIZEINTERNAL_H
