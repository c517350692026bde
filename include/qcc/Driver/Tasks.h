//===- Tasks.h - the `tasks` command: zero-/few-shot task accuracy ------------===//
//
// `tasks --task NAME --data FILE_OR_DIR [--shots K] [--limit N] [--batch B] [--json]` over a
// DriverModel: lm-eval-style log-likelihood scoring (include/qcc/Eval/Tasks.h) of the task
// files read by include/qcc/Eval/TaskData.h. docs/Driver.md lists the options and JSON keys.
//
//===----------------------------------------------------------------------===//
#ifndef QCC_DRIVER_TASKS_H
#define QCC_DRIVER_TASKS_H

#include "qcc/Driver/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace qcc::driver {

/// The `tasks` subcommand (constructed on first use so that options in any translation unit may
/// name it).
llvm::cl::SubCommand &tasksCommand();

/// Runs `tasks` on `m` (its options were parsed); prints the table, or the JSON object when
/// `asJSON`. `label` names the model in reports.
llvm::Error runTasks(DriverModel &m, llvm::StringRef label, bool asJSON);

} // namespace qcc::driver

#endif // QCC_DRIVER_TASKS_H
