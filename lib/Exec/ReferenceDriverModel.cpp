//===- ReferenceDriverModel.cpp - the reference executor as a driver model ----===//
#include "qcc/Exec/ReferenceDriverModel.h"
#include "qcc/Dialect/QLlm/ModelSummary.h"
#include "qcc/Runtime/Kernels.h"

#include "llvm/Support/FileSystem.h"

using namespace llvm;

namespace qcc {
namespace {

class ReferenceInstance : public driver::ModelInstance {
public:
  explicit ReferenceInstance(std::unique_ptr<ReferenceExecutor> ex) : ex_(std::move(ex)) {}
  int64_t vocabSize() const override { return ex_->vocabSize(); }
  int64_t maxSeqLen() const override { return ex_->maxSeqLen(); }
  Error reset(int64_t batch) override { return ex_->reset(batch); }
  Error forward(ArrayRef<int32_t> tokens, int64_t B, int64_t T, int64_t pos,
                std::vector<float> &logits) override {
    return ex_->forward(tokens, B, T, pos, logits);
  }
  void setCacheLength(int64_t positions) override { ex_->setCacheLength(positions); }
  uint64_t kvCacheBytes() const override { return ex_->kvCacheBytes(); }

private:
  std::unique_ptr<ReferenceExecutor> ex_;
};

} // namespace

ReferenceDriverModel::ReferenceDriverModel(LoadedModel m, StringRef path)
    : m_(std::move(m)), path_(path.str()) {}
ReferenceDriverModel::~ReferenceDriverModel() = default;

std::string ReferenceDriverModel::name() const {
  if (auto config = (*m_.module)->getAttrOfType<qllm::ModelConfigAttr>("qllm.config"))
    return config.getName().str();
  return path_;
}

const Tokenizer *ReferenceDriverModel::tokenizer() const { return m_.tokenizer.get(); }

uint64_t ReferenceDriverModel::weightsBytes() const {
  return uint64_t(qllm::summarizeWeights(*m_.module).storageBytes);
}

uint64_t ReferenceDriverModel::fileBytes() const {
  uint64_t moduleBytes = 0;
  (void)sys::fs::file_size(path_, moduleBytes);
  return moduleBytes + m_.weights->size;
}

void ReferenceDriverModel::setThreads(int n) { rt::setThreads(n); }
int ReferenceDriverModel::numThreads() const { return rt::numThreads(); }

Expected<std::unique_ptr<driver::ModelInstance>> ReferenceDriverModel::open() {
  Expected<std::unique_ptr<ReferenceExecutor>> ex =
      ReferenceExecutor::create(*m_.module, *m_.weights);
  if (!ex)
    return ex.takeError();
  return std::make_unique<ReferenceInstance>(std::move(*ex));
}

Expected<std::unique_ptr<ReferenceDriverModel>> loadReferenceDriverModel(StringRef path,
                                                                         bool withTokenizer) {
  Expected<LoadedModel> m = loadModel(path, withTokenizer);
  if (!m)
    return m.takeError();
  return std::make_unique<ReferenceDriverModel>(std::move(*m), path);
}

} // namespace qcc
