// gdb's motions over the time-travel engine: line steps into and over
// calls, instruction steps over calls, finish, until and advance, and their
// reverse, built from the engine's run_to and reverse_to with filters that
// keep to one frame. Each returns the engine's stop; the front end says it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ttdb/debugger/program_images.h"
#include "ttdb/debuginfo/debuginfo.h"
#include "ttdb/replay/engine.h"

namespace ttdb {

class Motions {
 public:
  Motions(Engine& engine, ProgramImages& images) : engine_(engine), images_(images) {}

  // step (into calls) and next (over them): to the start of another line.
  // `hidden_inlined` is how many inlined calls that begin here the front
  // end does not show (as gdb hides them): next steps over those too.
  Stop step_line(bool into, std::size_t hidden_inlined = 0);
  // Whether the last step_line entered a call inlined on the line it
  // stepped from, at that call's first instruction: the front end shows
  // the call's frame there, where it hides it otherwise.
  bool entered_inlined_call() const { return entered_inlined_call_; }
  // reverse-step and reverse-next: back to the start of the previous line.
  Stop reverse_step_line(bool into, std::size_t hidden_inlined = 0);
  // nexti and reverse-nexti: one instruction, a call taken whole.
  Stop next_instruction();
  Stop reverse_next_instruction();

  // `stack` is the backtrace here and `frame` the index of the frame the
  // motion is about (the selected one).
  // finish: until that frame returns; reverse-finish: back to its call (or,
  // for a signal handler, to where the signal interrupted the program).
  Stop finish(const std::vector<Frame>& stack, std::size_t frame);
  Stop reverse_finish(const std::vector<Frame>& stack, std::size_t frame);
  // until: like next, but never back to a smaller address in this frame.
  Stop until_next_line(const std::vector<Frame>& stack);
  // until LOCATION: to one of `targets` in this frame or a caller, or to the return.
  Stop until(std::vector<std::uint64_t> targets, const std::vector<Frame>& stack);
  // advance LOCATION: to one of `targets` in any frame, or to this frame's return.
  Stop advance(std::vector<std::uint64_t> targets, const std::vector<Frame>& stack);

  // Whether code at `pc` is the signal trampoline a handler returns to.
  bool returns_to_signal_trampoline(std::uint64_t pc);

 private:
  DebugInfo& debug() { return images_.current(); }
  bool live() { return !engine_.exit_status().has_value(); }
  // reverse_to, but never to the very state it starts from.
  Stop reverse_to_elsewhere(const std::vector<std::uint64_t>& targets, const ArrivalFilter& accepts);
  Stop reverse_to_line_start(std::optional<SourceLine> previous = std::nullopt, bool into = false);
  std::optional<std::uint64_t> only_way_in(const Function& function, std::uint64_t pc);
  Stop back_to_caller_line(bool into);
  // From a function's entry back to the call that led there.
  Stop back_to_call();
  // Where the call instruction at `addr` returns to; nullopt when it is no call.
  std::optional<std::uint64_t> call_returns_to(std::uint64_t addr);
  std::optional<Stop> back_into_callee(const Registers& regs);
  // Where the calls made on `line` return to, on it.
  std::vector<std::uint64_t> returns_on_line(const Function& function, const SourceLine& line);
  Stop back_to_signal_arrival(const Frame& handler);
  Stop back_before_handler();
  bool at_signal_arrival();
  struct CallSite {
    std::uint64_t addr;        // the call instruction
    std::uint64_t returns_to;  // the instruction after it
  };
  std::vector<CallSite> call_sites(std::uint64_t low, std::uint64_t high);
  std::optional<std::uint64_t> instruction_before(std::uint64_t pc);
  // The canonical frame address of the frame `regs` stand in.
  std::uint64_t frame_cfa(const Registers& regs);
  bool in_frame(const Registers& regs, std::uint64_t cfa);
  // Whether code at `addr` is inside a call inlined into the code whose
  // inlined calls are `here`; dropping such addresses from a line step's
  // targets steps over inlined calls.
  bool deeper_inlined(std::uint64_t addr, const std::vector<InlinedCall>& here);
  void drop_deeper_inlined(std::vector<std::uint64_t>& addrs, const std::vector<InlinedCall>& here);
  // The inlined calls around `pc`, less the innermost `hidden` ones.
  std::vector<InlinedCall> shown_inlined_calls(std::uint64_t pc, std::size_t hidden);
  std::vector<std::uint64_t> exits_of(const InlinedCall& call, std::uint64_t function_low, std::uint64_t function_high);
  Stop finish_inlined(const std::vector<Frame>& stack, std::size_t frame);
  // The inlined call an inlined frame is of.
  InlinedCall inlined_call_of(const Frame& frame);
  // Arrivals in the call of `function` whose frame has `cfa`.
  ArrivalFilter same_call(const Function& function, std::uint64_t cfa);

  Engine& engine_;
  ProgramImages& images_;
  bool entered_inlined_call_ = false;
};

}  // namespace ttdb
