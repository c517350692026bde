//===- TaskData.h - zero-/few-shot task files as text requests -----------------===//
//
// Loads the task files of lm-evaluation-harness-style benchmarks and turns every item into text
// (context, continuation) pairs, the way lm-eval builds its log-likelihood requests. Each loader
// has a parse* form over a string (tests) and reports malformed input as `FILE:LINE: problem`.
//
//   hellaswag      llama.cpp's text format, 6 lines per item: "activity_label: ctx", the gold
//                  label 0..3, then the 4 endings. context = line 1, continuation " " + ending.
//   piqa, arc_*    MosaicML jsonl {"query": "Question: ...[\n]", "choices": [...], "gold": i}:
//                  context = query without trailing newlines + "\nAnswer:" (lm-eval's prompt
//                  "Question: {q}\nAnswer:"), continuation " " + choice.
//   winogrande     MosaicML jsonl {"context_options": [a, b], "continuation": c, "gold": i}:
//                  lm-eval's partial scoring, the same continuation " " + c after each option.
//   mmlu           a folder with test/<subject>_test.csv and dev/<subject>_dev.csv (header
//                  question,choice0..3,answer with answer 0..3 or A..D; headerless hendrycks
//                  files also load): lm-eval's prompt (mmluPrompt), continuations " A".." D".
//   lambada        MosaicML jsonl {"context", "continuation"}: one request, context and
//                  " " + continuation (lm-eval's lambada_openai target " " + last word).
//
//===----------------------------------------------------------------------===//
#ifndef QCC_EVAL_TASKDATA_H
#define QCC_EVAL_TASKDATA_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcc::eval {

enum class TaskKind { HellaSwag, PIQA, WinoGrande, ArcEasy, ArcChallenge, MMLU, Lambada };

llvm::StringRef taskName(TaskKind k);
std::optional<TaskKind> parseTaskName(llvm::StringRef s);
/// "hellaswag, piqa, ..." for messages.
std::string taskNames();
/// lm-eval reports acc_norm for hellaswag, piqa, arc_easy and arc_challenge only.
bool taskHasAccNorm(TaskKind k);

/// One scored alternative: log p(continuation | context).
struct TaskChoice {
  std::string context;
  std::string continuation; ///< With its leading delimiter (" ").
  /// lm-eval's acc_norm divisor: len() of the choice text without the delimiter, in Unicode
  /// code points (Python's len of a str; equal to the byte length for ASCII text).
  int64_t normLength = 1;
};

struct TaskItem {
  std::vector<TaskChoice> choices;
  int64_t gold = 0;    ///< Index of the right choice (lambada: 0, its only request).
  std::string subject; ///< mmlu only.
};

struct TaskSet {
  TaskKind kind = TaskKind::HellaSwag;
  std::vector<TaskItem> items;
  std::vector<std::string> subjects; ///< mmlu: in file-name order.
};

/// Code points of UTF-8 text (bytes that are not continuation bytes).
int64_t codePoints(llvm::StringRef s);

/// An RFC 4180 CSV file: records of fields, "…" quoting with "" for a quote, commas and
/// newlines inside quotes, LF or CRLF line ends, an optional final line end. `lines` (optional)
/// gets the line number each record starts on.
llvm::Expected<std::vector<std::vector<std::string>>>
parseCSV(llvm::StringRef text, llvm::StringRef name, std::vector<int64_t> *lines = nullptr);

llvm::Expected<std::vector<TaskItem>> parseHellaSwag(llvm::StringRef text, llvm::StringRef name);
/// piqa, arc_easy, arc_challenge.
llvm::Expected<std::vector<TaskItem>> parseQueryChoices(llvm::StringRef text,
                                                        llvm::StringRef name);
llvm::Expected<std::vector<TaskItem>> parseWinoGrande(llvm::StringRef text, llvm::StringRef name);
llvm::Expected<std::vector<TaskItem>> parseLambada(llvm::StringRef text, llvm::StringRef name);

struct MMLUQuestion {
  std::string question;
  std::string choices[4];
  int answer = 0; ///< 0..3
};
llvm::Expected<std::vector<MMLUQuestion>> parseMMLUCSV(llvm::StringRef text, llvm::StringRef name);

/// lm-eval's mmlu prompt: "The following are multiple choice questions (with answers) about
/// {subject with '_' as ' '}.\n\n", then per shot "{q}\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer: {X}"
/// followed by "\n\n", then the question in the same form ending in "Answer:". Questions are
/// stripped of surrounding whitespace (question.strip()).
std::string mmluPrompt(llvm::StringRef subject, llvm::ArrayRef<MMLUQuestion> shots,
                       const MMLUQuestion &q);

/// Loads a task. `path`: the file, or for mmlu the folder holding test/ and dev/. `shots`: mmlu
/// only (0..5, the first K dev questions of the subject, lm-eval's first_n sampler); other
/// tasks refuse shots > 0 (the data has no training split). `limit` > 0 keeps the first `limit`
/// items (mmlu: the first `limit` questions of every subject, as lm-eval's --limit per subtask).
llvm::Expected<TaskSet> loadTask(TaskKind kind, llvm::StringRef path, int64_t shots,
                                 int64_t limit);

} // namespace qcc::eval

#endif // QCC_EVAL_TASKDATA_H
