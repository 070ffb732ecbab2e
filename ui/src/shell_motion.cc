// The shell's motions: line steps, finish, until and their reverse, built
// from the engine's run_to and reverse_to with frame filters.
#include <algorithm>
#include <cstring>

#include "shell_internal.h"
#include "ttdb/tracer/render.h"

namespace ttdb {

// --- motions -------------------------------------------------------------------

std::vector<Shell::CallSite> Shell::call_sites(std::uint64_t low, std::uint64_t high) {
  std::vector<CallSite> out;
  auto code = engine_.read_memory(low, high - low);
  if (!code) return out;
  Disassembler dis;
  dis.each(*code, low, [&](const cs_insn& insn) {
    if (is_call(insn)) out.push_back(CallSite{insn.address, insn.address + insn.size});
    return true;
  });
  return out;
}

std::optional<std::uint64_t> Shell::instruction_before(std::uint64_t pc) {
  auto function = debug().function_at(pc - 1);
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

std::uint64_t Shell::frame_cfa(const Registers& regs) { return debug().backtrace(engine_.pid(), regs, 2).front().cfa; }

bool Shell::in_frame(const Registers& regs, std::uint64_t cfa) {
  // The same frame has the same canonical frame address.
  return frame_cfa(regs) == cfa;
}

ArrivalFilter Shell::same_call(const Function& function, std::uint64_t cfa) {
  // At the function's entry the return address is pushed and nothing else:
  // the stack pointer is 8 below the CFA. Elsewhere, ask the unwinder.
  return [this, low = function.low, cfa](std::uint64_t addr, const Registers& r) {
    if (addr == low) return r.rsp + 8 == cfa;
    return in_frame(r, cfa);
  };
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

bool Shell::returns_to_signal_trampoline(std::uint64_t pc) {
  // __restore_rt: rt_sigreturn (15) by `mov $15, %rax; syscall` (glibc) or `mov $15, %eax; syscall` (musl).
  static const std::uint8_t glibc[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  static const std::uint8_t musl[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  auto code = engine_.read_memory(pc, sizeof glibc);
  if (!code) return false;
  return std::memcmp(code->data(), glibc, sizeof glibc) == 0 || std::memcmp(code->data(), musl, sizeof musl) == 0;
}

Stop Shell::back_to_signal_arrival(const Frame& handler) {
  // A handler is entered at its signal's arrival, not by a call: back to its
  // entry in this run, then one instruction more, where the signal
  // interrupted the program.
  auto function = debug().function_at(handler.lookup_pc());
  if (function && engine_.registers().rip != function->low) {
    Stop entry = engine_.reverse_to({function->low}, same_call(*function, handler.cfa));
    if (entry.kind != Stop::Kind::step) return entry;
  }
  return engine_.stepi(Direction::backward);
}

Stop Shell::reverse_finish() {
  const auto& all = frames();
  auto index = static_cast<std::size_t>(selected_frame_);
  if (index + 1 >= all.size()) throw Error("\"reverse-finish\" not meaningful in the outermost frame");
  if (returns_to_signal_trampoline(all[index + 1].pc)) return back_to_signal_arrival(all[index]);
  std::uint64_t cfa = all[index].cfa;
  auto call = instruction_before(all[index + 1].pc);
  if (!call) throw Error(fmt::format("cannot find the call that returns to {:#x}", all[index + 1].pc));
  // At its call instruction, the caller's stack pointer is the callee's CFA.
  return engine_.reverse_to({*call}, [cfa](std::uint64_t, const Registers& r) { return r.rsp == cfa; });
}

bool Shell::at_signal_arrival() {
  const Position& here = engine_.position();
  if (here.motions.empty() || here.motions.back().tick.kind != Tick::Kind::event_start) return false;
  auto next = engine_.recorded_event(here.event + 1);
  return next && next->kind == trace::EventKind::signal;
}

Stop Shell::line_step(bool into) {
  if (at_signal_arrival()) {
    // As in gdb, a step from a signal's arrival stops in its handler, at
    // the first instruction; with no handler, it steps the line on.
    Stop in = engine_.stepi(Direction::forward);
    auto function = ensure_live() ? debug().function_at(engine_.registers().rip) : std::nullopt;
    if (in.kind != Stop::Kind::step || (function && function->low == engine_.registers().rip)) return in;
  }
  for (;;) {
    Registers regs = engine_.registers();
    refresh_modules();
    auto function = debug().function_at(regs.rip);
    auto line = debug().line_at(regs.rip);
    auto stack = debug().backtrace(engine_.pid(), regs, 2);
    if (!function || !function->has_lines || !line) {
      // No line information: run until the function returns, as gdb does.
      if (stack.size() < 2) return engine_.stepi(Direction::forward);
      std::uint64_t cfa = stack[0].cfa;
      Stop stop = engine_.run_to({stack[1].pc}, [cfa](std::uint64_t, const Registers& r) { return r.rsp >= cfa; });
      if (stop.kind != Stop::Kind::step) return stop;
      auto landed = debug().line_at(engine_.registers().rip);
      if (landed && landed->is_statement_start) return stop;
      continue;
    }
    std::uint64_t cfa = stack[0].cfa;
    std::vector<std::uint64_t> targets;
    for (const auto& row : debug().statement_starts(function->low, function->high))
      if (row.line != line->line || row.file != line->file) targets.push_back(row.row_addr);
    std::optional<std::uint64_t> return_to;
    if (stack.size() > 1) {
      return_to = stack[1].pc;
      targets.push_back(*return_to);
    }
    std::vector<std::uint64_t> calls;
    if (into)
      for (const auto& call : call_sites(function->low, function->high)) calls.push_back(call.addr);
    targets.insert(targets.end(), calls.begin(), calls.end());
    auto accept = [&](std::uint64_t addr, const Registers& r) {
      if (return_to && addr == *return_to && r.rsp >= cfa) return true;
      return in_frame(r, cfa);
    };
    Stop stop = engine_.run_to(targets, accept);
    if (stop.kind != Stop::Kind::step) return stop;
    Registers now = engine_.registers();
    if (return_to && now.rip == *return_to && now.rsp >= cfa) {
      // Back in the caller, in the middle of its line: finish that line.
      auto landed = debug().line_at(now.rip);
      if (!landed || landed->is_statement_start) return stop;
      continue;
    }
    if (std::find(calls.begin(), calls.end(), now.rip) != calls.end()) {
      std::uint64_t sp = now.rsp;
      Stop in = engine_.stepi(Direction::forward);
      if (in.kind != Stop::Kind::step) return in;
      auto callee = debug().function_at(engine_.registers().rip);
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

Stop Shell::reverse_to_line_start(std::optional<SourceLine> previous) {
  // The first instruction of the last run of a line (this one, or the one
  // given) in this frame: back to the last other line (or the function's
  // entry), then forward to the line's first statement.
  Registers regs = engine_.registers();
  auto function = debug().function_at(regs.rip);
  auto line = previous ? previous : debug().line_at(regs.rip);
  if (!function || !line) return Stop{Stop::Kind::step};
  std::uint64_t cfa = frame_cfa(regs);
  std::vector<std::uint64_t> others{function->low}, mine;
  for (const auto& row : debug().statement_starts(function->low, function->high))
    (row.line == line->line && row.file == line->file ? mine : others).push_back(row.row_addr);
  // A line of optimized code may have no statement of its own (a function's
  // closing brace, say): its start is the start of its row.
  if (mine.empty()) {
    mine.push_back(line->row_addr);
    std::erase(others, line->row_addr);
  }
  bool starts_function = std::find(mine.begin(), mine.end(), function->low) != mine.end();
  // The function's entry always bounds the search: this call began there.
  Stop back = engine_.reverse_to(others, same_call(*function, cfa));
  if (back.kind != Stop::Kind::step && back.kind != Stop::Kind::start) return back;
  if (starts_function && engine_.registers().rip == function->low) return back;  // the line begins the function
  return engine_.run_to(mine, [&](std::uint64_t, const Registers& r) { return in_frame(r, cfa); });
}

std::optional<std::uint64_t> Shell::only_way_in(const Function& function, std::uint64_t pc) {
  // The instruction before `pc` falls through to it, and nothing else in the
  // function can get there: no jump targets it, no indirect jump exists, and
  // it is not the return from a call.
  auto code = engine_.read_memory(function.low, function.high - function.low);
  if (!code || pc <= function.low) return std::nullopt;
  auto in_group = [](const cs_insn& insn, std::uint8_t group) {
    for (std::uint8_t i = 0; i < insn.detail->groups_count; ++i)
      if (insn.detail->groups[i] == group) return true;
    return false;
  };
  std::optional<std::uint64_t> before;
  bool other_way = false;
  Disassembler dis;
  dis.each(*code, function.low, [&](const cs_insn& insn) {
    bool jump = in_group(insn, CS_GRP_JUMP), call = in_group(insn, CS_GRP_CALL), ret = in_group(insn, CS_GRP_RET);
    if (jump) {
      const cs_x86& x86 = insn.detail->x86;
      bool direct = x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM;
      if (!direct || static_cast<std::uint64_t>(x86.operands[0].imm) == pc) other_way = true;
    }
    bool falls_through = !ret && !call && !(jump && insn.id == X86_INS_JMP);
    if (insn.address + insn.size == pc) before = falls_through ? std::optional(insn.address) : std::nullopt;
    return !other_way;
  });
  if (other_way) return std::nullopt;
  return before;
}

Stop Shell::back_to_caller_line() {
  // Back to this call's entry, to the call, then to the start of its line.
  Registers regs = engine_.registers();
  if (auto function = debug().function_at(regs.rip); function && regs.rip != function->low) {
    Stop entry = engine_.reverse_to({function->low}, same_call(*function, frame_cfa(regs)));
    if (entry.kind != Stop::Kind::step) return entry;
  }
  Stop out = engine_.stepi(Direction::backward);
  if (out.kind != Stop::Kind::step) return out;
  auto caller_line = debug().line_at(engine_.registers().rip);
  if (caller_line && caller_line->row_addr == engine_.registers().rip) return out;
  return reverse_to_line_start();
}

Stop Shell::reverse_line_step(bool into) {
  Registers regs = engine_.registers();
  refresh_modules();
  auto function = debug().function_at(regs.rip);
  auto line = debug().line_at(regs.rip);
  if (!function || !function->has_lines || !line) return reverse_finish();
  if (regs.rip == function->low) return back_to_caller_line();
  // At a line reached only by falling through from the line before it (out
  // of a loop, say), that line is known without searching for it, which
  // would stop at every row of a hot loop.
  if (line->row_addr == regs.rip)
    if (auto before = only_way_in(*function, regs.rip)) {
      if (*before < function->body) return back_to_caller_line();  // the prologue: this is the first line
      auto previous = debug().line_at(*before);
      auto calls = call_sites(function->low, function->high);
      // reverse-step must look into the previous line's calls: search for them.
      bool has_call = std::any_of(calls.begin(), calls.end(), [&](const CallSite& c) {
        auto l = debug().line_at(c.addr);
        return l && previous && l->line == previous->line;
      });
      if (previous && previous->line != line->line && (!into || !has_call)) return reverse_to_line_start(previous);
    }
  std::uint64_t cfa = frame_cfa(regs);
  // Starts of other lines in this frame, this function's entry, and (for
  // reverse-step) the returns from calls, to go back into the callee.
  std::vector<std::uint64_t> targets{function->low};
  // In the middle of a row (where a signal interrupted the line, say), back
  // to this line's start first, as gdb goes: its rows before here count too.
  bool mid_row = line->row_addr != regs.rip;
  for (const auto& row : debug().statement_starts(function->low, function->high)) {
    bool other = row.line != line->line || row.file != line->file;
    if ((other || (mid_row && row.row_addr < regs.rip)) && row.row_addr != function->low) targets.push_back(row.row_addr);
  }
  std::vector<std::uint64_t> returns;
  if (into)
    for (const auto& call : call_sites(function->low, function->high))
      if (call.returns_to < regs.rip + (line->row_addr == regs.rip ? 0 : 1)) returns.push_back(call.returns_to);
  targets.insert(targets.end(), returns.begin(), returns.end());
  Stop stop = engine_.reverse_to(targets, same_call(*function, cfa));
  if (stop.kind != Stop::Kind::step) return stop;
  std::uint64_t pc = engine_.registers().rip;
  if (pc == function->low) return back_to_caller_line();  // back past this function's first line
  if (std::find(returns.begin(), returns.end(), pc) != returns.end()) {
    Stop in = engine_.stepi(Direction::backward);  // onto the callee's return
    if (in.kind != Stop::Kind::step) return in;
    auto callee = debug().function_at(engine_.registers().rip);
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
  if (direction == Direction::forward) require_live();
  Stop stop;
  for (std::int64_t i = 0; i < times; ++i) {
    do stop = engine_.resume(direction);
    while (ignored(stop) || passed_signal(stop));
    if (stop.kind != Stop::Kind::breakpoint && stop.kind != Stop::Kind::watchpoint) break;
  }
  print_stop(stop);
}

void Shell::cmd_step(const std::string& args, bool into, Direction direction) {
  std::int64_t times = args.empty() ? 1 : parse_number(args, "the repeat count");
  if (!ensure_live()) {
    if (direction == Direction::forward) require_live();
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
  if (direction == Direction::forward) require_live();
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
  require_live();
  if (direction == Direction::backward) {
    out_ << "Run back to call of #" << selected_frame_ << "  " << frame_summary(frame(), true) << "\n";
    print_stop(reverse_finish());
    return;
  }
  const Frame& f = frame();
  if (static_cast<std::size_t>(f.level) + 1 >= frames().size()) throw Error("\"finish\" not meaningful in the outermost frame");
  out_ << "Run till exit from #" << f.level << "  " << frame_summary(f, true) << "\n";
  TypeRef result = debug().return_type(f.lookup_pc());
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
  require_live();
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
  auto function = debug().function_at(regs.rip);
  auto line = debug().line_at(regs.rip);
  if (!function || !line) {
    cmd_step("", false, Direction::forward);
    return;
  }
  const auto& all = frames();
  std::uint64_t cfa = all[0].cfa;
  std::optional<std::uint64_t> return_to;
  std::vector<std::uint64_t> targets;
  for (const auto& row : debug().statement_starts(function->low, function->high))
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

void Shell::cmd_advance(const std::string& args) {
  if (args.empty()) throw Error("advance needs a location: advance FUNCTION | FILE:LINE | *ADDRESS");
  require_live();
  std::string description;
  auto targets = resolve_location(args, description);
  const auto& all = frames();
  std::optional<std::uint64_t> return_to;
  if (all.size() > 1) {
    return_to = all[1].pc;
    targets.push_back(*return_to);
  }
  std::uint64_t cfa = all[0].cfa;
  print_stop(engine_.run_to(targets, [&](std::uint64_t addr, const Registers& r) { return addr != return_to || r.rsp >= cfa; }));
}

void Shell::cmd_start() {
  // gdb's start: a temporary breakpoint at main, from the beginning.
  engine_.seek(Position{1, {}});
  moved();
  std::string description;
  auto main_body = resolve_location("main", description);
  int id = engine_.add_breakpoint(main_body.front(), true);
  break_info_[id] = BreakInfo{description, "", false, nullptr, 0, "", 0, false, "", {}};
  out_ << fmt::format("Temporary breakpoint {} at {:#x}: {}\n", id, main_body.front(), description.substr(description.find(' ') + 1));
  print_stop(engine_.resume(Direction::forward));
}

void Shell::cmd_run() {
  print_stop(engine_.seek(Position{1, {}}));
}

void Shell::cmd_goto(const std::string& args) {
  std::int64_t n = evaluate(goto_target(args), *context_).as_int();
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

}  // namespace ttdb
