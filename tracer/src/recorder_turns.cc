// Tasks that share memory take turns running the program's code, so that
// the trace holds their code in the order it ran (docs/architecture.md,
// "Threads"): the threads of a process, and the processes that share
// writable memory, from a fork or from mapping one file or segment.
#include <set>

#include "recorder_state.h"

namespace ttdb::recording {

void Recorder::schedule() {
  // A task runs if it goes into the kernel, dies, or has its address
  // space's turn; a threaded space with no turn holder gives the turn to the
  // task that has waited longest.
  for (auto& [tid, t] : tasks_)
    if (t->stopped && t->entering && t->space->turns->active && t->pending && locks_pi_futex(t->pending->call)) settle_pi_lock(*t);
  // A task that made another of its space is back from its clone before
  // either runs the program's code, so that the trace has the new thread's
  // first code after its creator's clone, whichever stop the kernel
  // reported first (go-live at a new thread's first line found its creator
  // still inside the clone about one recording in ten).
  std::set<TurnGroup*> spawning;
  for (auto& [tid, t] : tasks_)
    if (t->spawning) spawning.insert(t->space->turns.get());
  std::map<TurnGroup*, Task*> next;
  for (auto& [tid, t] : tasks_) {
    if (!t->stopped || t->fresh || t->waiting_output) continue;
    if (t->traced && t->traced->stopped) continue;  // its tracer (a program's) lets it go
    if (waiting_tracers_.count(tid)) continue;       // a tracer waiting for an emulated stop
    TurnGroup& group = *t->space->turns;
    if (!group.active || t->entering || t->exiting || group.turn == tid) {
      resume(*t);
      continue;
    }
    if (group.turn || spawning.count(&group)) continue;
    Task*& best = next[&group];
    if (!best || t->ready_since < best->ready_since) best = t.get();
  }
  for (auto& [group, t] : next) {
    group->turn = t->tracee.tid();
    group->turn_since = std::chrono::steady_clock::now();
    resume(*t);
  }
}

void Recorder::hold_turn_to_the_end() {
  // What the kernel does at a thread's end (clear its tid, wake its joiner)
  // comes after this stop, and replay does it at the thread's exit event:
  // code of another thread that sees it must follow that event, as it does
  // when the thread calls exit (which keeps its turn). A thread killed
  // inside another call gave its turn up at the call's entry. Not a
  // process's first thread, whose end is reported only after the others'.
  TurnGroup& group = turns();
  pid_t tid = tracee().tid();
  if (group.active && !group.turn && tid != task().tgid) {
    group.turn = tid;
    group.turn_since = std::chrono::steady_clock::now();
  }
}

void Recorder::share_turns_with_mappers(const trace::FileIdentity& object, bool writable) {
  // Two processes that map the same file or segment each on their own talk
  // through it as threads do through their memory: the trace must hold
  // their code in the order it ran, so they take turns from here on.
  // (Only those that made shared memory, which may be it, are asked: make
  // and its shells, at every program's map of glibc's gconv cache, were not.)
  std::set<pid_t> seen;
  std::vector<std::shared_ptr<TurnGroup>> others;
  for (auto& [tid, u] : tasks_) {
    pid_t process = u->tgid ? u->tgid : tid;
    if (!u->space || u->space->turns == space().turns || u->fresh || !seen.insert(process).second) continue;
    if (!(writable ? u->space->shares_memory : u->space->shares_writable)) continue;
    bool maps_it = maps_shared(process, object, !writable);
    if (maps_it && std::find(others.begin(), others.end(), u->space->turns) == others.end()) others.push_back(u->space->turns);
  }
  for (const auto& other : others) join_turns(other);
}

void Recorder::note_shared_memory(bool may_write) {
  space().shares_memory = true;
  if (may_write) space().shares_writable = true;
}

bool Recorder::maps_shared(pid_t process, const trace::FileIdentity& file, bool writable_only) {
  auto maps = read_maps(process);
  return std::any_of(maps.begin(), maps.end(), [&](const Mapping& m) {
    return m.shared && m.dev == file.dev && m.inode == file.ino && (!writable_only || m.writable);
  });
}

void Recorder::join_turns(const std::shared_ptr<TurnGroup>& other) {
  // This task stands at its syscall's exit, and holds its group's turn if
  // the group takes turns (mmap and shmat keep it). Of the other group, at
  // most one task runs the program's code now (its turn's holder, or its
  // only thread): one inside a traced syscall stops at the exit anyway.
  Task* runner = nullptr;
  for (auto& [tid, u] : tasks_)
    if (u->space->turns == other && !u->stopped && !u->fresh && !u->expect_exit_stop && !u->job_stopped) runner = u.get();
  std::shared_ptr<TurnGroup> mine = space().turns;
  drain();  // what ran before the turns began
  pid_t holder = runner ? runner->tracee.tid() : mine->active ? mine->turn : 0;
  mine->active = true;
  mine->turn = holder;
  mine->turn_since = std::chrono::steady_clock::now();
  for (auto& [tid, u] : tasks_)
    if (u->space->turns == other) u->space->turns = mine;
}

void Recorder::place_entries_before(Task& me, std::uint64_t before) {
  // Another thread of this one's program is inside a syscall that began
  // before this point: its entry goes first, so that replay runs the
  // threads' code in the order they ran.
  std::vector<Task*> entered;
  for (auto& [tid, t] : tasks_)
    if (t.get() != &me && t->space->turns == me.space->turns && t->pending && !t->entry_placed && t->entered_at < before)
      entered.push_back(t.get());
  std::sort(entered.begin(), entered.end(), [](Task* a, Task* b) { return a->entered_at < b->entered_at; });
  for (Task* t : entered) place_entry(*t, t->pending->event);
}

void Recorder::place_entry(Task& t, const Event& call) {
  t.entry_placed = true;
  if (std::exchange(t.entry_in_trace, false)) return;
  Event blocked = call;
  blocked.kind = EventKind::blocked;
  blocked.ret.reset();
  if (call.kind != EventKind::blocked) blocked.mem.clear();
  blocked.tid = recorded_tid(blocked.tid);
  writer_.add_event(std::move(blocked));
}

bool Recorder::keeps_others_waiting(pid_t tid, const Task& holder) const {
  if (!holder.space->turns->active || holder.space->turns->turn != tid || holder.stopped || holder.preempt) return false;
  for (const auto& [other_tid, t] : tasks_)
    if (t.get() != &holder && t->space->turns == holder.space->turns && t->stopped && !t->fresh && !t->entering && !t->exiting &&
        !t->waiting_output)
      return true;
  return false;
}

}  // namespace ttdb::recording
