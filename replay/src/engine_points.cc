// The breakpoints and watchpoints where the engine stands: which of them
// the acting process has (a breakpoint belongs to a program, a watchpoint
// to a process), what a run arms there, and the watched values.
#include <algorithm>

#include "engine_impl.h"

namespace ttdb {

std::vector<std::uint64_t> EngineImpl::user_code_points() {
  std::vector<std::uint64_t> out;
  for (const auto& [id, bp] : breakpoints)
    if (bp.enabled) {
      const auto& here = addresses_here(bp);
      out.insert(out.end(), here.begin(), here.end());
    }
  return out;
}

bool EngineImpl::breakpoint_at(const Breakpoint& bp, std::uint64_t addr) {
  if (!bp.enabled) return false;
  const auto& here = addresses_here(bp);
  return std::find(here.begin(), here.end(), addr) != here.end();
}

std::optional<Bytes> EngineImpl::watched_value(const Watchpoint& w) {
  // In its own process's memory, whichever process acts.
  if (watches_here(w)) return session.tracee().try_read_bytes(RemotePtr(w.addr), w.len);
  for (auto& [tid, tracee] : session.tracees())
    if (tracee.alive() && process_of_task(tid) == w.process) return tracee.try_read_bytes(RemotePtr(w.addr), w.len);
  return std::nullopt;  // (it has ended)
}

int EngineImpl::process_of_task(int tid) const {
  const auto& tasks = session.state().tasks;
  auto task = tasks.find(tid);
  return task != tasks.end() ? task->second.process(tid) : tid;
}

bool EngineImpl::watches_here(const Watchpoint& w) const {
  return w.process == 0 || session.ended() || process_of_task(session.acting_tid()) == w.process;
}

std::vector<Watchpoint> EngineImpl::watches_armed_here() const {
  std::vector<Watchpoint> out;
  for (const auto& [id, w] : watchpoints)
    if (w.enabled && watches_here(w)) out.push_back(w);
  return out;
}

EngineImpl::Arming EngineImpl::arming_for(const Goal& goal) {
  Arming a;
  if (goal.motion && goal.motion->tick.kind == Tick::Kind::code) a.own.push_back(goal.motion->tick.addr);
  a.home = session.ended() ? 0 : layout_of(image_of_task(session.acting_tid()));
  a.until_home = goal.until_layout.value_or(a.home);
  a.home_process = process_of_task(session.acting_tid());
  return a;
}

void EngineImpl::arm_here(Arming& a, const Goal& goal) {
  std::int64_t layout = session.ended() ? 0 : layout_of(image_of_task(session.acting_tid()));
  if (a.layout != layout) {
    a.layout = layout;
    a.code = goal.user_points ? user_code_points() : std::vector<std::uint64_t>{};
    if (layout == a.home) a.code.insert(a.code.end(), a.own.begin(), a.own.end());
    if (layout == a.until_home) a.code.insert(a.code.end(), goal.until_addrs.begin(), goal.until_addrs.end());
  }
  // The user's watchpoints, and the one a motion counts: a position keeps
  // its own address and length, whatever the user deleted since.
  int process = process_of_task(session.acting_tid());
  if (a.process == process) return;
  a.process = process;
  a.watches = goal.user_points ? watches_armed_here() : std::vector<Watchpoint>{};
  if (goal.motion && is_watch_tick(goal.motion->tick) && process == a.home_process) {
    const Tick& tick = goal.motion->tick;
    bool covered = std::any_of(a.watches.begin(), a.watches.end(), [&](const Watchpoint& w) { return watch_tick(w) == tick; });
    if (!covered) a.watches.push_back(motion_watch(tick));
  }
}

Stop EngineImpl::watch_trigger(const Watchpoint& w) {
  // The value before the instruction is the last one seen: every access to
  // it traps, and the kernel's writes are looked for after each event.
  Bytes value = watched_value(w).value_or(Bytes{});
  Bytes old = w.id == kMotionWatch ? value : std::exchange(watch_values[w.id], value);
  bool fires = w.kind == WatchKind::access || (w.kind == WatchKind::write) == (value != old);
  if (!fires || (condition && w.id != kMotionWatch && !condition(w.id))) return Stop{Stop::Kind::none};
  Stop stop{Stop::Kind::watchpoint};
  stop.id = w.id;
  stop.old_value = std::move(old);
  stop.new_value = std::move(value);
  return stop;
}

std::vector<Stop> EngineImpl::watch_changes() {
  std::vector<Stop> out;
  for (const auto& [id, w] : watchpoints) {
    if (!w.enabled || !watches_here(w)) continue;
    Bytes value = watched_value(w).value_or(Bytes{});
    if (value == watch_values[id]) continue;
    // The kernel's write is no read of the program's, nor an access of its.
    if (w.kind != WatchKind::write) {
      watch_values[id] = value;
      continue;
    }
    Stop stop{Stop::Kind::watchpoint};
    stop.id = id;
    stop.old_value = std::exchange(watch_values[id], value);
    stop.new_value = value;
    if (!condition || condition(id)) out.push_back(std::move(stop));
  }
  return out;
}

std::vector<Watchpoint> EngineImpl::access_watches() const {
  std::vector<Watchpoint> out;
  for (const auto& w : watches_armed_here())
    if (w.kind != WatchKind::write) out.push_back(w);
  return out;
}

void EngineImpl::note_watched_values() {
  for (const auto& [id, w] : watchpoints)
    if (w.enabled) watch_values[id] = watched_value(w).value_or(Bytes{});
}

}  // namespace ttdb
