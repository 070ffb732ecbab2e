#include <sys/prctl.h>
#include <sys/ptrace.h>

#include <csignal>

#include <algorithm>

#include "engine_impl.h"
#include "ttdb/base/log.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/inject.h"

namespace ttdb {

using trace::EventKind;

namespace {

// DR7 enable bits and the DR6 status bits of the four debug address registers.
constexpr std::uint64_t kDr6Hits = 0xf;
constexpr std::uint64_t kDr6Step = 1ull << 14;

std::uint64_t dr7_for(int slot, std::uint32_t len, WatchKind kind) {
  // Local enable; break on data writes (01) or on reads and writes (11);
  // length 1, 2, 4 or 8 bytes.
  std::uint64_t len_bits = len == 1 ? 0 : len == 2 ? 1 : len == 8 ? 2 : 3;
  std::uint64_t rw_bits = kind == WatchKind::write ? 0b01 : 0b11;
  return (1ull << (slot * 2)) | (rw_bits << (16 + slot * 4)) | (len_bits << (18 + slot * 4));
}

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint32_t>> watch_pieces(std::uint64_t addr, std::uint32_t len) {
  // Aligned pieces of 8, 4, 2 or 1 bytes, one debug register each.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
  while (len > 0) {
    std::uint32_t size = 8;
    while (size > len || addr % size != 0) size /= 2;
    out.emplace_back(addr, size);
    addr += size;
    len -= size;
  }
  return out;
}

namespace {

bool is_syscall_instruction(const std::uint8_t* b) {
  return (b[0] == 0x0f && (b[1] == 0x05 || b[1] == 0x34)) || (b[0] == 0xcd && b[1] == 0x80);
}

}  // namespace

std::string Position::describe() const {
  std::string out = fmt::format("event {}", event);
  for (const auto& m : motions) {
    switch (m.tick.kind) {
      case Tick::Kind::code: out += fmt::format(" + {} arrival{} at {:#x}", m.count, m.count == 1 ? "" : "s", m.tick.addr); break;
      case Tick::Kind::step: out += fmt::format(" + {} step{}", m.count, m.count == 1 ? "" : "s"); break;
      case Tick::Kind::watch: out += fmt::format(" + {} write{} to {:#x}", m.count, m.count == 1 ? "" : "s", m.tick.addr); break;
      case Tick::Kind::access: out += fmt::format(" + {} access{} to {:#x}", m.count, m.count == 1 ? "" : "es", m.tick.addr); break;
      case Tick::Kind::event_start: out += " + the start of the next event"; break;
    }
  }
  return out;
}

EngineImpl::EngineImpl(const std::string& trace_path, OutputSink& sink, EngineOptions opts)
    : output(sink, *this), session(trace_path, output), options(opts), checkpoints(opts.checkpoint_budget, opts.checkpoint_memory_mib * 1024) {
  // Checkpoints are children of the program; keep their orphans ours.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  session.run_xsave_exactly(true);
  session.start();
  checkpoints.take(session, Position{session.current_event(), {}}, Checkpoint::Kind::automatic);
  checkpoint_reached();
  boundary_reached();
}

// --- position bookkeeping -------------------------------------------------

void append_motion(Position& position, Motion motion) {
  auto& motions = position.motions;
  if (!motions.empty() && motions.back().tick == motion.tick && motion.tick.kind != Tick::Kind::event_start)
    motions.back().count += motion.count;
  else
    motions.push_back(motion);
}

void EngineImpl::append(Motion motion) { append_motion(pos, motion); }

Position EngineImpl::in_segment(Motion motion) const {
  Position p = seg_base;
  append_motion(p, motion);
  return p;
}

bool FirstTimeSink::first_time() const { return engine_.session.current_event() + 1 > frontier; }
void FirstTimeSink::write(int stream, ByteView bytes) {
  if (first_time()) inner_.write(stream, bytes);
}
void FirstTimeSink::write_at(int stream, std::int64_t offset, std::int64_t position, ByteView bytes) {
  if (first_time()) inner_.write_at(stream, offset, position, bytes);
}
void FirstTimeSink::seek(int stream, std::int64_t position) {
  if (first_time()) inner_.seek(stream, position);
}
void FirstTimeSink::truncate(int stream, std::int64_t size) {
  if (first_time()) inner_.truncate(stream, size);
}

void EngineImpl::boundary_reached() {
  pos = Position{session.current_event(), {}};
  output.frontier = std::max(output.frontier, pos.event);
  start_segment();
  maybe_checkpoint(Checkpoint::Kind::automatic);
}

void EngineImpl::start_segment() {
  seg_base = pos;
  seg_arrivals.clear();
  seg_triggers.clear();
}

std::chrono::steady_clock::duration EngineImpl::work_since_checkpoint() const {
  auto current = busy ? std::chrono::steady_clock::now() - work_mark : std::chrono::steady_clock::duration{};
  return work_banked + current;
}

void EngineImpl::checkpoint_reached() {
  work_banked = {};
  work_mark = std::chrono::steady_clock::now();
}

void EngineImpl::maybe_checkpoint(Checkpoint::Kind kind, bool now) {
  if (pending_first || !session.can_checkpoint()) return;
  if (!now && work_since_checkpoint() < options.checkpoint_every) return;
  checkpoints.take(session, pos, kind);
  checkpoint_reached();
}

void EngineImpl::apply_pending() {
  WaitStatus first = *pending_first;
  pending_first.reset();
  session.apply_next(first);
  boundary_reached();
}

// --- running the program's own code ----------------------------------------

bool EngineImpl::at_armed_address(const std::vector<std::uint64_t>& code) {
  if (pending_first || session.ended()) return false;
  auto pc = program_pc();
  return std::find(code.begin(), code.end(), pc) != code.end();
}

std::uint64_t EngineImpl::program_pc() {
  // In a trampoline's copy of an instruction a syscall buffer patch moved,
  // the program is at that instruction.
  std::uint64_t pc = session.tracee().regs().rip;
  return session.task_state().sites.moved_original(pc).value_or(pc);
}

void EngineImpl::events_passed() {
  pos = Position{session.current_event(), {}};
  output.frontier = std::max(output.frontier, pos.event);
  start_segment();
}

RunOutcome EngineImpl::run_once(Resume how, const std::vector<std::uint64_t>& code, const std::vector<Watchpoint>& armed,
                                const FastPath& fast, const std::vector<ArrivalCounter::Where>& counts) {
  Tracee& t = session.tracee();
  // Counters first, so that they move the program's own code, not our
  // int3s; one replaces the int3 at its address.
  auto counters = install_counters(counts, code);
  auto counted_at = [&](std::uint64_t addr) {
    return std::any_of(counters.own.begin(), counters.own.end(), [&](const auto& c) { return c && c->addr() == addr; });
  };
  // Insert the breakpoints (never where the program stands: it would stop at once).
  std::uint64_t pc = code.empty() ? 0 : t.regs().rip;  // a register read costs a syscall: only when needed
  std::vector<std::pair<std::uint64_t, std::uint8_t>> inserted;
  // An instruction a syscall buffer patch moved runs in its trampoline's
  // tails: its int3s go there (one in the patch's jump would break it), and
  // an arrival at one is an arrival at the instruction.
  std::map<std::uint64_t, std::uint64_t> moved_from;
  auto insert = [&](std::uint64_t at) {
    if (at == pc || std::any_of(inserted.begin(), inserted.end(), [&](auto& i) { return i.first == at; })) return;
    std::uint8_t original = 0;
    if (t.read_some(RemotePtr(at), &original, 1) != 1) return;
    if (!t.write_bytes(RemotePtr(at), ByteView(&kInt3, 1))) return;
    inserted.emplace_back(at, original);
  };
  for (std::uint64_t addr : code) {
    if (counted_at(addr)) continue;
    auto copies = session.task_state().sites.moved_copies(addr);
    for (std::uint64_t copy : copies) {
      moved_from[copy] = addr;
      insert(copy);
    }
    if (copies.empty()) insert(addr);
  }
  std::map<int, int> slot_owner;  // debug register slot -> watchpoint id
  std::uint64_t dr7 = 0;
  int next_slot = 0;
  for (const auto& w : armed)
    for (const auto& [addr, len] : watch_pieces(w.addr, w.len)) {
      if (next_slot == 4) break;
      t.set_debug_register(next_slot, addr);
      dr7 |= dr7_for(next_slot, len, w.kind);
      slot_owner[next_slot++] = w.id;
    }
  if (dr7) {
    t.set_debug_register(6, 0);
    t.set_debug_register(7, dr7);
  }

  running = t.tid();
  if (interrupt_requested) ::ptrace(PTRACE_INTERRUPT, t.tid(), 0, 0);  // asked just before it ran
  std::int64_t before = session.current_event();
  WaitStatus status = session.run(how, fast);
  running = 0;
  if (session.current_event() != before) events_passed();
  // An interrupt sent as the program stopped for another reason stops it
  // again at its next resume; that stop means nothing.
  if (interrupt_sent.exchange(false) && !status.is_event(PTRACE_EVENT_STOP)) t.expect_stray_interrupt();

  RunOutcome out;
  // Taken out on every way out: a thread that ended leaves its process's
  // memory to the threads that go on, which must not meet our int3s.
  for (auto it = inserted.rbegin(); it != inserted.rend(); ++it)
    t.write_bytes(RemotePtr(it->first), ByteView(&it->second, 1));
  out.counted.assign(counts.size(), std::nullopt);
  bool counted_out = counters.any() && !status.is_exit() && leave_counters(counters, status, out);
  if (status.is_exit()) {
    pending_first = status;
    return out;
  }
  // Disarmed on every way out, even when the program never ran: a later run
  // that arms nothing would stop at a watchpoint no one asked for.
  std::uint64_t dr6 = 0;
  if (dr7) {
    dr6 = t.debug_register(6);
    t.set_debug_register(7, 0);
    t.set_debug_register(6, 0);
  }
  if (counted_out) return out;
  if (status.kind() == WaitStatus::Kind::not_resumed) {
    pending_first = status;
    return out;
  }
  if (status.is_signal_stop() && status.code() == SIGTRAP) {
    auto rip = t.regs().rip;
    bool ours = std::any_of(inserted.begin(), inserted.end(), [&](auto& i) { return i.first == rip - 1; });
    if (ours) {
      Registers regs = t.regs();
      regs.rip = rip - 1;
      t.set_regs(regs);
      out.kind = RunOutcome::Kind::arrival;
      auto moved = moved_from.find(rip - 1);
      out.addr = moved != moved_from.end() ? moved->second : rip - 1;
      return out;
    }
    if (dr6 & kDr6Hits) {
      for (int slot = 0; slot < 4; ++slot)
        if ((dr6 & (1ull << slot)) && slot_owner.count(slot)) {
          out.kind = RunOutcome::Kind::watch;
          out.watch_id = slot_owner[slot];
          return out;
        }
    }
    siginfo_t info = t.siginfo();
    // A debug register hit whose DR6 bits the virtual machine lost (as it
    // loses the step bit, below): the kernel says TRAP_HWBKPT or TRAP_BRKPT.
    // With one watchpoint armed, it is that one's.
    bool one_owner = !slot_owner.empty() && std::all_of(slot_owner.begin(), slot_owner.end(), [&](const auto& s) {
      return s.second == slot_owner.begin()->second;
    });
    if (how != Resume::singlestep && one_owner && (info.si_code == TRAP_HWBKPT || info.si_code == TRAP_BRKPT)) {
      out.kind = RunOutcome::Kind::watch;
      out.watch_id = slot_owner.begin()->second;
      return out;
    }
    // A step ends with TRAP_TRACE, but a virtual machine may lose DR6's
    // single-step bit on the way, and the kernel then says TRAP_BRKPT: with
    // no int3 of ours there and no debug register hit, it is the step too.
    // (An int3 in the program says SI_KERNEL.)
    bool step_trap = info.si_code == TRAP_TRACE || (dr6 & kDr6Step) || (info.si_code == TRAP_BRKPT && !(dr6 & kDr6Hits)) ||
                     (how == Resume::singlestep && stepped_into_handler(t, info));
    if (how == Resume::singlestep && step_trap) {
      out.kind = RunOutcome::Kind::stepped;
      return out;
    }
  }
  if (status.is_event(PTRACE_EVENT_STOP) && interrupt_requested) {
    out.kind = RunOutcome::Kind::interrupted;
    return out;
  }
  pending_first = status;
  return out;
}

bool EngineImpl::next_is_event() {
  if (pending_first) return true;
  const trace::Event* next = session.next_event();
  if (!next) return true;
  Tracee& t = session.tracee();
  std::uint8_t insn[3] = {};
  t.read_some(RemotePtr(t.regs().rip), insn, sizeof insn);
  // (A signal still to be delivered comes first: the step enters its handler.)
  bool signal_first = next_is_boundary_signal() && !delivering();
  // A patched syscall site enters the syscall buffer: a syscall too. Inside
  // a fork whose child exists, the call's end is next.
  if (session.task_state().spawn_entry || session.task_state().parked) return true;
  return is_syscall_instruction(insn) || session.task_state().sites.is_site(t.regs().rip) || signal_first ||
         next->kind == EventKind::exit || next->kind == EventKind::patch || next->kind == EventKind::ptrace ||
         next->kind == EventKind::live;
}

// (The jump back out of a trampoline is no instruction of the program's.)
RunOutcome EngineImpl::step_once(const std::vector<Watchpoint>& armed) {
  RunOutcome outcome = run_once(Resume::singlestep, {}, armed, FastPath{session.current_event(), {}});
  auto at_way_back = [&] { return session.task_state().sites.way_back(session.tracee().regs().rip).has_value(); };
  if (outcome.kind == RunOutcome::Kind::stepped && !pending_first && at_way_back())
    outcome = run_once(Resume::singlestep, {}, armed, FastPath{session.current_event(), {}});
  return outcome;
}

bool EngineImpl::advance_one(const std::vector<Watchpoint>& armed, RunOutcome* stepped) {
  if (pending_first) {
    apply_pending();
    return true;
  }
  if (next_is_event()) {
    // A syscall instruction or a signal is the next event, not a step.
    pending_first = session.run(Resume::syscall, FastPath{session.current_event(), {}});
    apply_pending();
    return true;
  }
  RunOutcome outcome = step_once(armed);
  if (stepped) *stepped = outcome;
  if (outcome.kind == RunOutcome::Kind::stepped || outcome.kind == RunOutcome::Kind::watch) return false;
  // rdtsc, rdrand, a fault: the instruction was an event; a signal gdb stops for arrives, a stop.
  if (pending_first && !stops_the_program(session.next_event())) apply_pending();
  return true;
}

Stop EngineImpl::step_instruction(const std::vector<Watchpoint>& armed, RunOutcome* stepped) {
  if (session.ended() || (!pending_first && !session.next_event())) return Stop{Stop::Kind::end};
  if (auto stop = signal_before_step()) return *stop;
  if (!advance_one(armed, stepped)) {
    append(Motion{Tick{Tick::Kind::step, 0, 0}, 1});
    start_segment();
  } else if (pending_first || stopping_signal_next()) {
    return to_signal_arrival();  // the fault or syscall it came with, then the signal: as gdb's stepi
  }
  return Stop{Stop::Kind::step};
}

Stop EngineImpl::user_step() {
  note_watched_values();
  std::vector<Watchpoint> armed = watches_armed_here();
  RunOutcome stepped;
  Stop stop = step_instruction(armed, &stepped);
  if (stop.kind != Stop::Kind::step || stepped.kind != RunOutcome::Kind::watch) return stop;
  Stop hit = watch_trigger(watchpoints.at(stepped.watch_id));
  if (hit.kind != Stop::Kind::watchpoint) return stop;
  ++watchpoints.at(hit.id).hits;
  return hit;
}

Stop EngineImpl::run(const Goal& goal) {
  start_segment();
  std::uint64_t goal_count = 0;
  Arming arming = arming_for(goal);
  const std::vector<std::uint64_t>& code = arming.code;
  const std::vector<Watchpoint>& armed = arming.watches;
  arm_here(arming, goal);
  // Arrivals counted without stopping: in the program where the code can
  // hold a counter, by an int3 stop each elsewhere (code outside the loop).
  std::vector<std::uint64_t> counted_in_program, counted_by_stops;
  if (!goal.count_at.empty()) {
    auto wanted = counting_for(goal, 0, goal.count_at);
    auto probe = install_counters(wanted, code);
    for (const auto& c : probe.own)
      if (c) c->remove(session.tracee());
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (!wanted[i].limit) (probe.own[i] || probe.same_as[i] ? counted_in_program : counted_by_stops).push_back(wanted[i].addr);
    }
  }
  arming.own.insert(arming.own.end(), counted_by_stops.begin(), counted_by_stops.end());
  arming.layout.reset();
  if (goal.user_points) note_watched_values();
  arm_here(arming, goal);

  // The syscall buffer gives events back without stops, but for those that
  // write watched memory (the engine compares it after each), and not at
  // all when the run must stop at an event or within this one.
  FastPath fast;
  if (goal.motion) fast.until = pos.event;
  else if (goal.event) fast.until = *goal.event - 1;
  // A catchpoint looks at every event, at its first stop.
  if (goal.user_points && catching()) fast.until = std::min(fast.until, pos.event);
  for (const auto& [id, w] : watchpoints)
    if (goal.user_points && w.enabled) fast.watched.emplace_back(w.addr, w.addr + w.len);
  for (const auto& w : armed) fast.watched.emplace_back(w.addr, w.addr + w.len);

  // Resuming steps off a breakpoint the program stands on, as gdb does; an
  // event that ends on an armed address is an arrival there, also when the
  // run begins just after it (see arrival_at_boundary), but for a signal's,
  // which leaves the program where it was (its handler is entered later).
  bool leave = true;
  bool step_off = !(goal.motion && goal.motion->tick.kind == Tick::Kind::event_start);
  bool at_boundary = pos.motions.empty() && !pending_first && !signal_event(pos.event);
  // Stopped at a signal already: resuming delivers it.
  bool standing_at_event = pending_first && !pos.motions.empty() && pos.motions.back().tick.kind == Tick::Kind::event_start;
  for (;;) {
    arm_here(arming, goal);
    std::optional<RunOutcome> landed;
    if (!session.ended() && at_armed_address(code) && session.next_event()) {
      if (!leave) {
        landed = RunOutcome::arrival_at(program_pc());
      } else if (at_boundary && arrival_at_boundary(goal, goal_count)) {
        return Stop{Stop::Kind::step};
      } else if (!step_off || signal_next_at_boundary()) {
        // The next event comes before another instruction: it is the next stop.
      } else if (RunOutcome step; advance_one(armed, &step)) {
        if (goal.event && session.current_event() >= *goal.event) return Stop{Stop::Kind::event};
        if (auto ended = followed_task_end(goal)) return *ended;
        leave = false;
        continue;  // a new boundary: maybe an arrival
      } else if (step.kind == RunOutcome::Kind::watch) {
        landed = step;  // the instruction it stood on wrote a watched location
      } else if (at_armed_address(code)) {
        landed = RunOutcome::arrival_at(program_pc());
      }
    }
    leave = true;
    at_boundary = false;
    if (!pending_first) standing_at_event = false;
    if (interrupt_requested.exchange(false)) return Stop{Stop::Kind::interrupted};
    if (session.ended()) return Stop{Stop::Kind::end};
    if (pending_first && !landed) {
      bool starting = goal.motion && goal.motion->tick.kind == Tick::Kind::event_start;
      if (starting) {
        append(Motion{goal.motion->tick, 1});
        return Stop{Stop::Kind::step};
      }
      if (goal.user_points && !standing_at_event && user_stops_at(session.next_event()))
        if (auto stop = signal_arrival(goal)) return *stop;
      bool moves = session.next_event()->kind != EventKind::signal;
      apply_pending();
      if (auto ended = followed_task_end(goal)) return *ended;
      if (auto caught = goal.user_points ? caught_return(pos.event) : std::nullopt) {
        if (!goal.observe) {
          ++catchpoints.at(caught->id).hits;
          return *caught;
        }
        goal.observe(pos, *caught);
      }
      // A syscall may change a watched location: the kernel's writes set off
      // no debug register, so look.
      if (goal.user_points && !session.ended())
        for (Stop& stop : watch_changes()) {
          if (goal.observe) {
            goal.observe(pos, stop);
            continue;
          }
          ++watchpoints.at(stop.id).hits;
          return stop;
        }
      if (goal.event && session.current_event() >= *goal.event) return Stop{Stop::Kind::event};
      leave = !moves;
      continue;
    }
    if (!landed && !session.next_event()) return Stop{Stop::Kind::end};

    std::vector<ArrivalCounter::Where> counts;
    bool targets = false;
    if (!landed) {
      if (arming.layout == arming.home) counts = counting_for(goal, goal_count, counted_in_program);
      targets = !counts.empty() && counts.front().limit;
    }
    if (targets && stands_inside(counts.front())) {
      // In the middle of the code a counter would move: single steps out
      // of it first (a few instructions), as a run would go.
      RunOutcome step;
      if (advance_one(armed, &step)) {
        if (goal.event && session.current_event() >= *goal.event) return Stop{Stop::Kind::event};
        if (auto ended = followed_task_end(goal)) return *ended;
        leave = false;
        continue;
      }
      if (step.kind == RunOutcome::Kind::watch) landed = step;
      else if (at_armed_address(code)) landed = RunOutcome::arrival_at(program_pc());
      if (!landed) continue;
    }
    RunOutcome outcome = landed ? *landed : run_once(Resume::syscall, code, armed, fast, counts);
    for (std::size_t i = 0; !landed && i < counts.size(); ++i) {
      if (i == 0 && targets) {
        std::uint64_t n = outcome.counted[i].value_or(0);
        seg_arrivals[counts.front().addr] += n;
        goal_count += n;
      } else if (goal.counted) {
        goal.counted(counts[i].addr, outcome.counted[i]);
      }
    }
    switch (outcome.kind) {
      case RunOutcome::Kind::event:
      case RunOutcome::Kind::stepped: continue;
      case RunOutcome::Kind::interrupted: {
        interrupt_requested = false;
        resync();
        return Stop{Stop::Kind::interrupted};
      }
      case RunOutcome::Kind::arrival: {
        if (goal.counted && std::find(counted_by_stops.begin(), counted_by_stops.end(), outcome.addr) != counted_by_stops.end())
          goal.counted(outcome.addr, 1);
        std::uint64_t arrivals = ++seg_arrivals[outcome.addr];
        Position at_hit = in_segment(Motion{Tick{Tick::Kind::code, outcome.addr, 0}, arrivals});
        auto stop_here = [&](Stop stop) {
          pos = at_hit;
          return stop;
        };
        if (goal.motion && goal.motion->tick.kind == Tick::Kind::code && goal.motion->tick.addr == outcome.addr &&
            ++goal_count == goal.motion->count)
          return stop_here(Stop{Stop::Kind::step});
        pos = at_hit;  // the filter may look at the program here
        // A breakpoint where a motion ends is hit, as gdb reports it.
        auto breakpoint_hit = [&]() -> std::optional<Stop> {
          if (!goal.user_points) return std::nullopt;
          for (auto& [id, bp] : breakpoints) {
            if (!breakpoint_at(bp, outcome.addr)) continue;
            pos = at_hit;  // conditions may look at the program here
            bool wanted = !condition || condition(id);
            if (!wanted) continue;
            Stop stop{Stop::Kind::breakpoint};
            stop.id = id;
            if (goal.observe) {
              goal.observe(at_hit, stop);
              continue;
            }
            ++bp.hits;
            if (bp.temporary) breakpoints.erase(id);
            return stop;
          }
          return std::nullopt;
        };
        if (until_arrival(goal, outcome.addr, session.tracee().regs())) {
          if (!goal.observe) {
            auto hit = breakpoint_hit();
            return stop_here(hit ? *hit : Stop{Stop::Kind::step});
          }
          goal.observe(at_hit, Stop{Stop::Kind::step});
        }
        if (auto hit = breakpoint_hit()) return *hit;
        pos = at_hit;
        // A hot breakpoint (a condition that rarely holds) makes long runs
        // of counted arrivals: keep checkpoints among them, so going back to
        // one of them does not replay them all.
        maybe_checkpoint(Checkpoint::Kind::automatic);
        continue;
      }
      case RunOutcome::Kind::watch: {
        const Watchpoint& w = *std::find_if(armed.begin(), armed.end(), [&](const Watchpoint& a) { return a.id == outcome.watch_id; });
        Tick tick = watch_tick(w);
        std::uint64_t triggers = ++seg_triggers[{tick.kind == Tick::Kind::access, w.addr, w.len}];
        pos = in_segment(Motion{tick, triggers});
        Stop stop = watch_trigger(w);
        bool changed = goal.user_points && w.id != kMotionWatch && stop.kind == Stop::Kind::watchpoint;
        // A change observed for a backward search counts even where the run
        // ends: the write is the last instruction before that position.
        if (changed && goal.observe) goal.observe(pos, stop);
        if (goal.motion && goal.motion->tick == tick && ++goal_count == goal.motion->count) return Stop{Stop::Kind::step};
        if (changed && !goal.observe) {
          ++watchpoints.at(w.id).hits;
          return stop;
        }
        maybe_checkpoint(Checkpoint::Kind::automatic);
        // The write may have left the program on an armed address, which it
        // has then arrived at (no int3 goes where it stands).
        leave = false;
        continue;
      }
    }
  }
}

std::optional<Stop> EngineImpl::followed_task_end(const Goal& goal) {
  // Its line will never come: the step ends with it, as gdb's does, rather
  // than at the end of the recording. (A search backward looks on.)
  if (!goal.until_task || goal.observe || session.ended() || session.tracees().count(*goal.until_task)) return std::nullopt;
  Stop stop{Stop::Kind::exited};
  stop.id = *goal.until_task;
  return stop;
}

bool EngineImpl::until_arrival(const Goal& goal, std::uint64_t addr, const Registers& regs) {
  const auto& until = goal.until_addrs;
  if (std::find(until.begin(), until.end(), addr) == until.end()) return false;
  // Another process or thread that runs the same code (a forked child, a
  // thread of the same function) arrives there too, even in a frame at the
  // same address: only the task the command is about counts.
  if (goal.until_task && session.acting_tid() != *goal.until_task) return false;
  return !goal.until_accepts || goal.until_accepts(addr, regs);
}

Stop EngineImpl::seek(Position target) {
  if (pos == target && !pending_first) return Stop{Stop::Kind::none};
  // Start from the closest known point: the program as it stands, or a checkpoint.
  const Checkpoint* from = checkpoints.best_for(target);
  bool live_is_better = !pending_first && !session.ended() && reaches(pos, target) &&
                        (!from || !reaches(pos, from->position) || pos == from->position);
  if (!live_is_better) {
    if (!from) fail("there is no checkpoint before {}; this is a bug", target.describe());
    session.shared_files().restore(from->shared_files);  // before the forks write their shared memory
    session.restore(CheckpointSet::revive(*from), from->state);
    pos = from->position;
    pending_first.reset();
    checkpoint_reached();
  }
  advance_to(target, Goal{});
  if (!(pos == target)) fail("reached {} instead of {}; this is a bug", pos.describe(), target.describe());
  return Stop{Stop::Kind::step};
}

void EngineImpl::advance_to(Position target, const Goal& base) {
  if (pos.event < target.event) {
    Goal to_event = base;
    to_event.event = target.event;
    if (run(to_event).kind == Stop::Kind::interrupted) throw Interrupted{};
    if (pos.event != target.event || pending_first)
      fail("cannot reach {}: the replay stopped at {}", target.describe(), pos.describe());
    observe_here(target, base);
  }
  // The motions not done yet; the first of them may be partly done.
  std::size_t done = pos.motions.size();
  for (std::size_t i = done == 0 ? 0 : done - 1; i < target.motions.size(); ++i) {
    Motion m = target.motions[i];
    if (i < pos.motions.size()) {
      if (pos.motions[i] == m) continue;
      m.count -= pos.motions[i].count;
    }
    if (m.tick.kind == Tick::Kind::step) {
      std::vector<Watchpoint> reads;
      if (base.observe && base.user_points) {
        note_watched_values();
        reads = access_watches();
      }
      for (std::uint64_t s = 0; s < m.count; ++s) {
        if (interrupt_requested) throw Interrupted{};
        RunOutcome stepped;
        step_instruction(reads, &stepped);
        if (base.observe && stepped.kind == RunOutcome::Kind::watch && !pending_first)
          if (Stop stop = watch_trigger(watchpoints.at(stepped.watch_id)); stop.kind == Stop::Kind::watchpoint) base.observe(pos, stop);
        if (base.observe) {
          observe_watch_changes(base);  // a write just before the target is before it
          if (!(pos == target)) observe_after_step(base);  // the target itself is not before it
        }
        // Long runs of steps get checkpoints too: reverse-stepi after
        // reverse-stepi then starts close by. A long run to a target just
        // before where the engine stood is a step backward: one a little
        // before the target makes each next step back a few steps of replay
        // (gdb's reverse-next is such steps back, one packet each).
        maybe_checkpoint(Checkpoint::Kind::automatic, m.count - s - 1 == kStepsBeforeTarget && s >= 4 * kStepsBeforeTarget);
      }
      continue;
    }
    Goal goal = base;
    goal.motion = m;
    if (run(goal).kind == Stop::Kind::interrupted) throw Interrupted{};
    observe_here(target, base);
  }
}

void EngineImpl::observe_here(const Position& target, const Goal& goal) {
  // A motion's end is a hit like any other for a search, unless it is the
  // target itself (an event's end, where the target is the arrival there).
  if (!goal.observe || pos == target || arrival_at_event_end(target)) return;
  if (auto hit = hit_here(goal)) goal.observe(pos, *hit);
}

Tick watch_tick(const Watchpoint& w) {
  return Tick{w.kind == WatchKind::write ? Tick::Kind::watch : Tick::Kind::access, w.addr, w.len};
}

bool is_watch_tick(const Tick& tick) { return tick.kind == Tick::Kind::watch || tick.kind == Tick::Kind::access; }

Watchpoint motion_watch(const Tick& tick) {
  return Watchpoint{EngineImpl::kMotionWatch, tick.addr, tick.len, true, 0, tick.kind == Tick::Kind::watch ? WatchKind::write : WatchKind::access};
}

void EngineImpl::observe_watch_changes(const Goal& goal) {
  // Single steps run with no debug register armed: compare the values.
  if (!goal.user_points || pending_first || session.ended()) return;
  for (const Stop& stop : watch_changes()) goal.observe(pos, stop);
}

void EngineImpl::observe_after_step(const Goal& goal) {
  // A single step passes breakpoints without an int3: look where it landed.
  if (pending_first || session.ended()) return;
  if (auto hit = hit_at_pc(goal)) goal.observe(pos, *hit);
}

}  // namespace ttdb
