// The shell's commands about itself and its recording, as gdb and rr name
// them: set, when, info record, ignore, printf, handle and info signals.
#include <fmt/format.h>
#include <fmt/printf.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>

#include "shell.h"
#include "shell_internal.h"
#include "shell_parse.h"
#include "ttdb/tracer/wait_status.h"

namespace ttdb {
namespace {

bool on_off(const std::string& word, const std::string& setting) {
  if (word.empty() || word == "on" || word == "1" || word == "yes") return true;
  if (word == "off" || word == "0" || word == "no") return false;
  throw Error(fmt::format("\"set {}\" takes on or off, not \"{}\"", setting, word));
}

// One conversion of printf, done by fmt's printf with a 64-bit argument
// (a format the user typed, checked by parse_printf).
template <class T>
std::string c_format(const std::string& conversion, T value) {
  return fmt::sprintf(conversion, value);
}

// The conversion with its length modifiers replaced by `length`.
std::string with_length(const std::string& conversion, const char* length) {
  std::string out = conversion.substr(0, conversion.size() - 1);
  out.erase(std::remove_if(out.begin(), out.end(), [](char c) { return std::strchr("lhzjt", c) != nullptr; }), out.end());
  return out + length + conversion.back();
}

}  // namespace

void Shell::cmd_set(const std::string& raw) {
  std::string args = trim(raw);
  // set $NAME = EXPR: a convenience variable, the shell's own.
  if (args.starts_with("$")) {
    auto eq = args.find('=');
    if (eq == std::string::npos || args.compare(eq, 2, "==") == 0) throw Error("\"set $NAME = EXPR\" needs a value after '='");
    std::string name = trim(args.substr(1, eq - 1));
    bool is_register = name == "pc" || name == "sp" || name == "fp" ||
                       std::any_of(register_names().begin(), register_names().end(), [&](const auto& r) { return name == r.name; });
    if (is_register) throw Error(kPastIsReadOnly);
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos)
      throw Error(fmt::format("\"${}\" is not a name for a convenience variable", name));
    convenience_[name] = evaluate(args.substr(eq + 1), *context_);
    return;
  }
  auto w = words(args);
  if (w.empty()) throw Error("\"set\" needs a setting: set print pretty on, set var is refused (the past is read-only)");
  const std::string& what = w[0];
  std::string value = w.size() > 1 ? w[1] : "";
  if (what == "var" || what == "variable" || args.find('=') != std::string::npos) throw Error(kPastIsReadOnly);
  if (what == "print" || what == "p" || what == "pr") {
    if (value == "pretty") {
      context_->print_pretty = on_off(w.size() > 2 ? w[2] : "", "print pretty");
      return;
    }
    // gdb's other print settings change nothing ttdb prints differently.
    if (value.empty()) throw Error("\"set print\" needs a setting: set print pretty on");
    return;
  }
  if (what == "listsize") {
    if (value.empty()) throw Error("\"set listsize\" needs a number of lines");
    list_size_ = value == "unlimited" ? 1000000 : std::max(1, parse_number(value, "the number of lines"));
    return;
  }
  // Settings of gdb's terminal and prompts that ttdb's shell has no use
  // for: accepted, so that a .gdbinit-style script runs unchanged.
  static const char* kAccepted[] = {"pagination", "confirm", "width", "height", "verbose", "style", "logging",
                                    "startup-with-shell", "disassembly-flavor", "history", "trace-commands"};
  if (std::any_of(std::begin(kAccepted), std::end(kAccepted), [&](const char* s) { return what == s; })) return;
  throw Error(fmt::format("no setting named \"{}\"; ttdb knows print pretty, listsize, and accepts pagination, confirm, width and height", what));
}

void Shell::cmd_when() {
  // rr's "when": the event the replay stands at.
  out_ << fmt::format("Current event: {}\n", engine_.event());
}

void Shell::cmd_info_record() {
  out_ << "Active record target: ttdb (a recording replayed)\n";
  out_ << "Replay mode:\n";
  out_ << fmt::format("Recorded events are numbered 1 to {}.\n", engine_.event_count());
  out_ << fmt::format("Current event is {}.\n", engine_.event());
}

void Shell::cmd_ignore(const std::string& args) {
  auto w = words(args);
  if (w.size() != 2) throw Error("ignore needs a breakpoint number and a count: ignore N COUNT");
  int id = parse_number(w[0], "the breakpoint number");
  int count = parse_number(w[1], "the count");
  auto it = break_info_.find(id);
  if (it == break_info_.end()) throw Error(fmt::format("no breakpoint number {}", id));
  it->second.ignore = std::max(0, count);
  if (count <= 0) out_ << fmt::format("Will stop next time breakpoint {} is reached.\n", id);
  else if (count == 1) out_ << fmt::format("Will ignore next crossing of breakpoint {}.\n", id);
  else out_ << fmt::format("Will ignore next {} crossings of breakpoint {}.\n", count, id);
}

bool Shell::ignored(const Stop& stop) {
  if (stop.kind != Stop::Kind::breakpoint && stop.kind != Stop::Kind::watchpoint) return false;
  auto it = break_info_.find(stop.id);
  if (it == break_info_.end() || it->second.ignore <= 0) return false;
  --it->second.ignore;
  return true;
}

void Shell::cmd_printf(const std::string& args) {
  PrintfSpec spec = parse_printf(args);
  std::string out;
  std::size_t next = 0;
  for (const auto& piece : spec.pieces) {
    if (!piece.conversion) {
      out += piece.text;
      continue;
    }
    Value v = evaluate(spec.args[next++], *context_);
    switch (piece.conversion) {
      case 'd': case 'i': out += c_format(with_length(piece.text, "ll"), static_cast<long long>(v.as_int())); break;
      case 'u': case 'x': case 'X': case 'o': {
        std::uint64_t raw = v.type->kind == Type::Kind::pointer || v.type->kind == Type::Kind::array ? decay_address(v) : v.as_uint();
        if (v.type->size < 8 && v.type->kind != Type::Kind::array) raw &= (1ull << (v.type->size * 8)) - 1;
        out += c_format(with_length(piece.text, "ll"), static_cast<unsigned long long>(raw));
        break;
      }
      case 'c': out += c_format(with_length(piece.text, ""), static_cast<int>(v.as_int())); break;
      case 'p': out += c_format(with_length(piece.text, ""), reinterpret_cast<void*>(decay_address(v))); break;  // NOLINT
      case 's': {
        std::string text;
        if (v.type->kind == Type::Kind::array) {
          text.assign(v.bytes.begin(), v.bytes.end());
          text = text.substr(0, text.find('\0'));
        } else {
          CString s = read_c_string(decay_address(v), 1 << 16, *context_);
          if (s.fault) throw Error(fmt::format("cannot access memory at address {:#x}", *s.fault));
          text.assign(s.text.begin(), s.text.end());
        }
        out += c_format(with_length(piece.text, ""), text.c_str());
        break;
      }
      default: out += c_format(with_length(piece.text, ""), v.as_double()); break;
    }
  }
  out_ << out;
}

namespace {
constexpr int kLastSignal = 64;
}  // namespace

int signal_number(const std::string& word) {
  if (!word.empty() && std::isdigit(static_cast<unsigned char>(word[0]))) {
    int sig = parse_number(word, "the signal number");
    if (sig >= 1 && sig <= kLastSignal) return sig;
  }
  std::string name = word.starts_with("SIG") ? word : "SIG" + word;
  for (int sig = 1; sig <= kLastSignal; ++sig)
    if (signal_name(sig) == name) return sig;
  throw Error(fmt::format("\"{}\" is not a signal's name; \"info signals\" lists them", word));
}

namespace {

// As gdb describes signals (its own words, not always the C library's).
std::string description_of(int sig) {
  static const char* kGdbWords[] = {
      nullptr, "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap", "Aborted", "Bus error",
      "Arithmetic exception", "Killed", "User defined signal 1", "Segmentation fault", "User defined signal 2",
      "Broken pipe", "Alarm clock", "Terminated", "Stack fault", "Child status changed", "Continued",
      "Stopped (signal)", "Stopped (user)", "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition",
      "CPU time limit exceeded", "File size limit exceeded", "Virtual timer expired", "Profiling timer expired",
      "Window size changed", "I/O possible", "Power fail/restart", "Bad system call"};
  if (sig > 0 && sig < static_cast<int>(std::size(kGdbWords))) return kGdbWords[sig];
  return fmt::format("Real-time event {}", sig);
}

}  // namespace

std::string Shell::received_signal(int sig) {
  return fmt::format("Program received signal {}, {}.", signal_name(sig), description_of(sig));
}

std::pair<bool, bool> Shell::handling_of(int sig) {
  if (auto chosen = handling_.find(sig); chosen != handling_.end()) return chosen->second;
  bool stops = engine_.signal_stops(sig);  // gdb's table: the engine's own until `handle` changes it
  return {stops, stops};
}

bool Shell::passed_signal(const Stop& stop) {
  if (stop.kind != Stop::Kind::signal || stop.id || handling_of(stop.signal).first) return false;
  out_ << "\n" << received_signal(stop.signal) << "\n";
  return true;
}

void Shell::cmd_handle(const std::string& args) {
  // gdb's words, applied in order: stop implies print, noprint implies
  // nostop. The program's signals are the recording's: pass changes
  // nothing, and nopass is refused.
  std::vector<int> signals;
  std::vector<std::string> actions;
  for (const auto& word : words(args)) {
    if (word == "stop" || word == "nostop" || word == "print" || word == "noprint") {
      actions.push_back(word);
    } else if (word == "nopass" || word == "ignore") {
      throw Error(kPastIsReadOnly);
    } else if (word == "all") {
      for (int sig = 1; sig <= kLastSignal; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP && sig != SIGTRAP && sig != SIGINT) signals.push_back(sig);
    } else if (word != "pass" && word != "noignore") {
      signals.push_back(signal_number(word));
    }
  }
  if (signals.empty()) throw Error("handle needs a signal: handle SIGUSR1 nostop noprint");
  for (int sig : signals) {
    auto [stop, print] = handling_of(sig);
    for (const auto& action : actions) {
      if (action == "stop") stop = print = true;
      if (action == "nostop") stop = false;
      if (action == "print") print = true;
      if (action == "noprint") stop = print = false;
    }
    handling_[sig] = {stop, print};
    // The engine stops for what the shell prints; the shell goes on after a printed one.
    engine_.set_signal_stop(sig, stop || print);
  }
  print_signal_table(signals);
}

void Shell::cmd_info_signals(const std::string& args) {
  std::vector<int> signals;
  for (const auto& word : words(args)) signals.push_back(signal_number(word));
  if (signals.empty())
    for (int sig = 1; sig <= kLastSignal; ++sig)
      if (sig < SIGRTMIN || sig > SIGRTMAX || sig == SIGRTMIN) signals.push_back(sig);
  print_signal_table(signals);
}

void Shell::print_signal_table(const std::vector<int>& signals) {
  out_ << "Signal        Stop\tPrint\tPass to program\tDescription\n";
  for (int sig : signals) {
    auto [stop, print] = handling_of(sig);
    out_ << fmt::format("{:<14}{}\t{}\tYes\t\t{}\n", signal_name(sig), stop ? "Yes" : "No", print ? "Yes" : "No",
                        description_of(sig));
  }
}

}  // namespace ttdb
