//===- HostMain.cpp - main of the executables qcc emits for host targets ------===//
//
//   ./model ppl|logits|generate|bench|tasks [options]      (docs/Driver.md)
//
// The evaluation driver (QCCDriver) over the C API of the runtime (qcc_rt.h): the model the
// executable carries is the glue's tables, so no model argument is taken. One to one:
//   DriverModelFactory::load  -> qcc_model_open (threads set later by setThreads)
//   DriverModel::open         -> qcc_ctx_new
//   ModelInstance::reset(B)   -> qcc_ctx_reset(B, cache length: setCacheLength's, default the
//                                model's context)
//   ModelInstance::forward    -> qcc_ctx_forward
//   DriverModel::readStreamedWeights -> qcc_model_read_streamed (bench --roofline)
//   DriverModel::setProfiling / takeProfile -> qcc_model_profile / _take (bench --profile)
// The tokenizer (qcc_model_string 3 and 4: path and kind) is loaded only for the commands that
// need it. Built into the static library QCCExeHost, linked after the glue object, the kernels
// and qcc_rt.o (lib/Codegen/Runtime/CMakeLists.txt writes the link's response file).
//
//===----------------------------------------------------------------------===//
#include "qcc/Codegen/qcc_rt.h"
#include "qcc/Driver/Driver.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Path.h"

#include <memory>
#include <string>
#include <vector>

using namespace llvm;
using namespace qcc;

namespace {

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }

int64_t info(int i) { return qcc_model_info[i]; }

class CompiledInstance : public driver::ModelInstance {
public:
  explicit CompiledInstance(qcc_ctx *c) : c_(c) {}
  ~CompiledInstance() override { qcc_ctx_free(c_); }
  int64_t vocabSize() const override { return info(QCC_INFO_VOCAB); }
  int64_t maxSeqLen() const override { return info(QCC_INFO_MAX_SEQ); }
  Error reset(int64_t batch) override {
    if (qcc_ctx_reset(c_, batch, positions_ > 0 ? positions_ : maxSeqLen()) != 0)
      return fail(qcc_ctx_error(c_));
    return Error::success();
  }
  Error forward(ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                std::vector<float> &logits) override {
    if (B < 1 || T < 1 || int64_t(tokens.size()) != B * T)
      return fail("forward: " + Twine(tokens.size()) + " tokens are not " + Twine(B) + " rows of " +
                  Twine(T));
    logits.resize(size_t(B * T * vocabSize()));
    if (qcc_ctx_forward(c_, tokens.data(), B, T, pos, logits.data()) != 0)
      return fail(qcc_ctx_error(c_));
    return Error::success();
  }
  void setCacheLength(int64_t positions) override { positions_ = positions; }
  uint64_t kvCacheBytes() const override { return qcc_ctx_kv_bytes(c_); }

private:
  qcc_ctx *c_;
  int64_t positions_ = 0; ///< 0: the model's context
};

class CompiledModel : public driver::DriverModel {
public:
  CompiledModel(qcc_model *m, std::unique_ptr<Tokenizer> tok) : m_(m), tok_(std::move(tok)) {}
  ~CompiledModel() override { qcc_model_close(m_); }
  std::string name() const override { return qcc_model_string(0); }
  const Tokenizer *tokenizer() const override { return tok_.get(); }
  uint64_t weightsBytes() const override { return qcc_model_weights_bytes(m_); }
  uint64_t fileBytes() const override { return qcc_model_file_bytes(m_); }
  void setThreads(int n) override { qcc_model_set_threads(m_, n); }
  int numThreads() const override { return qcc_model_threads(m_); }
  Expected<uint64_t> readStreamedWeights() override {
    if (info(QCC_INFO_USES_GPU))
      return fail("--roofline reads host memory; this executable's kernels read device copies "
                  "of the weights (--target=cuda)");
    return qcc_model_read_streamed(m_);
  }
  Error setProfiling(bool on) override {
    qcc_model_profile(m_, on ? 1 : 0);
    return Error::success();
  }
  Expected<std::vector<driver::KernelProfileRow>> takeProfile() override {
    // Rows: the op kinds and every matmul weight at most.
    std::vector<qcc_profile_row> rows(size_t(info(QCC_INFO_N_WEIGHTS)) + 16);
    const int64_t n = qcc_model_profile_take(m_, rows.data(), int64_t(rows.size()));
    if (n > int64_t(rows.size()))
      return fail("kernel profile: " + Twine(n) + " rows, more than the " + Twine(rows.size()) +
                  " expected");
    std::vector<driver::KernelProfileRow> out;
    out.reserve(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      const qcc_profile_row &r = rows[size_t(i)];
      driver::KernelProfileRow k;
      k.op = r.op;
      if (r.weight >= 0) {
        k.weight = qcc_model_weight_name(m_, r.weight);
        k.format = qcc_model_weight_format(m_, r.weight);
      }
      k.calls = r.calls;
      k.ns = r.ns;
      k.bytes = r.bytes;
      out.push_back(std::move(k));
    }
    return out;
  }
  Expected<std::unique_ptr<driver::ModelInstance>> open() override {
    qcc_ctx *c = qcc_ctx_new(m_);
    if (!c)
      return fail("out of memory creating a model instance");
    return std::make_unique<CompiledInstance>(c);
  }

private:
  qcc_model *m_;
  std::unique_ptr<Tokenizer> tok_;
};

class CompiledFactory : public driver::DriverModelFactory {
public:
  Expected<std::unique_ptr<driver::DriverModel>> load(StringRef path,
                                                      bool withTokenizer) override {
    (void)path; // the executable carries its model
    std::unique_ptr<Tokenizer> tok;
    if (withTokenizer) {
      StringRef tokPath = qcc_model_string(3), kind = qcc_model_string(4);
      if (tokPath.empty())
        return fail(Twine(qcc_model_string(0)) +
                    ": the model records no tokenizer (import with --tokenizer)");
      Expected<std::unique_ptr<Tokenizer>> t =
          Tokenizer::load(tokPath, kind, int32_t(info(QCC_INFO_VOCAB)));
      if (!t)
        return t.takeError();
      tok = std::move(*t);
    }
    char err[1024];
    qcc_model *m = qcc_model_open(0, err, sizeof err);
    if (!m)
      return fail(err);
    return std::make_unique<CompiledModel>(m, std::move(tok));
  }
};

} // namespace

int main(int argc, char **argv) {
  CompiledFactory factory;
  driver::DriverOptions opts;
  opts.toolName = sys::path::filename(argv[0]).str();
  opts.overview = opts.toolName + ": " + qcc_model_string(0) + " compiled by qcc (target " +
                  qcc_model_string(1) + ")\n";
  opts.takesModelPath = false;
  return driver::runDriver(argc, argv, factory, opts);
}
