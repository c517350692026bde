//===- ReferenceDriverModel.h - the reference executor as a driver model ------===//
//
// The evaluation driver's model (include/qcc/Driver/Driver.h) over the reference executor: what
// `qcc-run model.mlir CMD` runs and what the Python package's ReferenceModel runs, so both report
// the same numbers. One ReferenceExecutor per open(), all reading the module's mapped weights.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EXEC_REFERENCEDRIVERMODEL_H
#define QCC_EXEC_REFERENCEDRIVERMODEL_H

#include "qcc/Driver/Driver.h"
#include "qcc/Exec/ReferenceExecutor.h"

namespace qcc {

class ReferenceDriverModel : public driver::DriverModel {
public:
  /// `path` is the module file `m` was loaded from (the model's name when it has no config, and
  /// counted in fileBytes()).
  ReferenceDriverModel(LoadedModel m, llvm::StringRef path);
  ~ReferenceDriverModel() override;

  std::string name() const override;
  const Tokenizer *tokenizer() const override;
  uint64_t weightsBytes() const override;
  /// The module text plus its weight file: what a deployment of this model copies.
  uint64_t fileBytes() const override;
  void setThreads(int n) override;
  int numThreads() const override;
  llvm::Expected<std::unique_ptr<driver::ModelInstance>> open() override;

  const std::string &path() const { return path_; }
  mlir::ModuleOp module() const { return *m_.module; }

private:
  LoadedModel m_;
  std::string path_;
};

/// loadModel(path, withTokenizer) as a driver model.
llvm::Expected<std::unique_ptr<ReferenceDriverModel>> loadReferenceDriverModel(llvm::StringRef path,
                                                                               bool withTokenizer);

} // namespace qcc

#endif // QCC_EXEC_REFERENCEDRIVERMODEL_H
