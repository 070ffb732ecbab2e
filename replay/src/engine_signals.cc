// Signals as positions: a signal's arrival is a stop like a breakpoint's,
// going forward and backward, and a single step that delivers a signal
// ends at its handler's first instruction, as it does under gdb.
#include <algorithm>
#include <csignal>

#include "engine_impl.h"

namespace ttdb {

bool stepped_into_handler(Tracee& t, const siginfo_t& info) {
  // The kernel reports a step that delivered a signal before the handler's
  // first instruction runs, by ptrace_notify(SIGTRAP): that is the code.
  // Taken for the next event's first stop, it made the replay diverge.
  if (info.si_signo != SIGTRAP || info.si_code != SIGTRAP) return false;
  // Still on its way out of the syscall the signal came after, the program
  // has that syscall's number in orig_rax; arriving there running, it has -1
  // (the trap's). The same point in time is the same state either way.
  Registers regs = t.regs();
  regs.orig_rax = ~0ull;
  t.set_regs(regs);
  return true;
}

bool stops_the_program(const trace::Event* e) {
  if (!e || e->kind != trace::EventKind::signal) return false;
  switch (e->nr) {
    case SIGALRM: case SIGCHLD: case SIGWINCH: case SIGPROF: case SIGVTALRM: case SIGURG: case SIGIO: return false;
    default: return true;
  }
}

bool EngineImpl::handle_stops_at(const trace::Event* e) const {
  if (!e || e->kind != trace::EventKind::signal) return false;
  auto chosen = signal_stops.find(static_cast<int>(e->nr));
  return chosen != signal_stops.end() ? chosen->second : stops_the_program(e);
}

int EngineImpl::catchpoint_for(const trace::Event* e) const {
  if (!e || (e->kind != trace::EventKind::syscall && e->kind != trace::EventKind::signal)) return 0;
  for (const auto& [id, c] : catchpoints)
    if (c.enabled && c.catches(*e)) return id;
  return 0;
}

bool EngineImpl::catching() const {
  return std::any_of(catchpoints.begin(), catchpoints.end(), [](const auto& c) { return c.second.enabled; });
}

std::optional<Stop> EngineImpl::caught_return(std::int64_t event) {
  if (!catching() || pending_first || !pos.motions.empty() || pos.event != event) return std::nullopt;
  auto e = session.reader().event(event);
  if (!e || e->kind != trace::EventKind::syscall || !e->ret) return std::nullopt;
  int id = catchpoint_for(&*e);
  if (!id) return std::nullopt;
  Stop stop{Stop::Kind::syscall};
  stop.id = id;
  stop.syscall = static_cast<long>(e->nr);
  stop.returned = true;
  return stop;
}

std::optional<Stop> EngineImpl::signal_arrival(const Goal& goal) {
  const trace::Event* next = session.next_event();
  // A catchpoint's stop (it names a signal even where `handle` stops too).
  int caught = catchpoint_for(next);
  Stop stop{next->kind == trace::EventKind::syscall ? Stop::Kind::syscall : Stop::Kind::signal};
  stop.id = caught;
  if (stop.kind == Stop::Kind::syscall) stop.syscall = static_cast<long>(next->nr);
  else stop.signal = static_cast<int>(next->nr);
  Position at = pos;
  append_motion(at, Motion{Tick{Tick::Kind::event_start, 0, 0}, 1});
  // reverse-continue stops where continue did: at the arrival, too.
  if (goal.observe) {
    goal.observe(at, stop);
    return std::nullopt;
  }
  pos = at;
  if (caught) ++catchpoints.at(caught).hits;
  return stop;
}

bool EngineImpl::at_signal_arrival() {
  if (!pending_first || pos.motions.empty() || pos.motions.back().tick.kind != Tick::Kind::event_start) return false;
  const trace::Event* next = session.next_event();
  return next && next->kind == trace::EventKind::signal;
}

bool EngineImpl::arrival_at_boundary(const Goal& goal, std::uint64_t& goal_count) {
  // The first run counts an event's end on an armed address as an arrival
  // when it applies the event itself; a run that begins there (a seek's,
  // after its run to the event) must too, or it numbers the later arrivals
  // one short. rt_sigreturn ends exactly where the signal interrupted the
  // program, the frame a handler returns to: finish and next out of a
  // handler stop there.
  std::uint64_t pc = program_pc();
  std::uint64_t arrivals = ++seg_arrivals[pc];
  const auto& motion = goal.motion;
  if (!motion || motion->tick.kind != Tick::Kind::code || motion->tick.addr != pc || ++goal_count != motion->count)
    return false;
  pos = in_segment(Motion{Tick{Tick::Kind::code, pc, 0}, arrivals});
  return true;
}

bool EngineImpl::arrival_at_event_end(const Position& target) {
  if (!pos.motions.empty() || pending_first || session.ended() || target.event != pos.event) return false;
  if (target.motions.size() != 1) return false;
  const Motion& m = target.motions.front();
  return m.tick.kind == Tick::Kind::code && m.count == 1 && m.tick.addr == program_pc();
}

namespace {

bool queued_at_boundary(const trace::Event& e) {
  return e.kind == trace::EventKind::signal && e.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary);
}

}  // namespace

bool EngineImpl::boundary_signal(std::int64_t id) {
  auto e = session.reader().event(id);
  return e && queued_at_boundary(*e);
}

bool EngineImpl::next_is_boundary_signal() {
  const trace::Event* next = session.ended() ? nullptr : session.next_event();
  return next && queued_at_boundary(*next);
}

bool EngineImpl::delivering() { return !session.ended() && session.task_state().resume_signal != 0; }

bool EngineImpl::signal_event(std::int64_t id) {
  auto e = session.reader().event(id);
  return e && e->kind == trace::EventKind::signal;
}

bool EngineImpl::signal_next_at_boundary() {
  // Nothing runs before such a signal arrives: the program is where the
  // event before it left it (maybe counted as an arrival there), or at the
  // entry of the handler of a signal before it, which a step goes into
  // first (the kernel reports that step before it takes the next signal).
  return !pending_first && !delivering() && next_is_boundary_signal();
}

bool EngineImpl::stopping_signal_next() { return signal_next_at_boundary() && stops_the_program(session.next_event()); }

Stop EngineImpl::to_signal_arrival() {
  // The session queues the signal at the boundary; it arrives at once. (A
  // fault's is there already.)
  if (!pending_first) pending_first = session.run(Resume::syscall, FastPath{session.current_event(), {}});
  Stop stop{Stop::Kind::signal};
  stop.signal = static_cast<int>(session.next_event()->nr);
  append(Motion{Tick{Tick::Kind::event_start, 0, 0}, 1});
  return stop;
}

std::optional<Stop> EngineImpl::signal_before_step() {
  // No instruction runs between a syscall's end and a signal queued there:
  // a step from that boundary stops where continue would, at the arrival,
  // or (a signal gdb does not stop for) goes on into the handler, rather
  // than stopping again at the same instruction with the signal applied.
  if (at_signal_arrival()) {
    apply_pending();
  } else if (stopping_signal_next()) {
    return to_signal_arrival();
  } else if (signal_next_at_boundary()) {
    advance_one();
  } else {
    return std::nullopt;
  }
  if (session.ended() || !session.next_event()) return Stop{Stop::Kind::step};
  return std::nullopt;
}

Position EngineImpl::before_delivery(Position p) {
  if (!p.motions.empty()) return p;
  auto e = session.reader().event(p.event);
  if (!e || e->kind != trace::EventKind::signal) return p;
  // A fault's signal (one of those gdb stops for) arrives at the instruction
  // that faulted: stepi stopped there, as the event's start.
  if (!queued_at_boundary(*e))
    return stops_the_program(&*e) ? Position{p.event - 1, {Motion{Tick{Tick::Kind::event_start, 0, 0}, 1}}} : p;
  // Where the step that delivered it began: its arrival, or the syscall's
  // end, or a handler's entry when signals came together. Stepping from the
  // event before finds it, as stepi went.
  seek(Position{p.event - 1, {}});
  Position before = pos;
  while (session.current_event() < p.event && !session.ended() && (pending_first || session.next_event())) {
    before = pos;
    step_instruction();
  }
  return before;
}

}  // namespace ttdb
