#include "shell.h"

#include <algorithm>
#include <cstring>

#include "shell_internal.h"
#include "ttdb/tracer/render.h"

namespace ttdb {

struct Shell::Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string help;
  std::function<void(const std::string&)> run;
};

Shell::Shell(Engine& engine, std::ostream& out, std::ostream& err)
    : engine_(engine), out_(out), err_(err), images_(engine), motions_(engine, images_), context_(std::make_unique<ShellContext>(*this)) {
  // As gdb: a breakpoint on a function or a line is set again in each
  // program a process of the recording runs (one at an address stays with
  // its program). The engine asks while it stands in that program.
  engine_.set_relocator([this](int bp) -> std::vector<std::uint64_t> {
    auto it = relocatable_.find(bp);
    if (it == relocatable_.end()) return {};
    std::string description;
    return resolve_location(it->second, description);
  });
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
  add("advance", {}, "advance LOCATION: run to LOCATION, in any frame (or until the current frame returns)",
      [this](const std::string& a) { cmd_advance(a); });
  add("run", {"r"}, "run: go back to the program's first instruction", [this](const std::string&) { cmd_run(); });
  add("start", {}, "start: go back to the start, then run to main", [this](const std::string&) { cmd_start(); });
  add("break", {"b", "br"}, "break FUNCTION | FILE:LINE | LINE | *ADDRESS [if CONDITION]: stop there",
      [this](const std::string& a) { cmd_break(a, false); });
  add("tbreak", {"tb"}, "tbreak LOCATION: a breakpoint that is deleted when it first stops the program",
      [this](const std::string& a) { cmd_break(a, true); });
  add("watch", {}, "watch [-l] EXPR: stop when the location EXPR names changes, going forward or backward",
      [this](const std::string& a) { cmd_watch(a, WatchKind::write); });
  add("rwatch", {}, "rwatch [-l] EXPR: stop after each read of the location EXPR names, going forward or backward",
      [this](const std::string& a) { cmd_watch(a, WatchKind::read); });
  add("awatch", {}, "awatch [-l] EXPR: stop after each read or write of the location EXPR names, going forward or backward",
      [this](const std::string& a) { cmd_watch(a, WatchKind::access); });
  add("catch", {}, "catch syscall [NAME|NUMBER...] | signal [SIGNAL...|all] | throw | catch | rethrow: stop at those events, going forward or backward",
      [this](const std::string& a) { cmd_catch(a); });
  add("commands", {}, "commands [N...]: the commands that follow, up to \"end\", run each time breakpoint N (the last one made) stops the program",
      [this](const std::string& a) { cmd_commands(a); });
  add("define", {}, "define NAME: a command of your own, made of the commands that follow, up to \"end\" ($arg0..., $argc)",
      [this](const std::string& a) { cmd_define(a, Block::Kind::define); });
  add("document", {}, "document NAME: the help of your command NAME, in the lines that follow, up to \"end\"",
      [this](const std::string& a) { cmd_define(a, Block::Kind::document); });
  add("source", {}, "source FILE: run the commands in FILE", [this](const std::string& a) { cmd_source(a); });
  add("if", {}, "if EXPR ... [else ...] end: the commands that follow, when EXPR is true (else the others)",
      [this](const std::string& a) { cmd_control("if", a); });
  add("while", {}, "while EXPR ... end: the commands that follow, again and again while EXPR is true (loop_break, loop_continue)",
      [this](const std::string& a) { cmd_control("while", a); });
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
  add("ptype", {}, "ptype EXPR: the type of EXPR, with its members", [this](const std::string& a) { cmd_ptype(a, true); });
  add("whatis", {}, "whatis EXPR: the type of EXPR", [this](const std::string& a) { cmd_ptype(a, false); });
  add("output", {}, "output EXPR: print a value without recording it", [this](const std::string& a) { cmd_print(a, false); });
  add("display", {"disp"}, "display[/FMT] EXPR: print EXPR after every stop; without EXPR, print them all now",
      [this](const std::string& a) { cmd_display(a); });
  add("undisplay", {}, "undisplay [N...]: stop displaying expressions (all without N)", [this](const std::string& a) { cmd_undisplay(a); });
  add("x", {}, "x/NFU ADDRESS: examine memory (F: x d u o t a c f s i; U: b h w g)", [this](const std::string& a) { cmd_x(a); });
  add("thread", {"t"}, "thread [N]: look at thread N of this process (\"info threads\" lists them); without N, which one it is",
      [this](const std::string& a) { cmd_thread(a); });
  add("inferior", {}, "inferior [N]: look at process N (\"info inferiors\" lists them); without N, which one it is",
      [this](const std::string& a) { cmd_inferior(a); });
  add("info", {"i"},
      "info WHAT: breakpoints, watchpoints, registers [REG], locals, args, frame, line, symbol ADDR, sharedlibrary, checkpoints, inferiors, threads",
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
  add("printf", {}, "printf \"FORMAT\", EXPR...: print values through a C format (%d %u %x %o %c %s %f %g %e %p)",
      [this](const std::string& a) { cmd_printf(a); });
  add("set", {}, "set $NAME = EXPR | print pretty on|off | listsize N: convenience variables and settings (set var is refused: the past is read-only)",
      [this](const std::string& a) { cmd_set(a); });
  add("ignore", {}, "ignore N COUNT: pass over breakpoint N's next COUNT stops, in either direction",
      [this](const std::string& a) { cmd_ignore(a); });
  add("handle", {}, "handle SIGNAL... [no]stop [no]print: whether continue and reverse-continue stop at a signal, or print it and go on",
      [this](const std::string& a) { cmd_handle(a); });
  add("when", {}, "when: the event the replay stands at (rr's when)", [this](const std::string&) { cmd_when(); });
  add("go-live", {}, "go-live [--null FD]... [--null-all] [--record TRACE]: the process runs on live from here, its files reopened as recorded (and recorded into a new TRACE that begins with this one's events so far); ttdb exits with its status",
      [this](const std::string& a) { cmd_go_live(a); });
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

bool Shell::is_builtin(const std::string& name) const {
  return std::any_of(commands_.begin(), commands_.end(), [&](const Command& c) {
    return c.name == name || std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end();
  });
}

bool Shell::execute(const std::string& raw) {
  try {
    if (block_) {
      collect(raw);
      return true;
    }
    auto line = split_command(raw);
    if (!line) return true;
    dispatch(line->name, line->args);
    run_breakpoint_commands();
    return true;
  } catch (const Error& e) {
    std::string message = e.what();
    if (!message.empty()) message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
    if (!message.ends_with(".")) message += ".";
    err_ << message << "\n";
    last_error_ = message;
    return false;
  } catch (const InternalError& e) {
    last_error_ = fmt::format("Internal error: {}; please report it with the trace.", e.what());
    err_ << last_error_ << "\n";
    return false;
  }
}

void Shell::dispatch(const std::string& name, const std::string& args) {
  if (user_commands_.count(name)) return run_user_command(name, args);
  const Command* command = find_command(name);
  if (!command) {
    std::string shown;  // control characters escaped: they came from a pipe, not from a keyboard
    for (unsigned char c : name) shown += c < 0x20 || c == 0x7f ? fmt::format("\\{:03o}", c) : std::string(1, static_cast<char>(c));
    throw Error(fmt::format("undefined command: \"{}\"; try \"help\"", shown));
  }
  command->run(args);
}

// --- where the program stands -------------------------------------------------

void Shell::moved() {
  frames_.reset();
  selected_frame_ = 0;
  hidden_inlined_ = -1;
  stopped_in_function_.clear();
}

std::size_t Shell::hidden_inlined() {
  if (hidden_inlined_ >= 0) return static_cast<std::size_t>(hidden_inlined_);
  hidden_inlined_ = 0;
  if (!ensure_live()) return 0;
  std::uint64_t pc = engine_.code_address(engine_.registers().rip);
  for (const auto& call : debug().inlined_calls(pc)) {
    bool begins_here = std::any_of(call.ranges.begin(), call.ranges.end(), [&](const auto& r) { return r.first == pc; });
    bool broken_on = stopped_in_function_ == "*" || names_function(call.name, stopped_in_function_);
    if (!begins_here || broken_on) break;
    ++hidden_inlined_;
  }
  return static_cast<std::size_t>(hidden_inlined_);
}

bool Shell::ensure_live() { return !engine_.exit_status().has_value(); }

void Shell::refresh_modules() { debug(); }

void Shell::require_live() {
  if (!ensure_live()) throw Error("the program is not being run: the replay is at its end; go back with reverse-step, goto event or run");
}

const std::vector<Frame>& Shell::frames() {
  require_live();
  if (!frames_) {
    refresh_modules();
    Registers regs = engine_.registers();
    regs.rip = engine_.code_address(regs.rip);
    frames_ = debug().with_inlined_frames(debug().backtrace(engine_.pid(), regs, 256));
    std::size_t hidden = std::min(hidden_inlined(), frames_->empty() ? 0 : frames_->size() - 1);
    frames_->erase(frames_->begin(), frames_->begin() + static_cast<std::ptrdiff_t>(hidden));
    for (std::size_t i = 0; i < frames_->size(); ++i) (*frames_)[i].level = static_cast<int>(i);
    // As gdb's "backtrace past-main" (off): the program's stack ends at
    // main; the C library's frames below it are nobody's question.
    auto main = std::find_if(frames_->begin(), frames_->end(), [&](const Frame& f) {
      auto function = debug().frame_function(f);
      return function && function->name == "main";
    });
    if (main != frames_->end()) frames_->erase(main + 1, frames_->end());
  }
  return *frames_;
}

const Frame& Shell::frame() {
  const auto& all = frames();
  return all[static_cast<std::size_t>(std::min<int>(selected_frame_, static_cast<int>(all.size()) - 1))];
}

const Frame* Shell::caller_of(const Frame& f) {
  const auto& all = frames();
  auto next = static_cast<std::size_t>(f.level) + 1;
  return next < all.size() ? &all[next] : nullptr;
}

namespace {

// gdb's "print entry-values default": the value, and the value on entry
// when the caller's call site tells it: "n=n@entry=5" when they agree,
// "n=6, n@entry=5" or "n=<optimized out>, n@entry=5" when not.
std::string with_entry_value(const Variable& v, const std::optional<Value>& now, const std::string& shown,
                             ExprContext& context) {
  if (!v.entry_value) return shown;
  Bytes bytes(v.type->size);
  std::memcpy(bytes.data(), &*v.entry_value, std::min<std::size_t>(8, bytes.size()));
  std::string entry = format_value(Value{v.type, bytes, std::nullopt}, context, 0, false);
  if (now && !now->optimized_out && now->bytes == bytes) return v.name + "@entry=" + entry;
  return shown + ", " + v.name + "@entry=" + entry;
}

}  // namespace

std::string Shell::frame_summary(const Frame& f, bool with_pc) {
  // As gdb names the frame of the kernel's trampoline a handler returns to.
  if (motions_.returns_to_signal_trampoline(f.pc)) return "<signal handler called>";
  auto function = debug().frame_function(f);
  auto line = debug().frame_line(f);
  std::string out;
  // A frame an inlined call is made from stands at its call, with no address of its own.
  bool at_line_start = line && ((line->row_addr == f.pc && line->statement) || f.inline_depth > 0);
  if ((with_pc && f.inline_depth == 0) || !line || !at_line_start) out += fmt::format("{:#018x} in ", f.pc);
  out += function ? function->name : "??";
  out += " (" + (function && function->has_lines ? arguments_text(f) : "") + ")";
  if (line) {
    out += fmt::format(" at {}:{}", basename_of(line->file), line->line);
  } else if (auto module = debug().module_at(f.pc)) {
    out += " from " + module->name;
  }
  return out;
}

std::string Shell::arguments_text(const Frame& f) {
  std::string args;
  context_->frame_override = &f;
  for (const auto& v : debug().arguments(f, caller_of(f))) {
    std::string value;
    std::optional<Value> val;
    try {
      val = context_->value_of(v);
      value = val ? format_value(*val, *context_, 0, false) : "<unavailable>";
    } catch (const Error& e) {
      value = "<unavailable>";
    }
    args += (args.empty() ? "" : ", ") + v.name + "=" + with_entry_value(v, val, value, *context_);
  }
  context_->frame_override = nullptr;
  return args;
}

std::string Shell::short_location() {
  if (!ensure_live()) return "the end of the recording";
  Registers regs = engine_.registers();
  refresh_modules();
  auto function = debug().function_at(regs.rip);
  auto line = debug().line_at(regs.rip);
  std::string out = function ? function->name : fmt::format("{:#x}", regs.rip);
  if (line) out += fmt::format(" at {}:{}", basename_of(line->file), line->line);
  return out;
}

void Shell::print_location(bool with_source) {
  if (!ensure_live()) return;
  const Frame& f = frame();
  auto line = debug().frame_line(f);
  out_ << frame_summary(f, false) << fmt::format(" [event {}]\n", engine_.event());
  if (!with_source) return;
  if (line) {
    auto text = debug().source_text(line->file, line->line);
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

void Shell::print_stop(const Stop& stop, int hidden_inlined) {
  moved();
  hidden_inlined_ = hidden_inlined;
  // A breakpoint's command list runs once this command is done; one that
  // begins with `silent` says nothing of the stop itself.
  bool numbered = stop.kind == Stop::Kind::breakpoint || stop.kind == Stop::Kind::watchpoint ||
                  stop.kind == Stop::Kind::syscall || (stop.kind == Stop::Kind::signal && stop.id);
  if (auto info = break_info_.find(stop.id); numbered && info != break_info_.end() && !info->second.commands.empty()) {
    hit_with_commands_.push_back(stop.id);
    if (info->second.commands.front() == "silent") return;
  }
  if (stop.kind == Stop::Kind::exited) out_ << "\n" << describe_exit(stop.id) << "\n";
  note_process_switch();
  switch (stop.kind) {
    case Stop::Kind::syscall:
      out_ << "\n" << caught_title(stop);
      break;
    case Stop::Kind::breakpoint: {
      auto info = break_info_.find(stop.id);
      if (info != break_info_.end() && info->second.catchpoint) {
        out_ << "\n" << caught_title(stop);
        break;
      }
      // A breakpoint on a line or an address shows the innermost frame there.
      if (info != break_info_.end()) stopped_in_function_ = info->second.function.empty() ? "*" : info->second.function;
      auto remaining = engine_.breakpoints();
      bool temporary = std::none_of(remaining.begin(), remaining.end(), [&](const Breakpoint& b) { return b.id == stop.id; });
      out_ << "\n" << (temporary ? "Temporary breakpoint " : "Breakpoint ") << stop.id;
      // Of several locations, gdb names the one hit.
      if (info != break_info_.end() && ensure_live()) {
        const auto& at = info->second.locations;
        auto hit = std::find(at.begin(), at.end(), engine_.registers().rip);
        if (hit != at.end()) out_ << "." << (hit - at.begin() + 1);
      }
      out_ << ", ";
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
      out_ << "\n" << watchpoint_title(stop.id) << ": " << info.what << "\n\n";
      // As gdb words it: a read, or an access that left the value as it was, shows the value.
      if (stop.old_value == stop.new_value) out_ << "Value = " << show(stop.new_value) << "\n";
      else out_ << "Old value = " << show(stop.old_value) << "\nNew value = " << show(stop.new_value) << "\n";
      break;
    }
    case Stop::Kind::signal:
      if (stop.id) out_ << "\n" << caught_title(stop);
      else out_ << "\n" << received_signal(stop.signal) << "\n";
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
  show_displays();
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
  if (auto help = user_help_.find(trim(args)); help != user_help_.end()) {
    out_ << help->second;
    return;
  }
  if (user_commands_.count(trim(args))) {
    out_ << "User-defined.\n";
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
  auto [expr, message] = split_assert(args);
  auto started = std::chrono::steady_clock::now();
  AssertOutcome outcome;
  outcome.expression = expr;
  outcome.message = message;
  outcome.event = engine_.event();
  outcome.where = short_location();
  Value v = evaluate(expr, *context_);
  outcome.value = format_value(v, *context_);
  outcome.passed = decay_truth(v);
  // A failed comparison shows both sides, as test frameworks do.
  if (auto sides = comparison_sides(expr); sides && !outcome.passed)
    for (const auto& side : {sides->first, sides->second}) {
      std::string shown;
      try {
        shown = format_value(evaluate(side, *context_), *context_);
      } catch (const Error& e) {
        shown = fmt::format("<error: {}>", e.what());
      }
      outcome.operands.emplace_back(side, shown);
    }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  asserts_.push_back(outcome);
  if (outcome.passed) {
    out_ << "assert passed: " << expr << "\n";
    return;
  }
  out_ << fmt::format("assert FAILED: {}{}\n  value: {}\n", expr, message.empty() ? "" : " (" + message + ")", outcome.value);
  for (const auto& [side, shown] : outcome.operands) out_ << fmt::format("  {} = {}\n", side, shown);
  out_ << fmt::format("  at event {}, {}\n", outcome.event, outcome.where);
}

void Shell::cmd_echo(const std::string& args) {
  out_ << echo_text(args);
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
  for (const auto& name : debug().function_names())
    if (name.starts_with(word)) out.push_back(name);
  if (ensure_live())
    for (const auto& v : debug().locals(frame(), caller_of(frame())))
      if (v.name.starts_with(word)) out.push_back(v.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ttdb
