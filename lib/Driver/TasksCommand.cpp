//===- TasksCommand.cpp - the `tasks` command ------------------------------------===//
#include "qcc/Driver/Tasks.h"
#include "qcc/Eval/Tasks.h"
#include "qcc/Tokenizer/Tokenizer.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qcc::driver {

cl::SubCommand &tasksCommand() {
  static cl::SubCommand cmd("tasks", "Zero-/few-shot task accuracy (lm-eval log-likelihood)");
  return cmd;
}

namespace {

cl::opt<std::string> taskOpt("task",
                             cl::desc("hellaswag, piqa, winogrande, arc_easy, arc_challenge, "
                                      "mmlu or lambada"),
                             cl::Required, cl::sub(tasksCommand()), cl::cat(optionCategory()));
cl::opt<std::string> dataOpt("data", cl::desc("Task file (mmlu: folder with test/ and dev/)"),
                             cl::Required, cl::sub(tasksCommand()), cl::cat(optionCategory()));
cl::opt<int64_t> shotsOpt("shots", cl::desc("Few-shot examples (mmlu: 0..5 from dev)"),
                          cl::init(0), cl::sub(tasksCommand()), cl::cat(optionCategory()));
cl::opt<int64_t> limitOpt("limit",
                          cl::desc("Score the first N items (mmlu: per subject; 0 = all)"),
                          cl::init(0), cl::sub(tasksCommand()), cl::cat(optionCategory()));
cl::opt<int64_t> batchOpt("batch", cl::desc("Sequences per forward call"), cl::init(8),
                          cl::sub(tasksCommand()), cl::cat(optionCategory()));

Error fail(const Twine &msg) { return createStringError(inconvertibleErrorCode(), msg); }

} // namespace

Error runTasks(DriverModel &m, StringRef label, bool asJSON) {
  std::optional<eval::TaskKind> kind = eval::parseTaskName(taskOpt);
  if (!kind)
    return fail("unknown --task '" + taskOpt + "' (" + eval::taskNames() + ")");
  if (batchOpt < 1)
    return fail("--batch must be positive");
  const Tokenizer *tok = m.tokenizer();
  if (!tok)
    return fail(label + ": the module records no tokenizer (import with --tokenizer)");
  Expected<eval::TaskSet> set = eval::loadTask(*kind, dataOpt, shotsOpt, limitOpt);
  if (!set)
    return set.takeError();
  Expected<std::unique_ptr<ModelInstance>> inst = m.open();
  if (!inst)
    return inst.takeError();
  ModelInstance &mi = **inst;
  eval::ScoringOptions so;
  so.batch = batchOpt;
  so.onLongestRow = [&](int64_t n) { mi.setCacheLength(std::min(mi.maxSeqLen(), n)); };
  const bool showProgress = !asJSON && errs().is_displayed();
  int64_t shown = -1;
  so.progress = [&](int64_t done, int64_t total) {
    const int64_t pct = done * 100 / total;
    if (!showProgress || pct / 5 == shown / 5)
      return;
    shown = pct;
    errs() << formatv("\r{0}: {1}/{2} rows ({3}%)", taskOpt, done, total, pct);
    if (done == total)
      errs() << "\n";
  };
  const bool bos = tok->addBosByDefault();
  auto encode = [&](StringRef s) { return tok->encode(s, bos); };
  Expected<eval::TaskResult> r = eval::evaluateTask(mi, *set, encode, so);
  if (!r)
    return r.takeError();
  if (asJSON) {
    json::Object o = r->toJSON();
    o["model"] = label.str();
    o["data"] = dataOpt.getValue();
    o["shots"] = int64_t(shotsOpt);
    o["limit"] = int64_t(limitOpt);
    o["batch"] = int64_t(batchOpt);
    o["threads"] = m.numThreads();
    o["bos"] = bos;
    o["max_seq_len"] = mi.maxSeqLen();
    outs() << formatv("{0:2}", json::Value(std::move(o))) << "\n";
    return Error::success();
  }
  outs() << formatv("tasks {0} ({1}): {2}-shot, {3} items{4}, batch {5}, {6} threads\n",
                    taskOpt, label, int64_t(shotsOpt), r->n,
                    limitOpt > 0 ? formatv(" (--limit {0}{1})", int64_t(limitOpt),
                                           *kind == eval::TaskKind::MMLU ? " per subject" : "")
                                       .str()
                                 : std::string(),
                    int64_t(batchOpt), m.numThreads());
  r->print(outs());
  return Error::success();
}

} // namespace qcc::driver
