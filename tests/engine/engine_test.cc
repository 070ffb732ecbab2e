// The time-travel engine, driven through its API on recorded test programs.
#include <gtest/gtest.h>

#include <asm/unistd_64.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "engine_fixture.h"
#include "process.h"
#include "ttdb/replay/engine.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class EngineTest : public RecordedProgram {
 protected:
  void SetUp() override { start({program("debug_loops")}); }
};

TEST_F(EngineTest, StartsAtTheFirstInstructionAndRunsToTheEnd) {
  EXPECT_EQ(engine_->event(), 1);
  Stop stop = engine_->resume(Direction::forward);
  EXPECT_EQ(stop.kind, Stop::Kind::end);
  ASSERT_TRUE(engine_->exit_status());
  EXPECT_EQ(engine_->exit_status()->code(), 0);
  EXPECT_EQ(sink_.output, recorded_output_);
  EXPECT_EQ(engine_->event(), engine_->event_count());
}

TEST_F(EngineTest, GotoEventForwardAndBackLandsOnTheSameState) {
  std::int64_t last = engine_->event_count();
  engine_->goto_event(last / 2);
  EXPECT_EQ(engine_->event(), last / 2);
  Registers middle = regs();
  engine_->goto_event(last - 1);
  EXPECT_EQ(engine_->event(), last - 1);
  engine_->goto_event(3);
  EXPECT_EQ(engine_->event(), 3);
  engine_->goto_event(last / 2);
  EXPECT_EQ(engine_->event(), last / 2);
  EXPECT_TRUE(same_registers(regs(), middle));
}

TEST_F(EngineTest, BreakpointsForwardAndBackward) {
  std::uint64_t square = symbol(program("debug_loops"), "square");
  int bp = engine_->add_breakpoint(square);
  // square runs 10 + 11 + 12 + 13 + 14 = 60 times.
  std::vector<Registers> hits;
  for (int i = 0; i < 12; ++i) {
    Stop stop = engine_->resume(Direction::forward);
    ASSERT_EQ(stop.kind, Stop::Kind::breakpoint);
    EXPECT_EQ(stop.id, bp);
    EXPECT_EQ(regs().rip, square);
    hits.push_back(regs());
  }
  // The 11th call is the first of the second round: square(0).
  EXPECT_EQ(hits[10].rdi, 0u);
  EXPECT_EQ(hits[11].rdi, 1u);
  for (int i = 10; i >= 0; --i) {
    Stop stop = engine_->resume(Direction::backward);
    ASSERT_EQ(stop.kind, Stop::Kind::breakpoint) << i;
    EXPECT_TRUE(same_registers(regs(), hits[static_cast<std::size_t>(i)])) << i;
  }
  Stop start = engine_->resume(Direction::backward);
  EXPECT_EQ(start.kind, Stop::Kind::start);
  EXPECT_EQ(engine_->event(), 1);
}

TEST_F(EngineTest, ReverseStepiRetracesStepi) {
  std::uint64_t accumulate = symbol(program("debug_loops"), "accumulate");
  engine_->add_breakpoint(accumulate);
  engine_->resume(Direction::forward);
  engine_->resume(Direction::forward);  // the second call
  std::vector<Registers> states{regs()};
  std::vector<std::int64_t> events{engine_->event()};
  for (int i = 0; i < 300; ++i) {
    engine_->stepi(Direction::forward);
    states.push_back(regs());
    events.push_back(engine_->event());
  }
  for (int i = 299; i >= 0; --i) {
    Stop stop = engine_->stepi(Direction::backward);
    ASSERT_EQ(stop.kind, Stop::Kind::step) << i;
    ASSERT_TRUE(same_registers(regs(), states[static_cast<std::size_t>(i)]))
        << "step " << i << ": rip " << std::hex << regs().rip << " expected " << states[static_cast<std::size_t>(i)].rip;
    ASSERT_EQ(engine_->event(), events[static_cast<std::size_t>(i)]);
  }
}

// Names the registers that differ, for failure messages.
std::string register_differences(const Registers& a, const Registers& b) {
  static const char* const names[] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                                      "r8",  "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
                                      "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
  const auto* x = reinterpret_cast<const unsigned long long*>(&a);
  const auto* y = reinterpret_cast<const unsigned long long*>(&b);
  std::string out;
  for (std::size_t i = 0; i < sizeof a / sizeof *x; ++i)
    if (x[i] != y[i]) out += std::string(names[i]) + " ";
  return out;
}

// What a step leaves: every register, the event, and the top of the stack.
struct StepState {
  Registers regs;
  std::int64_t event;
  Bytes stack;
};

StepState step_state(Engine& engine) {
  Registers r = engine.registers();
  return StepState{r, engine.event(), engine.read_memory(r.rsp - 128, 256).value_or(Bytes{})};
}

// Names the bytes around the stack pointer that differ, for failure messages.
std::string stack_differences(const StepState& a, const StepState& b) {
  std::string out;
  char line[64];
  for (std::size_t i = 0; i < std::min(a.stack.size(), b.stack.size()); ++i)
    if (a.stack[i] != b.stack[i]) {
      std::snprintf(line, sizeof line, "rsp%+d: %02x not %02x; ", static_cast<int>(i) - 128, a.stack[i], b.stack[i]);
      out += line;
    }
  return out;
}

// `steps` stepi forward from where the engine stands: the states on the way.
std::vector<StepState> step_forward(Engine& engine, int steps) {
  std::vector<StepState> states{step_state(engine)};
  for (int i = 0; i < steps; ++i) {
    engine.stepi(Direction::forward);
    states.push_back(step_state(engine));
  }
  return states;
}

// The same stretch backward, with reverse-stepi, state for state.
void expect_retraced(Engine& engine, const std::vector<StepState>& states) {
  for (std::size_t i = states.size() - 1; i-- > 0;) {
    ASSERT_EQ(engine.stepi(Direction::backward).kind, Stop::Kind::step);
    StepState back = step_state(engine);
    ASSERT_TRUE(same_registers(back.regs, states[i].regs))
        << "step " << i << ": " << register_differences(back.regs, states[i].regs) << "differ at "
        << engine.position().describe();
    ASSERT_EQ(back.event, states[i].event) << i;
    ASSERT_EQ(back.stack, states[i].stack) << "step " << i << ": " << stack_differences(back, states[i]);
  }
}

TEST_F(EngineTest, ReverseStepiAcrossASyscall) {
  // Stand a few instructions before the instruction that makes the second
  // write (a `syscall`, or the jump to the syscall buffer that replaced it),
  // then step over it and back again.
  std::vector<std::int64_t> writes;
  for (std::int64_t e = 1; e <= engine_->event_count() && writes.size() < 2; ++e) {
    auto event = engine_->recorded_event(e);
    if (event && event->kind == trace::EventKind::syscall && event->nr == 1) writes.push_back(e);
  }
  ASSERT_EQ(writes.size(), 2u);
  engine_->goto_event(writes[1]);
  engine_->stepi(Direction::backward);  // about to make the write
  std::uint64_t write_insn = regs().rip;
  engine_->goto_event(writes[0]);  // the first write has returned
  engine_->add_breakpoint(write_insn);
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint);
  EXPECT_EQ(engine_->event(), writes[1] - 1);
  for (int i = 0; i < 5; ++i) engine_->stepi(Direction::backward);
  std::vector<Registers> states{regs()};
  std::vector<std::int64_t> events{engine_->event()};
  for (int i = 0; i < 40; ++i) {
    engine_->stepi(Direction::forward);
    states.push_back(regs());
    events.push_back(engine_->event());
  }
  ASSERT_EQ(events.front() + 1, events.back()) << "the stretch crosses the write";
  for (std::size_t i = states.size() - 1; i-- > 0;) {
    engine_->stepi(Direction::backward);
    ASSERT_TRUE(same_registers(regs(), states[i])) << i << ": " << register_differences(regs(), states[i]);
    ASSERT_EQ(engine_->event(), events[i]) << i;
  }
}

TEST_F(EngineTest, WatchpointForwardAndBackward) {
  std::uint64_t counter = symbol(program("debug_loops"), "counter");
  int w = engine_->add_watchpoint(counter, 4);
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < 5; ++i) {
    Stop stop = engine_->resume(Direction::forward);
    ASSERT_EQ(stop.kind, Stop::Kind::watchpoint);
    EXPECT_EQ(stop.id, w);
    std::uint32_t value = 0;
    std::memcpy(&value, stop.new_value.data(), 4);
    seen.push_back(value);
  }
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  // Backward: stops before the write that made it 5, seeing 4.
  Stop back = engine_->resume(Direction::backward);
  ASSERT_EQ(back.kind, Stop::Kind::watchpoint);
  auto now = engine_->read_memory(counter, 4);
  ASSERT_TRUE(now);
  std::uint32_t value = 0;
  std::memcpy(&value, now->data(), 4);
  EXPECT_EQ(value, 4u);
}

TEST_F(EngineTest, ResumingFromABreakpointOnAWriteSeesTheWrite) {
  std::uint64_t counter = symbol(program("debug_loops"), "counter");
  auto counter_value = [&] {
    std::uint32_t v = 0;
    std::memcpy(&v, engine_->read_memory(counter, 4)->data(), 4);
    return v;
  };
  // Find the instruction that stores counter++.
  int entry = engine_->add_breakpoint(symbol(program("debug_loops"), "accumulate"));
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint);
  engine_->remove(entry);
  std::uint32_t before = counter_value();
  std::uint64_t store = 0;
  while (counter_value() == before) {
    store = regs().rip;
    engine_->stepi(Direction::forward);
  }
  // A breakpoint on that store, and a watchpoint on what it writes: resuming
  // from the breakpoint executes the store first, and that is a change.
  engine_->add_breakpoint(store);
  int watch = engine_->add_watchpoint(counter, 4);
  Stop at_store = engine_->resume(Direction::forward);
  ASSERT_EQ(at_store.kind, Stop::Kind::breakpoint);
  std::uint32_t value = counter_value();
  Stop write = engine_->resume(Direction::forward);
  ASSERT_EQ(write.kind, Stop::Kind::watchpoint);
  EXPECT_EQ(write.id, watch);
  std::uint32_t old_value = 0, new_value = 0;
  std::memcpy(&old_value, write.old_value.data(), 4);
  std::memcpy(&new_value, write.new_value.data(), 4);
  EXPECT_EQ(old_value, value);
  EXPECT_EQ(new_value, value + 1);
  // And that position can be returned to.
  Registers after_write = regs();
  Position here = engine_->position();
  engine_->goto_event(2);
  engine_->seek(here);
  EXPECT_TRUE(same_registers(regs(), after_write));
}

TEST_F(EngineTest, ReverseContinueSeesAWriteAmongSingleSteps) {
  std::uint64_t counter = symbol(program("debug_loops"), "counter");
  engine_->add_breakpoint(symbol(program("debug_loops"), "accumulate"));
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint);
  // Step (not continue) past the first counter++, then watch and go back.
  std::uint32_t start = 0;
  std::memcpy(&start, engine_->read_memory(counter, 4)->data(), 4);
  for (int i = 0; i < 60; ++i) engine_->stepi(Direction::forward);
  std::uint32_t now = 0;
  std::memcpy(&now, engine_->read_memory(counter, 4)->data(), 4);
  ASSERT_GT(now, start) << "60 steps pass a counter++";
  engine_->add_watchpoint(counter, 4);
  Stop back = engine_->resume(Direction::backward);
  ASSERT_EQ(back.kind, Stop::Kind::watchpoint);
  std::uint32_t value = 0;
  std::memcpy(&value, engine_->read_memory(counter, 4)->data(), 4);
  EXPECT_EQ(value, now - 1);  // before the last write, as gdb shows it going backward
}

TEST_F(EngineTest, BookmarksReturnExactly) {
  engine_->add_breakpoint(symbol(program("debug_loops"), "spin"));
  engine_->resume(Direction::forward);
  for (int i = 0; i < 50; ++i) engine_->stepi(Direction::forward);
  Registers here = regs();
  int mark = engine_->bookmark();
  engine_->resume(Direction::forward);  // to the end
  engine_->goto_event(2);
  engine_->seek(*engine_->bookmark_position(mark));
  EXPECT_TRUE(same_registers(regs(), here));
}

// The oracle: every register and the stack's top at each of 700 forward
// steps through the dynamic loader (two rdtsc events on the way), then the
// same stretch backward, state for state.
TEST_F(EngineTest, ReverseStepiOracleThroughTheLoader) {
  auto states = step_forward(*engine_, 700);
  ASSERT_GE(states.back().event, 3);
  ASSERT_NO_FATAL_FAILURE(expect_retraced(*engine_, states));
  EXPECT_EQ(engine_->stepi(Direction::backward).kind, Stop::Kind::start);
}

// The same engine on a program whose syscalls the syscall buffer makes and
// gives back in-process: every event is still a place to stop at, and going
// backward retraces going forward.
// Handlers, nested and queued, of signals sent by the program's own
// `syscall` instructions.
class SignalEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { start({program("signal_handlers")}); }
  std::uint64_t handler(const std::string& name) { return symbol(program("signal_handlers"), name); }
};

TEST_F(SignalEngineTest, ReverseStepiRetracesStepiThroughHandlers) {
  // From the first SIGALRM handler's entry, on through the handler's return
  // (rt_sigreturn), the next signals' deliveries (a step into the handler)
  // and SIGUSR1's handler with SIGUSR2's nested in it; then back, state for
  // state.
  engine_->add_breakpoint(handler("on_alarm"));
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint);
  engine_->remove(1);
  auto states = step_forward(*engine_, 200);
  std::set<std::uint64_t> entered;
  for (const auto& s : states) entered.insert(s.regs.rip);
  for (const char* name : {"on_alarm", "on_usr1", "on_usr2"})
    ASSERT_TRUE(entered.count(handler(name))) << "the steps enter " << name;
  expect_retraced(*engine_, states);
}

TEST_F(SignalEngineTest, ReverseStepiRetracesTheLoadersLazyBindingFromAnyCheckpoint) {
  // After the handlers, main's first call of sigemptyset goes through the
  // loader's lazy binding, whose xsavec writes what the CPU's XINUSE says:
  // a stretch re-run from a checkpoint must leave the same bytes on the
  // stack as the first run. Checkpoints every few steps make each step
  // back re-run a different part of it.
  for (int every : {2, 3, 5}) {
    SCOPED_TRACE(every);
    engine_ = std::make_unique<Engine>(trace_, sink_);
    engine_->add_breakpoint(handler("on_alarm"));
    ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint);
    engine_->remove(1);
    std::vector<StepState> states{step_state(*engine_)};
    std::optional<std::size_t> after_xsavec;
    for (int i = 0; i < 200; ++i) {
      auto insn = engine_->read_memory(engine_->registers().rip, 5);
      engine_->stepi(Direction::forward);
      if (insn == Bytes{0x0f, 0xc7, 0x64, 0x24, 0x40}) after_xsavec = states.size();
      // (Not where a signal is half delivered.)
      if (i % every == 0) try {
          engine_->bookmark();
        } catch (const Error&) {
        }
      states.push_back(step_state(*engine_));
    }
    ASSERT_TRUE(after_xsavec) << "the steps run the loader's xsavec 0x40(%rsp)";
    // Every component it saved is marked in use (XSTATE_BV = XCOMP_BV
    // without its top bit), whatever the CPU's XINUSE was.
    auto header = engine_->read_memory(states[*after_xsavec].regs.rsp + 0x40 + 512, 16);
    ASSERT_TRUE(header);
    std::uint64_t in_use = 0, compacted = 0;
    std::memcpy(&in_use, header->data(), 8);
    std::memcpy(&compacted, header->data() + 8, 8);
    EXPECT_EQ(in_use, compacted & ~(1ull << 63));
    expect_retraced(*engine_, states);
  }
}

TEST_F(SignalEngineTest, ReverseStepiRetracesStepiThroughSignalsThatArriveTogether) {
  // SIGUSR2 and SIGALRM, both queued while blocked, arrive as sigprocmask
  // unblocks them: SIGUSR2's handler is entered, and before it runs an
  // instruction SIGALRM's handler is entered on top of it.
  std::int64_t unblock = 0;
  for (std::int64_t e = 2; e < engine_->event_count(); ++e) {
    auto first = engine_->recorded_event(e), second = engine_->recorded_event(e + 1);
    if (first && second && first->kind == trace::EventKind::signal && second->kind == trace::EventKind::signal) {
      unblock = e - 1;
      break;
    }
  }
  ASSERT_NE(unblock, 0) << "two signals in a row";
  engine_->goto_event(unblock);
  engine_->stepi(Direction::backward);  // at the syscall that unblocks them
  auto states = step_forward(*engine_, 40);
  std::vector<std::uint64_t> entries;
  for (const auto& s : states)
    if (s.regs.rip == handler("on_usr2") || s.regs.rip == handler("on_alarm")) entries.push_back(s.regs.rip);
  // SIGUSR2's entry, SIGALRM's, and SIGUSR2's again as SIGALRM's handler returns there.
  std::vector<std::uint64_t> expected{handler("on_usr2"), handler("on_alarm"), handler("on_usr2")};
  ASSERT_EQ(entries, expected);
  expect_retraced(*engine_, states);
}

TEST_F(SignalEngineTest, ReverseStepiRetracesStepiThroughAFault) {
  // From the end of the sigaction before the faulting write: the write,
  // the SIGSEGV's arrival (a stop of its own), its handler.
  std::int64_t fault = 0;
  for (std::int64_t e = 2; e <= engine_->event_count() && !fault; ++e)
    if (auto event = engine_->recorded_event(e); event && event->kind == trace::EventKind::signal && event->nr == SIGSEGV) fault = e;
  ASSERT_NE(fault, 0);
  engine_->goto_event(fault - 1);
  std::vector<Stop::Kind> kinds;
  std::vector<StepState> states{step_state(*engine_)};
  for (int i = 0; i < 30; ++i) {
    kinds.push_back(engine_->stepi(Direction::forward).kind);
    states.push_back(step_state(*engine_));
  }
  auto arrival = std::find(kinds.begin(), kinds.end(), Stop::Kind::signal);
  ASSERT_NE(arrival, kinds.end()) << "stepi stops at the fault's arrival";
  auto at = static_cast<std::size_t>(arrival - kinds.begin()) + 1;
  EXPECT_EQ(states[at].regs.rip, states[at - 1].regs.rip) << "the faulting instruction, not run";
  EXPECT_EQ(states[at + 1].regs.rip, handler("on_segv")) << "then the handler";
  expect_retraced(*engine_, states);
}

TEST_F(SignalEngineTest, ReverseContinueStopsAtTheSignalsContinueStoppedAt) {
  engine_->add_breakpoint(handler("on_usr2"));
  std::vector<std::pair<Stop::Kind, int>> forward;
  std::vector<Registers> at;
  for (int i = 0; i < 3; ++i) {
    Stop stop = engine_->resume(Direction::forward);
    forward.emplace_back(stop.kind, stop.signal);
    at.push_back(regs());
  }
  using Kind = Stop::Kind;
  std::vector<std::pair<Kind, int>> expected{{Kind::signal, SIGUSR1}, {Kind::signal, SIGUSR2}, {Kind::breakpoint, 0}};
  ASSERT_EQ(forward, expected);
  for (int i = 1; i >= 0; --i) {
    Stop back = engine_->resume(Direction::backward);
    ASSERT_EQ(back.kind, Kind::signal) << i;
    EXPECT_EQ(back.signal, expected[static_cast<std::size_t>(i)].second) << i;
    EXPECT_TRUE(same_registers(regs(), at[static_cast<std::size_t>(i)])) << i;
  }
  EXPECT_EQ(engine_->resume(Direction::backward).kind, Kind::start);
}

TEST_F(SignalEngineTest, AFailedCommandLeavesTheProgramWhereItWas) {
  engine_->add_breakpoint(handler("on_usr2"));
  while (engine_->resume(Direction::forward).kind == Stop::Kind::signal) {
  }
  Position here = engine_->position();
  Registers before = regs();
  // No instruction is at address 1: the seek runs to the end and fails.
  Position nowhere = here;
  nowhere.motions.push_back(Motion{Tick{Tick::Kind::code, 1, 0}, 1});
  EXPECT_THROW(engine_->seek(nowhere), Error);
  EXPECT_EQ(engine_->position().describe(), here.describe());
  EXPECT_TRUE(same_registers(regs(), before)) << register_differences(regs(), before);
  EXPECT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::signal) << "and goes on from there";
}

class BufferedEngineTest : public RecordedProgram {
 protected:
  void SetUp() override {
    // A site cache of its own, warmed by a first recording: every site is
    // patched at the start, however busy the machine (with a cold cache they
    // are patched while the program runs, wherever the finder is by then).
    RunOptions warm;
    warm.extra_env = {"XDG_CACHE_HOME=" + dir_.file("cache")};
    ASSERT_EQ(record_buffered(dir_.file("warm-up.ttdb"), {program("buffered_io"), dir_.path()}, warm).status, 0);
    ASSERT_NO_FATAL_FAILURE(start({program("buffered_io"), dir_.path()}, warm, true));
    for (std::int64_t e = 1; e <= engine_->event_count(); ++e) {
      auto event = engine_->recorded_event(e);
      if (!event) continue;
      if (event->buffered && event->nr == __NR_pwrite64) pwrites_.push_back(e);
    }
    ASSERT_GE(pwrites_.size(), 1000u) << "a third of the 3000 rounds or more buffered";
  }

  std::vector<std::int64_t> pwrites_;  // the buffered pwrite64 events
};

TEST_F(BufferedEngineTest, RunsToTheEndWithTheRecordedOutput) {
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
  EXPECT_EQ(engine_->event(), engine_->event_count());
}

TEST_F(BufferedEngineTest, BufferedEventsAreTheSameStateFromAnywhere) {
  std::vector<std::int64_t> targets;
  for (std::size_t i = 0; i < pwrites_.size(); i += 500) targets.push_back(pwrites_[i]);
  std::map<std::int64_t, Registers> first;
  for (auto e : targets) {
    engine_->goto_event(e);
    ASSERT_EQ(engine_->event(), e);
    first[e] = regs();
  }
  // Backward now, each from a checkpoint or from the program as it stands.
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    engine_->goto_event(*it);
    ASSERT_TRUE(same_registers(regs(), first[*it])) << *it << ": " << register_differences(regs(), first[*it]);
  }
}

TEST_F(BufferedEngineTest, ReverseStepiRetracesStepiAcrossBufferedSyscalls) {
  engine_->goto_event(pwrites_[pwrites_.size() / 2]);
  auto states = step_forward(*engine_, 1000);
  ASSERT_GE(states.back().event - states.front().event, 4) << "the stretch crosses several buffered syscalls";
  ASSERT_NO_FATAL_FAILURE(expect_retraced(*engine_, states));
}

TEST_F(BufferedEngineTest, BreakpointHitsAmongBufferedSyscallsBothWays) {
  std::uint64_t pwrite = 0;
  // The breakpoint goes where the program makes its pwrite: one step before the event.
  engine_->goto_event(pwrites_[10]);
  engine_->stepi(Direction::backward);
  pwrite = regs().rip;
  engine_->goto_event(1);
  engine_->add_breakpoint(pwrite);
  std::vector<std::pair<std::int64_t, Registers>> hits;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint) << i;
    hits.emplace_back(engine_->event(), regs());
  }
  // Each hit is just before a pwrite, one round of the loop apart.
  for (std::size_t i = 1; i < hits.size(); ++i) {
    auto next = engine_->recorded_event(hits[i].first + 1);
    ASSERT_TRUE(next && next->nr == __NR_pwrite64) << i;
    ASSERT_GT(hits[i].first, hits[i - 1].first) << i;
  }
  for (int i = 198; i >= 100; --i) {
    ASSERT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::breakpoint) << i;
    ASSERT_EQ(engine_->event(), hits[static_cast<std::size_t>(i)].first) << i;
    ASSERT_TRUE(same_registers(regs(), hits[static_cast<std::size_t>(i)].second)) << i;
  }
}

TEST_F(BufferedEngineTest, WatchpointsSeeTheWritesOfBufferedSyscalls) {
  // The buffer the program preads into (its stack buffer), watched: the
  // kernel's writes (given back by the syscall buffer) change it too.
  // From the first pwrite whose pread the buffer gives back too.
  std::size_t first = 100;
  while (first < pwrites_.size() && !engine_->recorded_event(pwrites_[first] + 1)->buffered) ++first;
  ASSERT_LT(first + 100, pwrites_.size());
  auto pread = engine_->recorded_event(pwrites_[first] + 1);
  ASSERT_TRUE(pread && pread->nr == __NR_pread64) << "pwrite, then pread";
  std::uint64_t buffer = pread->args[1];
  engine_->goto_event(pwrites_[first]);
  // Its second word holds the record's number ("record 123\n"): each pread
  // changes it.
  engine_->add_watchpoint((buffer + 8) & ~7ull, 8);
  struct Change {
    Registers regs;
    Bytes old_value, new_value;
  };
  std::vector<Change> changes;
  int at_pread = 0;
  for (int i = 0; i < 40; ++i) {
    Stop stop = engine_->resume(Direction::forward);
    ASSERT_EQ(stop.kind, Stop::Kind::watchpoint) << i;
    changes.push_back({regs(), stop.old_value, stop.new_value});
    auto e = engine_->recorded_event(engine_->event());
    at_pread += engine_->position().motions.empty() && e && e->nr == __NR_pread64;
  }
  EXPECT_GE(at_pread, 5) << "stops right after the preads that wrote it";
  // Backward (from the last one: its write is the last change before it),
  // each stops just before its write (the values swapped), and one step
  // forward from there is the state the forward stop saw.
  for (int i = 39; i >= 0; --i) {
    const Change& forward = changes[static_cast<std::size_t>(i)];
    Stop stop = engine_->resume(Direction::backward);
    ASSERT_EQ(stop.kind, Stop::Kind::watchpoint) << i;
    ASSERT_EQ(stop.old_value, forward.new_value) << i;
    ASSERT_EQ(stop.new_value, forward.old_value) << i;
    Position before = engine_->position();
    engine_->stepi(Direction::forward);
    ASSERT_TRUE(same_registers(regs(), forward.regs)) << i << " at " << engine_->position().describe() << ": " << register_differences(regs(), forward.regs);
    engine_->seek(before);
  }
}

// One write site made both ways: by the shim, and traced through the
// trampoline's slow tail (writes larger than PIPE_BUF).
class MixedWritesEngineTest : public RecordedProgram {
 protected:
  void SetUp() override {
    RunOptions warm;  // (as BufferedEngineTest's: libc is patched from the start)
    warm.extra_env = {"XDG_CACHE_HOME=" + dir_.file("cache")};
    ASSERT_EQ(record(dir_.file("warm-up.ttdb"), {program("mixed_writes")}, warm).status, 0);
    ASSERT_NO_FATAL_FAILURE(start({program("mixed_writes")}, warm));
    for (std::int64_t e = 1; e <= engine_->event_count(); ++e) {
      auto event = engine_->recorded_event(e);
      if (event && event->nr == __NR_write && event->args[0] != 1) writes_.push_back(e);
    }
    ASSERT_EQ(writes_.size(), 400u);
  }

  std::vector<std::int64_t> writes_;  // the loop's writes
};

TEST_F(MixedWritesEngineTest, ABreakpointAfterTheSyscallHitsEveryCallBothWays) {
  // The instruction after write's syscall (libc's cmp of the result) runs
  // moved, in the trampoline's tails: after a call the shim made, and after
  // one made traced (the recording's, or one replay makes traced where a
  // search stops among the shim's calls). Each is a hit.
  engine_->goto_event(writes_[10]);
  engine_->stepi(Direction::backward);
  std::uint64_t after = regs().rip + 2;
  engine_->goto_event(1);
  engine_->add_breakpoint(after);
  std::vector<std::pair<std::int64_t, Registers>> hits;
  for (std::size_t i = 0; i < 150; ++i) {
    ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint) << i;
    ASSERT_EQ(regs().rip, after) << i;
    hits.emplace_back(engine_->event(), regs());
    // Right after each write, with its result.
    ASSERT_EQ(hits[i].first, writes_[i]) << i << " " << engine_->position().describe();
    ASSERT_EQ(static_cast<std::int64_t>(regs().rax), *engine_->recorded_event(writes_[i])->ret) << i;
  }
  int traced = 0;
  for (std::size_t i = 0; i < hits.size(); ++i) traced += !engine_->recorded_event(writes_[i])->buffered;
  EXPECT_GE(traced, 20) << "a fifth of them recorded traced";
  EXPECT_GE(hits.size() - static_cast<std::size_t>(traced), 100u) << "the others in the shim";
  for (std::size_t i = hits.size() - 1; i-- > 20;) {
    ASSERT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::breakpoint) << i;
    ASSERT_EQ(engine_->event(), hits[i].first) << i << " " << engine_->position().describe();
    ASSERT_TRUE(same_registers(regs(), hits[i].second)) << i << ": " << register_differences(regs(), hits[i].second);
  }
}

TEST_F(MixedWritesEngineTest, ReverseStepiRetracesStepiThroughBothWays) {
  engine_->goto_event(writes_[200]);
  auto states = step_forward(*engine_, 2000);
  ASSERT_GE(states.back().event - states.front().event, 12) << "the stretch crosses writes made both ways";
  // Each step stands at an instruction of the program's: the jump back out
  // of the trampoline is not one.
  for (const auto& s : states) ASSERT_EQ(engine_->code_address(s.regs.rip), s.regs.rip);
  ASSERT_NO_FATAL_FAILURE(expect_retraced(*engine_, states));
}

// A parent and its child talking through pipes: time travel keeps both
// processes where the recording had them.
class ProcessEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start({program("pipe_child")})); }
};

TEST_F(ProcessEngineTest, RunsBothProcessesToTheEnd) {
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
  ASSERT_TRUE(engine_->exit_status());
  EXPECT_EQ(engine_->exit_status()->code(), 0);
}

// Goes to `count` events spread over the recording, then back to each, from
// the last: the state at each is the one reached going forward. They are
// the events of `tids` tasks at least.
void expect_goto_back_restores(Engine& engine, std::int64_t count, std::size_t tids) {
  std::set<pid_t> seen;
  std::vector<std::int64_t> targets;
  for (std::int64_t e = 2; e < engine.event_count() - 1; e += engine.event_count() / count) {
    targets.push_back(e);
    seen.insert(engine.recorded_event(e)->tid);
  }
  ASSERT_GE(seen.size(), tids) << "the targets are events of several processes or threads";
  std::map<std::int64_t, Registers> first;
  for (auto e : targets) {
    ASSERT_EQ(engine.goto_event(e).kind, Stop::Kind::event) << e;
    first[e] = engine.registers();
  }
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    engine.goto_event(*it);
    ASSERT_EQ(engine.event(), *it);
    ASSERT_TRUE(same_registers(engine.registers(), first[*it])) << *it << ": " << register_differences(engine.registers(), first[*it]);
  }
}

TEST_F(ProcessEngineTest, GotoEventBackwardRestoresEveryProcess) {
  // Events of both processes, in the recorded order, reached from checkpoints going back.
  ASSERT_NO_FATAL_FAILURE(expect_goto_back_restores(*engine_, 23, 2));
  // And forward from the first again, to the end, with the recorded output.
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(engine_->exit_status()->code(), 0);
}

TEST_F(ProcessEngineTest, ReverseStepiRetracesStepiFromProcessToProcess) {
  // From the middle's first event after which the other process moves.
  std::int64_t from = engine_->event_count() / 2;
  while (from < engine_->event_count() && engine_->recorded_event(from + 1)->tid == engine_->recorded_event(from)->tid) ++from;
  engine_->goto_event(from);
  auto states = step_forward(*engine_, 600);
  std::set<pid_t> tids;
  for (auto e = states.front().event; e <= states.back().event; ++e) tids.insert(engine_->recorded_event(e)->tid);
  ASSERT_GE(tids.size(), 2u) << "the stretch crosses from one process to the other";
  ASSERT_NO_FATAL_FAILURE(expect_retraced(*engine_, states));
}

// Threads take turns: going back to any event of either thread finds the
// state the recording had there.
class SpawningThreadsEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start({program("fork_thread")})); }
};

TEST_F(SpawningThreadsEngineTest, RunsToTheEndAndAgainFromTheMiddle) {
  // Threads and posix_spawn's vfork children (every signal blocked) meet
  // the loader's lazy binding, whose xsavec the engine runs itself where
  // SIGTRAP is not blocked: the program must run as recorded, forward and
  // again from a checkpoint.
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
  ASSERT_TRUE(engine_->exit_status());
  EXPECT_EQ(engine_->exit_status()->code(), 0);
  engine_->goto_event(engine_->event_count() / 2);
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(engine_->event(), engine_->event_count());
  ASSERT_TRUE(engine_->exit_status());
  EXPECT_EQ(engine_->exit_status()->code(), 0);
}

class LazyBindingSigtrapEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start({program("lazy_binding_sigtrap")})); }
};

TEST_F(LazyBindingSigtrapEngineTest, TheProgramFindsSigtrapAsItLeftIt) {
  // Functions bound lazily with SIGTRAP blocked, then ignored: the int3s
  // on the loader's xsavec must not unblock it or undo its action.
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
  EXPECT_EQ(sink_.output, run({program("lazy_binding_sigtrap")}).out);
}

class ThreadEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start({program("threads_sync")})); }
};

TEST_F(ThreadEngineTest, GotoEventBackwardFindsEveryThreadsState) {
  ASSERT_NO_FATAL_FAILURE(expect_goto_back_restores(*engine_, 17, 3));
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
}

// What each live thread is, by recorded tid: its registers, and the signals
// the kernel blocks for it.
struct ThreadView {
  Registers regs;
  std::string blocked;
};

std::map<int, ThreadView> every_thread(Engine& engine) {
  std::map<int, ThreadView> out;
  for (const auto& task : engine.inferiors()) {
    engine.select_task(task.pid);
    ThreadView& view = out[task.pid];
    view.regs = engine.registers();
    std::ifstream status("/proc/" + std::to_string(task.replay_pid) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigBlk:", 0) == 0) view.blocked = line;
  }
  return out;
}

void expect_same_threads(const std::map<int, ThreadView>& seen, const std::map<int, ThreadView>& now, std::int64_t event) {
  ASSERT_EQ(now.size(), seen.size()) << "threads live at event " << event;
  for (const auto& [tid, view] : seen) {
    ASSERT_TRUE(now.contains(tid)) << "thread " << tid << " at event " << event;
    EXPECT_TRUE(same_registers(now.at(tid).regs, view.regs))
        << "thread " << tid << " at event " << event << ": " << register_differences(now.at(tid).regs, view.regs);
    EXPECT_EQ(now.at(tid).blocked, view.blocked) << "thread " << tid << " at event " << event;
  }
}

// A thread with an alternate signal stack, a signal mask and a robust mutex
// of its own, joined by the main thread.
class ThreadStateEngineTest : public RecordedProgram {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start({program("thread_state")})); }

  // An event inside the worker's loop, where the main thread waits in pthread_join.
  std::int64_t inside_the_loop() {
    for (std::int64_t e = engine_->event_count() / 2; e < engine_->event_count(); ++e)
      if (engine_->recorded_event(e)->nr == __NR_sched_yield) return e;
    throw std::runtime_error("no sched_yield event in the second half");
  }
};

TEST_F(ThreadStateEngineTest, ACheckpointAmongThreadsGivesEachThreadBackAsItWas) {
  std::int64_t at = inside_the_loop();
  engine_->goto_event(at);
  auto seen = every_thread(*engine_);
  ASSERT_EQ(seen.size(), 2u);
  int id = engine_->bookmark();
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  // A checkpoint serves any number of times. From it, the worker reads back
  // its alternate stack and mask, ends holding the mutex, and the main
  // thread's join and lock go as recorded.
  for (int round = 0; round < 2; ++round) {
    engine_->seek(*engine_->bookmark_position(id));
    ASSERT_EQ(engine_->event(), at);
    ASSERT_NO_FATAL_FAILURE(expect_same_threads(seen, every_thread(*engine_), at));
    ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end) << round;
    EXPECT_EQ(engine_->exit_status()->code(), 0);
  }
  EXPECT_EQ(sink_.output, recorded_output_);
}

// Goes to every event of PROGRAM's recording with a checkpoint at each stop,
// then back to each one: every thread of every process must be as it was
// there. Then on to the end, with the recorded output.
// ARGS follow the program; "DIR" among them is a directory of the test's own.
void expect_checkpoints_at_every_stop(const std::string& name, std::size_t least, std::vector<std::string> args = {}) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::vector<std::string> command{program(name)};
  for (auto& arg : args) command.push_back(arg == "DIR" ? dir.path() : arg);
  RunResult recorded = record(trace, command);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  NullSink sink;
  EngineOptions every_stop;
  every_stop.checkpoint_every = std::chrono::milliseconds(0);
  Engine engine(trace, sink, every_stop);
  std::map<std::int64_t, std::map<int, ThreadView>> seen;
  for (std::int64_t e = 2; e < engine.event_count(); ++e) {
    ASSERT_EQ(engine.goto_event(e).kind, Stop::Kind::event) << e;
    seen[e] = every_thread(engine);
  }
  EXPECT_GE(engine.checkpoint_count(), least);
  for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
    engine.goto_event(it->first);
    ASSERT_NO_FATAL_FAILURE(expect_same_threads(it->second, every_thread(engine), it->first));
  }
  // And on to the end from a checkpoint in the middle, as the recording went.
  std::int64_t middle = engine.event_count() / 2;
  ASSERT_EQ(engine.goto_event(engine.event_count() - 1).kind, Stop::Kind::event);
  ASSERT_EQ(engine.goto_event(middle).kind, Stop::Kind::event);
  EXPECT_EQ(engine.resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink.output, recorded.out);
}

// Children that end while their parent is stopped leave it a real SIGCHLD
// pending: the checkpoints ttdb takes by injecting a fork must not take it
// for the fork's.
TEST(ProcessCheckpoints, TakenWhileAChildsEndIsPending) {
  ASSERT_NO_FATAL_FAILURE(expect_checkpoints_at_every_stop("fork_wait", 20));
}

// A fork leaves out the memory the program advised so (MADV_DONTFORK) and
// empties some (MADV_WIPEONFORK): a checkpoint keeps both, and the program
// and its own fork still see them as recorded.
TEST(ProcessCheckpoints, KeepMemoryTheProgramKeepsOutOfForks) {
  ASSERT_NO_FATAL_FAILURE(expect_checkpoints_at_every_stop("fork_advice", 100));
}

TEST(ThreadCheckpoints, TakenAtEveryStopOfAThreadsLife) {
  // From before the thread starts to after it ends, through every parked
  // wait: each stop a checkpoint, each checkpoint later the way back there.
  ASSERT_NO_FATAL_FAILURE(expect_checkpoints_at_every_stop("thread_state", 300));
}

TEST(ThreadCheckpoints, TakenAmongBufferedSyscallsOfThreads) {
  // The threads share one syscall buffer, which holds what replay gives back
  // to whichever thread runs: every checkpoint keeps it with them.
  ASSERT_NO_FATAL_FAILURE(expect_checkpoints_at_every_stop("threads_buffered", 200, {"DIR", "50", "600000"}));
}

TEST(ThreadCheckpoints, TakenAmongSignalsForksAndBusyThreads) {
  // Timer signals, forked children and waits while two threads keep making
  // syscalls: every stop a checkpoint of every process and thread.
  ASSERT_NO_FATAL_FAILURE(expect_checkpoints_at_every_stop("threads_mix", 300));
}

TEST(ThreadCheckpoints, TakenBetweenPreemptionsOfSpinningThreads) {
  // Two threads take turns on a spin lock and are preempted while they spin:
  // each checkpoint between those preemptions gives back the count and
  // every thread where the recording had them.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("spin_lock")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  NullSink sink;
  EngineOptions every_stop;
  every_stop.checkpoint_every = std::chrono::milliseconds(0);
  Engine engine(trace, sink, every_stop);
  std::uint64_t counter = symbol(program("spin_lock"), "counter");
  std::map<std::int64_t, std::pair<long, std::map<int, ThreadView>>> seen;
  int spinning = 0;
  for (std::int64_t e = 2; e < engine.event_count(); ++e) {
    ASSERT_EQ(engine.goto_event(e).kind, Stop::Kind::event) << e;
    auto count = engine.read_memory(counter, sizeof(long));
    ASSERT_TRUE(count) << "the counter at event " << e << " of " << engine.event_count() << ", looking at " << engine.pid()
                       << ", " << engine.inferiors().size() << " tasks";
    long value;
    std::memcpy(&value, count->data(), sizeof value);
    auto threads = every_thread(engine);
    spinning += engine.recorded_event(e)->kind == trace::EventKind::snapshot && threads.size() == 2;
    seen[e] = {value, threads};
  }
  ASSERT_GE(spinning, 2) << "preemptions while both threads live";
  // One at nearly every stop, those among the threads too (not inside a
  // spawn or a signal's delivery).
  EXPECT_GE(engine.checkpoint_count() + 5, seen.size());
  for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
    engine.goto_event(it->first);
    auto count = engine.read_memory(counter, sizeof(long));
    long value;
    std::memcpy(&value, count->data(), sizeof value);
    EXPECT_EQ(value, it->second.first) << "the counter at event " << it->first;
    ASSERT_NO_FATAL_FAILURE(expect_same_threads(it->second.second, every_thread(engine), it->first));
  }
  EXPECT_EQ(engine.resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink.output, recorded.out);
}


// rdtsc read through the trampolines of the syscall buffer (shim version 7):
// the instruction after each rdtsc runs moved, in the trampoline.
class TscEngineTest : public RecordedProgram {
 protected:
  void SetUp() override {
    // Warmed as BufferedEngineTest's: the loop's site is patched at the start.
    RunOptions warm;
    warm.extra_env = {"XDG_CACHE_HOME=" + dir_.file("cache")};
    ASSERT_EQ(record_buffered(dir_.file("warm-up.ttdb"), {program("tsc_loop"), "2000"}, warm).status, 0);
    ASSERT_NO_FATAL_FAILURE(start({program("tsc_loop"), "2000"}, warm, true));
    std::map<std::uint64_t, int> reads;  // site -> buffered reads there
    for (std::int64_t e = 1; e <= engine_->event_count(); ++e) {
      auto event = engine_->recorded_event(e);
      if (event && event->kind == trace::EventKind::rdtsc && event->buffered) {
        ++reads[event->args[0]];
        tsc_events_.push_back(e);
      }
    }
    for (const auto& [site, count] : reads)
      if (count >= 2000) loop_site_ = site;
    ASSERT_NE(loop_site_, 0u) << "the loop's 2000 reads were buffered";
  }

  std::vector<std::int64_t> tsc_events_;  // the buffered rdtsc events
  std::uint64_t loop_site_ = 0;           // the loop's rdtsc
};

TEST_F(TscEngineTest, RunsToTheEndWithTheRecordedOutput) {
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::end);
  EXPECT_EQ(sink_.output, recorded_output_);
}

TEST_F(TscEngineTest, ABreakpointOnAnInstructionTheTrampolineMovedHitsBothWays) {
  // The instruction right after the rdtsc: an int3 there would break the
  // jump to the trampoline, whose copies of it take the breakpoint instead.
  std::uint64_t moved = loop_site_ + 2;
  engine_->add_breakpoint(moved);
  std::vector<std::pair<std::int64_t, Registers>> hits;
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::breakpoint) << i;
    ASSERT_EQ(regs().rip, moved) << i;
    hits.emplace_back(engine_->event(), regs());
  }
  // One hit a round, each right after its read's event.
  for (std::size_t i = 1; i < hits.size(); ++i) {
    ASSERT_EQ(hits[i].first, hits[i - 1].first + 1) << i;
    auto read = engine_->recorded_event(hits[i].first);
    ASSERT_TRUE(read && read->kind == trace::EventKind::rdtsc && read->args[0] == loop_site_) << i;
    ASSERT_EQ((hits[i].second.rdx << 32 | (hits[i].second.rax & 0xffffffff)), read->args[1]) << i;
  }
  for (int i = 298; i >= 100; --i) {
    ASSERT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::breakpoint) << i;
    ASSERT_EQ(engine_->event(), hits[static_cast<std::size_t>(i)].first) << i << " " << engine_->position().describe();
    ASSERT_TRUE(same_registers(regs(), hits[static_cast<std::size_t>(i)].second))
        << i << ": " << register_differences(regs(), hits[static_cast<std::size_t>(i)].second);
  }
}

TEST_F(TscEngineTest, ReverseStepiRetracesStepiAcrossTrampolinedReads) {
  engine_->goto_event(tsc_events_[tsc_events_.size() / 2]);
  auto states = step_forward(*engine_, 300);
  ASSERT_GE(states.back().event - states.front().event, 20) << "the stretch crosses many reads";
  // Each step stands at an instruction of the program's: the jump back out
  // of the trampoline is not one.
  for (const auto& s : states) ASSERT_EQ(engine_->code_address(s.regs.rip), s.regs.rip);
  ASSERT_NO_FATAL_FAILURE(expect_retraced(*engine_, states));
}

}  // namespace
}  // namespace ttdb::test
