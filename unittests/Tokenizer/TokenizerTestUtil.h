//===- TokenizerTestUtil.h - shared helpers for the tokenizer tests -------===//
#ifndef QCC_UNITTESTS_TOKENIZER_TOKENIZERTESTUTIL_H
#define QCC_UNITTESTS_TOKENIZER_TOKENIZERTESTUTIL_H

#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace qcc::test {

/// $QCC_DATA_DIR, else the folder compiled in; tests fail (never skip) when files are missing.
std::string dataPath(llvm::StringRef relative);

/// Reads a whole file; an llvm::Error naming it when it cannot be read.
llvm::Expected<std::string> readFile(llvm::StringRef path);

/// One llama.cpp conformance case: input text and expected ids (no BOS).
struct ConformanceCase {
  std::string text;
  std::vector<int32_t> ids;
};

/// Reads `<vocab>.inp` / `<vocab>.out` as llama.cpp's tests/test-tokenizer-0.cpp does: inputs are
/// separated by "\n__ggml_vocab_test__\n" (the text after the last separator, if any, is one more
/// case), one line of space-separated ids per case.
llvm::Expected<std::vector<ConformanceCase>> readConformanceCases(llvm::StringRef inpPath,
                                                                   llvm::StringRef outPath);

/// Loads a tokenizer once per process (the LLaMA-3 one takes a moment); null after a failure,
/// with the error in `*error`.
const Tokenizer *cachedTokenizer(llvm::StringRef path, llvm::StringRef kind, int32_t vocabSize,
                                 std::string *error);

/// Writes `bytes` to a fresh temporary file and returns its path (removed at process exit).
std::string writeTempFile(llvm::StringRef stem, llvm::StringRef bytes);

std::string idsToString(llvm::ArrayRef<int32_t> ids);

} // namespace qcc::test

#endif // QCC_UNITTESTS_TOKENIZER_TOKENIZERTESTUTIL_H
