#include <fmt/format.h>
#include <sched.h>

#include <cstring>
#include <map>

#include "commands.h"
#include "ttdb/trace/reader.h"

namespace ttdb {
namespace {

struct Task {
  int tid = 0;
  int process = 0;  // its first thread's tid
  int parent = 0;   // the process that made it (0: ttdb)
  std::optional<std::vector<std::string>> argv;  // from its latest exec
  std::optional<trace::Event> exit;
};

// The arguments an exec gave the new program, read from the initial stack
// the exec event writes back: argc at the stack pointer, then the pointers.
std::optional<std::vector<std::string>> exec_argv(const trace::TraceReader& reader, const trace::Event& e) {
  std::uint64_t sp = e.args[0];
  for (const auto& write : e.mem) {
    if (sp < write.addr || sp + 8 > write.addr + write.size) continue;
    Bytes stack = reader.mem_bytes(write);
    auto word = [&](std::uint64_t addr) -> std::optional<std::uint64_t> {
      if (addr < write.addr || addr + 8 > write.addr + stack.size()) return std::nullopt;
      std::uint64_t value;
      std::memcpy(&value, stack.data() + (addr - write.addr), 8);
      return value;
    };
    auto argc = word(sp);
    if (!argc || *argc > 1'000'000) return std::nullopt;
    std::vector<std::string> argv;
    for (std::uint64_t i = 0; i < *argc; ++i) {
      auto at = word(sp + 8 + 8 * i);
      if (!at || *at < write.addr || *at >= write.addr + stack.size()) return std::nullopt;
      const char* text = reinterpret_cast<const char*>(stack.data() + (*at - write.addr));
      argv.emplace_back(text, strnlen(text, write.addr + stack.size() - *at));
    }
    return argv;
  }
  return std::nullopt;
}

std::string exit_text(const std::optional<trace::Event>& exit) {
  if (!exit) return "--";
  // As rr ps: a signal that killed it as its negative number.
  bool killed = exit->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  return fmt::to_string(killed ? -exit->nr : exit->nr);
}

}  // namespace

int run_ps(const PsArgs& args) {
  trace::TraceReader reader(trace_or_latest(args.trace));
  std::vector<Task> tasks;  // in the order they were made
  std::map<int, std::size_t> live;  // tid -> its task, while it runs
  auto cursor = reader.cursor();
  for (trace::Event e; cursor.next(e);) {
    if (tasks.empty()) {
      tasks.push_back(Task{e.tid, e.tid, 0, reader.argv(), std::nullopt});
      live[e.tid] = 0;
    }
    auto found = live.find(e.tid);
    if (found == live.end()) continue;
    Task& task = tasks[found->second];
    if (e.kind == trace::EventKind::spawn) {
      int child = static_cast<int>(e.nr);
      bool thread = e.args[0] & CLONE_THREAD;
      tasks.push_back(Task{child, thread ? task.process : child, task.process, std::nullopt, std::nullopt});
      live[child] = tasks.size() - 1;
    } else if (e.kind == trace::EventKind::exec && e.id > 1) {
      if (auto argv = exec_argv(reader, e)) task.argv = std::move(argv);
    } else if (e.kind == trace::EventKind::exit) {
      task.exit = e;
      live.erase(found);
    }
  }
  fmt::print("PID\tPPID\tEXIT\tCMD\n");
  for (const auto& task : tasks) {
    if (task.tid != task.process) continue;
    // A process's status is its last thread's: the one that ended it.
    std::optional<trace::Event> exit = task.exit;
    for (const auto& other : tasks)
      if (other.process == task.process && other.exit && (!exit || other.exit->id > exit->id)) exit = other.exit;
    std::string command = task.argv ? quoted_argv(*task.argv) : "(forked without exec)";
    fmt::print("{}\t{}\t{}\t{}\n", task.tid, task.parent ? fmt::to_string(task.parent) : "--", exit_text(exit), command);
    for (const auto& thread : tasks)
      if (thread.process == task.process && thread.tid != task.tid)
        fmt::print("{}\t{}\t{}\t(thread of {})\n", thread.tid, task.tid, exit_text(thread.exit), task.tid);
  }
  return 0;
}

}  // namespace ttdb
