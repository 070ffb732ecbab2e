#include "trace_tasks.h"

#include <fmt/format.h>
#include <sched.h>

#include <cstring>

#include "commands.h"
#include "ttdb/tracer/render.h"

namespace ttdb {
namespace {

// The arguments an exec gave the new program, read from the initial stack
// the exec event writes back: argc at the stack pointer, then the pointers.
std::optional<std::vector<std::string>> exec_argv(const trace::TraceReader& reader, const trace::Event& e) {
  std::uint64_t sp = e.args[0];
  for (const auto& write : e.mem) {
    if (sp < write.addr || sp + 8 > write.addr + write.size) continue;
    Bytes stack = reader.mem_bytes(write);
    std::uint64_t end = write.addr + stack.size();
    auto word = [&](std::uint64_t addr) -> std::optional<std::uint64_t> {
      if (addr < write.addr || addr + 8 > end) return std::nullopt;
      std::uint64_t value;
      std::memcpy(&value, stack.data() + (addr - write.addr), 8);
      return value;
    };
    auto argc = word(sp);
    if (!argc || *argc > 1'000'000) return std::nullopt;
    std::vector<std::string> argv;
    for (std::uint64_t i = 0; i < *argc; ++i) {
      auto at = word(sp + 8 + 8 * i);
      if (!at || *at < write.addr || *at >= end) return std::nullopt;
      const char* text = reinterpret_cast<const char*>(stack.data() + (*at - write.addr));
      argv.emplace_back(text, strnlen(text, end - *at));
    }
    return argv;
  }
  return std::nullopt;
}

}  // namespace

int TaskTracker::see(const trace::Event& e) {
  if (tasks_.empty()) {
    tasks_.push_back(TraceTask{e.tid, e.tid, 0, reader_.argv(), std::nullopt, e.id, e.id});
    live_[e.tid] = 0;
  }
  auto found = live_.find(e.tid);
  if (found == live_.end()) return -1;
  std::size_t index = found->second;
  tasks_[index].last_event = e.id;
  if (e.kind == trace::EventKind::spawn) {
    int child = static_cast<int>(e.nr);
    bool thread = e.args[0] & CLONE_THREAD;
    int process = tasks_[index].process;
    tasks_.push_back(TraceTask{child, thread ? process : child, process, std::nullopt, std::nullopt, e.id, e.id});
    live_[child] = tasks_.size() - 1;
  } else if (e.kind == trace::EventKind::exec && e.id > 1) {
    if (auto argv = exec_argv(reader_, e)) tasks_[index].argv = std::move(argv);
  } else if (e.kind == trace::EventKind::exit) {
    tasks_[index].exit = e;
    live_.erase(found);
  }
  return static_cast<int>(index);
}

std::optional<trace::Event> TaskTracker::process_exit(const TraceTask& process) const {
  std::optional<trace::Event> exit = process.exit;
  for (const auto& other : tasks_)
    if (other.process == process.process && other.exit && (!exit || other.exit->id > exit->id)) exit = other.exit;
  return exit;
}

std::string command_line(const TraceTask& task) {
  return task.argv ? quoted_argv(*task.argv) : "(forked without exec)";
}

std::string event_line(const trace::Event& e, bool several_tasks) {
  std::string pid = several_tasks ? fmt::format("[pid {:>6}] ", e.tid) : "";
  return fmt::format("{:>6}  {}{}{}", e.id, pid, render_event(e), e.buffered ? "  [buffered]" : "");
}

}  // namespace ttdb
