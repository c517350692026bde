//===- ReferenceLogitsTest.cpp - the executor against independent references ===//
//
// Real models, every import path that exists for them, against reference/logits (an independent
// PyTorch float32 forward pass, itself checked against llama.cpp's perplexity) and against each
// other. Tolerances are relative to the logit scale: max|ours − ref| / max|ref|.
//
//===----------------------------------------------------------------------===//
#include "../TestData.h"
#include "qcc/Eval/Perplexity.h"
#include "qcc/Exec/ReferenceExecutor.h"
#include "qcc/Import/ModelToMLIR.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace qcc;
using namespace qcc::test;

namespace {

struct Run {
  std::unique_ptr<mlir::MLIRContext> ctx = std::make_unique<mlir::MLIRContext>();
  std::unique_ptr<ModelSource> src;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<ReferenceExecutor> ex;
};

std::unique_ptr<Run> load(const std::string &rel) {
  auto r = std::make_unique<Run>();
  auto src = openModelSource(dataPath(rel));
  if (!src) {
    ADD_FAILURE() << llvm::toString(src.takeError());
    return nullptr;
  }
  r->src = std::move(*src);
  r->module = buildModelModule(*r->ctx, *r->src, r->src->path);
  if (!r->module) {
    ADD_FAILURE() << "module does not verify for " << rel;
    return nullptr;
  }
  auto ex = ReferenceExecutor::create(*r->module, *r->src);
  if (!ex) {
    ADD_FAILURE() << llvm::toString(ex.takeError());
    return nullptr;
  }
  r->ex = std::move(*ex);
  return r;
}

std::vector<float> logitsFor(ReferenceExecutor &ex, const std::vector<int32_t> &tokens,
                             int64_t B) {
  const int64_t T = int64_t(tokens.size()) / B;
  std::vector<float> out;
  EXPECT_FALSE(bool(ex.reset(B)));
  llvm::Error e = ex.forward(tokens, B, T, 0, out);
  EXPECT_FALSE(bool(e)) << llvm::toString(std::move(e));
  return out;
}

double relMaxErr(const std::vector<float> &a, const std::vector<float> &ref) {
  EXPECT_EQ(a.size(), ref.size());
  double scale = 0, err = 0;
  for (size_t i = 0; i < ref.size() && i < a.size(); ++i) {
    scale = std::max(scale, double(std::fabs(ref[i])));
    err = std::max(err, double(std::fabs(a[i] - ref[i])));
  }
  return err / scale;
}

struct Case {
  const char *model; // reference name
  const char *path;  // import path
  double tolerance;  // relative max error vs the f32 reference logits
};

// gtest prints parameters in test listings (and CTest names): show the path, not bytes.
void PrintTo(const Case &c, std::ostream *os) { *os << c.path; }

class ReferenceLogits : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceLogits, Match) {
  const Case &c = GetParam();
  auto tokens = readBinary<int32_t>(dataPath(std::string("reference/logits/") + c.model + ".tokens.i32"));
  auto ref = readBinary<float>(dataPath(std::string("reference/logits/") + c.model + ".logits.f32"));
  ASSERT_EQ(tokens.size(), 4u * 128u);
  auto run = load(c.path);
  ASSERT_TRUE(run);
  auto ours = logitsFor(*run->ex, tokens, 4);
  double err = relMaxErr(ours, ref);
  RecordProperty("rel_max_err", std::to_string(err));
  EXPECT_LE(err, c.tolerance) << c.path;
}

// f32 paths must meet the 1e-4 (measured: 1e-6; the bound is 1e-5). bf16 and quantized GGUFs carry their format's error:
// their bounds are set from measured values with about 2x headroom, so a regression shows
// (measured: bf16 1.9e-3, Q8_0 3.8e-3, Q6_K 2.0e-2, Q4_K_M 5.5e-2, Q4_0 6.8e-2, Q2_K 0.32).
// The dequantization itself is bit-exact with llama.cpp (QCCQuantTests).
INSTANTIATE_TEST_SUITE_P(
    AllImportPaths, ReferenceLogits,
    ::testing::Values(
        Case{"stories260K", "models/llama2c/stories260K/stories260K.bin", 1e-5},
        Case{"stories260K", "models/gguf/stories260K-f32.gguf", 1e-5},
        Case{"student4M", "models/student4M/student4M.bin", 1e-5},
        Case{"student4M", "models/student4M/student4M-f32.gguf", 1e-5},
        Case{"student4M", "models/student4M/student4M-hf", 1e-5},
        Case{"student4M", "models/student4M/student4M-hf-bf16", 4e-3},
        Case{"student4M", "models/student4M/student4M-Q8_0.gguf", 8e-3},
        Case{"student4M", "models/student4M/student4M-Q6_K.gguf", 4e-2},
        Case{"student4M", "models/student4M/student4M-Q4_K_M.gguf", 1.1e-1},
        Case{"student4M", "models/student4M/student4M-Q4_0.gguf", 1.4e-1},
        Case{"student4M", "models/student4M/student4M-Q2_K.gguf", 6.5e-1}),
    [](const ::testing::TestParamInfo<Case> &i) {
      std::string s = llvm::sys::path::filename(i.param.path).str();
      for (char &ch : s)
        if (!isalnum(static_cast<unsigned char>(ch)))
          ch = '_';
      return s;
    });

// Perplexity under llama.cpp's protocol computed from the independent reference logits and from
// ours, on the same tokens: they must agree to 1e-5 relative.
TEST(Perplexity, AgreesWithIndependentLogits) {
  for (const char *model : {"stories260K", "student4M"}) {
    auto tokens = readBinary<int32_t>(dataPath(std::string("reference/logits/") + model + ".tokens.i32"));
    auto ref = readBinary<float>(dataPath(std::string("reference/logits/") + model + ".logits.f32"));
    auto run = load(std::string("models/") +
                    (std::string(model) == "stories260K" ? "llama2c/stories260K/stories260K.bin"
                                                         : "student4M/student4M.bin"));
    ASSERT_TRUE(run);
    auto ours = logitsFor(*run->ex, tokens, 4);
    double a = 0, b = 0;
    int n = 0;
    for (int64_t row = 0; row < 4; ++row)
      for (int64_t j = 64; j < 127; ++j, ++n) {
        a -= eval::logProb(&ours[(row * 128 + j) * 512], 512, tokens[row * 128 + j + 1]);
        b -= eval::logProb(&ref[(row * 128 + j) * 512], 512, tokens[row * 128 + j + 1]);
      }
    EXPECT_NEAR(std::exp(a / n) / std::exp(b / n), 1.0, 1e-5) << model;
  }
}

eval::PerplexityResult textPPL(const std::string &path, const std::string &tokenizer,
                               const char *kind, eval::PPLProtocol protocol) {
  auto run = load(path);
  EXPECT_TRUE(run);
  if (!run)
    return {};
  auto tok = Tokenizer::load(dataPath(tokenizer), kind, 512);
  EXPECT_TRUE(bool(tok));
  if (!tok)
    return {};
  auto text = llvm::MemoryBuffer::getFile(dataPath("text/tinystories/TinyStories-valid.first22.txt"));
  std::vector<int32_t> ids = (*tok)->encode((*text)->getBuffer(), true);
  eval::PerplexityOptions o;
  o.ctx = 128;
  o.protocol = protocol;
  o.bosId = (*tok)->bosId();
  run->ex->setCacheLength(128);
  auto r = eval::perplexity(*run->ex, ids, o);
  EXPECT_TRUE(bool(r));
  return r ? *r : eval::PerplexityResult{};
}

// llama-perplexity (llama.cpp c392e50) on stories260K, ctx 128, this text: 5.4707; the independent
// PyTorch implementation: 5.4705 (reference/SOURCES.md). Ours, from the GGUF with its own
// tokenizer and from the llama2.c file with tok512.bin, must agree to the 4 digits printed.
TEST(Perplexity, Stories260KMatchesLlamaCpp) {
  auto g = textPPL("models/gguf/stories260K-f32.gguf", "models/gguf/stories260K-f32.gguf", "gguf",
                   eval::PPLProtocol::LlamaCpp);
  EXPECT_NEAR(g.ppl, 5.4706, 2e-4);
  auto b = textPPL("models/llama2c/stories260K/stories260K.bin",
                   "models/llama2c/stories260K/tok512.bin", "llama2c", eval::PPLProtocol::LlamaCpp);
  EXPECT_NEAR(b.ppl, 5.4706, 2e-4);
  EXPECT_EQ(g.tokensScored, b.tokensScored);
}

// The same model through every import path gives the same perplexity.
TEST(Perplexity, SameAcrossImportPaths) {
  const char *tok = "models/llama2c/stories260K/tok512.bin";
  for (auto protocol : {eval::PPLProtocol::LlamaCpp, eval::PPLProtocol::GPTQ}) {
    auto a = textPPL("models/llama2c/stories260K/stories260K.bin", tok, "llama2c", protocol);
    auto b = textPPL("models/gguf/stories260K-f32.gguf", tok, "llama2c", protocol);
    EXPECT_EQ(a.tokensScored, b.tokensScored);
    EXPECT_NEAR(a.ppl / b.ppl, 1.0, 1e-6);
    auto c = textPPL("models/student4M/student4M.bin", tok, "llama2c", protocol);
    auto d = textPPL("models/student4M/student4M-f32.gguf", tok, "llama2c", protocol);
    auto e = textPPL("models/student4M/student4M-hf", tok, "llama2c", protocol);
    EXPECT_NEAR(c.ppl / d.ppl, 1.0, 1e-6);
    EXPECT_NEAR(c.ppl / e.ppl, 1.0, 1e-5); // rotate-half sums q·k in another order
  }
}

} // namespace
