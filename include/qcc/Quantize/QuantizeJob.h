//===- QuantizeJob.h - one quantization as its user asks for it -------------===//
//
// qcc-quantize's flags, qcc.quantize's keyword arguments: plain types only, so the Python
// bindings (compiled with exceptions, nothing from LLVM) use the struct itself. What runs it,
// with the checks and their messages, is runQuantizeJob (QuantizeModel.h): the tool and the
// Python bindings both call it, so they accept and refuse the same requests.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_QUANTIZE_QUANTIZEJOB_H
#define QCC_QUANTIZE_QUANTIZEJOB_H

#include <cstdint>
#include <string>

namespace qcc {

struct QuantizeJob {
  std::string input, output;
  std::string gguf;   ///< Default: output minus .mlir, plus .gguf.
  std::string report; ///< Also write the report JSON here (optional).
  std::string mix, method;
  /// The LM head's (output.weight's) format, a llama.cpp type name (llama-quantize's
  /// --output-tensor-type): overrides what the mix or method chose; empty: their choice.
  std::string outputType;
  double budget = 0;
  int bits = 4;
  int64_t group = 128;
  bool asym = false, actOrder = false, simulate = false, foldOnly = false, imatrix = false;
  float alpha = 0.5f;
  int64_t sensitivityTokens = 512;
  std::string calib;
  int64_t calibSamples = 128, calibSeqlen = 256;
};

} // namespace qcc

#endif // QCC_QUANTIZE_QUANTIZEJOB_H
