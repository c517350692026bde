//===- Driver.h - the evaluation driver shared by qcc-run and compiled models -===//
//
// The commands ppl, logits, generate and bench, written once over an abstract model so that
// `qcc-run model.mlir CMD ...` (the reference executor) and `./model CMD ...` (an executable
// emitted by qcc) parse the same options and print the same text and JSON. docs/Driver.md
// describes the commands and every JSON key.
//
// The library links LLVM Support, QCCEval, QCCTokenizer and QCCSupport but not MLIR: the
// executables qcc emits link it without MLIR.
//
// A compiled model implements it through its C API:
//   open()                        -> DriverModel::open()            (an instance with its own
//                                                                     KV cache; weights shared)
//   reset(batch)                  -> ModelInstance::reset(B)
//   forward(tokens, B, T, pos, logits) -> ModelInstance::forward
//   kv bytes                      -> ModelInstance::kvCacheBytes()
// plus the facts the reports need (name, tokenizer, weight and file bytes, threads).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DRIVER_DRIVER_H
#define QCC_DRIVER_DRIVER_H

#include "qcc/Eval/LanguageModel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qcc {

class Tokenizer;

namespace driver {

/// One runnable copy of a model: the eval::LanguageModel contract (reset(B) starts B empty
/// sequences, forward(tokens[B,T], pos) returns logits [B,T,vocab]) plus KV-cache sizing.
class ModelInstance : public eval::LanguageModel {
public:
  ~ModelInstance() override;
  /// Positions per sequence that the next reset() must provide for (1..maxSeqLen()); lets
  /// short runs allocate a small cache. A model whose cache size is fixed may ignore it.
  virtual void setCacheLength(int64_t positions) = 0;
  /// Bytes the KV cache holds after the last reset() (0 before any).
  virtual uint64_t kvCacheBytes() const = 0;
};

/// Calls and time of one kernel kind since the last DriverModel::takeProfile (bench --profile):
/// an op (matmul, attention, rms_norm, ...), for a matmul per weight.
struct KernelProfileRow {
  std::string op;
  std::string weight; ///< Matmul: the weight's name ("blk.3.ffn_down.weight"); else empty.
  std::string format; ///< Matmul: the weight's format when the host knows it ("q4_K"); else empty.
  uint64_t calls = 0, ns = 0;
  uint64_t bytes = 0; ///< Matmul: weight bytes the calls read; else 0.
};

/// A loaded model: what the commands report about it and a way to run it.
class DriverModel {
public:
  virtual ~DriverModel();
  /// The model's name (qllm.config name), for reports.
  virtual std::string name() const = 0;
  /// The tokenizer, or null when the model carries none (ppl, generate and `bench --text` then
  /// fail with a message; bench with a random prompt and logits still work).
  virtual const Tokenizer *tokenizer() const = 0;
  /// Bytes of the weight tensors as stored (what one forward pass reads), excluding metadata.
  virtual uint64_t weightsBytes() const = 0;
  /// Bytes the model occupies on disk (executable and weight files); 0 when unknown.
  virtual uint64_t fileBytes() const = 0;
  /// Threads the kernels use; 0 keeps the default (all cores). Called before open().
  virtual void setThreads(int n) = 0;
  virtual int numThreads() const = 0;
  /// A fresh instance; the driver opens one per command (bench: one per batch size).
  virtual llvm::Expected<std::unique_ptr<ModelInstance>> open() = 0;
  /// Reads once, with the kernels' threads and nothing else, every weight the forward calls so
  /// far have read whole (what a decode step streams; an embedding table, of which a forward
  /// call reads only its tokens' rows, is left out) and returns the bytes read: the read
  /// roofline that `bench --roofline` times next to each decode step. Not every host can
  /// (default: an error saying so).
  virtual llvm::Expected<uint64_t> readStreamedWeights();
  /// Starts (clearing the counts) or stops counting and timing each kernel call of the forward
  /// calls (`bench --profile`). Not every host can (default: an error saying so).
  virtual llvm::Error setProfiling(bool on);
  /// The counts since the last take (or since profiling started), then cleared.
  virtual llvm::Expected<std::vector<KernelProfileRow>> takeProfile();
};

/// Loads the model once the command line is parsed, knowing what the command needs.
class DriverModelFactory {
public:
  virtual ~DriverModelFactory();
  /// `path` is the model argument for hosts that take one (qcc-run's model.mlir) and empty for
  /// executables that carry their model. `withTokenizer`: the command needs the tokenizer.
  virtual llvm::Expected<std::unique_ptr<DriverModel>> load(llvm::StringRef path,
                                                            bool withTokenizer) = 0;
};

/// A command the host adds next to the driver's (qcc-run's `summary`). The host declares the
/// subcommand and its options itself (in optionCategory(), so that --help shows them).
struct HostCommand {
  llvm::cl::SubCommand *command = nullptr;
  std::function<int()> run;
};

struct DriverOptions {
  std::string toolName = "qcc-run"; ///< Prefix of error messages.
  std::string overview;             ///< First line of --help.
  /// True for hosts invoked as `TOOL model CMD ...` (qcc-run); the model argument may also
  /// follow the command. False for executables that carry their model.
  bool takesModelPath = false;
  std::vector<HostCommand> hostCommands;
};

/// The option category of the driver's options; hosts put theirs in it too.
llvm::cl::OptionCategory &optionCategory();

/// Parses the command line (llvm::cl subcommands: each command has its own options, which also
/// keeps --threads apart from the global option of that name libLLVM/libMLIR register), loads
/// the model through `factory` and runs the command. Returns the exit status; errors are
/// printed as `TOOL: error: ...`. Call once, from main (it initializes LLVM's signal handlers).
int runDriver(int argc, char **argv, DriverModelFactory &factory, const DriverOptions &opts);

} // namespace driver
} // namespace qcc

#endif // QCC_DRIVER_DRIVER_H
