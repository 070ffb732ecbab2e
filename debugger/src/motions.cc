// gdb's motions, built from the engine's run_to and reverse_to with frame
// filters: what the shell and any other front end step with.
#include "ttdb/debugger/motions.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "ttdb/base/error.h"
#include "ttdb/debugger/disassembler.h"

namespace ttdb {

std::vector<Motions::CallSite> Motions::call_sites(std::uint64_t low, std::uint64_t high) {
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

std::optional<std::uint64_t> Motions::instruction_before(std::uint64_t pc) {
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

std::optional<std::uint64_t> Motions::call_returns_to(std::uint64_t addr) {
  auto code = engine_.read_memory(addr, 16);
  std::optional<std::uint64_t> after_call;
  if (code) Disassembler().each(*code, addr, [&](const cs_insn& insn) {
    if (is_call(insn)) after_call = insn.address + insn.size;
    return false;
  }, 1);
  return after_call;
}

std::uint64_t Motions::frame_cfa(const Registers& regs) { return debug().backtrace(engine_.pid(), regs, 2).front().cfa; }

bool Motions::deeper_inlined(std::uint64_t addr, const std::vector<InlinedCall>& here) {
  // Inside a call inlined into the code `here`: the calls around `addr`
  // are `here`'s and more.
  auto there = debug().inlined_calls(addr);
  return there.size() > here.size() && std::equal(here.begin(), here.end(), there.end() - static_cast<std::ptrdiff_t>(here.size()));
}

void Motions::drop_deeper_inlined(std::vector<std::uint64_t>& addrs, const std::vector<InlinedCall>& here) {
  std::erase_if(addrs, [&](std::uint64_t addr) { return deeper_inlined(addr, here); });
}

std::vector<InlinedCall> Motions::shown_inlined_calls(std::uint64_t pc, std::size_t hidden) {
  auto calls = debug().inlined_calls(pc);
  calls.erase(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(std::min(hidden, calls.size())));
  return calls;
}

bool Motions::in_frame(const Registers& regs, std::uint64_t cfa) {
  // The same frame has the same canonical frame address.
  return frame_cfa(regs) == cfa;
}

ArrivalFilter Motions::same_call(const Function& function, std::uint64_t cfa) {
  // At the function's entry the return address is pushed and nothing else:
  // the stack pointer is 8 below the CFA. Elsewhere, ask the unwinder.
  return [this, low = function.low, cfa](std::uint64_t addr, const Registers& r) {
    if (addr == low) return r.rsp + 8 == cfa;
    return in_frame(r, cfa);
  };
}

Stop Motions::next_instruction() {
  Registers regs = engine_.registers();
  auto after_call = call_returns_to(regs.rip);
  if (!after_call) return engine_.stepi(Direction::forward);
  std::uint64_t sp = regs.rsp;
  return engine_.run_to({*after_call}, [sp](std::uint64_t, const Registers& r) { return r.rsp >= sp; });
}

Stop Motions::reverse_next_instruction() {
  Registers before = engine_.registers();
  Stop stop = engine_.stepi(Direction::backward);
  if (stop.kind != Stop::Kind::step || engine_.registers().rsp >= before.rsp) return stop;
  // Stepped back into a callee's return: go back to its call instead.
  auto call = instruction_before(before.rip);
  if (!call) return stop;
  std::uint64_t sp = before.rsp;
  return engine_.reverse_to({*call}, [sp](std::uint64_t, const Registers& r) { return r.rsp == sp; });
}

std::vector<std::uint64_t> Motions::exits_of(const InlinedCall& call, std::uint64_t function_low, std::uint64_t function_high) {
  // Where control goes when it leaves the inlined code: the ends it falls
  // off and the targets of jumps out of it. An indirect jump could go
  // anywhere: then every line of the function outside it.
  std::vector<std::uint64_t> out;
  bool indirect = false;
  Disassembler dis;
  for (const auto& [low, high] : call.ranges) {
    auto code = engine_.read_memory(low, high - low);
    if (!code) continue;
    bool falls_off = true;
    dis.each(*code, low, [&](const cs_insn& insn) {
      bool jump = in_group(insn, CS_GRP_JUMP);
      if (jump) {
        const cs_x86& x86 = insn.detail->x86;
        if (x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
          auto target = static_cast<std::uint64_t>(x86.operands[0].imm);
          if (!call.contains(target)) out.push_back(target);
        } else {
          indirect = true;
        }
      }
      falls_off = !in_group(insn, CS_GRP_RET) && !(jump && insn.id == X86_INS_JMP);
      return true;
    });
    if (falls_off && !call.contains(high)) out.push_back(high);
  }
  if (indirect)
    for (const auto& row : debug().statement_starts(function_low, function_high))
      if (!call.contains(row.row_addr)) out.push_back(row.row_addr);
  return out;
}

InlinedCall Motions::inlined_call_of(const Frame& frame) {
  auto calls = debug().inlined_calls(frame.lookup_pc());
  if (!frame.inlined || static_cast<std::size_t>(frame.inline_depth) >= calls.size())
    throw Error(fmt::format("cannot find the inlined call of frame {} in the debug information", frame.level));
  return calls[static_cast<std::size_t>(frame.inline_depth)];
}

Stop Motions::finish_inlined(const std::vector<Frame>& all, std::size_t index) {
  // Out of the inlined call at this frame, in the function's own frame (or
  // out of the function, if the call's code returns from it).
  const Frame& f = all[index];
  auto function = debug().function_at(f.lookup_pc());
  if (!function) throw Error(fmt::format("cannot find the function of frame {} in the debug information", f.level));
  auto targets = exits_of(inlined_call_of(f), function->low, function->high);
  std::uint64_t cfa = f.cfa;
  std::optional<std::uint64_t> return_to;
  for (std::size_t i = index + 1; i < all.size(); ++i)
    if (!all[i].inlined && all[i].cfa != cfa) {
      return_to = all[i].pc;
      break;
    }
  if (return_to) targets.push_back(*return_to);
  return engine_.run_to(targets, [&](std::uint64_t addr, const Registers& r) {
    if (return_to && addr == *return_to && r.rsp >= cfa) return true;
    return in_frame(r, cfa);
  });
}

Stop Motions::finish(const std::vector<Frame>& all, std::size_t index) {
  if (index + 1 >= all.size()) throw Error("\"finish\" not meaningful in the outermost frame");
  if (all[index].inlined) return finish_inlined(all, index);
  std::uint64_t return_to = all[index + 1].pc;
  std::uint64_t cfa = all[index].cfa;
  return engine_.run_to({return_to}, [cfa](std::uint64_t, const Registers& r) { return r.rsp >= cfa; });
}

bool Motions::returns_to_signal_trampoline(std::uint64_t pc) {
  // __restore_rt: rt_sigreturn (15) by `mov $15, %rax; syscall` (glibc) or `mov $15, %eax; syscall` (musl).
  static const std::uint8_t glibc[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  static const std::uint8_t musl[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  auto code = engine_.read_memory(pc, sizeof glibc);
  if (!code) return false;
  return std::memcmp(code->data(), glibc, sizeof glibc) == 0 || std::memcmp(code->data(), musl, sizeof musl) == 0;
}

Stop Motions::back_to_signal_arrival(const Frame& handler) {
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

Stop Motions::back_before_handler() {
  // The handler returned into the trampoline: back onto its return, then
  // to its entry in this run and one instruction more, where the signal
  // arrived.
  Stop out = engine_.stepi(Direction::backward);
  if (out.kind != Stop::Kind::step) return out;
  auto stack = debug().backtrace(engine_.pid(), engine_.registers(), 2);  // the frame's CFA needs its caller's unwinding
  if (stack.empty()) return out;
  return back_to_signal_arrival(stack.front());
}

Stop Motions::reverse_finish(const std::vector<Frame>& all, std::size_t index) {
  // The trampoline's frame was entered at the signal's arrival, as its handler's was.
  if (index == 0 && !all.empty() && returns_to_signal_trampoline(all[0].pc)) return back_before_handler();
  if (index + 1 >= all.size()) throw Error("\"reverse-finish\" not meaningful in the outermost frame");
  if (all[index].inlined) {
    // Back to where this run of the inlined code began, and one instruction more.
    auto call = inlined_call_of(all[index]);
    std::uint64_t cfa = all[index].cfa;
    if (engine_.registers().rip != call.entry) {
      Stop entry = engine_.reverse_to({call.entry}, [this, cfa](std::uint64_t, const Registers& r) { return in_frame(r, cfa); });
      if (entry.kind != Stop::Kind::step) return entry;
    }
    return engine_.stepi(Direction::backward);
  }
  if (returns_to_signal_trampoline(all[index + 1].pc)) return back_to_signal_arrival(all[index]);
  std::uint64_t cfa = all[index].cfa;
  auto call = instruction_before(all[index + 1].pc);
  if (!call) throw Error(fmt::format("cannot find the call that returns to {:#x}", all[index + 1].pc));
  // At its call instruction, the caller's stack pointer is the callee's CFA.
  return engine_.reverse_to({*call}, [cfa](std::uint64_t, const Registers& r) { return r.rsp == cfa; });
}

bool Motions::at_signal_arrival() {
  const Position& here = engine_.position();
  if (here.motions.empty() || here.motions.back().tick.kind != Tick::Kind::event_start) return false;
  auto next = engine_.recorded_event(here.event + 1);
  return next && next->kind == trace::EventKind::signal;
}

Stop Motions::step_line(bool into, std::size_t hidden_inlined) {
  entered_inlined_call_ = false;
  bool first_step_done = false;
  if (at_signal_arrival()) {
    // As in gdb, a step from a signal's arrival stops in its handler, at
    // the first instruction; with no handler, it steps the line on.
    Stop in = engine_.stepi(Direction::forward);
    auto function = live() ? debug().function_at(engine_.registers().rip) : std::nullopt;
    if (in.kind != Stop::Kind::step || (function && function->low == engine_.registers().rip)) return in;
  }
  for (;;) {
    Registers regs = engine_.registers();
    auto function = debug().function_at(regs.rip);
    auto line = debug().line_at(regs.rip);
    if (auto calls = debug().inlined_calls(regs.rip); hidden_inlined > 0 && hidden_inlined <= calls.size()) {
      // The line shown where inlined calls are hidden is the outermost one's call.
      const InlinedCall& outermost = calls[hidden_inlined - 1];
      line = SourceLine{outermost.call_file, outermost.call_line, regs.rip, true};
    }
    auto stack = debug().backtrace(engine_.pid(), regs, 3);
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
    // next steps over an inlined call as over any other. As gdb's, both
    // stop where a call inlined into this frame begins, when it was made
    // on another line (showing that line); step enters one made on this line.
    auto here = shown_inlined_calls(regs.rip, hidden_inlined);
    hidden_inlined = 0;  // where the step goes on from, everything is shown
    if (!into) drop_deeper_inlined(targets, here);
    std::vector<std::uint64_t> entries_on_line;
    for (const auto& call : debug().inlined_calls_in_function(regs.rip)) {
      if (call.entry == regs.rip || !deeper_inlined(call.entry, here)) continue;
      // Made from this frame: the next call out from it is ours.
      auto around = debug().inlined_calls(call.entry);
      if (around[around.size() - here.size() - 1] != call) continue;
      bool same_line = call.call_line == line->line && call.call_file == line->file;
      if (same_line && !into) continue;
      targets.push_back(call.entry);
      if (same_line) entries_on_line.push_back(call.entry);
    }
    std::optional<std::uint64_t> return_to;
    // A signal handler returns through the kernel's trampoline to where its
    // signal arrived, where gdb's step out of it stops.
    bool handler = stack.size() > 2 && returns_to_signal_trampoline(stack[1].pc);
    if (stack.size() > 1) {
      return_to = handler ? stack[2].pc : stack[1].pc;
      targets.push_back(*return_to);
    }
    std::vector<std::uint64_t> calls;
    if (into)
      for (const auto& call : call_sites(function->low, function->high)) calls.push_back(call.addr);
    // In a recursion the caller's return address is in this function too:
    // this frame's own arrival there (its inner call returning) is the
    // middle of its line, not a place to stop.
    const std::vector<std::uint64_t> line_starts(targets.begin(), targets.end() - (return_to ? 1 : 0));
    std::vector<std::uint64_t> own_places = line_starts;
    own_places.insert(own_places.end(), calls.begin(), calls.end());
    targets.insert(targets.end(), calls.begin(), calls.end());
    auto accept = [&](std::uint64_t addr, const Registers& r) {
      if (return_to && addr == *return_to) {
        if (r.rsp >= cfa) return true;
        if (std::find(own_places.begin(), own_places.end(), addr) == own_places.end()) return false;
      }
      return in_frame(r, cfa);
    };
    // Standing on a call of this line (optimized code begins lines with
    // them): into it at once, as if arrived there.
    bool on_call = std::find(calls.begin(), calls.end(), regs.rip) != calls.end() && !first_step_done;
    first_step_done = true;
    Stop stop{Stop::Kind::step};
    if (!on_call) stop = engine_.run_to(targets, accept);
    if (stop.kind != Stop::Kind::step) return stop;
    Registers now = engine_.registers();
    entered_inlined_call_ = std::find(entries_on_line.begin(), entries_on_line.end(), now.rip) != entries_on_line.end();
    if (return_to && now.rip == *return_to && now.rsp >= cfa) {
      if (handler) return stop;
      // Back in the caller, in the middle of its line: finish that line.
      auto landed = debug().line_at(now.rip);
      if (!landed || landed->is_statement_start) return stop;
      continue;
    }
    // A call that begins another line is that line's start: the next step enters it.
    bool starts_line = std::find(line_starts.begin(), line_starts.end(), now.rip) != line_starts.end() || now.rip == return_to;
    if (!starts_line && std::find(calls.begin(), calls.end(), now.rip) != calls.end()) {
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
      // it returns, then go on with this line; through a PLT stub, into the
      // function it leads to when that one has lines, as gdb steps.
      auto return_address = engine_.read_memory(engine_.registers().rsp, 8);
      if (!return_address) return in;
      std::uint64_t back_to = 0;
      std::memcpy(&back_to, return_address->data(), 8);
      std::vector<std::uint64_t> ends{back_to};
      if (callee && callee->name.ends_with("@plt"))
        for (const auto& f : debug().functions_named(callee->name.substr(0, callee->name.size() - 4)))
          // The ELF symbol may name a function the DWARF knows by another name (printf, __printf).
          if (auto known = f.has_lines ? f : debug().function_at(f.low); known && known->has_lines && known->low == f.low)
            ends.push_back(known->body);
      std::uint64_t entered_sp = engine_.registers().rsp;
      Stop out = engine_.run_to(ends, [&](std::uint64_t addr, const Registers& r) {
        if (addr == back_to) return r.rsp >= sp;
        // The stub jumps: the function's first instruction has the stub's stack.
        return r.rsp == entered_sp || (r.rsp < entered_sp && in_frame(r, entered_sp + 8));
      });
      if (out.kind != Stop::Kind::step) return out;
      if (engine_.registers().rip != back_to) return out;
      continue;
    }
    return stop;
  }
}

Stop Motions::reverse_to_elsewhere(const std::vector<std::uint64_t>& targets, const ArrivalFilter& accepts) {
  // At a signal's arrival the program stands where the syscall before it
  // left it: that arrival is no earlier place, search on from it.
  bool arrival = at_signal_arrival();
  Registers here = engine_.registers();
  Stop back = engine_.reverse_to(targets, accepts);
  Registers now = engine_.registers();
  if (arrival && back.kind == Stop::Kind::step && now.rip == here.rip && now.rsp == here.rsp)
    back = engine_.reverse_to(targets, accepts);
  return back;
}

Stop Motions::reverse_to_line_start(std::optional<SourceLine> previous, bool into) {
  // The first instruction of the last run of a line (this one, or the one
  // given) in this frame: back to the last other line (or the function's
  // entry), then forward to the line's first statement. For reverse-step, a
  // call the line made on the way back is entered instead.
  Registers regs = engine_.registers();
  auto function = debug().function_at(regs.rip);
  auto line = previous ? previous : debug().line_at(regs.rip);
  if (!function || !line) return Stop{Stop::Kind::step};
  std::uint64_t cfa = frame_cfa(regs);
  std::vector<std::uint64_t> others{function->low}, mine;
  for (const auto& row : debug().statement_starts(function->low, function->high))
    (row.line == line->line && row.file == line->file ? mine : others).push_back(row.row_addr);
  // The code of a call the line inlined is part of the line's run.
  drop_deeper_inlined(others, debug().inlined_calls(regs.rip));
  // A line of optimized code may have no statement of its own (a function's
  // closing brace, say): its start is the start of its row.
  if (mine.empty()) {
    mine.push_back(line->row_addr);
    std::erase(others, line->row_addr);
  }
  bool starts_function = std::find(mine.begin(), mine.end(), function->low) != mine.end();
  auto in_this_frame = [&](std::uint64_t, const Registers& r) { return in_frame(r, cfa); };
  std::vector<std::uint64_t> returns;
  if (into) returns = returns_on_line(*function, *line);
  std::vector<std::uint64_t> targets = others;
  targets.insert(targets.end(), returns.begin(), returns.end());
  // The function's entry always bounds the search: this call began there.
  Position began = engine_.position();
  Stop back = reverse_to_elsewhere(targets, same_call(*function, cfa));
  if (back.kind == Stop::Kind::start) {
    // The history (the recording's, or a process's forked inside the line)
    // began in the line's run: its first statement after that start, if
    // there is one before where the motion began; else the start itself.
    Position history_start = engine_.position();
    std::optional<int> followed;
    for (const auto& inferior : engine_.inferiors())
      if (inferior.selected) followed = inferior.pid;
    engine_.seek(began);
    Stop earlier = engine_.reverse_to(mine, in_this_frame);
    if (earlier.kind != Stop::Kind::step) return earlier;
    engine_.seek(history_start);
    if (followed) engine_.select_task(*followed);
    return engine_.run_to(mine, in_this_frame);
  }
  if (back.kind != Stop::Kind::step) return back;
  if (std::find(returns.begin(), returns.end(), engine_.registers().rip) != returns.end()) {
    if (auto in = back_into_callee(engine_.registers())) return *in;
    return reverse_to_line_start(line, false);  // the callee has no lines: the line's start
  }
  if (starts_function && engine_.registers().rip == function->low) {
    // The line begins the function: gdb stops after its prologue, where
    // the frame (and so the arguments) is set up, when that is on the line.
    auto body = debug().line_at(function->body);
    if (function->body <= function->low || !body || body->line != line->line || body->file != line->file) return back;
    return engine_.run_to({function->body}, in_this_frame);
  }
  return engine_.run_to(mine, in_this_frame);
}

std::optional<std::uint64_t> Motions::only_way_in(const Function& function, std::uint64_t pc) {
  // The instruction before `pc` falls through to it, and nothing else in the
  // function can get there: no jump targets it, no indirect jump exists, and
  // it is not the return from a call.
  auto code = engine_.read_memory(function.low, function.high - function.low);
  if (!code || pc <= function.low) return std::nullopt;
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

Stop Motions::back_to_caller_line(bool into) {
  // Back to this call's entry, to the call, then to the start of its line
  // (for reverse-step, into a call that line made before this one).
  Registers regs = engine_.registers();
  if (auto function = debug().function_at(regs.rip); function && regs.rip != function->low) {
    Stop entry = engine_.reverse_to({function->low}, same_call(*function, frame_cfa(regs)));
    if (entry.kind != Stop::Kind::step) return entry;
  }
  Stop out = back_to_call();
  if (out.kind != Stop::Kind::step) return out;
  auto caller_line = debug().line_at(engine_.registers().rip);
  if (caller_line && caller_line->row_addr == engine_.registers().rip) return out;
  return reverse_to_line_start(std::nullopt, into);
}

Stop Motions::back_to_call() {
  // At a function's entry the return address tops the stack: back to the
  // call before it, whatever way led from there (a PLT stub, the dynamic
  // linker's lazy resolver), where the caller's stack pointer is 8 higher.
  // Without one (a signal handler's entry), one instruction back.
  Registers entry = engine_.registers();
  auto word = engine_.read_memory(entry.rsp, 8);
  std::uint64_t return_address = 0;
  if (word) std::memcpy(&return_address, word->data(), 8);
  auto call = return_address ? instruction_before(return_address) : std::nullopt;
  if (!call || !call_returns_to(*call)) return engine_.stepi(Direction::backward);
  std::uint64_t sp = entry.rsp + 8;
  return engine_.reverse_to({*call}, [sp](std::uint64_t, const Registers& r) { return r.rsp == sp; });
}

std::optional<Stop> Motions::back_into_callee(const Registers& regs) {
  // Standing where a call returns to: if it just returned, back into the
  // callee, to the start of the row that holds its return, as gdb's
  // stepping back into a function goes. Otherwise (a jump came here, or
  // the callee has no lines) nothing moves.
  Position here = engine_.position();
  Stop back = engine_.stepi(Direction::backward);
  if (back.kind != Stop::Kind::step) return back;
  Registers now = engine_.registers();
  auto callee = debug().function_at(now.rip);
  // The callee's ret leaves the stack 8 bytes higher.
  auto row = callee && callee->has_lines && now.rsp + 8 == regs.rsp ? debug().line_at(now.rip) : std::nullopt;
  if (!row) {
    engine_.seek(here);
    return std::nullopt;
  }
  // A row that begins the function begins, for gdb, after the prologue.
  std::uint64_t start = row->row_addr;
  if (start == callee->low && callee->body > start && callee->body <= now.rip) start = callee->body;
  if (start == now.rip) return back;
  return engine_.reverse_to({start}, same_call(*callee, frame_cfa(now)));
}

std::vector<std::uint64_t> Motions::returns_on_line(const Function& function, const SourceLine& line) {
  // A call whose return starts another line's row returns out of this line.
  auto on_line = [&](std::uint64_t addr) {
    auto at = debug().line_at(addr);
    return at && at->line == line.line && at->file == line.file;
  };
  std::vector<std::uint64_t> out;
  for (const auto& call : call_sites(function.low, function.high))
    if (on_line(call.addr) && on_line(call.returns_to)) out.push_back(call.returns_to);
  return out;
}

Stop Motions::reverse_step_line(bool into, std::size_t hidden_inlined) {
  Registers regs = engine_.registers();
  // In the signal trampoline, the handler has just returned: reverse-step
  // goes back into its last line, reverse-next to where the signal arrived.
  if (returns_to_signal_trampoline(regs.rip)) {
    if (into)
      if (auto in = back_into_callee(regs)) return *in;
    return back_before_handler();
  }
  auto function = debug().function_at(regs.rip);
  auto line = debug().line_at(regs.rip);
  if (!function || !function->has_lines || !line) {
    // No lines: back to the call, as gdb goes; in the outermost frame (the
    // loader's _start), one instruction, which at the start says so.
    auto stack = debug().backtrace(engine_.pid(), regs, 2);
    if (stack.size() < 2) return engine_.stepi(Direction::backward);
    return reverse_finish(stack, 0);
  }
  if (regs.rip == function->low) return back_to_caller_line(into);
  if (into) {
    auto calls = call_sites(function->low, function->high);
    if (std::any_of(calls.begin(), calls.end(), [&](const CallSite& c) { return c.returns_to == regs.rip; }))
      if (auto in = back_into_callee(regs)) return *in;
  }
  // At a line reached only by falling through from the line before it (out
  // of a loop, say), that line is known without searching for it, which
  // would stop at every row of a hot loop.
  if (line->row_addr == regs.rip)
    if (auto before = only_way_in(*function, regs.rip)) {
      if (*before < function->body) return back_to_caller_line(into);  // the prologue: this is the first line
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
  auto here = shown_inlined_calls(regs.rip, hidden_inlined);
  if (!into) drop_deeper_inlined(targets, here);
  std::vector<std::uint64_t> returns;
  if (into)
    for (const auto& call : call_sites(function->low, function->high))
      if (call.returns_to < regs.rip + (line->row_addr == regs.rip ? 0 : 1)) returns.push_back(call.returns_to);
  targets.insert(targets.end(), returns.begin(), returns.end());
  Stop stop = engine_.reverse_to(targets, same_call(*function, cfa));
  if (stop.kind != Stop::Kind::step) return stop;
  std::uint64_t pc = engine_.registers().rip;
  if (pc == function->low) {
    // From inside an inlined call, the function's entry is an earlier
    // line of the function: its first, after the prologue.
    if (!here.empty()) {
      if (function->body <= pc) return stop;
      return engine_.run_to({function->body}, [this, cfa](std::uint64_t, const Registers& r) { return in_frame(r, cfa); });
    }
    return back_to_caller_line(into);  // back past this function's first line
  }
  if (std::find(returns.begin(), returns.end(), pc) != returns.end()) {
    Registers at_return = engine_.registers();
    if (auto in = back_into_callee(at_return)) return *in;
    // A callee without lines: back to its call and on from there.
    if (auto call = instruction_before(pc)) {
      std::uint64_t sp = at_return.rsp;
      engine_.reverse_to({*call}, [sp](std::uint64_t, const Registers& r) { return r.rsp == sp; });
    }
    return reverse_to_line_start(std::nullopt, true);
  }
  return reverse_to_line_start(std::nullopt, into);
}

Stop Motions::until_next_line(const std::vector<Frame>& all) {
  Registers regs = engine_.registers();
  auto function = debug().function_at(regs.rip);
  auto line = debug().line_at(regs.rip);
  if (!function || !line || all.empty()) return step_line(false);
  std::uint64_t cfa = all[0].cfa;
  std::optional<std::uint64_t> return_to;
  std::vector<std::uint64_t> targets;
  for (const auto& row : debug().statement_starts(function->low, function->high))
    if (row.row_addr > regs.rip && row.line != line->line) targets.push_back(row.row_addr);
  if (all.size() > 1) {
    return_to = all[1].pc;
    targets.push_back(*return_to);
  }
  return engine_.run_to(targets, [&](std::uint64_t addr, const Registers& r) {
    if (addr == return_to) return r.rsp >= cfa;
    return in_frame(r, cfa);
  });
}

Stop Motions::until(std::vector<std::uint64_t> targets, const std::vector<Frame>& all) {
  if (all.size() > 1) targets.push_back(all[1].pc);
  // LOCATION in this frame or a caller: the stack pointer is no deeper.
  std::uint64_t sp = engine_.registers().rsp;
  return engine_.run_to(targets, [sp](std::uint64_t, const Registers& r) { return r.rsp >= sp; });
}

Stop Motions::advance(std::vector<std::uint64_t> targets, const std::vector<Frame>& all) {
  std::optional<std::uint64_t> return_to;
  if (all.size() > 1) {
    return_to = all[1].pc;
    targets.push_back(*return_to);
  }
  std::uint64_t cfa = all.empty() ? 0 : all[0].cfa;
  return engine_.run_to(targets, [&](std::uint64_t addr, const Registers& r) { return addr != return_to || r.rsp >= cfa; });
}

}  // namespace ttdb
