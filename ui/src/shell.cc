#include "shell.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <fstream>
#include <sstream>

#include "expr.h"
#include "ttdb/tracer/render.h"

namespace ttdb {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::int64_t parse_number(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(fmt::format("{} must be a number, not \"{}\"", what, text));
}

// Register names: DWARF number, or the user_regs_struct field.
struct RegisterName {
  const char* name;
  int dwarf;  // -1: not unwound
  unsigned long long Registers::*field;
};

const RegisterName kRegisters[] = {
    {"rax", 0, &Registers::rax}, {"rbx", 3, &Registers::rbx}, {"rcx", 2, &Registers::rcx},
    {"rdx", 1, &Registers::rdx}, {"rsi", 4, &Registers::rsi}, {"rdi", 5, &Registers::rdi},
    {"rbp", 6, &Registers::rbp}, {"rsp", 7, &Registers::rsp}, {"r8", 8, &Registers::r8},
    {"r9", 9, &Registers::r9},   {"r10", 10, &Registers::r10}, {"r11", 11, &Registers::r11},
    {"r12", 12, &Registers::r12}, {"r13", 13, &Registers::r13}, {"r14", 14, &Registers::r14},
    {"r15", 15, &Registers::r15}, {"rip", 16, &Registers::rip}, {"eflags", -1, &Registers::eflags},
    {"cs", -1, &Registers::cs},   {"ss", -1, &Registers::ss},   {"ds", -1, &Registers::ds},
    {"es", -1, &Registers::es},   {"fs", -1, &Registers::fs},   {"gs", -1, &Registers::gs},
    {"fs_base", -1, &Registers::fs_base}, {"gs_base", -1, &Registers::gs_base},
    {"orig_rax", -1, &Registers::orig_rax},
};

std::string eflags_text(std::uint64_t flags) {
  static const std::pair<int, const char*> bits[] = {{0, "CF"},  {2, "PF"},  {4, "AF"},  {6, "ZF"}, {7, "SF"},
                                                     {8, "TF"},  {9, "IF"},  {10, "DF"}, {11, "OF"}, {16, "RF"}};
  std::string out = "[ ";
  for (auto [bit, name] : bits)
    if (flags & (1ull << bit)) out += std::string(name) + " ";
  return out + "]";
}

TypeRef code_pointer_type() {
  static const TypeRef t = [] {
    auto f = std::make_shared<Type>();
    f->kind = Type::Kind::function;
    f->size = 1;
    return make_pointer(f);
  }();
  return t;
}

bool is_call(const cs_insn& insn) {
  for (std::uint8_t i = 0; insn.detail && i < insn.detail->groups_count; ++i)
    if (insn.detail->groups[i] == CS_GRP_CALL) return true;
  return false;
}

// capstone, opened once per use: cheap next to a ptrace stop.
class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) throw Error("capstone cannot start; reinstall libcapstone4");
    cs_option(handle_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Disassembler() { cs_close(&handle_); }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // Instructions in `code` (at `addr`), all of them or up to `count`.
  template <class F>
  void each(const Bytes& code, std::uint64_t addr, F&& f, std::size_t count = 0) {
    cs_insn* insns = nullptr;
    std::size_t n = cs_disasm(handle_, code.data(), code.size(), addr, count, &insns);
    for (std::size_t i = 0; i < n; ++i)
      if (!f(insns[i])) break;
    cs_free(insns, n);
  }

 private:
  csh handle_ = 0;
};

}  // namespace

// What expressions see: the selected frame's variables and registers.
class ShellContext : public ExprContext {
 public:
  explicit ShellContext(Shell& shell) : shell_(shell) {}

  // Variables and registers come from this frame instead of the selected one.
  const Frame* frame_override = nullptr;

  std::optional<Bytes> read(std::uint64_t addr, std::size_t size) override { return shell_.engine_.read_memory(addr, size); }

  std::optional<Value> variable(const std::string& name) override {
    if (!shell_.ensure_live()) return std::nullopt;
    const Frame& frame = frame_override ? *frame_override : shell_.frame();
    auto v = shell_.debug_.find_variable(name, &frame);
    if (!v) return function_value(name);
    switch (v->where) {
      case Variable::Where::memory: {
        auto bytes = read(v->addr, v->type->size);
        if (!bytes) throw ExprError(fmt::format("cannot access memory at address {:#x} (variable {})", v->addr, name));
        return Value{v->type, std::move(*bytes), v->addr};
      }
      case Variable::Where::register_: {
        auto r = static_cast<std::size_t>(v->regno);
        if (r >= frame.regs.size() || !frame.known[r]) throw ExprError(fmt::format("the value of {} is not available in this frame", name));
        Bytes bytes(v->type->size);
        std::memcpy(bytes.data(), &frame.regs[r], std::min<std::size_t>(8, bytes.size()));
        return Value{v->type, bytes, std::nullopt};
      }
      case Variable::Where::value: {
        Bytes bytes = v->value;
        bytes.resize(v->type->size);
        return Value{v->type, bytes, std::nullopt};
      }
      case Variable::Where::optimized_out: throw ExprError(fmt::format("{} is optimized out here", name));
    }
    return std::nullopt;
  }

  std::optional<Value> dollar(const std::string& name) override {
    if (name == "event") return make_int(shell_.engine_.event(), "long");
    auto& values = shell_.values_;
    if (name.empty()) {
      if (values.empty()) throw ExprError("the value history is empty");
      return values.back();
    }
    if (name == "$") {
      if (values.size() < 2) throw ExprError("the value history has fewer than 2 values");
      return values[values.size() - 2];
    }
    if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      std::size_t n = std::stoul(name);
      if (n == 0 || n > values.size()) throw ExprError(fmt::format("history has not yet reached ${}", n));
      return values[n - 1];
    }
    if (!shell_.ensure_live()) return std::nullopt;
    const Frame& frame = frame_override ? *frame_override : shell_.frame();
    Registers regs = shell_.engine_.registers();
    auto reg_value = [&](const RegisterName& r) -> std::uint64_t {
      if (frame.level == 0) return regs.*r.field;
      if (r.dwarf < 0 || !frame.known[static_cast<std::size_t>(r.dwarf)])
        throw ExprError(fmt::format("${} is not saved in frame {}", r.name, frame.level));
      return frame.regs[static_cast<std::size_t>(r.dwarf)];
    };
    auto find = [&](const char* n) -> const RegisterName& {
      for (const auto& r : kRegisters)
        if (std::strcmp(r.name, n) == 0) return r;
      throw ExprError("no such register");
    };
    if (name == "pc" || name == "rip") {
      Value v = make_int(static_cast<std::int64_t>(frame.pc), "unsigned long");
      v.type = code_pointer_type();
      return v;
    }
    if (name == "sp" || name == "fp") {
      Value v = make_int(static_cast<std::int64_t>(reg_value(find(name == "sp" ? "rsp" : "rbp"))), "unsigned long");
      v.type = make_pointer(void_type());
      return v;
    }
    for (const auto& r : kRegisters) {
      if (name != r.name) continue;
      // eflags and the segment selectors are 32 bits wide, as gdb shows them.
      bool narrow = r.dwarf < 0 && !name.ends_with("_base") && name != "orig_rax";
      return make_int(static_cast<std::int64_t>(reg_value(r)), narrow ? "int" : "long");
    }
    // The 32-bit halves: $eax, $r8d...
    for (const auto& r : kRegisters) {
      std::string full = r.name;
      bool low = (full.size() == 3 && full[0] == 'r' && name == "e" + full.substr(1)) || name == full + "d";
      if (low && r.dwarf >= 0) return make_int(static_cast<std::int32_t>(reg_value(r)), "int");
    }
    return std::nullopt;
  }

  // A function used as a value: `print square`, `break *square`, `x/3i write`.
  std::optional<Value> function_value(const std::string& name) {
    auto functions = shell_.debug_.functions_named(name);
    if (functions.empty()) return std::nullopt;
    auto type = std::make_shared<Type>();
    type->kind = Type::Kind::function;
    type->size = 1;
    type->target = shell_.debug_.return_type(functions.front().low);
    Value v;
    v.type = type;
    v.address = functions.front().low;
    return v;
  }

  TypeRef type_named(const std::string& name) override { return shell_.debug_.find_type(name); }

  std::optional<std::string> symbolize(std::uint64_t addr) override {
    auto sym = shell_.debug_.symbol_at(addr);
    if (!sym) return std::nullopt;
    return sym->offset ? fmt::format("{}+{}", sym->name, sym->offset) : sym->name;
  }

 private:
  Shell& shell_;
};

struct Shell::Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string help;
  std::function<void(const std::string&)> run;
};

Shell::Shell(Engine& engine, std::ostream& out, std::ostream& err)
    : engine_(engine), out_(out), err_(err), context_(std::make_unique<ShellContext>(*this)) {
  using D = Direction;
  auto add = [&](std::string name, std::vector<std::string> aliases, std::string help, std::function<void(const std::string&)> run) {
    commands_.push_back(Command{std::move(name), std::move(aliases), std::move(help), std::move(run)});
  };
  add("continue", {"c", "cont"}, "continue [N]: run forward to the next breakpoint, watchpoint or signal (N times)",
      [this](const std::string& a) { cmd_continue(a, D::forward); });
  add("reverse-continue", {"rc"}, "reverse-continue: run backward to the last breakpoint hit or watchpoint change",
      [this](const std::string& a) { cmd_continue(a, D::backward); });
  add("step", {"s"}, "step [N]: run to the next source line, entering calls", [this](const std::string& a) { cmd_step(a, true, D::forward); });
  add("next", {"n"}, "next [N]: run to the next source line, stepping over calls", [this](const std::string& a) { cmd_step(a, false, D::forward); });
  add("stepi", {"si"}, "stepi [N]: execute one instruction", [this](const std::string& a) { cmd_stepi(a, false, D::forward); });
  add("nexti", {"ni"}, "nexti [N]: one instruction, stepping over calls", [this](const std::string& a) { cmd_stepi(a, true, D::forward); });
  add("reverse-step", {"rs"}, "reverse-step [N]: back to the start of the previous source line, entering calls",
      [this](const std::string& a) { cmd_step(a, true, D::backward); });
  add("reverse-next", {"rn"}, "reverse-next [N]: back to the start of the previous source line, over calls",
      [this](const std::string& a) { cmd_step(a, false, D::backward); });
  add("reverse-stepi", {"rsi"}, "reverse-stepi [N]: undo one instruction", [this](const std::string& a) { cmd_stepi(a, false, D::backward); });
  add("reverse-nexti", {"rni"}, "reverse-nexti [N]: undo one instruction, stepping back over calls",
      [this](const std::string& a) { cmd_stepi(a, true, D::backward); });
  add("finish", {"fin"}, "finish: run until the selected frame returns; print the value it returns",
      [this](const std::string&) { cmd_finish(D::forward); });
  add("reverse-finish", {}, "reverse-finish: back to the call of the selected frame's function",
      [this](const std::string&) { cmd_finish(D::backward); });
  add("until", {"u"}, "until [LOCATION]: run to a greater source line in this frame (out of loops), or to LOCATION",
      [this](const std::string& a) { cmd_until(a); });
  add("run", {"r", "start"}, "run: go back to the program's first instruction", [this](const std::string&) { cmd_run(); });
  add("break", {"b", "br"}, "break FUNCTION | FILE:LINE | LINE | *ADDRESS [if CONDITION]: stop there",
      [this](const std::string& a) { cmd_break(a, false); });
  add("tbreak", {"tb"}, "tbreak LOCATION: a breakpoint that is deleted when it first stops the program",
      [this](const std::string& a) { cmd_break(a, true); });
  add("watch", {}, "watch [-l] EXPR: stop when the location EXPR names changes, going forward or backward",
      [this](const std::string& a) { cmd_watch(a); });
  add("delete", {"d"}, "delete [N...]: delete breakpoints and watchpoints (all without N)",
      [this](const std::string& a) { cmd_delete(a); });
  add("disable", {"dis"}, "disable [N...]: disable breakpoints and watchpoints", [this](const std::string& a) { cmd_enable(a, false); });
  add("enable", {"en"}, "enable [N...]: enable breakpoints and watchpoints", [this](const std::string& a) { cmd_enable(a, true); });
  add("condition", {}, "condition N [EXPR]: stop at breakpoint N only when EXPR is true", [this](const std::string& a) { cmd_condition(a); });
  add("goto", {}, "goto event N: go to just after event N (N may be an expression using $event)",
      [this](const std::string& a) { cmd_goto(a); });
  add("events", {}, "events [N]: the recorded events around the current position (N each side)",
      [this](const std::string& a) { cmd_events(a); });
  add("checkpoint", {}, "checkpoint: keep this position as a bookmark for restart", [this](const std::string&) { cmd_checkpoint(); });
  add("restart", {}, "restart N: return to checkpoint N, exactly", [this](const std::string& a) { cmd_restart(a); });
  add("print", {"p", "inspect"}, "print[/FMT] EXPR: evaluate EXPR and print its value", [this](const std::string& a) { cmd_print(a, true); });
  add("output", {}, "output EXPR: print a value without recording it", [this](const std::string& a) { cmd_print(a, false); });
  add("x", {}, "x/NFU ADDRESS: examine memory (F: x d u o t a c f s i; U: b h w g)", [this](const std::string& a) { cmd_x(a); });
  add("info", {"i"},
      "info WHAT: breakpoints, watchpoints, registers [REG], locals, args, frame, line, symbol ADDR, sharedlibrary, checkpoints",
      [this](const std::string& a) { cmd_info(a); });
  add("backtrace", {"bt", "where"}, "backtrace [N]: the stack's frames", [this](const std::string& a) { cmd_backtrace(a); });
  add("frame", {"f"}, "frame [N]: select frame N and describe it", [this](const std::string& a) { cmd_frame(a, 0); });
  add("up", {}, "up [N]: select the caller's frame", [this](const std::string& a) { cmd_frame(a, 1); });
  add("down", {}, "down [N]: select the callee's frame", [this](const std::string& a) { cmd_frame(a, -1); });
  add("list", {"l"}, "list [LINE | FUNCTION | FILE:LINE]: source lines", [this](const std::string& a) { cmd_list(a); });
  add("disassemble", {"disas"}, "disassemble [ADDRESS | FUNCTION]: the function's instructions",
      [this](const std::string& a) { cmd_disassemble(a); });
  add("assert", {}, "assert EXPR [MESSAGE]: check that EXPR is true here; scripts exit with 1 when one fails",
      [this](const std::string& a) { cmd_assert(a); });
  add("echo", {}, "echo TEXT: print TEXT (\\n for a newline)", [this](const std::string& a) { cmd_echo(a); });
  add("help", {"h"}, "help [COMMAND]: the commands, or one command", [this](const std::string& a) { cmd_help(a); });
  add("quit", {"q", "exit"}, "quit: leave the shell", [this](const std::string&) { quit_ = true; });
}

Shell::~Shell() = default;

const Shell::Command* Shell::find_command(const std::string& name) const {
  for (const auto& c : commands_)
    if (c.name == name || std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end()) return &c;
  // A unique prefix, as gdb allows.
  const Command* found = nullptr;
  for (const auto& c : commands_)
    if (c.name.starts_with(name)) {
      if (found) return nullptr;
      found = &c;
    }
  return found;
}

bool Shell::execute(const std::string& raw) {
  std::string line = trim(raw);
  if (line.empty() || line[0] == '#') return true;
  std::string name, args;
  // "x/4x addr", "p/x v", "print/x v": the format sticks to the command.
  std::size_t end = line.find_first_of(" \t/");
  name = line.substr(0, end);
  args = end == std::string::npos ? "" : trim(line.substr(end));
  if (end != std::string::npos && line[end] == '/') args = line.substr(end);
  try {
    dispatch(name, args);
    return true;
  } catch (const Error& e) {
    std::string message = e.what();
    if (!message.empty()) message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
    err_ << message << (message.ends_with(".") ? "" : ".") << "\n";
    return false;
  } catch (const InternalError& e) {
    err_ << "Internal error: " << e.what() << "; please report it with the trace.\n";
    return false;
  }
}

void Shell::dispatch(const std::string& name, const std::string& args) {
  const Command* command = find_command(name);
  if (!command) throw Error(fmt::format("undefined command: \"{}\"; try \"help\"", name));
  command->run(args);
}

// --- where the program stands -------------------------------------------------

void Shell::moved() {
  frames_.reset();
  selected_frame_ = 0;
}

bool Shell::ensure_live() { return !engine_.exit_status().has_value(); }

void Shell::refresh_modules() {
  std::vector<DebugInfo::KnownFile> known;
  for (const auto& m : engine_.file_mappings())
    if (m.file_offset == 0) known.push_back(DebugInfo::KnownFile{m.path, m.addr});
  debug_.refresh(engine_.pid(), known);
}

const std::vector<Frame>& Shell::frames() {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end; go back with reverse-step, goto event or run");
  if (!frames_) {
    refresh_modules();
    frames_ = debug_.backtrace(engine_.pid(), engine_.registers(), 256);
  }
  return *frames_;
}

const Frame& Shell::frame() {
  const auto& all = frames();
  return all[static_cast<std::size_t>(std::min<int>(selected_frame_, static_cast<int>(all.size()) - 1))];
}

std::string Shell::frame_summary(const Frame& f, bool with_pc) {
  std::uint64_t pc = f.lookup_pc();
  auto function = debug_.function_at(pc);
  auto line = debug_.line_at(pc);
  std::string out;
  bool at_line_start = line && line->row_addr == f.pc;
  if (with_pc || !line || !at_line_start) out += fmt::format("{:#018x} in ", f.pc);
  out += function ? function->name : "??";
  std::string args;
  if (function && function->has_lines) {
    context_->frame_override = &f;
    for (const auto& v : debug_.arguments(f)) {
      std::string value;
      try {
        auto val = context_->variable(v.name);
        value = val ? format_value(*val, *context_, 0, false) : "<unavailable>";
      } catch (const Error& e) {
        value = "<unavailable>";
      }
      args += (args.empty() ? "" : ", ") + v.name + "=" + value;
    }
    context_->frame_override = nullptr;
  }
  out += " (" + args + ")";
  if (line) {
    out += fmt::format(" at {}:{}", basename_of(line->file), line->line);
  } else {
    for (const auto& m : debug_.modules())
      if (f.pc >= m.low && f.pc < m.high) out += " from " + m.name;
  }
  return out;
}

std::string Shell::short_location() {
  if (!ensure_live()) return "the end of the recording";
  Registers regs = engine_.registers();
  refresh_modules();
  auto function = debug_.function_at(regs.rip);
  auto line = debug_.line_at(regs.rip);
  std::string out = function ? function->name : fmt::format("{:#x}", regs.rip);
  if (line) out += fmt::format(" at {}:{}", basename_of(line->file), line->line);
  return out;
}

void Shell::print_location(bool with_source) {
  if (!ensure_live()) return;
  const Frame& f = frame();
  auto line = debug_.line_at(f.lookup_pc());
  out_ << frame_summary(f, false) << fmt::format(" [event {}]\n", engine_.event());
  if (!with_source) return;
  if (line) {
    auto text = debug_.source_text(line->file, line->line);
    out_ << line->line << "\t" << text.value_or(fmt::format("in {}", line->file)) << "\n";
    list_file_ = line->file;
    list_line_ = line->line;
  } else {
    std::size_t length = 0;
    out_ << disassemble_one(f.pc, &length, true) << "\n";
  }
}

void Shell::announce() {
  moved();
  print_location(true);
}

void Shell::print_stop(const Stop& stop) {
  moved();
  switch (stop.kind) {
    case Stop::Kind::breakpoint: {
      auto info = break_info_.find(stop.id);
      auto remaining = engine_.breakpoints();
      bool temporary = std::none_of(remaining.begin(), remaining.end(), [&](const Breakpoint& b) { return b.id == stop.id; });
      out_ << "\n" << (temporary ? "Temporary breakpoint " : "Breakpoint ") << stop.id << ", ";
      if (temporary && info != break_info_.end()) break_info_.erase(info);
      break;
    }
    case Stop::Kind::watchpoint: {
      auto& info = break_info_[stop.id];
      auto show = [&](const Bytes& bytes) {
        if (!info.watch_type) return escape_bytes(bytes, 64);
        Bytes b = bytes;
        b.resize(info.watch_type->size);
        return format_value(Value{info.watch_type, b, std::nullopt}, *context_);
      };
      out_ << "\nHardware watchpoint " << stop.id << ": " << info.what << "\n\nOld value = " << show(stop.old_value)
           << "\nNew value = " << show(stop.new_value) << "\n";
      break;
    }
    case Stop::Kind::signal:
      out_ << "\nProgram received signal " << signal_name(stop.signal) << ".\n";
      break;
    case Stop::Kind::start: out_ << "\nNo more reverse-execution history.\n"; break;
    case Stop::Kind::interrupted: out_ << "\nInterrupted.\n"; break;
    case Stop::Kind::end: {
      auto status = engine_.exit_status();
      if (!status) {
        out_ << fmt::format("\nThe recording ends here, at event {}: it was cut short.\n", engine_.event());
        break;
      }
      if (status->kind() == WaitStatus::Kind::killed)
        out_ << fmt::format("\n[The program was killed by {}; the recording ends at event {}]\n", signal_name(status->code()), engine_.event());
      else if (status->code() == 0)
        out_ << fmt::format("\n[The program exited normally; the recording ends at event {}]\n", engine_.event());
      else
        out_ << fmt::format("\n[The program exited with code {}; the recording ends at event {}]\n", status->code(), engine_.event());
      return;
    }
    case Stop::Kind::event:
      if (auto e = engine_.recorded_event(engine_.event())) out_ << fmt::format("Event {}: {}\n", e->id, render_event(*e));
      break;
    default: break;
  }
  print_location(true);
}

// --- motions -------------------------------------------------------------------

std::vector<std::uint64_t> Shell::call_sites(std::uint64_t low, std::uint64_t high) {
  std::vector<std::uint64_t> out;
  auto code = engine_.read_memory(low, high - low);
  if (!code) return out;
  Disassembler dis;
  dis.each(*code, low, [&](const cs_insn& insn) {
    if (is_call(insn)) out.push_back(insn.address);
    return true;
  });
  return out;
}

std::optional<std::uint64_t> Shell::instruction_before(std::uint64_t pc) {
  auto function = debug_.function_at(pc - 1);
  if (!function || function->low >= pc) return std::nullopt;
  auto code = engine_.read_memory(function->low, pc - function->low);
  if (!code) return std::nullopt;
  std::optional<std::uint64_t> found;
  Disassembler dis;
  dis.each(*code, function->low, [&](const cs_insn& insn) {
    if (insn.address + insn.size == pc) found = insn.address;
    return insn.address + insn.size < pc;
  });
  return found;
}

bool Shell::in_frame(const Registers& regs, std::uint64_t cfa) {
  // The same frame has the same canonical frame address.
  auto stack = debug_.backtrace(engine_.pid(), regs, 2);
  return stack.front().cfa == cfa;
}

Stop Shell::next_instruction() {
  Registers regs = engine_.registers();
  auto code = engine_.read_memory(regs.rip, 16);
  std::optional<std::uint64_t> after_call;
  if (code) {
    Disassembler dis;
    dis.each(*code, regs.rip, [&](const cs_insn& insn) {
      if (is_call(insn)) after_call = insn.address + insn.size;
      return false;
    }, 1);
  }
  if (!after_call) return engine_.stepi(Direction::forward);
  std::uint64_t sp = regs.rsp;
  return engine_.run_to({*after_call}, [sp](std::uint64_t, const Registers& r) { return r.rsp >= sp; });
}

Stop Shell::reverse_next_instruction() {
  Registers before = engine_.registers();
  Stop stop = engine_.stepi(Direction::backward);
  if (stop.kind != Stop::Kind::step || engine_.registers().rsp >= before.rsp) return stop;
  // Stepped back into a callee's return: go back to its call instead.
  auto call = instruction_before(before.rip);
  if (!call) return stop;
  std::uint64_t sp = before.rsp;
  return engine_.reverse_to({*call}, [sp](std::uint64_t, const Registers& r) { return r.rsp == sp; });
}

Stop Shell::finish() {
  const auto& all = frames();
  auto index = static_cast<std::size_t>(selected_frame_);
  if (index + 1 >= all.size()) throw Error("\"finish\" not meaningful in the outermost frame");
  std::uint64_t return_to = all[index + 1].pc;
  std::uint64_t cfa = all[index].cfa;
  return engine_.run_to({return_to}, [cfa](std::uint64_t, const Registers& r) { return r.rsp >= cfa; });
}

Stop Shell::reverse_finish() {
  const auto& all = frames();
  auto index = static_cast<std::size_t>(selected_frame_);
  if (index + 1 >= all.size()) throw Error("\"reverse-finish\" not meaningful in the outermost frame");
  std::uint64_t cfa = all[index].cfa;
  auto call = instruction_before(all[index + 1].pc);
  if (!call) throw Error(fmt::format("cannot find the call that returns to {:#x}", all[index + 1].pc));
  // At its call instruction, the caller's stack pointer is the callee's CFA.
  return engine_.reverse_to({*call}, [cfa](std::uint64_t, const Registers& r) { return r.rsp == cfa; });
}

Stop Shell::line_step(bool into) {
  for (;;) {
    Registers regs = engine_.registers();
    refresh_modules();
    auto function = debug_.function_at(regs.rip);
    auto line = debug_.line_at(regs.rip);
    auto stack = debug_.backtrace(engine_.pid(), regs, 2);
    if (!function || !function->has_lines || !line) {
      // No line information: run until the function returns, as gdb does.
      if (stack.size() < 2) return engine_.stepi(Direction::forward);
      std::uint64_t cfa = stack[0].cfa;
      Stop stop = engine_.run_to({stack[1].pc}, [cfa](std::uint64_t, const Registers& r) { return r.rsp >= cfa; });
      if (stop.kind != Stop::Kind::step) return stop;
      auto landed = debug_.line_at(engine_.registers().rip);
      if (landed && landed->is_statement_start) return stop;
      continue;
    }
    std::uint64_t cfa = stack[0].cfa;
    std::vector<std::uint64_t> targets;
    for (const auto& row : debug_.statement_starts(function->low, function->high))
      if (row.line != line->line || row.file != line->file) targets.push_back(row.row_addr);
    std::optional<std::uint64_t> return_to;
    if (stack.size() > 1) {
      return_to = stack[1].pc;
      targets.push_back(*return_to);
    }
    std::vector<std::uint64_t> calls;
    if (into) {
      calls = call_sites(function->low, function->high);
      targets.insert(targets.end(), calls.begin(), calls.end());
    }
    auto accept = [&](std::uint64_t addr, const Registers& r) {
      if (return_to && addr == *return_to && r.rsp >= cfa) return true;
      return in_frame(r, cfa);
    };
    Stop stop = engine_.run_to(targets, accept);
    if (stop.kind != Stop::Kind::step) return stop;
    Registers now = engine_.registers();
    if (return_to && now.rip == *return_to && now.rsp >= cfa) {
      // Back in the caller, in the middle of its line: finish that line.
      auto landed = debug_.line_at(now.rip);
      if (!landed || landed->is_statement_start) return stop;
      continue;
    }
    if (std::find(calls.begin(), calls.end(), now.rip) != calls.end()) {
      std::uint64_t sp = now.rsp;
      Stop in = engine_.stepi(Direction::forward);
      if (in.kind != Stop::Kind::step) return in;
      auto callee = debug_.function_at(engine_.registers().rip);
      if (callee && callee->has_lines) {
        if (callee->body == engine_.registers().rip) return in;
        std::uint64_t callee_sp = engine_.registers().rsp;
        return engine_.run_to({callee->body}, [callee_sp](std::uint64_t, const Registers& r) { return r.rsp <= callee_sp; });
      }
      // No line information in the callee (a library, the PLT): run until
      // it returns, then go on with this line.
      auto return_address = engine_.read_memory(engine_.registers().rsp, 8);
      if (!return_address) return in;
      std::uint64_t back_to = 0;
      std::memcpy(&back_to, return_address->data(), 8);
      Stop out = engine_.run_to({back_to}, [sp](std::uint64_t, const Registers& r) { return r.rsp >= sp; });
      if (out.kind != Stop::Kind::step) return out;
      continue;
    }
    return stop;
  }
}

Stop Shell::reverse_to_line_start() {
  // The first instruction of the current run of this line, in this frame:
  // back to the previous other line (or the function's entry), then forward
  // to this line's first statement.
  Registers regs = engine_.registers();
  auto function = debug_.function_at(regs.rip);
  auto line = debug_.line_at(regs.rip);
  if (!function || !line) return Stop{Stop::Kind::step};
  std::uint64_t cfa = debug_.backtrace(engine_.pid(), regs, 2).front().cfa;
  std::vector<std::uint64_t> others{function->low}, mine;
  for (const auto& row : debug_.statement_starts(function->low, function->high))
    (row.line == line->line && row.file == line->file ? mine : others).push_back(row.row_addr);
  bool starts_function = std::find(mine.begin(), mine.end(), function->low) != mine.end();
  auto accept = [&](std::uint64_t addr, const Registers& r) {
    if (addr == function->low) return r.rsp + 8 == cfa;
    return in_frame(r, cfa);
  };
  // The function's entry always bounds the search: this call began there.
  Stop back = engine_.reverse_to(others, accept);
  if (back.kind != Stop::Kind::step && back.kind != Stop::Kind::start) return back;
  if (starts_function && engine_.registers().rip == function->low) return back;  // the line begins the function
  return engine_.run_to(mine, [&](std::uint64_t, const Registers& r) { return in_frame(r, cfa); });
}

Stop Shell::back_to_caller_line() {
  // From a function's entry: back to the call, then to the start of its line.
  Stop out = engine_.stepi(Direction::backward);
  if (out.kind != Stop::Kind::step) return out;
  auto caller_line = debug_.line_at(engine_.registers().rip);
  if (caller_line && caller_line->row_addr == engine_.registers().rip) return out;
  return reverse_to_line_start();
}

Stop Shell::reverse_line_step(bool into) {
  Registers regs = engine_.registers();
  refresh_modules();
  auto function = debug_.function_at(regs.rip);
  auto line = debug_.line_at(regs.rip);
  if (!function || !function->has_lines || !line) return reverse_finish();
  if (regs.rip == function->low) return back_to_caller_line();
  auto stack = debug_.backtrace(engine_.pid(), regs, 2);
  std::uint64_t cfa = stack[0].cfa;
  // Starts of other lines in this frame, this function's entry, and (for
  // reverse-step) the returns from calls, to go back into the callee.
  std::vector<std::uint64_t> targets{function->low};
  for (const auto& row : debug_.statement_starts(function->low, function->high))
    if ((row.line != line->line || row.file != line->file) && row.row_addr != function->low) targets.push_back(row.row_addr);
  std::vector<std::uint64_t> returns;
  if (into) {
    auto code = engine_.read_memory(function->low, function->high - function->low);
    if (code) {
      Disassembler dis;
      dis.each(*code, function->low, [&](const cs_insn& insn) {
        if (is_call(insn) && insn.address + insn.size < regs.rip + (line->row_addr == regs.rip ? 0 : 1)) returns.push_back(insn.address + insn.size);
        return true;
      });
    }
    targets.insert(targets.end(), returns.begin(), returns.end());
  }
  auto accept = [&](std::uint64_t addr, const Registers& r) {
    if (addr == function->low) return r.rsp + 8 == cfa;
    return in_frame(r, cfa);
  };
  Stop stop = engine_.reverse_to(targets, accept);
  if (stop.kind != Stop::Kind::step) return stop;
  std::uint64_t pc = engine_.registers().rip;
  if (pc == function->low) return back_to_caller_line();  // back past this function's first line
  if (std::find(returns.begin(), returns.end(), pc) != returns.end()) {
    Stop in = engine_.stepi(Direction::backward);  // onto the callee's return
    if (in.kind != Stop::Kind::step) return in;
    auto callee = debug_.function_at(engine_.registers().rip);
    if (callee && callee->has_lines) return reverse_to_line_start();
    // A callee without lines: back to its call and on from there.
    auto call = instruction_before(pc);
    if (call) {
      std::uint64_t sp = engine_.registers().rsp + 8;
      engine_.reverse_to({*call}, [sp](std::uint64_t, const Registers& r) { return r.rsp == sp; });
    }
    return reverse_to_line_start();
  }
  return reverse_to_line_start();
}

// --- commands: moving ------------------------------------------------------------

void Shell::cmd_continue(const std::string& args, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (!ensure_live() && direction == Direction::forward) throw Error("the program is not being run: the replay is at its end");
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    stop = engine_.resume(direction);
    if (stop.kind != Stop::Kind::breakpoint && stop.kind != Stop::Kind::watchpoint) break;
  }
  print_stop(stop);
}

void Shell::cmd_step(const std::string& args, bool into, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (!ensure_live()) {
    if (direction == Direction::forward) throw Error("the program is not being run: the replay is at its end");
    Stop stop = engine_.stepi(Direction::backward);
    print_stop(stop);
    return;
  }
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    stop = direction == Direction::forward ? line_step(into) : reverse_line_step(into);
    moved();
    if (stop.kind != Stop::Kind::step && stop.kind != Stop::Kind::none) break;
  }
  print_stop(stop);
}

void Shell::cmd_stepi(const std::string& args, bool over, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (!ensure_live() && direction == Direction::forward) throw Error("the program is not being run: the replay is at its end");
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    if (direction == Direction::forward)
      stop = over ? next_instruction() : engine_.stepi(Direction::forward);
    else
      stop = over && ensure_live() ? reverse_next_instruction() : engine_.stepi(Direction::backward);
    moved();
    if (stop.kind != Stop::Kind::step) break;
  }
  print_stop(stop);
}

void Shell::cmd_finish(Direction direction) {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  if (direction == Direction::backward) {
    out_ << "Run back to call of #" << selected_frame_ << "  " << frame_summary(frame(), true) << "\n";
    print_stop(reverse_finish());
    return;
  }
  const Frame& f = frame();
  if (static_cast<std::size_t>(f.level) + 1 >= frames().size()) throw Error("\"finish\" not meaningful in the outermost frame");
  out_ << "Run till exit from #" << f.level << "  " << frame_summary(f, true) << "\n";
  TypeRef result = debug_.return_type(f.lookup_pc());
  Stop stop = finish();
  print_stop(stop);
  if (stop.kind == Stop::Kind::step && result && ensure_live() && result->is_scalar()) {
    Registers regs = engine_.registers();
    Value v{result, Bytes(result->size), std::nullopt};
    std::memcpy(v.bytes.data(), &regs.rax, std::min<std::size_t>(8, v.bytes.size()));
    values_.push_back(v);
    out_ << "Value returned is $" << values_.size() << " = " << format_value(v, *context_) << "\n";
  }
}

void Shell::cmd_until(const std::string& args) {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  if (!args.empty()) {
    std::string description;
    auto addrs = resolve_location(args, description);
    const auto& all = frames();
    std::vector<std::uint64_t> targets = addrs;
    if (all.size() > 1) targets.push_back(all[1].pc);
    // LOCATION in this frame or a caller: the stack pointer is no deeper.
    std::uint64_t sp = engine_.registers().rsp;
    print_stop(engine_.run_to(targets, [sp](std::uint64_t, const Registers& r) { return r.rsp >= sp; }));
    return;
  }
  // Like next, but never back to a smaller address in this frame: out of loops.
  Registers regs = engine_.registers();
  auto function = debug_.function_at(regs.rip);
  auto line = debug_.line_at(regs.rip);
  if (!function || !line) {
    cmd_step("", false, Direction::forward);
    return;
  }
  const auto& all = frames();
  std::uint64_t cfa = all[0].cfa;
  std::optional<std::uint64_t> return_to;
  std::vector<std::uint64_t> targets;
  for (const auto& row : debug_.statement_starts(function->low, function->high))
    if (row.row_addr > regs.rip && row.line != line->line) targets.push_back(row.row_addr);
  if (all.size() > 1) {
    return_to = all[1].pc;
    targets.push_back(*return_to);
  }
  print_stop(engine_.run_to(targets, [&](std::uint64_t addr, const Registers& r) {
    if (addr == return_to) return r.rsp >= cfa;
    return in_frame(r, cfa);
  }));
}

void Shell::cmd_run() {
  print_stop(engine_.seek(Position{1, {}}));
}

void Shell::cmd_goto(const std::string& args) {
  auto w = words(args);
  std::string rest = args;
  if (!w.empty() && w[0] == "event") rest = trim(args.substr(args.find("event") + 5));
  if (rest.empty()) throw Error("goto needs an event number: goto event N");
  std::int64_t n = evaluate(rest, *context_).as_int();
  Stop stop = engine_.goto_event(n);
  print_stop(stop);
}

void Shell::cmd_events(const std::string& args) {
  std::int64_t around = args.empty() ? 5 : parse_number(args, "the number of events");
  std::int64_t current = engine_.event();
  std::int64_t first = std::max<std::int64_t>(1, current - around);
  std::int64_t last = std::min<std::int64_t>(engine_.event_count(), current + around);
  for (std::int64_t id = first; id <= last; ++id) {
    auto e = engine_.recorded_event(id);
    if (!e) break;
    out_ << (id == current ? "=> " : "   ") << fmt::format("{:>6}  {}\n", id, render_event(*e));
  }
}

void Shell::cmd_checkpoint() {
  int id = engine_.bookmark();
  out_ << fmt::format("Checkpoint {} at {}, {}\n", id, engine_.position().describe(), short_location());
}

void Shell::cmd_restart(const std::string& args) {
  if (args.empty()) throw Error("restart needs a checkpoint number; \"info checkpoints\" lists them");
  int id = static_cast<int>(parse_number(args, "the checkpoint number"));
  auto position = engine_.bookmark_position(id);
  if (!position) throw Error(fmt::format("there is no checkpoint {}; \"info checkpoints\" lists them", id));
  print_stop(engine_.seek(*position));
}

// --- commands: breakpoints -----------------------------------------------------------

std::vector<std::uint64_t> Shell::resolve_location(const std::string& spec, std::string& description) {
  if (ensure_live()) refresh_modules();
  if (spec.empty()) {
    if (!ensure_live()) throw Error("no default location: the replay is at its end");
    description = fmt::format("at {:#x}", engine_.registers().rip);
    return {frame().pc};
  }
  if (spec[0] == '*') {
    std::uint64_t addr = decay_address(evaluate(spec.substr(1), *context_));
    description = fmt::format("at {:#x}", addr);
    if (auto f = debug_.function_at(addr)) description += " in " + f->name;
    return {addr};
  }
  auto colon = spec.rfind(':');
  bool all_digits = spec.find_first_not_of("0123456789") == std::string::npos;
  if (colon != std::string::npos || all_digits) {
    std::string file = all_digits ? list_file_ : spec.substr(0, colon);
    std::string line_text = all_digits ? spec : spec.substr(colon + 1);
    if (file.empty()) {
      if (auto here = ensure_live() ? debug_.line_at(frame().lookup_pc()) : std::nullopt) file = here->file;
      // gdb's default source file: main's.
      for (const auto& f : file.empty() ? debug_.functions_named("main") : std::vector<Function>{})
        if (auto line = debug_.line_at(f.body)) file = line->file;
      if (file.empty()) throw Error("no default source file; name one: break FILE:LINE");
    }
    int line = static_cast<int>(parse_number(line_text, "the line number"));
    auto addrs = debug_.line_addresses(file, line);
    if (addrs.empty()) throw Error(fmt::format("no line {} in file \"{}\"", line, file));
    auto where = debug_.line_at(addrs.front());
    description = fmt::format("at {}:{}", basename_of(where ? where->file : file), where ? where->line : line);
    return addrs;
  }
  auto functions = debug_.functions_named(spec);
  if (functions.empty()) throw Error(fmt::format("function \"{}\" not defined", spec));
  // The dynamic loader keeps private copies of a few libc functions
  // (opendir, malloc...); the program calls libc's.
  auto in_loader = [&](const Function& fn) {
    for (const auto& m : debug_.modules())
      if (fn.low >= m.low && fn.low < m.high) return m.name.find("/ld-linux") != std::string::npos;
    return false;
  };
  std::stable_partition(functions.begin(), functions.end(), [&](const Function& fn) { return !in_loader(fn); });
  const Function& f = functions.front();
  auto line = debug_.line_at(f.body);
  description = "in " + f.name + (line ? fmt::format(" at {}:{}", basename_of(line->file), line->line) : "");
  return {f.body};
}

void Shell::cmd_break(const std::string& args, bool temporary) {
  std::string spec = args, condition;
  if (auto at = args.find(" if "); at != std::string::npos) {
    spec = trim(args.substr(0, at));
    condition = trim(args.substr(at + 4));
  }
  std::string description;
  auto addrs = resolve_location(trim(spec), description);
  int id = engine_.add_breakpoint(addrs.front(), temporary);
  break_info_[id] = BreakInfo{description, condition, false, nullptr};
  out_ << fmt::format("{} {} at {:#x}: {}\n", temporary ? "Temporary breakpoint" : "Breakpoint", id, addrs.front(),
                      description.substr(description.find(' ') + 1));
  if (!condition.empty()) cmd_condition(fmt::format("{} {}", id, condition));
}

void Shell::cmd_watch(const std::string& args) {
  std::string expr = trim(args);
  if (expr.starts_with("-l ") || expr.starts_with("-location ")) expr = trim(expr.substr(expr.find(' ')));
  if (expr.empty()) throw Error("watch needs an expression: watch EXPR");
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  Value v = evaluate(expr, *context_);
  if (!v.address) throw Error(fmt::format("cannot watch \"{}\": it is not in memory", expr));
  std::size_t size = v.type->size;
  if (size != 1 && size != 2 && size != 4 && size != 8)
    throw Error(fmt::format("cannot watch \"{}\": hardware watchpoints cover 1, 2, 4 or 8 bytes, and it has {}", expr, size));
  int id = engine_.add_watchpoint(*v.address, static_cast<std::uint32_t>(size));
  break_info_[id] = BreakInfo{expr, "", true, v.type};
  out_ << fmt::format("Hardware watchpoint {}: {}\n", id, expr);
}

void Shell::cmd_delete(const std::string& args) {
  auto w = words(args);
  if (!w.empty() && (w[0] == "checkpoint" || w[0] == "checkpoints")) {
    for (std::size_t i = 1; i < w.size(); ++i)
      if (!engine_.forget_bookmark(static_cast<int>(parse_number(w[i], "a checkpoint number"))))
        throw Error(fmt::format("there is no checkpoint {}", w[i]));
    return;
  }
  if (!w.empty() && w[0].starts_with("br")) w.erase(w.begin());
  if (w.empty()) {
    for (const auto& b : engine_.breakpoints()) engine_.remove(b.id);
    for (const auto& b : engine_.watchpoints()) engine_.remove(b.id);
    break_info_.clear();
    return;
  }
  for (const auto& word : w) {
    int id = static_cast<int>(parse_number(word, "a breakpoint number"));
    if (!engine_.remove(id)) throw Error(fmt::format("no breakpoint number {}", id));
    break_info_.erase(id);
  }
}

void Shell::cmd_enable(const std::string& args, bool enabled) {
  auto w = words(args);
  if (w.empty()) {
    for (const auto& b : engine_.breakpoints()) engine_.set_enabled(b.id, enabled);
    for (const auto& b : engine_.watchpoints()) engine_.set_enabled(b.id, enabled);
    return;
  }
  for (const auto& word : w) {
    int id = static_cast<int>(parse_number(word, "a breakpoint number"));
    if (!engine_.set_enabled(id, enabled)) throw Error(fmt::format("no breakpoint number {}", id));
  }
}

void Shell::cmd_condition(const std::string& args) {
  auto w = words(args);
  if (w.empty()) throw Error("condition needs a breakpoint number: condition N EXPR");
  int id = static_cast<int>(parse_number(w[0], "a breakpoint number"));
  auto info = break_info_.find(id);
  if (info == break_info_.end()) throw Error(fmt::format("no breakpoint number {}", id));
  std::string rest = trim(args.substr(args.find(w[0]) + w[0].size()));
  info->second.condition = rest;
  engine_.set_condition([this](int hit) {
    auto it = break_info_.find(hit);
    if (it == break_info_.end() || it->second.condition.empty()) return true;
    moved();
    try {
      return decay_truth(evaluate(it->second.condition, *context_));
    } catch (const Error& e) {
      err_ << fmt::format("Error in testing condition for breakpoint {}: {}\n", hit, e.what());
      return true;
    }
  });
}

// --- commands: looking -----------------------------------------------------------------

void Shell::cmd_print(const std::string& args, bool record) {
  char format = 0;
  std::string expr = args;
  if (expr.starts_with("/")) {
    auto space = expr.find(' ');
    std::string fmt_text = expr.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    if (fmt_text.size() != 1 || !std::strchr("xduotcaf", fmt_text[0])) throw Error(fmt::format("undefined output format \"{}\"", fmt_text));
    format = fmt_text[0];
    expr = space == std::string::npos ? "" : trim(expr.substr(space));
  }
  if (expr.empty()) expr = "$";
  Value v = evaluate(expr, *context_);
  std::string text = format_value(v, *context_, format);
  if (!record) {
    out_ << text;
    return;
  }
  values_.push_back(v);
  out_ << "$" << values_.size() << " = " << text << "\n";
}

void Shell::cmd_x(const std::string& args) {
  std::string spec = args, expr;
  std::string format = last_x_format_;
  std::int64_t count = 1;
  char size = 0;
  if (spec.starts_with("/")) {
    auto space = spec.find(' ');
    std::string f = spec.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    expr = space == std::string::npos ? "" : trim(spec.substr(space));
    std::size_t digits = 0;
    while (digits < f.size() && std::isdigit(static_cast<unsigned char>(f[digits]))) ++digits;
    if (digits) count = std::stoll(f.substr(0, digits));
    for (char c : f.substr(digits)) {
      if (std::strchr("bhwg", c)) {
        size = c;
        if (format == "s" || format == "i") format = "x";  // a unit size means numbers
      }
      else if (std::strchr("xduotacfsiz", c)) format = std::string(1, c);
      else throw Error(fmt::format("invalid format letter '{}' in x/{}", c, f));
    }
  } else {
    expr = trim(spec);
  }
  last_x_format_ = format;
  std::uint64_t addr = next_x_;
  if (!expr.empty()) {
    Value v = evaluate(expr, *context_);
    addr = decay_address(v);
  }
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  char f = format[0];
  auto label = [&](std::uint64_t a) {
    auto sym = context_->symbolize(a);
    return fmt::format("{:#x}{}:", a, sym ? " <" + *sym + ">" : "");
  };
  if (f == 'i') {
    for (std::int64_t i = 0; i < count; ++i) {
      std::size_t length = 0;
      out_ << disassemble_one(addr, &length, true) << "\n";
      if (!length) break;
      addr += length;
    }
    next_x_ = addr;
    return;
  }
  if (f == 's') {
    for (std::int64_t i = 0; i < count; ++i) {
      Bytes text;
      for (;;) {
        auto b = engine_.read_memory(addr + text.size(), 1);
        if (!b) throw Error(fmt::format("cannot access memory at address {:#x}", addr + text.size()));
        if ((*b)[0] == 0 || text.size() >= 200) break;
        text.push_back((*b)[0]);
      }
      auto t = std::make_shared<Type>();
      t->kind = Type::Kind::array;
      t->target = base_type_named("char");
      t->count = t->size = text.size();
      out_ << label(addr) << "\t" << format_value(Value{t, text, std::nullopt}, *context_) << "\n";
      addr += text.size() + 1;
    }
    next_x_ = addr;
    return;
  }
  std::size_t unit = size == 'b' ? 1 : size == 'h' ? 2 : size == 'g' ? 8 : size == 'w' ? 4 : (f == 'a' ? 8 : f == 'c' ? 1 : 4);
  std::size_t per_line = f == 'a' ? 2 : unit == 8 ? 2 : unit == 4 ? 4 : 8;
  auto bytes = engine_.read_memory(addr, unit * static_cast<std::size_t>(count));
  if (!bytes) throw Error(fmt::format("cannot access memory at address {:#x}", addr));
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % static_cast<std::int64_t>(per_line) == 0) out_ << (i ? "\n" : "") << label(addr + static_cast<std::uint64_t>(i) * unit);
    std::uint64_t raw = 0;
    std::memcpy(&raw, bytes->data() + static_cast<std::size_t>(i) * unit, unit);
    char shown = f == 'x' && unit < 8 ? 'z' : f;
    out_ << "\t" << format_scalar(raw, unit, shown, *context_);
  }
  out_ << "\n";
  next_x_ = addr + unit * static_cast<std::size_t>(count);
}

void Shell::cmd_info(const std::string& args) {
  auto w = words(args);
  if (w.empty()) throw Error("\"info\" must be followed by the name of an info command; try \"help info\"");
  std::string what = w[0];
  std::string rest = trim(args.substr(args.find(what) + what.size()));
  auto is = [&](const char* full, std::size_t min) { return what.size() >= min && std::string(full).starts_with(what); };
  if (is("breakpoints", 1) || is("watchpoints", 3)) return cmd_info_breakpoints();
  if (is("registers", 1) || is("all-registers", 2)) return cmd_info_registers(rest);
  if (is("locals", 2)) return cmd_info_variables(false);
  if (is("args", 2)) return cmd_info_variables(true);
  if (is("sharedlibrary", 2)) return cmd_info_sharedlibrary();
  if (is("checkpoints", 2)) return cmd_info_checkpoints();
  if (is("frame", 1)) {
    const Frame& f = frame();
    out_ << fmt::format("Stack level {}, frame at {:#x}:\n rip = {:#x}; {}\n", f.level, f.cfa, f.pc, frame_summary(f, false));
    return;
  }
  if (is("line", 2)) {
    auto line = debug_.line_at(frame().lookup_pc());
    if (!line) throw Error("no line number information for this address");
    out_ << fmt::format("Line {} of \"{}\" starts at address {:#x}.\n", line->line, line->file, line->row_addr);
    return;
  }
  if (is("symbol", 2)) {
    std::uint64_t addr = decay_address(evaluate(rest, *context_));
    auto sym = debug_.symbol_at(addr);
    if (!sym) out_ << fmt::format("No symbol matches {}.\n", rest);
    else out_ << fmt::format("{}{} in section .text\n", sym->name, sym->offset ? fmt::format(" + {}", sym->offset) : "");
    return;
  }
  throw Error(fmt::format("undefined info command: \"{}\"; try \"help info\"", what));
}

void Shell::cmd_info_breakpoints() {
  auto bps = engine_.breakpoints();
  auto wps = engine_.watchpoints();
  if (bps.empty() && wps.empty()) {
    out_ << "No breakpoints or watchpoints.\n";
    return;
  }
  out_ << "Num     Type           Disp Enb Address            What\n";
  std::map<int, std::string> rows;
  for (const auto& b : bps) {
    const auto& info = break_info_[b.id];
    std::string row = fmt::format("{:<7} {:<14} {:<4} {:<3} {:#018x} {}\n", b.id, "breakpoint", b.temporary ? "del" : "keep",
                                  b.enabled ? "y" : "n", b.addr, info.what);
    if (!info.condition.empty()) row += "\tstop only if " + info.condition + "\n";
    if (b.hits) row += fmt::format("\tbreakpoint already hit {} time{}\n", b.hits, b.hits == 1 ? "" : "s");
    rows[b.id] = row;
  }
  for (const auto& w : wps) {
    std::string row = fmt::format("{:<7} {:<14} {:<4} {:<3} {:<18} {}\n", w.id, "hw watchpoint", "keep", w.enabled ? "y" : "n", "",
                                  break_info_[w.id].what);
    if (w.hits) row += fmt::format("\tbreakpoint already hit {} time{}\n", w.hits, w.hits == 1 ? "" : "s");
    rows[w.id] = row;
  }
  for (const auto& [id, row] : rows) out_ << row;
}

void Shell::cmd_info_registers(const std::string& args) {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  auto names = words(args);
  auto show = [&](const std::string& name) {
    std::string n = name.starts_with("$") ? name.substr(1) : name;
    auto v = context_->dollar(n);
    if (!v) throw Error(fmt::format("invalid register \"{}\"", name));
    std::uint64_t raw = v->as_uint();
    std::string natural;
    if (n == "eflags") natural = eflags_text(raw);
    else if (n == "rip" || n == "pc") natural = format_scalar(raw, 8, 'a', *context_);
    else if (n == "rsp" || n == "rbp" || n == "sp" || n == "fp") natural = fmt::format("{:#x}", raw);
    else natural = v->type->size == 4 ? std::to_string(static_cast<std::int32_t>(raw)) : std::to_string(static_cast<std::int64_t>(raw));
    out_ << fmt::format("{:<15}{:<19}{}\n", n, fmt::format("{:#x}", raw), natural);
  };
  if (!names.empty()) {
    for (const auto& n : names) show(n);
    return;
  }
  for (const auto& r : kRegisters) {
    if (std::string(r.name) == "orig_rax") continue;
    if (selected_frame_ > 0 && (r.dwarf < 0 || !frame().known[static_cast<std::size_t>(r.dwarf)])) continue;
    show(r.name);
  }
}

void Shell::cmd_info_variables(bool arguments) {
  const Frame& f = frame();
  auto vars = arguments ? debug_.arguments(f) : debug_.locals(f);
  if (vars.empty()) {
    out_ << (arguments ? "No arguments.\n" : "No locals.\n");
    return;
  }
  for (const auto& v : vars) {
    std::string value;
    try {
      auto val = context_->variable(v.name);
      value = val ? format_value(*val, *context_, 0, false) : "<unavailable>";
    } catch (const Error& e) {
      value = fmt::format("<error: {}>", e.what());
    }
    out_ << v.name << " = " << value << "\n";
  }
}

void Shell::cmd_info_sharedlibrary() {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  refresh_modules();
  out_ << "From                To                  Syms Read   Shared Object Library\n";
  for (const auto& m : debug_.modules()) {
    // Libraries the program loads later are known already; show those loaded now.
    if (m.name.starts_with("[") || !engine_.read_memory(m.low, 1)) continue;
    out_ << fmt::format("{:#018x}  {:#018x}  {:<11} {}\n", m.low, m.high, m.has_debug_info ? "Yes" : "Yes (*)", m.name);
  }
  out_ << "(*): Shared library is missing debugging information.\n";
}

void Shell::cmd_info_checkpoints() {
  auto marks = engine_.bookmarks();
  if (marks.empty()) out_ << "No checkpoints.\n";
  for (const auto& [id, position] : marks)
    out_ << fmt::format("{:<4}{}{}\n", id, position.describe(), position == engine_.position() ? "  (here)" : "");
  auto count = engine_.checkpoint_count();
  out_ << fmt::format("The engine keeps {} checkpoint{} in all, holding {} KiB of private memory.\n", count, count == 1 ? "" : "s",
                      engine_.checkpoint_memory_kib());
}

void Shell::cmd_backtrace(const std::string& args) {
  std::size_t limit = args.empty() ? 1000 : static_cast<std::size_t>(parse_number(args, "the frame count"));
  const auto& all = frames();
  for (std::size_t i = 0; i < all.size() && i < limit; ++i)
    out_ << fmt::format("{}#{:<3}", static_cast<int>(i) == selected_frame_ ? "" : "", i) << frame_summary(all[i], i > 0) << "\n";
  if (limit < all.size()) out_ << "(More stack frames follow...)\n";
}

void Shell::cmd_frame(const std::string& args, int relative) {
  const auto& all = frames();
  int target = selected_frame_;
  if (relative == 0 && !args.empty()) target = static_cast<int>(parse_number(args, "the frame number"));
  if (relative != 0) target += relative * static_cast<int>(args.empty() ? 1 : parse_number(args, "the frame count"));
  if (target < 0) throw Error("bottom (innermost) frame selected; you cannot go down");
  if (target >= static_cast<int>(all.size())) {
    if (relative == 0) throw Error(fmt::format("no frame at level {}", target));
    throw Error("initial frame selected; you cannot go up");
  }
  selected_frame_ = target;
  const Frame& f = frame();
  out_ << "#" << f.level << "  " << frame_summary(f, f.level > 0) << "\n";
  if (auto line = debug_.line_at(f.lookup_pc())) {
    out_ << line->line << "\t" << debug_.source_text(line->file, line->line).value_or("") << "\n";
    list_file_ = line->file;
    list_line_ = line->line;
  }
}

void Shell::cmd_list(const std::string& args) {
  int center = list_line_;
  std::string file = list_file_;
  if (!args.empty()) {
    std::string description;
    if (args.find_first_not_of("0123456789") == std::string::npos) {
      center = static_cast<int>(parse_number(args, "the line number"));
    } else {
      auto addrs = resolve_location(args, description);
      auto line = debug_.line_at(addrs.front());
      if (!line) throw Error(fmt::format("no source for {}", args));
      file = line->file;
      center = line->line;
    }
  } else if (last_command_ == "list") {
    center = list_line_ + 10;
  }
  if (file.empty()) throw Error("no source file to list here; name a function or FILE:LINE");
  int first = std::max(1, center - 5);
  int printed = 0;
  for (int line = first; line < first + 10; ++line) {
    auto text = debug_.source_text(file, line);
    if (!text) break;
    out_ << line << "\t" << *text << "\n";
    ++printed;
  }
  if (!printed) throw Error(fmt::format("line number {} out of range; \"{}\" is shorter", first, file));
  list_file_ = file;
  list_line_ = first + 5;
  last_command_ = "list";
}

std::string Shell::disassemble_one(std::uint64_t addr, std::size_t* length, bool mark_current) {
  *length = 0;
  auto code = engine_.read_memory(addr, 16);
  if (!code) return fmt::format("   {:#x}:\tCannot access memory at address {:#x}", addr, addr);
  std::string out;
  Disassembler dis;
  dis.each(*code, addr, [&](const cs_insn& insn) {
    *length = insn.size;
    bool current = mark_current && ensure_live() && insn.address == engine_.registers().rip;
    auto sym = context_->symbolize(insn.address);
    out = fmt::format("{}{:#x}{}:\t{} {}", current ? "=> " : "   ", insn.address, sym ? " <" + *sym + ">" : "", insn.mnemonic, insn.op_str);
    return false;
  }, 1);
  if (out.empty()) out = fmt::format("   {:#x}:\t(bad)", addr);
  return out;
}

void Shell::cmd_disassemble(const std::string& args) {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end");
  std::uint64_t pc = frame().pc;
  std::optional<Function> function;
  if (args.empty()) {
    function = debug_.function_at(frame().lookup_pc());
  } else {
    auto named_fns = debug_.functions_named(trim(args));
    if (!named_fns.empty()) function = named_fns.front();
    else function = debug_.function_at(decay_address(evaluate(args, *context_)));
  }
  if (!function) throw Error("no function contains the program counter; use x/20i ADDRESS");
  out_ << "Dump of assembler code for function " << function->name << ":\n";
  auto code = engine_.read_memory(function->low, function->high - function->low);
  if (!code) throw Error(fmt::format("cannot read the code of {}", function->name));
  Disassembler dis;
  dis.each(*code, function->low, [&](const cs_insn& insn) {
    out_ << fmt::format("{}{:#018x} <+{}>:\t{} {}\n", insn.address == pc ? "=> " : "   ", insn.address, insn.address - function->low,
                        insn.mnemonic, insn.op_str);
    return true;
  });
  out_ << "End of assembler dump.\n";
}

void Shell::cmd_help(const std::string& args) {
  if (args.empty()) {
    out_ << "ttdb replays a recording: every command moves through, or looks at, the recorded past.\n\n";
    for (const auto& c : commands_) {
      std::string names = c.name;
      for (const auto& a : c.aliases) names += ", " + a;
      out_ << fmt::format("  {:<28} {}\n", names, c.help.substr(c.help.find(": ") + 2));
    }
    out_ << "\nExpressions are C: variables, registers ($pc, $sp, $rax), $event, $N for printed values.\n";
    return;
  }
  const Command* c = find_command(trim(args));
  if (!c) throw Error(fmt::format("undefined command: \"{}\"; try \"help\"", trim(args)));
  out_ << c->help << "\n";
  if (!c->aliases.empty()) {
    std::string aliases;
    for (const auto& a : c->aliases) aliases += (aliases.empty() ? "" : ", ") + a;
    out_ << "Also: " << aliases << "\n";
  }
}

void Shell::cmd_assert(const std::string& args) {
  // assert EXPR [MESSAGE]: the message is the quoted tail, if any.
  std::string expr = trim(args), message;
  if (!expr.empty() && expr.back() == '"') {
    auto open = expr.rfind('"', expr.size() - 2);
    if (open != std::string::npos && open > 0 && std::isspace(static_cast<unsigned char>(expr[open - 1]))) {
      message = expr.substr(open + 1, expr.size() - open - 2);
      expr = trim(expr.substr(0, open));
    }
  }
  if (expr.empty()) throw Error("assert needs an expression: assert EXPR [\"MESSAGE\"]");
  auto started = std::chrono::steady_clock::now();
  AssertOutcome outcome;
  outcome.expression = expr;
  outcome.message = message;
  outcome.event = engine_.event();
  outcome.where = short_location();
  Value v = evaluate(expr, *context_);
  outcome.value = format_value(v, *context_);
  outcome.passed = decay_truth(v);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  asserts_.push_back(outcome);
  if (outcome.passed) {
    out_ << "assert passed: " << expr << "\n";
    return;
  }
  out_ << fmt::format("assert FAILED: {}{}\n  value: {}\n  at event {}, {}\n", expr, message.empty() ? "" : " (" + message + ")",
                      outcome.value, outcome.event, outcome.where);
}

void Shell::cmd_echo(const std::string& args) {
  std::string text;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == '\\' && i + 1 < args.size()) {
      char c = args[++i];
      text += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      text += args[i];
    }
  }
  out_ << text;
}

std::vector<std::string> Shell::complete(const std::string& line_so_far, const std::string& word) {
  std::vector<std::string> out;
  bool first_word = trim(line_so_far).find(' ') == std::string::npos && !line_so_far.ends_with(" ");
  if (first_word) {
    for (const auto& c : commands_)
      if (c.name.starts_with(word)) out.push_back(c.name);
    return out;
  }
  if (trim(line_so_far).starts_with("info ") || trim(line_so_far) == "info") {
    for (const char* sub : {"breakpoints", "watchpoints", "registers", "locals", "args", "frame", "sharedlibrary", "checkpoints", "line", "symbol"})
      if (std::string(sub).starts_with(word)) out.push_back(sub);
    return out;
  }
  if (ensure_live()) refresh_modules();
  for (const auto& name : debug_.function_names())
    if (name.starts_with(word)) out.push_back(name);
  if (ensure_live())
    for (const auto& v : debug_.locals(frame()))
      if (v.name.starts_with(word)) out.push_back(v.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ttdb
