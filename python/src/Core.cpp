//===- Core.cpp - import, modules and passes, quantization for Python -------===//
//
// The steps qcc-import, qcc-opt and qcc-quantize run, called in process (see Core.h). The
// reference model (what qcc-run runs) is in Model.cpp.
//
//===----------------------------------------------------------------------===//
#include "Core.h"
#include "Internal.h"

#include "qcc/Conversion/Passes.h"
#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Dialect/QLlm/QLlmOps.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/Quantize/QuantizeModel.h"
#include "qcc/Support/MappedFile.h"
#include "qcc/Tokenizer/Tokenizer.h"
#include "qcc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>

#include <mutex>

using namespace llvm;
using namespace qcc;

namespace qcc::python {

//===----------------------------------------------------------------------===//
// Shared helpers (Internal.h)
//===----------------------------------------------------------------------===//

bool fail(std::string &err, Error e) {
  err = toString(std::move(e));
  return false;
}

std::string toJSONText(json::Object o) {
  return formatv("{0:2}", json::Value(std::move(o))).str();
}

/// "file:line:col: message" (the location as MLIR tools print it, when there is one).
static std::string formatDiagnostic(mlir::Diagnostic &d) {
  std::string where;
  d.getLocation()->walk([&](mlir::Location l) {
    if (auto f = dyn_cast<mlir::FileLineColLoc>(l)) {
      where = formatv("{0}:{1}:{2}: ", f.getFilename().getValue(), f.getLine(), f.getColumn());
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return where + d.str();
}

DiagnosticCollector::DiagnosticCollector(mlir::MLIRContext *ctx)
    : handler_(std::make_unique<mlir::ScopedDiagnosticHandler>(ctx, [this](mlir::Diagnostic &d) {
        (d.getSeverity() == mlir::DiagnosticSeverity::Error ? errors : others)
            .push_back(formatDiagnostic(d));
        return mlir::success();
      })) {}
DiagnosticCollector::~DiagnosticCollector() = default;

std::string DiagnosticCollector::message(StringRef fallback) const {
  return errors.empty() ? fallback.str() : join(errors, "\n");
}

static std::once_flag registerOnce;

std::unique_ptr<mlir::MLIRContext> makeContext() {
  std::call_once(registerOnce, [] {
    mlir::registerTransformsPasses();
    registerQccPasses();
    registerQccConversionPasses();
  });
  mlir::DialectRegistry registry;
  registerQccDialects(registry);
  registry.insert<qllm::QLlmDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::LLVM::LLVMDialect>();
  auto ctx = std::make_unique<mlir::MLIRContext>(registry);
  ctx->loadAllAvailableDialects();
  // A model is thousands of lines: diagnostics name the location, never print the op.
  ctx->printOpOnDiagnostic(false);
  ctx->printStackTraceOnDiagnostic(false);
  return ctx;
}

//===----------------------------------------------------------------------===//
// Import (qcc-import)
//===----------------------------------------------------------------------===//

std::vector<std::string> syntheticPresets() {
  std::vector<std::string> names;
  for (const char *n : syntheticPresetNames())
    names.push_back(n);
  return names;
}

bool importModel(const ImportOptions &o, std::string &err) {
  if (o.output.empty())
    return err = "no output path given", false;
  if (o.synthetic.empty() == o.source.empty())
    return err = "give exactly one of a model path or a synthetic preset", false;
  std::unique_ptr<ModelSource> src;
  if (!o.synthetic.empty()) {
    const FormatInfo *fmt = lookupFormat(StringRef(o.syntheticType));
    if (!fmt)
      return err = "unknown synthetic type '" + o.syntheticType + "' (f32, f16 or bf16)", false;
    auto s = makeSyntheticModel(o.synthetic, fmt->type, o.seed);
    if (!s)
      return fail(err, s.takeError());
    src = std::move(*s);
  } else {
    auto s = openModelSource(o.source);
    if (!s)
      return fail(err, s.takeError());
    src = std::move(*s);
  }

  if (!o.tokenizer.empty()) {
    auto kind = sniffTokenizerKind(o.tokenizer);
    if (!kind)
      return fail(err, kind.takeError());
    src->tokenizer = {absolutePath(o.tokenizer), *kind};
  } else if (!src->tokenizer.path.empty()) {
    src->tokenizer.path = absolutePath(src->tokenizer.path);
  }
  if (!src->tokenizer.path.empty()) {
    auto tok = Tokenizer::load(src->tokenizer.path, src->tokenizer.kind, src->config.vocabSize);
    if (!tok)
      return fail(err, tok.takeError());
    if ((*tok)->vocabSize() > src->config.vocabSize)
      return err = formatv("{0}: tokenizer has {1} tokens, more than the model's vocabulary of {2}",
                           src->tokenizer.path, (*tok)->vocabSize(), src->config.vocabSize),
             false;
  }

  // Sources that cannot be referenced as they are get a side GGUF beside the output.
  std::string sidePath;
  if (src->materialize) {
    StringRef out(o.output);
    sidePath = (out.ends_with(".mlir") ? out.drop_back(5) : out).str() + ".weights.gguf";
    if (!o.source.empty() && absolutePath(sidePath) == absolutePath(o.source))
      return err = "refusing to overwrite the input " + o.source, false;
    if (Error e = writeGGUFModel(*src, sidePath))
      return fail(err, std::move(e));
    auto side = readGGUFModel(sidePath);
    if (!side) {
      sys::fs::remove(sidePath);
      return fail(err, side.takeError());
    }
    (*side)->tokenizer = src->tokenizer;
    (*side)->config.name = src->config.name;
    src = std::move(*side);
  }
  auto cleanup = [&](std::string msg) {
    if (!sidePath.empty())
      sys::fs::remove(sidePath);
    err = std::move(msg);
    return false;
  };
  if (!o.source.empty() && absolutePath(o.output) == absolutePath(o.source))
    return cleanup("refusing to overwrite the input " + o.source);

  std::unique_ptr<mlir::MLIRContext> ctx = makeContext();
  DiagnosticCollector diags(ctx.get());
  std::string weightPath = absolutePath(sidePath.empty() ? src->path : sidePath);
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModelModule(*ctx, *src, weightPath);
  if (!module)
    return cleanup("the imported module does not verify: " + diags.message("unknown reason"));
  if (Error e = writeFileAtomically(o.output, [&](raw_ostream &os) {
        module->print(os);
        os << "\n";
        return Error::success();
      }))
    return cleanup(toString(std::move(e)));
  return true;
}

//===----------------------------------------------------------------------===//
// Module (qcc-opt)
//===----------------------------------------------------------------------===//

struct Module::Impl {
  std::unique_ptr<mlir::MLIRContext> ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::mutex mu;
};

Module::Module(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Module::~Module() = default;

/// Parses `buffer` (named by its identifier in locations) into a fresh context.
static std::unique_ptr<Module::Impl> parseBuffer(std::unique_ptr<MemoryBuffer> buffer,
                                                 std::string &err) {
  auto impl = std::make_unique<Module::Impl>();
  impl->ctx = makeContext();
  std::string name = buffer->getBufferIdentifier().str();
  DiagnosticCollector diags(impl->ctx.get());
  SourceMgr sm;
  sm.AddNewSourceBuffer(std::move(buffer), SMLoc());
  impl->module = mlir::parseSourceFile<mlir::ModuleOp>(sm, mlir::ParserConfig(impl->ctx.get()));
  if (!impl->module) {
    err = diags.message(name + ": cannot parse");
    return nullptr;
  }
  return impl;
}

std::unique_ptr<Module> Module::load(const std::string &path, std::string &err) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf) {
    err = path + ": " + buf.getError().message();
    return nullptr;
  }
  auto impl = parseBuffer(std::move(*buf), err);
  return impl ? std::unique_ptr<Module>(new Module(std::move(impl))) : nullptr;
}

std::unique_ptr<Module> Module::parse(const std::string &text, const std::string &name,
                                      std::string &err) {
  auto impl = parseBuffer(MemoryBuffer::getMemBufferCopy(text, name), err);
  return impl ? std::unique_ptr<Module>(new Module(std::move(impl))) : nullptr;
}

bool Module::runPasses(const std::string &pipelineText, std::string &err,
                       std::vector<std::string> *messages) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  StringRef pipeline = StringRef(pipelineText).trim();
  // The anchored form "builtin.module(a,b)" is the same pipeline as "a,b" on this module.
  if (pipeline.consume_front("builtin.module(")) {
    if (!pipeline.consume_back(")"))
      return err = "bad pass pipeline '" + pipelineText + "': unbalanced parentheses", false;
    pipeline = pipeline.trim();
  }
  mlir::PassManager pm(impl_->ctx.get(), mlir::ModuleOp::getOperationName());
  std::string parseErr;
  raw_string_ostream es(parseErr);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, es))) {
    // The parser prints "MLIR Textual PassPipeline Parser:1:1: error: MSG", the text and a caret.
    StringRef first = StringRef(parseErr).split('\n').first;
    size_t at = first.find("error: ");
    if (at != StringRef::npos)
      first = first.drop_front(at + 7);
    err = "bad pass pipeline '" + pipelineText + "': " + first.trim().str();
    return false;
  }
  // Passes may fail half-way; keep a copy so that the module is unchanged on failure.
  mlir::OwningOpRef<mlir::ModuleOp> backup = impl_->module->clone();
  DiagnosticCollector diags(impl_->ctx.get());
  if (mlir::failed(pm.run(*impl_->module))) {
    impl_->module = std::move(backup);
    err = diags.message("pass pipeline '" + pipelineText + "' failed");
    return false;
  }
  if (messages)
    *messages = diags.others;
  return true;
}

bool Module::verify(std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  DiagnosticCollector diags(impl_->ctx.get());
  if (mlir::failed(mlir::verify(*impl_->module)))
    return err = diags.message("the module does not verify"), false;
  return true;
}

bool Module::save(const std::string &path, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (Error e = writeFileAtomically(path, [&](raw_ostream &os) {
        impl_->module->print(os);
        os << "\n";
        return Error::success();
      }))
    return fail(err, std::move(e));
  return true;
}

std::string Module::str() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string s;
  raw_string_ostream os(s);
  impl_->module->print(os);
  os << "\n";
  return s;
}

std::unique_ptr<Module> Module::clone(std::string &err) {
  std::string text = str();
  return parse(text, "<clone>", err);
}

bool Module::summaryJSON(std::string &out, std::string &err) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  mlir::ModuleOp m = *impl_->module;
  auto config = m->getAttrOfType<qllm::ModelConfigAttr>("qllm.config");
  if (!config)
    return err = "the module has no qllm.config", false;
  // The keys of `qcc-run model.mlir summary --json` (tools/qcc-run).
  json::Object obj = qllm::summaryToJSON(config, qllm::summarizeWeights(m));
  if (auto wf = m->getAttrOfType<qllm::WeightFileAttr>("qllm.weights"))
    obj["weight_file"] = wf.getPath();
  out = toJSONText(std::move(obj));
  return true;
}

//===----------------------------------------------------------------------===//
// Quantize (qcc-quantize)
//===----------------------------------------------------------------------===//

bool quantize(const QuantizeOptions &q, std::string &reportJSON, std::string &err) {
  // What qcc-quantize does, with its checks (options spelled as keyword arguments).
  auto report = runQuantizeJob(q, [](StringRef name) {
    std::string s = name.str();
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
  });
  if (!report)
    return fail(err, report.takeError());
  reportJSON = toJSONText(report->toJSON());
  return true;
}

} // namespace qcc::python
