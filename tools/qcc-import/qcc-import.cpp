//===- qcc-import.cpp - checkpoint -> qllm MLIR module ----------------------===//
//
//   qcc-import SRC [--tokenizer FILE] -o model.mlir
//   qcc-import --synthetic llama3-8b [--synthetic-type f16] -o model.mlir
//
// SRC is a .gguf, a safetensors file or folder, or a llama2.c .bin. Weights stay in SRC; sources
// that cannot be referenced as they are (llama2.c v2 int8, synthetic) get a side GGUF next to the
// output (model.weights.gguf). Every output is written atomically: on error nothing is left.
//
//===----------------------------------------------------------------------===//
#include "qcc/Import/ModelSource.h"
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/Support/MappedFile.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace qcc;

static cl::OptionCategory cat("qcc-import options");
static cl::opt<std::string> input(cl::Positional, cl::desc("<model.gguf | safetensors dir/file | llama2c.bin>"),
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::desc("Output .mlir file"), cl::value_desc("file"),
                                   cl::Required, cl::cat(cat));
static cl::opt<std::string> tokenizerPath("tokenizer",
                                          cl::desc("Tokenizer file (tokenizer.bin, tokenizer.model, "
                                                   "tiktoken file or GGUF) to record in the module"),
                                          cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> synthetic("synthetic",
                                      cl::desc("Make a synthetic model at a real shape (llama3-8b, "
                                               "llama2-7b, tinyllama-1.1b, smollm-135m, stories110m, "
                                               "llama3-tiny)"),
                                      cl::value_desc("name"), cl::cat(cat));
static cl::opt<std::string> syntheticType("synthetic-type", cl::desc("f32, f16 or bf16 (default f16)"),
                                          cl::init("f16"), cl::cat(cat));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of the synthetic weights"), cl::init(0),
                              cl::cat(cat));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "qcc-import") << msg << "\n";
  exit(1);
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc-import: LLaMA-family checkpoint -> qllm MLIR\n");
  if (synthetic.empty() == input.empty())
    die("give exactly one of a model path or --synthetic NAME");

  std::unique_ptr<ModelSource> src;
  if (!synthetic.empty()) {
    const FormatInfo *fmt = lookupFormat(StringRef(syntheticType));
    if (!fmt)
      die("unknown --synthetic-type '" + syntheticType + "'");
    auto s = makeSyntheticModel(synthetic, fmt->type, seed);
    if (!s)
      die(toString(s.takeError()));
    src = std::move(*s);
  } else {
    auto s = openModelSource(input);
    if (!s)
      die(toString(s.takeError()));
    src = std::move(*s);
  }

  if (!tokenizerPath.empty()) {
    auto kind = sniffTokenizerKind(tokenizerPath);
    if (!kind)
      die(toString(kind.takeError()));
    src->tokenizer = {absolutePath(tokenizerPath), *kind};
  } else if (!src->tokenizer.path.empty()) {
    src->tokenizer.path = absolutePath(src->tokenizer.path);
  }
  if (!src->tokenizer.path.empty()) {
    auto tok = Tokenizer::load(src->tokenizer.path, src->tokenizer.kind, src->config.vocabSize);
    if (!tok)
      die(toString(tok.takeError()));
    if ((*tok)->vocabSize() > src->config.vocabSize)
      die(src->tokenizer.path + ": tokenizer has " + Twine((*tok)->vocabSize()) +
          " tokens, more than the model's vocabulary of " + Twine(src->config.vocabSize));
  }

  // Sources that cannot be referenced as they are get a side GGUF beside the output.
  std::string sidePath;
  if (src->materialize) {
    StringRef out(output);
    sidePath = (out.ends_with(".mlir") ? out.drop_back(5) : out).str() + ".weights.gguf";
    if (!input.empty() && absolutePath(sidePath) == absolutePath(input))
      die("refusing to overwrite the input " + input);
    if (Error e = writeGGUFModel(*src, sidePath))
      die(toString(std::move(e)));
    auto side = readGGUFModel(sidePath);
    if (!side) {
      sys::fs::remove(sidePath);
      die(toString(side.takeError()));
    }
    (*side)->tokenizer = src->tokenizer;
    (*side)->config.name = src->config.name;
    src = std::move(*side);
  }
  auto cleanup = [&](const Twine &msg) {
    if (!sidePath.empty())
      sys::fs::remove(sidePath);
    die(msg);
  };
  if (!input.empty() && absolutePath(output) == absolutePath(input))
    cleanup("refusing to overwrite the input " + input);

  mlir::MLIRContext ctx;
  std::string diag;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    if (diag.empty())
      diag = d.str();
    return mlir::success();
  });
  std::string weightPath = absolutePath(sidePath.empty() ? src->path : sidePath);
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModelModule(ctx, *src, weightPath);
  if (!module)
    cleanup("the imported module does not verify: " + diag);
  if (Error e = writeFileAtomically(output, [&](raw_ostream &os) {
        module->print(os);
        os << "\n";
        return Error::success();
      }))
    cleanup(toString(std::move(e)));
  return 0;
}
