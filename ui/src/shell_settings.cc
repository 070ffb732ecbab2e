// The shell's commands about itself and its recording, as gdb and rr name
// them: set, when, info record, ignore, printf.
#include <fmt/format.h>
#include <fmt/printf.h>

#include <algorithm>
#include <cstring>

#include "shell.h"
#include "shell_internal.h"
#include "shell_parse.h"

namespace ttdb {
namespace {

constexpr const char* kReadOnly = "the past is read-only: ttdb cannot change the recorded program's memory or registers";

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
    if (is_register) throw Error(kReadOnly);
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos)
      throw Error(fmt::format("\"${}\" is not a name for a convenience variable", name));
    convenience_[name] = evaluate(args.substr(eq + 1), *context_);
    return;
  }
  auto w = words(args);
  if (w.empty()) throw Error("\"set\" needs a setting: set print pretty on, set var is refused (the past is read-only)");
  const std::string& what = w[0];
  std::string value = w.size() > 1 ? w[1] : "";
  if (what == "var" || what == "variable" || args.find('=') != std::string::npos) throw Error(kReadOnly);
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

}  // namespace ttdb
