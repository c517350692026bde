//===- Core.h - the qcc Python package's C++ layer (plain types only) -------===//
//
// What the extension module `qcc._qcc` calls. This layer is compiled like the rest of qcc (LLVM's
// flags: no exceptions) and is the only code that sees LLVM, MLIR and qcc's libraries; its
// interface uses only the standard library, so the pybind11 translation unit (Bindings.cpp,
// compiled with exceptions as pybind11 requires) includes nothing from LLVM.
//
// Errors: every fallible call returns false and sets `err` to a one-line message (the same
// message the corresponding tool prints after "TOOL: error: "). Nothing here exits or aborts on
// a bad input. Results that the tools print as JSON are returned as the same JSON text (same
// keys, same number formatting), so that Python and the tools agree exactly.
//
// Thread safety: a Module or Model serializes its own calls (a mutex); distinct objects may be
// used from different threads. Calls do not touch Python: the bindings release the GIL.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_PYTHON_CORE_H
#define QCC_PYTHON_CORE_H

#include "qcc/Quantize/QuantizeJob.h" // plain types only

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qcc::python {

/// What qcc-import does: SRC (or a synthetic preset) -> a qllm module at `output`, plus a side
/// GGUF `<output minus .mlir>.weights.gguf` for sources that cannot be referenced as they are.
struct ImportOptions {
  std::string source;           ///< .gguf, safetensors file or folder, llama2.c .bin
  std::string output;           ///< The .mlir to write (atomically).
  std::string tokenizer;        ///< Tokenizer file to record (optional).
  std::string synthetic;        ///< Or a synthetic preset name (exactly one of the two).
  std::string syntheticType = "f16";
  uint64_t seed = 0;
};
bool importModel(const ImportOptions &opts, std::string &err);
std::vector<std::string> syntheticPresets();

/// A qllm module in its own MLIRContext (qllm, func, arith, tensor and llvm dialects; qcc's
/// passes, its conversion passes and MLIR's generic transforms registered).
class Module {
public:
  ~Module();
  static std::unique_ptr<Module> load(const std::string &path, std::string &err);
  static std::unique_ptr<Module> parse(const std::string &text, const std::string &name,
                                       std::string &err);
  /// Runs a textual pass pipeline ("qllm-summary,canonicalize", "qllm-quantize{mix=q8_0
  /// weights-out=q.gguf}" or an anchored "builtin.module(...)"). The module is verified
  /// afterwards; on any failure it is left exactly as it was before the call.
  /// `messages` receives the remarks and warnings the passes emitted (qllm-summary's report).
  bool runPasses(const std::string &pipeline, std::string &err,
                 std::vector<std::string> *messages = nullptr);
  bool verify(std::string &err);
  /// Writes the module text atomically.
  bool save(const std::string &path, std::string &err);
  std::string str();
  /// A copy in a fresh context.
  std::unique_ptr<Module> clone(std::string &err);
  /// qcc-run summary --json's object, from the IR alone (the weight file is not opened).
  bool summaryJSON(std::string &json, std::string &err);

  struct Impl; ///< Opaque (Core.cpp).
  explicit Module(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

/// What qcc-quantize does (its flags as fields): qcc::runQuantizeJob (QuantizeModel.h), exactly
/// one of mix, method, budget; messages spell the options as keyword arguments.
using QuantizeOptions = ::qcc::QuantizeJob;
/// On success `reportJSON` is the report (the --report file's object).
bool quantize(const QuantizeOptions &opts, std::string &reportJSON, std::string &err);

struct PerplexityOptions {
  std::string text;
  int64_t ctx = 512;
  std::string protocol = "llama.cpp";
  int64_t chunks = 0; ///< 0: all.
  int64_t batch = 4;
  int threads = 0;
};
struct BenchOptions {
  int64_t prompt = 0, gen = 0; ///< 0: the driver's defaults.
  std::vector<int64_t> batches;
  int64_t repeat = 3, warmup = 1;
  uint64_t seed = 0;
  std::string text;
  int threads = 0;
};
struct GenerateOptions {
  std::string prompt;
  int64_t n = 64;
  float temperature = 0, topP = 1;
  uint64_t seed = 0;
  int threads = 0;
};

/// A module file run by the reference executor (what qcc-run runs). `label` names the model in
/// reports, as qcc-run's model argument does.
class Model {
public:
  ~Model();
  static std::unique_ptr<Model> load(const std::string &path, std::string &err);
  std::string name();
  std::string path();
  int64_t vocabSize();
  int64_t maxSeqLen();
  bool hasTokenizer();
  /// qcc-run ppl --json's object.
  bool perplexity(const PerplexityOptions &opts, std::string &json, std::string &err);
  /// tokens: B rows of T; logits [B, T, vocab] (float32, row-major).
  bool logits(const std::vector<int32_t> &tokens, int64_t B, int64_t T, int threads,
              std::vector<float> &logits, std::string &err);
  /// qcc-run bench --json's object.
  bool bench(const BenchOptions &opts, std::string &json, std::string &err);
  /// qcc-run generate --json's object.
  bool generate(const GenerateOptions &opts, std::string &json, std::string &err);
  bool encode(const std::string &text, bool bos, std::vector<int32_t> &ids, std::string &err);
  bool decode(const std::vector<int32_t> &ids, std::string &text, std::string &err);

private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace qcc::python

#endif // QCC_PYTHON_CORE_H
