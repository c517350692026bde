//===- ModelSource.h - a LLaMA-family checkpoint, read from any container ---===//
//
// The MLIR-free description every importer produces and the executor's weight loader consumes:
// hyper-parameters, the tensors of the container (name, format, logical shape, where the bytes
// are), and which tensor plays which role. Containers stay mapped; nothing is copied.
//
// Shapes are logical row-major [out_features, in_features] (PyTorch order); the last dim is the
// contiguous row. GGUF's ggml order is reversed on read.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_IMPORT_MODELSOURCE_H
#define QCC_IMPORT_MODELSOURCE_H

#include "qcc/Quant/GGMLFormats.h"
#include "qcc/QuantAlgo/IntGroup.h"
#include "qcc/Support/MappedFile.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qcc {

/// Which pairs RoPE rotates inside a head: (2i, 2i+1) as in llama2.c and GGUF's llama, or
/// (i, i + head_dim/2) as in HF transformers (whose q/k rows are permuted to match).
enum class RopeStyle { Interleaved, RotateHalf };

struct RopeScaling {
  enum class Kind { None, Linear, Llama3 } kind = Kind::None;
  double factor = 1.0;
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  int64_t originalMaxPosition = 8192;
};

struct ModelConfig {
  std::string arch = "llama";
  std::string name;
  int64_t dim = 0, ffnDim = 0, nLayers = 0, nHeads = 0, nKVHeads = 0, headDim = 0;
  int64_t vocabSize = 0, maxSeqLen = 0;
  double ropeTheta = 10000.0;
  RopeStyle ropeStyle = RopeStyle::Interleaved;
  RopeScaling ropeScaling;
  double normEps = 1e-5;
  bool tiedEmbeddings = false;

  /// Checks the invariants every later stage relies on; the error names `file`.
  llvm::Error validate(llvm::StringRef file) const;
};

enum class ContainerKind { GGUF, Safetensors, Llama2c };
llvm::StringRef containerName(ContainerKind k);
std::optional<ContainerKind> parseContainerName(llvm::StringRef s);

struct TensorRef {
  std::string name;
  GGMLType type = GGMLType::F32;
  std::vector<int64_t> shape;
  unsigned fileIndex = 0; ///< Which of ModelSource::files holds the bytes.
  uint64_t offset = 0;    ///< Absolute offset in that file.
  uint64_t bytes = 0;
  /// qcc's packed integer group format (#qllm.int), stored as I8 rows of
  /// quantalgo::rowBytes(format, cols) bytes; `shape` is then the logical [rows, cols].
  std::optional<quantalgo::IntGroupFormat> intFormat;
  int64_t numElements() const;
  /// Bytes of one row of `cols` logical values.
  int64_t storageRowBytes(int64_t cols) const {
    return intFormat ? quantalgo::rowBytes(*intFormat, cols) : rowBytes(type, cols);
  }
};

/// Tensor names per role (names as the container spells them).
struct LayerTensors {
  std::string attnNorm, wq, wk, wv, wo, ffnNorm, wGate, wUp, wDown;
};

struct TokenizerRef {
  std::string path; ///< Empty when the model has no tokenizer.
  std::string kind; ///< gguf | llama2c | sentencepiece | tiktoken
};

struct ModelSource {
  ModelConfig config;
  ContainerKind container = ContainerKind::GGUF;
  std::string path;        ///< What the IR's weight_file names (file, or index json).
  uint64_t size = 0;       ///< Total bytes of all files.
  std::string fingerprint; ///< Content fingerprint over all files (see fingerprintFile).
  std::vector<std::unique_ptr<MappedFile>> files;
  std::vector<TensorRef> tensors;
  llvm::StringMap<size_t> index;

  std::string tokEmbd, outputNorm, output /* == tokEmbd when tied */, ropeFreqs /* optional */;
  std::vector<LayerTensors> layers;
  TokenizerRef tokenizer;

  /// Set when the container cannot be referenced as it is (llama2.c v2 int8 groups, synthetic
  /// weights): the importer then writes a side GGUF, calling this for each tensor's bytes in
  /// the format `TensorRef::type` says. `files`/offsets are meaningless for such a source.
  std::function<llvm::Error(const TensorRef &, llvm::raw_ostream &)> materialize;

  const TensorRef *find(llvm::StringRef name) const;
  const uint8_t *data(const TensorRef &t) const { return files[t.fileIndex]->data() + t.offset; }
  /// Row `row` of `t` as f32 (`t.shape.back()` values), whatever its format, qcc's integer
  /// groups included.
  llvm::Error dequantizeRow(const TensorRef &t, int64_t row, float *out) const;
  void addTensor(TensorRef t);
  /// Checks that every role names an existing tensor with the shape the config implies.
  llvm::Error checkRoles() const;
};

/// Reads a checkpoint: a .gguf file, a safetensors file or folder (config.json beside it; sharded
/// via model.safetensors.index.json), or a llama2.c .bin (legacy v0, or "ak42" v1/v2 headers).
llvm::Expected<std::unique_ptr<ModelSource>> openModelSource(llvm::StringRef path);

/// Opens the container named by an imported module's weight_file attribute and checks its size
/// and fingerprint.
llvm::Expected<std::unique_ptr<ModelSource>>
openWeightFile(llvm::StringRef path, ContainerKind container, uint64_t size,
               llvm::StringRef fingerprint);

// Per-container readers (used by openModelSource).
llvm::Expected<std::unique_ptr<ModelSource>> readGGUFModel(llvm::StringRef path);
llvm::Expected<std::unique_ptr<ModelSource>> readSafetensorsModel(llvm::StringRef path);
llvm::Expected<std::unique_ptr<ModelSource>> readLlama2cModel(llvm::StringRef path);

/// Guesses a tokenizer's kind from its content ("gguf", "llama2c", "sentencepiece", "tiktoken").
llvm::Expected<std::string> sniffTokenizerKind(llvm::StringRef path);

} // namespace qcc



namespace qcc {
namespace gguf {
class Writer;
}
/// Names of the synthetic presets (real shapes, deterministic random weights).
llvm::ArrayRef<const char *> syntheticPresetNames();
/// A synthetic model at a real model's shape. Its weights are produced on demand by
/// `materialize` (counter-based RNG keyed by tensor name and seed: deterministic and the same
/// whichever order tensors are written in); `type` is f32, f16 or bf16.
llvm::Expected<std::unique_ptr<ModelSource>> makeSyntheticModel(llvm::StringRef preset,
                                                                GGMLType type, uint64_t seed = 0);
/// The GGUF metadata value (key "qcc.format.<tensor>") that describes a packed integer tensor,
/// "int:bits=B:group=G:sym=S:cols=C", and its parser.
std::string intFormatKey(const quantalgo::IntGroupFormat &f, int64_t cols);
std::optional<std::pair<quantalgo::IntGroupFormat, int64_t>> parseIntFormatKey(llvm::StringRef s);

/// Writes `src` as a llama-architecture GGUF (llama.cpp's keys and tensor names), taking each
/// tensor's bytes from `materialize` or from the mapped container. `extraMetadata` may add keys
/// (tokenizer, file type). Atomic.
llvm::Error writeGGUFModel(const ModelSource &src, llvm::StringRef path,
                           llvm::function_ref<void(gguf::Writer &)> extraMetadata = {});
} // namespace qcc
#endif // QCC_IMPORT_MODELSOURCE_H
