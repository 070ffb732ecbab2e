// The replay side of the syscall buffer: the recorded results of buffered
// syscalls to come are queued in the program's shim, which gives them back
// without a stop as long as the program makes the same calls; what it gave
// back is accounted for at the next stop.
#include <asm/unistd_64.h>
#include <sys/mman.h>
#include <sys/ptrace.h>

#include <csignal>

#include "session.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/render.h"
#include "ttdb/tracer/syscall_buffer.h"

namespace ttdb {
namespace {

using trace::Event;

// Events queued at once, if the buffer holds them: a refill costs one stop,
// but the events a queue holds stay in memory until it is given back, and
// the reading thread decodes into them again after (EventStream): 4096
// replayed a million clock reads in 0.88 of the time 16384 did, 2048 and
// 8192 in more.
constexpr std::size_t kQueueEvents = 4096;

}  // namespace

bool ReplaySession::queueable(const QueueFacts& e, const QueueFacts* following, const QueueEntry& entry,
                              const FastPath& fast) const {
  // Only a buffered syscall that returned has a record. Output goes through
  // the replayer: a shim older than version 3 cannot hand it over.
  if (entry.record.empty() || (e.has(QueueFacts::kEmits) && task_state().shim_version < 3) || !following ||
      e.id > fast.until)
    return false;
  if (e.has(QueueFacts::kMakesAgain) && !(e.has(QueueFacts::kSetsAction) && shim_keeps_actions()) &&
      !(e.has(QueueFacts::kShimMakes) && shim_makes_calls()))
    return false;
  // The process stops after its last queued event, at the traced call of
  // the next one: that must be its own (processes replay in the trace's
  // order), and nothing that must happen right after this one may need the
  // program stopped there.
  if (following->tid != e.tid || following->has(QueueFacts::kStopsBefore)) return false;
  return true;
}

bool ReplaySession::writes_watched(std::size_t ahead, const FastPath& fast) {
  const Event* e = events_.peek(ahead);
  for (const auto& m : e->mem)
    for (const auto& [start, end] : fast.watched)
      if (m.addr < end && m.addr + m.size > start) return true;
  return false;
}

void ReplaySession::fill_queue(const FastPath& fast) {
  if (!task().shim || state_.ended) return;
  bool active = task().queue_taken < task().queued;
  // A queue with events left to give, filled for what is asked now, stays.
  if (active && task().queued_for == fast) return;
  // Their records were laid out as they were read (EventStream): this writes them.
  std::vector<QueueEntry>& entries = queue_entries_;
  entries.clear();
  entries.reserve(kQueueEvents);
  std::size_t makes = 0, bytes = 0;
  for (const QueueFacts *e = events_.facts(0), *following = nullptr; e && entries.size() < kQueueEvents; e = following) {
    QueueEntry entry = events_.queue_entry(entries.size());
    // No more than the shim's buffer holds: past it, the events would only
    // wait for the reading thread (a gzip of 20 MB waited for all its
    // reads, laid out, before its first queue of them).
    if ((bytes += entry.record.size()) > kShimQueueBytes) break;
    following = events_.facts(entries.size() + 1);
    if (!queueable(*e, following, entry, fast)) break;
    if (!fast.watched.empty() && e->has(QueueFacts::kWrites) && writes_watched(entries.size(), fast)) break;
    if (e->has(QueueFacts::kMapsFile) && (entry.map_fd = kept_mapping_fd(*events_.peek(entries.size()))) < 0) break;
    entries.push_back(entry);
    if (e->has(QueueFacts::kShimMakes)) makes = entries.size();
  }
  task().queued_for = fast;
  if (entries.empty()) {
    if (active) clear_queue(tracee(), task().shim);
    task().queued = task().queue_taken = task().queue_makes = 0;
    return;
  }
  task().queued = queue_records(tracee(), task().shim, task().shim_version, entries, &task().queued_inputs);
  task().queue_makes = std::min<std::uint64_t>(makes, task().queued);
  task().queued_first = entries.front().event;
  task().queue_taken = 0;
  TTDB_LOG(replay, "queued events {} to {} in the syscall buffer", task().queued_first,
           task().queued_first + static_cast<std::int64_t>(task().queued) - 1);
}

void ReplaySession::sync_queue() {
  TaskState& state = task();  // (a lookup: once, not for each of thousands of events)
  if (state.queue_taken >= state.queued) return;
  ShimQueue queue = read_queue(tracee(), state.shim);
  if (queue.first_event != state.queued_first || queue.consumed > state.queued)
    throw InternalError(fmt::format("the syscall buffer's queue says events from {}, {} of {} given back; expected from {}",
                                    queue.first_event, queue.consumed, queue.queued, state.queued_first));
  bool logging = log::enabled(log::Module::replay);
  // The events given back are dropped together, but for those that need
  // more than their place taken: output to emit, an action kept, a log line.
  std::size_t given = 0;
  for (; state.queue_taken < queue.consumed; ++state.queue_taken, ++given) {
    const QueueFacts* facts = events_.facts(given);
    if (!facts || facts->id != state_.current + 1)
      throw InternalError(fmt::format("the syscall buffer gave back an event after {} that is not next", state_.current));
    if (logging || facts->has(QueueFacts::kEmits) || facts->has(QueueFacts::kSetsAction) ||
        facts->has(QueueFacts::kShimMakes)) {
      const Event& e = *events_.peek(given);
      bool made = facts->has(QueueFacts::kShimMakes);
      TTDB_LOG(replay, "event {}: {} ({} in-process)", e.id, render_event(e), made ? "made" : "given back");
      if (e.emit) emit_given_back(e);
      if (shim_keeps_action(e)) state.actions_kept = true;
      if (made) after_made_in_shim(e);
    }
    state_.current = facts->id;
  }
  events_.drop(given);
}

bool ReplaySession::shim_makes_calls() const {
  return static_cast<bool>(task_state().shim_stops);
}

// Made again the shim's way (a version 8 shim, the thread running free):
// the calls that change the process, which the recording's shim made
// (rt_sigprocmask, brk, anonymous mmap, mprotect...), without a stop each.
// A thread runs free only while its queue holds one to make: the rest of
// the time, syscall stops are how the replayer finds the next event, which
// the program may make from any syscall instruction.
Resume ReplaySession::set_free_run(Resume how) {
  TaskState& state = task();
  bool free = how == Resume::syscall && state.queue_makes > state.queue_taken;
  if (free != state.free_running) {
    run_shim_free(tracee(), state.shim, state.shim_stops, free);
    state.free_running = free;
  }
  return free ? Resume::cont : how;
}

void ReplaySession::stop_free_run() {
  TaskState& state = task();
  if (!std::exchange(state.free_running, false)) return;
  run_shim_free(tracee(), state.shim, state.shim_stops, false);
}

bool ReplaySession::at_stop_stub(const WaitStatus& status) {
  const TaskState& state = task_state();
  return state.shim_stops && status.is_signal_stop() && status.code() == SIGTRAP &&
         tracee().regs().rip == state.shim_stops.stop_stub + 1;
}

void ReplaySession::end_free_run() {
  TaskState& state = task();
  Tracee& t = tracee();
  state.free_running = false;  // (the shim cleared its flag)
  put_back_sigtrap(t, state.shim, state.syscall_insn);
  if (auto made = take_made_difference(t, state.shim)) {
    const Event* e = next_event();
    if (!e) throw InternalError("the syscall buffer made a call past the end of the recording");
    Event seen = *e;
    seen.ret = *made;
    diverge(*e, "got " + render_result(seen));
  }
}

std::int64_t ReplaySession::kept_mapping_fd(const Event& e) {
  // A file another mapping shares is replay's copy of it (map_shared_file);
  // one without a descriptor yet is opened at the traced call.
  if (auto file = trace::FileIdentity::from_info(e.info); file && shared_files_.has(*file)) return -1;
  auto found = kept_descriptor(*e.mem[0].file);
  return found != state_.process_of(state_.acting).mapping_fds.end() ? found->second : -1;
}

void ReplaySession::after_made_in_shim(const Event& e) {
  if (changes_signal_mask(e.nr)) task().trap_blocked.reset();
  if (!e.ret || is_error_result(*e.ret)) return;
  // What was there is gone: the sites and rdtsc the replayer knew in it.
  bool replaced = e.nr == __NR_munmap || (e.nr == __NR_mmap && (e.args[3] & MAP_FIXED));
  if (replaced) forget_code(e.args[0], e.args[0] + e.args[1]);
}

// rt_sigaction that set an action, which a version 4 shim gives back and
// keeps for the kernel: a shell sets a dozen at its start, each two stops
// when replay made them (a make of shell recipes replayed in 1.2 times the
// time it recorded in). Only in a process of one thread.
bool ReplaySession::shim_keeps_action(const Event& e) const {
  return sets_signal_action(e) && shim_keeps_actions();
}

bool ReplaySession::shim_keeps_actions() const {
  return task_state().shim_version >= 4 && !task_state().threaded;
}

// The kept actions become the kernel's at the process's next stop, before
// anything can depend on them: a signal's delivery (the stop is its own, or
// a syscall's, which a signal may follow), a fork, an exec. The shim does
// it (header.apply_actions), all of them in one run to an int3.
WaitStatus ReplaySession::apply_kept_actions(const WaitStatus& status) {
  TaskState& state = task();
  if (!state.actions_kept) return status;
  Tracee& t = tracee();
  bool at_entry = status.is_syscall_stop() && t.syscall_info().op == PTRACE_SYSCALL_INFO_ENTRY;
  // Stopped elsewhere (inside the shim, at a breakpoint there): at the next stop.
  if ((!at_entry && !status.is_signal_stop()) || !state.syscall_insn || shim_in_call(t, state.shim)) return status;
  if (at_entry) {
    Registers entry = t.regs();
    run_shim_apply_actions(t, state.shim, state.syscall_insn);
    reenter_syscall(t, state.syscall_insn, entry);
    state.actions_kept = false;
  } else {
    // The signal is delivered as it came, when replay resumes the thread.
    make_kept_actions_the_kernels(t, state);
  }
  return status;
}

void ReplaySession::make_kept_actions_the_kernels(Tracee& t, TaskState& state) {
  siginfo_t info = t.siginfo();
  run_shim_apply_actions(t, state.shim, state.syscall_insn);
  t.set_siginfo(info);
  state.actions_kept = false;
}

void ReplaySession::emit_given_back(const Event& e) {
  // (In event order, as queued: a queue of 4096 writes looked through them
  // all for each.)
  const auto& inputs = task().queued_inputs;
  auto input = std::lower_bound(inputs.begin(), inputs.end(), e.id,
                                [](const QueuedInput& in, std::int64_t id) { return in.event < id; });
  if (input != inputs.end() && input->event == e.id) {
    Bytes written = tracee().read_bytes(task().shim.buffer() + input->offset, input->size);
    emit_output(e, written);
  }
  follow_output_file(e);
}

}  // namespace ttdb
