// gdb's catchpoints: `catch syscall` and `catch signal` stop at recorded
// events (the engine's catchpoints), `catch throw`, `catch catch` and
// `catch rethrow` at the C++ runtime's functions for them (breakpoints that
// call themselves catchpoints). All stop going backward as well.
#include <set>

#include "shell_internal.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {

void Shell::cmd_catch(const std::string& args) {
  auto w = words(args);
  if (w.empty())
    throw Error("catch what? \"catch syscall [NAME...]\", \"catch signal [SIGNAL... | all]\", \"catch throw\", \"catch catch\" or \"catch rethrow\"");
  std::string kind = w.front();
  w.erase(w.begin());
  if (kind == "syscall") return catch_syscalls(w);
  if (kind == "signal") return catch_signals(w);
  if (kind == "throw" || kind == "catch" || kind == "rethrow") {
    if (!w.empty()) throw Error(fmt::format("\"catch {}\" takes no argument here: ttdb cannot filter exceptions by type", kind));
    return catch_exceptions(kind);
  }
  throw Error(fmt::format("cannot catch \"{}\": ttdb catches syscall, signal, throw, catch and rethrow", kind));
}

void Shell::catch_syscalls(const std::vector<std::string>& names) {
  std::vector<long> numbers;
  for (const auto& name : names) {
    std::optional<int> nr;
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) nr = static_cast<int>(parse_number(name, "a syscall number"));
    else nr = syscall_number(name);
    if (!nr || syscall_name(*nr).starts_with("syscall_")) throw Error(fmt::format("unknown syscall name \"{}\"", name));
    numbers.push_back(*nr);
  }
  int id = engine_.add_syscall_catchpoint(std::set<std::int64_t>(numbers.begin(), numbers.end()));
  // As gdb says it: (syscall 'write' [1]), and `syscall "write" ` in the list.
  std::string title, listed;
  for (long nr : numbers) {
    title += fmt::format(" '{}' [{}]", syscall_name(nr), nr);
    listed += (listed.empty() ? "" : ", ") + syscall_name(nr);
  }
  const char* noun = numbers.size() == 1 ? "syscall" : "syscalls";
  if (numbers.empty()) note_catchpoint(id, "any syscall", "syscall \"<any syscall>\" ");
  else note_catchpoint(id, noun + title, fmt::format("{} \"{}\" ", noun, listed));
}

void Shell::note_catchpoint(int id, const std::string& title, const std::string& what, const std::string& caught) {
  last_breakpoint_ = id;
  BreakInfo info;
  info.catchpoint = true;
  info.what = what;
  info.caught = caught;
  break_info_[id] = info;
  out_ << fmt::format("Catchpoint {} ({})\n", id, title);
}

void Shell::catch_signals(const std::vector<std::string>& names) {
  // Without names, gdb's "standard signals": all but those it uses itself.
  bool all = names.size() == 1 && names.front() == "all";
  std::set<int> signals;
  if (!all)
    for (const auto& name : names) signals.insert(signal_number(name));
  int id = engine_.add_catchpoint([all, signals](const trace::Event& e) {
    if (e.kind != trace::EventKind::signal) return false;
    int sig = static_cast<int>(e.nr);
    if (all) return true;
    return signals.empty() ? sig != SIGTRAP && sig != SIGINT : signals.count(sig) > 0;
  });
  std::string listed;
  for (const auto& name : names)
    if (!all) listed += (listed.empty() ? "" : " ") + signal_name(signal_number(name));
  const char* noun = names.size() == 1 ? "signal" : "signals";
  if (all) note_catchpoint(id, "any signal", "signal \"<any signal>\" ");
  else if (names.empty()) note_catchpoint(id, "standard signals", "signal \"<standard signals>\" ");
  else note_catchpoint(id, fmt::format("{} {}", noun, listed), fmt::format("{} \"{}\" ", noun, listed));
}

void Shell::catch_exceptions(const std::string& kind) {
  // The C++ runtime's entry points (libstdc++ and libc++ alike), which the
  // program may not have loaded yet: replay knows where it will.
  const char* function = kind == "throw" ? "__cxa_throw" : kind == "catch" ? "__cxa_begin_catch" : "__cxa_rethrow";
  std::string description;
  auto addrs = resolve_location(function, description);
  int id = engine_.add_breakpoint(addrs.front());
  relocatable_[id] = function;
  note_catchpoint(id, kind, "exception " + kind,
                  kind == "throw" ? "exception thrown" : kind == "catch" ? "exception caught" : "exception rethrown");
}

std::string Shell::caught_title(const Stop& stop) {
  switch (stop.kind) {
    case Stop::Kind::syscall:
      return fmt::format("Catchpoint {} ({} syscall {}), ", stop.id, stop.returned ? "returned from" : "call to",
                         syscall_name(stop.syscall));
    case Stop::Kind::signal: return fmt::format("Catchpoint {} (signal {}), ", stop.id, signal_name(stop.signal));
    case Stop::Kind::breakpoint: return fmt::format("Catchpoint {} ({}), ", stop.id, break_info_[stop.id].caught);
    default: return "";
  }
}

}  // namespace ttdb
