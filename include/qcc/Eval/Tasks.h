//===- Tasks.h - lm-eval-style log-likelihood scoring of task items -----------===//
//
// lm-evaluation-harness's multiple-choice and log-likelihood evaluation over any LanguageModel:
//
// * Tokenization (encodePair, lm-eval's _encode_pair): trailing whitespace of the context moves
//   to the front of the continuation; the context is encoded alone (with BOS when the model's
//   tokenizer adds one; lm-eval's HF models add none for LLaMA, llama.cpp does) and the
//   continuation's tokens are those of encode(context + continuation) after the context's count.
// * Truncation: context + continuation is cut from the left to maxSeqLen + 1 tokens and the last
//   token dropped (lm-eval's (context + continuation)[-(max_length+1):][:-1]), so the input fits
//   the model's context. A continuation alone longer than maxSeqLen (lm-eval asserts against it)
//   has only its last maxSeqLen tokens scored, and is counted (ScoringStats::continuationsCut).
// * Scoring: ll = Σ log p(continuation token | everything before it); greedy = every
//   continuation token is the argmax of its prediction (lm-eval's is_greedy).
// * Batching: each request is one input row (context + continuation minus its last token);
//   requests whose rows are the same tokens, or a prefix of another request's row, are read
//   from that one row (causal attention: the prefix's logits are the same), so mmlu's four
//   " A".." D" continuations after one context cost one row. Rows are sorted by length, longest
//   first, and
//   packed `batch` at a time into one forward call [B, T] at position 0, right-padded to the
//   longest row of the call: attention is causal, so padding after a row never changes the
//   logits of the row's own positions, and padded positions' logits are never read. The
//   LanguageModel interface has no way to share one context's KV cache between rows, so a
//   context common to several choices is recomputed in each row.
// * Metrics: acc = mean[argmax_i ll_i == gold]; acc_norm = mean[argmax_i ll_i / len_i == gold]
//   with len_i lm-eval's len() of the choice text (TaskChoice::normLength); ties go to the
//   first choice (numpy.argmax). Standard errors are lm-eval's mean_stderr: the sample standard
//   deviation (n − 1) over sqrt(n), i.e. sqrt(p(1 − p) / (n − 1)) for 0/1 scores. lambada: acc =
//   mean greedy, ppl = exp(−Σ ll / Σ continuation tokens) and ppl_per_item = exp(−mean ll)
//   (lm-eval's lambada `perplexity`: one word per item). mmlu: acc over all questions (lm-eval's
//   `mmlu` group, weight_by_size) and the unweighted mean of the subjects' accuracies.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EVAL_TASKS_H
#define QCC_EVAL_TASKS_H

#include "qcc/Eval/LanguageModel.h"
#include "qcc/Eval/TaskData.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

namespace qcc::eval {

struct ScoreRequest {
  std::vector<int32_t> context;      ///< With BOS when the model wants it; not empty.
  std::vector<int32_t> continuation; ///< At least one token.
};

struct ScoreResult {
  double logLikelihood = 0;
  bool greedy = false;
  int64_t tokens = 0; ///< Continuation tokens scored (all but for a cut continuation).
};

/// Text to token ids, BOS included when the model's tokenizer adds one.
using EncodeFn = llvm::function_ref<std::vector<int32_t>(llvm::StringRef)>;

/// lm-eval's _encode_pair (see the file comment).
ScoreRequest encodePair(EncodeFn encode, llvm::StringRef context, llvm::StringRef continuation);

struct ScoringOptions {
  int64_t batch = 8; ///< Rows per forward call.
  /// Called once, before the first reset, with the longest row (positions the KV cache needs).
  std::function<void(int64_t)> onLongestRow;
  /// Called after each forward call with rows done and rows in all.
  std::function<void(int64_t, int64_t)> progress;
};

struct ScoringStats {
  int64_t requests = 0;
  int64_t rows = 0;            ///< Input rows run (after sharing).
  int64_t forwardCalls = 0;
  int64_t tokensForwarded = 0; ///< Σ B × T over forward calls (padding included).
  int64_t tokensPadding = 0;   ///< Of those, padding.
  int64_t truncated = 0;       ///< Requests cut on the left to fit the model.
  /// Requests whose continuation alone is longer than the model's context: only its last
  /// maxSeqLen tokens are scored (lm-eval refuses them; a 512-token model meets a few in piqa).
  int64_t continuationsCut = 0;
};

/// Scores the requests (results in request order).
llvm::Expected<std::vector<ScoreResult>> scoreRequests(LanguageModel &model,
                                                       llvm::ArrayRef<ScoreRequest> requests,
                                                       const ScoringOptions &opts,
                                                       ScoringStats *stats = nullptr);

/// lm-eval's mean_stderr: sample standard deviation (n − 1) / sqrt(n); 0 when n < 2.
double meanStderr(llvm::ArrayRef<double> xs);

struct SubjectResult {
  std::string subject;
  int64_t n = 0;
  double acc = 0, accStderr = 0;
};

struct TaskResult {
  TaskKind kind = TaskKind::HellaSwag;
  int64_t n = 0;
  double acc = 0, accStderr = 0;
  bool hasAccNorm = false;
  double accNorm = 0, accNormStderr = 0;
  // lambada
  double ppl = 0, pplPerItem = 0;
  int64_t continuationTokens = 0;
  // mmlu: acc is over questions (= accQuestionsAvg); the mean over subjects next to it.
  std::vector<SubjectResult> subjects;
  double accSubjectsAvg = 0, accSubjectsAvgStderr = 0;

  ScoringStats stats;
  double seconds = 0, tokenizeSeconds = 0;

  llvm::json::Object toJSON() const;
  void print(llvm::raw_ostream &os) const;
};

/// Metrics from the scores of every item's choices (scores[i][c] for item i, choice c).
TaskResult computeMetrics(const TaskSet &set, llvm::ArrayRef<std::vector<ScoreResult>> scores);

/// Tokenizes, scores and aggregates a task.
llvm::Expected<TaskResult> evaluateTask(LanguageModel &model, const TaskSet &set,
                                        EncodeFn encode, const ScoringOptions &opts);

} // namespace qcc::eval

#endif // QCC_EVAL_TASKS_H
