// The shell's processes and threads: info inferiors, inferior N, info
// threads, thread N, and the "[Switching to ...]" lines after a stop.
#include <algorithm>

#include "shell_internal.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {

namespace {

std::string describe(const Engine::Inferior& inferior) {
  return fmt::format("inferior {} [process {}] ({})", inferior.number, inferior.pid, inferior.exe);
}

}  // namespace

std::string Shell::thread_id(const Engine::Inferior& thread) {
  // As gdb: "N" while there is one process, "I.N" (inferior I's thread N)
  // when there are several. The recording decides, so that the ids stay the
  // same at every position.
  if (engine_.several_processes()) return fmt::format("{}.{}", thread.number, thread.thread);
  return std::to_string(thread.thread);
}

void Shell::note_process_switch() {
  if (!ensure_live()) return;
  auto inferiors = engine_.inferiors();
  // Until a stop has been shown, the program ttdb started is.
  if (!shown_)
    for (const auto& inferior : inferiors)
      if (inferior.number == 1 && inferior.thread == 1) shown_ = Shown{inferior.pid, inferior.process};
  for (const auto& inferior : inferiors) {
    if (!inferior.selected) continue;
    // The thread shown last may have ended since: its process is still known.
    if (shown_ && shown_->tid != inferior.pid) {
      if (inferior.process == shown_->process) {
        out_ << fmt::format("[Switching to thread {} (Thread {})]\n", thread_id(inferior), inferior.pid);
      } else {
        Engine::Inferior process = inferior;
        process.pid = inferior.process;
        out_ << "[Switching to " << describe(process) << "]\n";
      }
    }
    shown_ = Shown{inferior.pid, inferior.process};
  }
}

std::string Shell::describe_exit(int tid) {
  auto numbers = engine_.task_numbers(tid);
  auto end = engine_.recorded_event(engine_.event());
  if (numbers.process != tid) return fmt::format("[Thread {} exited]", tid);
  std::string how = "exited";
  if (end && end->kind == trace::EventKind::exit && end->tid == tid) {
    bool killed = end->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
    if (killed) how = "was killed by " + signal_name(static_cast<int>(end->nr));
    else how = end->nr == 0 ? "exited normally" : fmt::format("exited with code {:02o}", end->nr);
  }
  return fmt::format("[Inferior {} (process {}) {}]", numbers.inferior, tid, how);
}

void Shell::cmd_info_inferiors() {
  auto inferiors = engine_.inferiors();
  if (inferiors.empty()) {
    out_ << "No processes: the replay is at the end of the recording.\n";
    return;
  }
  int looked = 0;
  bool moving_here = false;
  for (const auto& inferior : inferiors)
    if (inferior.selected) looked = inferior.process;
  out_ << "  Num  Description       Executable\n";
  for (const auto& inferior : inferiors) {
    if (inferior.pid != inferior.process) continue;  // a thread: "info threads"
    moving_here = std::any_of(inferiors.begin(), inferiors.end(),
                              [&](const auto& i) { return i.process == inferior.pid && i.moves_next; });
    out_ << fmt::format("{} {:<4} {:<17} {}{}\n", inferior.pid == looked ? '*' : ' ', inferior.number,
                        fmt::format("process {}", inferior.pid), inferior.exe, moving_here ? "  (moves next)" : "");
  }
}

std::vector<Engine::Inferior> Shell::threads_here() {
  auto all = engine_.inferiors();
  int process = 0;
  for (const auto& inferior : all)
    if (inferior.selected) process = inferior.process;
  std::vector<Engine::Inferior> threads;
  for (const auto& inferior : all)
    if (inferior.process == process) threads.push_back(inferior);
  std::sort(threads.begin(), threads.end(), [](const auto& a, const auto& b) { return a.thread < b.thread; });
  return threads;
}

std::pair<int, int> Shell::resolve_thread_id(const std::string& id) {
  ThreadId parsed = parse_thread_id(id);
  if (parsed.inferior) return {*parsed.inferior, parsed.number};
  for (const auto& thread : engine_.inferiors())
    if (thread.selected) return {thread.number, parsed.number};
  return {1, parsed.number};
}

Engine::Inferior Shell::thread_named(const std::string& id) {
  auto [inferior, number] = resolve_thread_id(id);
  for (const auto& thread : engine_.inferiors())
    if (thread.number == inferior && thread.thread == number) return thread;
  if (id.find('.') != std::string::npos)
    throw Error(fmt::format("there is no thread {} here; \"info threads\" lists the threads of a process", id));
  throw Error(fmt::format("there is no thread {} in this process; \"info threads\" lists them", id));
}

std::pair<int, std::string> Shell::recorded_thread(const std::string& id) {
  // Numbers are the recording's: a thread that has not started yet here, or
  // has ended, has one too.
  auto [inferior, number] = resolve_thread_id(id);
  auto tid = engine_.recorded_thread(inferior, number);
  if (!tid) throw Error(fmt::format("there is no thread {} in the recording", id));
  std::string shown = engine_.several_processes() ? fmt::format("{}.{}", inferior, number) : std::to_string(number);
  return {*tid, shown};
}

void Shell::cmd_info_threads() {
  require_live();
  auto threads = threads_here();
  int looked = 0;
  for (const auto& thread : threads)
    if (thread.selected) looked = thread.pid;
  out_ << "  Id   Target Id          Frame\n";
  for (const auto& thread : threads) {
    // Each thread's own frame: looked at in turn, then back to the one that was.
    engine_.select_task(thread.pid);
    moved();
    std::string where = frame_summary(frame(), true);
    out_ << fmt::format("{} {:<4} {:<18} {}{}\n", thread.pid == looked ? '*' : ' ', thread_id(thread),
                        fmt::format("Thread {}", thread.pid), where, thread.moves_next ? "  (moves next)" : "");
  }
  engine_.select_task(looked);
  moved();
}

void Shell::cmd_thread(const std::string& args) {
  require_live();
  if (args.empty()) {
    for (const auto& thread : threads_here())
      if (thread.selected) out_ << fmt::format("[Current thread is {} (Thread {})]\n", thread_id(thread), thread.pid);
    return;
  }
  Engine::Inferior thread = thread_named(trim(args));
  engine_.select_task(thread.pid);
  moved();
  shown_ = Shown{thread.pid, thread.process};
  out_ << fmt::format("[Switching to thread {} (Thread {})]\n", thread_id(thread), thread.pid);
  out_ << "#0  " << frame_summary(frame(), false) << "\n";
}

void Shell::cmd_inferior(const std::string& args) {
  require_live();
  if (!args.empty()) {
    engine_.select_inferior(static_cast<int>(parse_number(args, "the inferior number")));
    moved();
  }
  for (const auto& inferior : engine_.inferiors())
    if (inferior.selected) {
      out_ << (args.empty() ? "[Current " : "[Switching to ") << describe(inferior) << "]\n";
      shown_ = Shown{inferior.pid, inferior.process};
    }
  if (!args.empty()) out_ << "#0  " << frame_summary(frame(), false) << "\n";
}

}  // namespace ttdb
