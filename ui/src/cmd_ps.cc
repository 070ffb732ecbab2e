#include <fmt/format.h>

#include "commands.h"
#include "trace_tasks.h"

namespace ttdb {
namespace {

std::string exit_text(const std::optional<trace::Event>& exit) {
  if (!exit) return "--";
  // As rr ps: a signal that killed it as its negative number.
  bool killed = exit->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  return fmt::to_string(killed ? -exit->nr : exit->nr);
}

}  // namespace

int run_ps(const PsArgs& args) {
  trace::TraceReader reader(trace_or_latest(args.trace));
  TaskTracker tracker(reader);
  auto cursor = reader.cursor();
  for (trace::Event e; cursor.next(e);) tracker.see(e);
  fmt::print("PID\tPPID\tEXIT\tCMD\n");
  const auto& tasks = tracker.tasks();
  for (const auto& task : tasks) {
    if (task.tid != task.process) continue;
    fmt::print("{}\t{}\t{}\t{}\n", task.tid, task.parent ? fmt::to_string(task.parent) : "--",
               exit_text(tracker.process_exit(task)), command_line(task));
    for (const auto& thread : tasks)
      if (thread.process == task.process && thread.tid != task.tid)
        fmt::print("{}\t{}\t{}\t(thread of {})\n", thread.tid, task.tid, exit_text(thread.exit), task.tid);
  }
  return 0;
}

}  // namespace ttdb
