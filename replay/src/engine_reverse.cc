// Going backward: every reverse command lands where the matching forward
// command would have landed going the other way. The engine never runs
// backward; it restores the nearest checkpoint before the target and runs
// forward to it, watching what happens on the way.
#include <algorithm>

#include "engine_impl.h"
#include "ttdb/base/log.h"

namespace ttdb {

using trace::EventKind;

namespace {

// Single steps towards a position before counting the rest of the way.
constexpr std::uint64_t kStepsBeforeCounting = 2000;

Position without_last(Position p) {
  p.motions.pop_back();
  return p;
}

// `p` with its last motion done one time fewer.
Position one_fewer(Position p) {
  if (--p.motions.back().count == 0) p.motions.pop_back();
  return p;
}

}  // namespace

std::optional<std::pair<Position, Stop>> EngineImpl::last_hit_before(Position target, const Goal& observing) {
  // Interval by interval, from the latest checkpoint before `end` up to `end`.
  Position end = target;
  for (;;) {
    auto candidates = checkpoints.before(end);
    if (candidates.empty()) return std::nullopt;
    Position from = candidates.front()->position;
    // The stretch since `end`'s event on its own first: counting can search
    // it (below), and a stretch is where a search meets loops.
    // (Not where the program stands on `end` already as that event ends.)
    if (from.event < end.event && !end.motions.empty()) {
      seek(Position{end.event, {}});
      if (!arrival_at_event_end(end)) from = Position{end.event, {}};
    }
    seek(from);
    // A long stretch without events: count the arrivals instead of
    // stopping at each (minutes for a loop of millions of rounds).
    if (auto counted = last_arrival_counted(from, end, target, observing)) {
      if (*counted) return *counted;
      end = from;
      continue;
    }
    seek(from);
    std::optional<std::pair<Position, Stop>> last;
    Goal goal = observing;
    goal.observe = [&](const Position& at, const Stop& stop) {
      // A read stops after the instruction that read, going either way: one
      // there is where the search began, not before it.
      if (at == target && read_stop(stop)) return;
      // Nor a catchpoint's stop where the search began.
      if (at == target && stop.id && (stop.kind == Stop::Kind::syscall || stop.kind == Stop::Kind::signal)) return;
      last = {at, stop};
    };
    advance_to(end, goal);
    // The previous interval began here: a hit exactly here is the latest
    // (unless here is the target's own moment under another name).
    if (end != target && !arrival_at_event_end(target))
      if (auto here = hit_here(observing)) last = {end, *here};
    if (last) return last;
    end = from;
  }
}

std::optional<Stop> EngineImpl::hit_here(const Goal& goal) {
  if (pending_first || session.ended()) return std::nullopt;
  // An arrival, a single step onto the address (as a step inside an
  // interval counts: a checkpoint may stand right after it) or an event
  // ending here counts; not a watch stop, which stands after the write and
  // before the arrival, nor a signal's event, which leaves the program
  // where it was.
  if (!pos.motions.empty()) {
    Tick::Kind kind = pos.motions.back().tick.kind;
    if (kind != Tick::Kind::code && kind != Tick::Kind::step) return std::nullopt;
  }
  if (pos.motions.empty() && signal_event(pos.event)) return std::nullopt;
  if (goal.user_points)
    if (auto caught = caught_return(pos.event)) return caught;
  return hit_at_pc(goal);
}

std::optional<Stop> EngineImpl::hit_at_pc(const Goal& goal) {
  Registers regs = session.tracee().regs();
  regs.rip = program_pc();
  if (until_arrival(goal, regs.rip, regs)) return Stop{Stop::Kind::step};
  if (!goal.user_points) return std::nullopt;
  for (const auto& [id, bp] : breakpoints) {
    if (!breakpoint_at(bp, regs.rip) || (condition && !condition(id))) continue;
    Stop stop{Stop::Kind::breakpoint};
    stop.id = id;
    return stop;
  }
  return std::nullopt;
}

void EngineImpl::resync() {
  Position here = pos;
  pending_first.reset();
  pos = Position{-1, {}};  // matches nothing: seek() restores a checkpoint
  seek(here);
}

void EngineImpl::back_after_failure(const Position& start) {
  // The failure is the news; one on the way back is not.
  try {
    pending_first.reset();
    pos = Position{-1, {}};  // matches nothing: seek() restores a checkpoint
    seek(start);
  } catch (const Error&) {
  }
}

bool EngineImpl::read_stop(const Stop& stop) const {
  // A read watchpoint's stop, or an access watchpoint's that left the value
  // as it was; an access watchpoint's stop at a write is a write's.
  if (stop.kind != Stop::Kind::watchpoint) return false;
  WatchKind kind = watchpoints.at(stop.id).kind;
  return kind == WatchKind::read || (kind == WatchKind::access && stop.old_value == stop.new_value);
}

Stop EngineImpl::reverse_continue() {
  Goal observing;
  observing.user_points = true;
  auto hit = last_hit_before(pos, observing);
  if (!hit) {
    seek(Position{1, {}});
    return Stop{Stop::Kind::start};
  }
  auto [at, stop] = *hit;
  if (read_stop(stop)) {
    seek(at);  // after the read, where a forward run stops too
    ++watchpoints.at(stop.id).hits;
  } else if (stop.kind == Stop::Kind::watchpoint) {
    // Going backward, a watchpoint stops before the write that changed the
    // value: the "new" value is the one before it.
    auto before = previous_instruction(at);
    seek(before.value_or(at));
    std::swap(stop.old_value, stop.new_value);
    ++watchpoints.at(stop.id).hits;
  } else {
    seek(at);
    if (auto bp = breakpoints.find(stop.id); bp != breakpoints.end()) ++bp->second.hits;
    if (auto c = catchpoints.find(stop.id); c != catchpoints.end()) ++c->second.hits;
  }
  return stop;
}

Stop EngineImpl::reverse_stepi() {
  auto previous = previous_instruction(pos);
  if (!previous) return Stop{Stop::Kind::start};
  seek(*previous);
  return Stop{Stop::Kind::step};
}

Stop EngineImpl::back_to_history_start(int task, std::int64_t from) {
  std::int64_t birth = 0;
  if (task && several_tasks()) {
    // The spawn that made this task (a tid may be used again later).
    const auto& births = program_images().births;
    if (auto found = births.find(task); found != births.end())
      for (std::int64_t id : found->second)
        if (id <= from) birth = id;
  }
  if (birth == 0) {
    seek(Position{1, {}});
    return Stop{Stop::Kind::start};
  }
  // The task is there once its spawn event is applied, before it has run
  // an instruction (a vfork child's parent may still be on its way).
  seek(Position{birth, {}});
  for (int tries = 0; tries < 8 && !session.tracees().count(task) && session.current_event() < session.reader().event_count(); ++tries)
    seek(Position{session.current_event() + 1, {}});
  if (session.tracees().count(task)) selected = task;
  return Stop{Stop::Kind::start};
}

Stop EngineImpl::reverse_to(const std::vector<std::uint64_t>& addrs, const ArrivalFilter& accepts, int task) {
  Goal observing;
  observing.until_addrs = addrs;
  observing.until_accepts = accepts;
  observing.until_task = task;
  observing.until_layout = layout_of(image_of_task(task));
  std::int64_t from = pos.event;
  auto hit = last_hit_before(pos, observing);
  if (!hit) return back_to_history_start(task, from);
  seek(hit->first);
  return Stop{Stop::Kind::step};
}

std::optional<Position> EngineImpl::previous_instruction(Position target) {
  // A signal's arrival at a syscall boundary follows what came before it at
  // once: a handler's entry (signals that came together), or the syscall's
  // end, where stepi does not stop (it goes on to the arrival).
  bool arrival = !target.motions.empty() && target.motions.back().tick.kind == Tick::Kind::event_start;
  if (arrival && boundary_signal(target.event + 1)) {
    Position before = without_last(target);
    return before.motions.empty() ? previous_instruction(before) : before;
  }
  auto found = position_before(target);
  if (found) return before_delivery(*found);
  return found;
}

std::optional<std::int64_t> EngineImpl::blocked_entry_of(const trace::Event& result) {
  // The thread's last event before its result: its entry, if the call
  // blocked while others ran.
  for (std::int64_t id = result.id - 1; id >= 1; --id) {
    auto e = session.reader().event(id);
    if (!e) return std::nullopt;
    if (e->tid != result.tid) continue;
    if (e->kind == EventKind::blocked && e->nr == result.nr) return id;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Position> EngineImpl::position_before(Position target) {
  if (target.motions.empty()) {
    std::int64_t e = target.event;
    if (e <= 1) return std::nullopt;
    auto event = session.reader().event(e);
    if (!event) fail("trace {} is corrupt: event {} is missing", session.reader().path(), e);
    Position before{e - 1, {}};
    bool boundary_signal = event->kind == EventKind::signal &&
                           event->args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary);
    // ttdb's own patches follow the event before them at once: no instruction runs between.
    if (boundary_signal || event->kind == EventKind::exit || event->kind == EventKind::patch ||
        event->kind == EventKind::ptrace || event->kind == EventKind::live)
      return before;
    Position starting = before;
    starting.motions.push_back(Motion{Tick{Tick::Kind::event_start, 0, 0}, 1});
    // Before an event that an instruction causes: the program about to
    // execute that instruction, which it reaches once in the stretch
    // (executing it is the event). This is the state a single step onto it
    // leaves, which a stop at the event's start is not quite (a fault sets
    // the resume flag).
    std::uint64_t insn = 0;
    if (event->kind == EventKind::rdtsc || event->kind == EventKind::rdrand) {
      insn = event->args[0];
    } else if (event->kind == EventKind::snapshot) {
      // Replay puts the recorded state in place wherever the thread stands
      // (even inside an instruction, stopped by a breakpoint): the place
      // before it is where a forward stepi applies it, the thread's first
      // arrival where the recording stopped it.
      insn = event->args[0];
    } else if (event->kind == EventKind::syscall || event->kind == EventKind::blocked) {
      // A call that others ran during: the thread executed its instruction
      // before its entry's event, not in this stretch.
      if (event->kind == EventKind::syscall)
        if (auto entered = blocked_entry_of(*event)) return position_before(Position{*entered, {}});
      seek(starting);
      insn = session.tracee().regs().rip - 2;  // stopped at the syscall's entry
      // Made through the syscall buffer: the program's instruction is the patched site.
      if (auto site = session.task_state().sites.site_of(insn)) insn = *site;
    } else {
      return starting;
    }
    seek(before);
    // The event's own thread (the event before may be another's): if it
    // stands at the instruction already, nothing of it runs in between.
    auto& tracees = session.tracees();
    auto own = tracees.find(event->tid);
    Tracee& thread = own != tracees.end() && own->second.alive() ? own->second : session.tracee();
    if (thread.regs().rip == insn) return before;
    before.motions.push_back(Motion{Tick{Tick::Kind::code, insn, 0}, 1});
    return before;
  }

  const Motion& last = target.motions.back();
  if (last.tick.kind == Tick::Kind::step) return one_fewer(target);

  // Step forward from the previous occurrence of the last motion (or from
  // where it began) until it happens again; the position before that step
  // is the answer.
  Position from = last.tick.kind == Tick::Kind::event_start ? without_last(target) : one_fewer(target);
  seek(from);
  // An event that ended on the address was the arrival: no instruction between.
  bool boundary_arrival = last.tick.kind == Tick::Kind::code && from.motions.empty() && !pending_first &&
                          !session.ended() && program_pc() == last.tick.addr && !signal_event(from.event);
  if (boundary_arrival) return previous_instruction(from);
  std::optional<Watchpoint> watch;
  if (is_watch_tick(last.tick)) watch = motion_watch(last.tick);
  Position before = pos;
  // Where the steps went, for counting the rest of a long way instead.
  std::map<std::uint64_t, std::uint64_t> seen;
  std::uint64_t stepped = 0;
  for (std::uint64_t steps = 1;; ++steps) {
    if (interrupt_requested) throw Interrupted{};
    if (session.ended() || (!pending_first && !session.next_event()))
      fail("could not find the instruction before {} (from {}); this is a bug", target.describe(), from.describe());
    before = pos;
    std::int64_t event_before = session.current_event();
    bool hit = false;
    if (watch && !next_is_event()) {
      // A single step with only this watchpoint armed: the write itself must
      // be seen, even one that leaves the value as it was.
      RunOutcome outcome = step_once({*watch});
      if (pending_first) {
        apply_pending();
      } else {
        append(Motion{Tick{Tick::Kind::step, 0, 0}, 1});
        hit = outcome.kind == RunOutcome::Kind::watch;
      }
    } else {
      step_instruction();
      if (last.tick.kind == Tick::Kind::event_start) hit = session.current_event() != event_before || pending_first;
      else if (!watch) hit = !pending_first && !session.ended() && program_pc() == last.tick.addr;
    }
    if (hit) return before;
    maybe_checkpoint(Checkpoint::Kind::automatic);
    if (!pending_first && !session.ended()) ++seen[program_pc()];
    // A long stretch (a loop of millions of rounds): count the arrivals at
    // one of its instructions up to the target in the program, at native
    // speed, and step on from the last of them.
    if (++stepped % kStepsBeforeCounting == 0) {
      approach(target, seen);
      seen.clear();
    }
  }
}

}  // namespace ttdb
