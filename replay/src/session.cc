#include "session.h"

#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cstring>
#include <sstream>

#include "ttdb/base/log.h"
#include "ttdb/trace/format.h"
#include "ttdb/tracer/signals.h"
#include "ttdb/tracer/exec_stack.h"
#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/ptrace.h"
#include "ttdb/tracer/launcher.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/render.h"
#include "ttdb/tracer/snapshot.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/cpu_features.h"
#include "ttdb/tracer/syscall_memory.h"

namespace ttdb {

using trace::Event;
using trace::EventKind;

namespace {

// The highest x86-64 baseline this CPU meets.
std::string best_baseline() {
  std::string best = "x86-64";
  for (const char* name : {"x86-64-v2", "x86-64-v3", "x86-64-v4"})
    if (missing_features(cpu_baseline(name)->features, cpu_features()).empty()) best = name;
  return best;
}

// A program replayed on a CPU without a feature it used would take another
// path through glibc, or fault: said before anything runs.
void check_cpu(const trace::TraceReader& reader) {
  auto recorded = reader.meta(trace::meta::cpu_features);
  if (!recorded) return;
  std::vector<std::string> wanted;
  std::istringstream names(*recorded);
  for (std::string name; names >> name;) wanted.push_back(name);
  auto lacking = missing_features(wanted, cpu_features());
  if (lacking.empty()) return;
  if (auto baseline = reader.meta(trace::meta::cpu_baseline))
    fail("this CPU lacks {}, which the trace's CPU baseline {} requires; replay it on a CPU that meets {}",
         fmt::join(lacking, ", "), *baseline, *baseline);
  fail("this CPU lacks {}, which the recording's CPU had and the program may have used; replay on a CPU that has "
       "them, or record with --cpu-baseline {} (or lower) to replay here",
       fmt::join(lacking, ", "), best_baseline());
}

}  // namespace

ReplaySession::ReplaySession(const std::string& trace_path, OutputSink& sink)
    : reader_(trace_path), events_(trace_path), sink_(sink), files_(reader_), event_count_(reader_.event_count()) {
  check_cpu(reader_);
}

std::optional<Event> ReplaySession::take_event() { return events_.take(); }

const Event* ReplaySession::next_event() {
  if (state_.ended) return nullptr;
  return events_.peek();
}

void ReplaySession::follow_cursor() {
  if (const Event* next = events_.peek(); next && !state_.ended) state_.acting = trace::acting_tid(*next);
}

void ReplaySession::seek_cursor(std::int64_t current) {
  events_.seek(current + 1);
  follow_cursor();
}

void ReplaySession::end_tracees() {
  // A process's other threads before its first: the kernel reports the first
  // thread's end only once the others are reaped. (A map destroys its
  // entries from the highest tid down, which puts a first thread last only
  // until tids wrap around pid_max.)
  for (auto& [tid, t] : tracees_) {
    auto task = state_.tasks.find(tid);
    if (task != state_.tasks.end() && task->second.process(tid) != tid) t.kill();
  }
  tracees_.clear();
}

ReplaySession::~ReplaySession() { end_tracees(); }

void ReplaySession::restore(std::map<int, Tracee> tracees, const SessionState& state) {
  end_tracees();
  tracees_ = std::move(tracees);
  state_ = state;
  // Each thread was made anew from one of its process's: its own rdtsc
  // fault is made again before it runs (without rdtsc_patched, every
  // thread's is there from the start).
  if (tsc_patched_)
    for (auto& [tid, task] : state_.tasks)
      if (std::exchange(task.tsc_trapped, false)) task.tsc_owed = true;
  seek_cursor(state.current);
}

Tracee& ReplaySession::tracee() {
  auto found = tracees_.find(state_.acting);
  if (found == tracees_.end()) throw InternalError(fmt::format("process {} of the recording is not live", state_.acting));
  return found->second;
}

TaskState& ReplaySession::task() {
  auto found = state_.tasks.find(state_.acting);
  if (found == state_.tasks.end()) throw InternalError(fmt::format("process {} of the recording is not live", state_.acting));
  return found->second;
}

const TaskState& ReplaySession::task_state() const { return const_cast<ReplaySession*>(this)->task(); }

std::map<int, std::vector<int>> SessionState::by_process() const {
  std::map<int, std::vector<int>> out;
  for (const auto& [tid, task] : tasks) out[task.process(tid)].push_back(tid);
  return out;
}

bool ReplaySession::can_checkpoint() const {
  if (state_.ended || state_.tasks.empty()) return false;
  for (const auto& [tid, task] : state_.tasks)
    if (!task.can_checkpoint() || !task.syscall_insn) return false;
  // A fork's only thread is its first: one that was not would end, in the
  // kernel's eyes, only once the process does, unlike the recording's.
  for (const auto& [leader, tids] : state_.by_process())
    if (!state_.tasks.contains(leader) && tids.size() > 1) return false;
  return true;
}

void ReplaySession::start() {
  const Event* first = next_event();
  if (!first && !reader_.finished())
    fail("trace {} holds no events: the recording stopped before the program's first one (ttdb was killed, or "
         "the disk was full); record the program again",
         reader_.path());
  if (!first || first->kind != EventKind::exec)
    fail("trace {} is corrupt: it does not begin with an exec event", reader_.path());
  tsc_patched_ = reader_.meta_int(trace::meta::rdtsc_patched).value_or(0) == 1;
  if (auto offset = reader_.meta_int(trace::meta::stdout_offset)) {
    state_.stdout_file.followed = true;
    state_.stdout_file.base = *offset;
    state_.stdout_file.size = reader_.meta_int(trace::meta::stdout_size).value_or(*offset) - *offset;
    state_.stdout_file.append = reader_.meta_int(trace::meta::stdout_append).value_or(0) != 0;
  }
  apply_next(WaitStatus::not_resumed());
}

bool ReplaySession::step() {
  if (state_.current == 0) {
    start();
    return true;
  }
  if (!next_event()) return false;
  apply_next(run(Resume::syscall));
  return true;
}

void ReplaySession::set_snapshot_trap(bool armed) {
  Tracee& t = tracee();
  if (!armed && snapshot_trap_at_) {
    t.write_bytes(RemotePtr(snapshot_trap_at_), ByteView(&snapshot_saved_byte_, 1));
    snapshot_trap_at_ = 0;
  }
  const Event* next = next_event();
  if (armed && next && next->kind == EventKind::snapshot && t.regs().rip != next->args[0]) {
    static const std::uint8_t int3 = 0xcc;
    if (t.read_some(RemotePtr(next->args[0]), &snapshot_saved_byte_, 1) != 1)
      diverge(*next, fmt::format("has no code at {:#x}", next->args[0]));
    t.write_bytes(RemotePtr(next->args[0]), ByteView(&int3, 1));
    snapshot_trap_at_ = next->args[0];
  }
}

void ReplaySession::release_process_robust_futexes(int leader) {
  for (auto& [tid, other] : state_.tasks)
    if (other.process(tid) == leader && tracees_.count(tid)) release_robust_futexes(tracees_.at(tid), tid);
}

WaitStatus ReplaySession::run(Resume how, const FastPath& fast) {
  const Event* next = next_event();
  if (!next) throw InternalError("run() past the end of the recording");
  // An event that finds the thread where it stands (a signal delivered at
  // the boundary, its state put in place, going live) finds it out of an
  // rdtsc site's trampoline, as the recording's was.
  bool at_boundary = next->kind == EventKind::snapshot || next->kind == EventKind::live ||
                     (next->kind == EventKind::signal &&
                      next->args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary));
  if (at_boundary && tracees_.count(next->tid) && state_.tasks.count(next->tid) && next->tid == state_.acting)
    leave_trampoline();
  if (next->kind == EventKind::exit && next->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed)) {
    // A fatal signal ends the process: its threads' robust mutexes are
    // marked now, while its memory is there (another process may share them).
    release_process_robust_futexes(task().process(next->tid));
  }
  if (next->kind == EventKind::exit && next->args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed) &&
      (next->nr == SIGKILL || next->args[1] == 1 || task().no_return)) {
    // SIGKILL came from outside, or the kernel killed the program inside a
    // syscall (its own seccomp filter's verdict): nothing of it is in the
    // program, so it is killed at the same place, right after the last
    // recorded event, and ends as recorded.
    // In a process with threads, only a signal sent the same way ends its
    // other threads as the recording has them end (a seccomp filter's
    // SIGSYS verdict cannot be sent: the program may handle SIGSYS).
    if (next->nr != SIGKILL && next->nr != SIGSYS && task().threaded) return die_of(static_cast<int>(next->nr));
    // Its seccomp filter killed this thread alone (SECCOMP_RET_KILL_THREAD):
    // the call it stands at becomes its own exit.
    if (next->nr == SIGSYS && next->args[2] == 1 && task().no_return) return end_thread_in_syscall(*next);
    tracee().kill();
    WaitStatus ended = *tracee().exit_status();
    return next->nr == SIGKILL ? ended : WaitStatus::decode(static_cast<int>(next->nr));
  }
  if (next->kind == EventKind::signal &&
      next->args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::at_boundary) &&
      task().signal_sent_for != next->id) {
    send_signal(static_cast<int>(next->nr));
    task().signal_sent_for = next->id;
  }
  if (task().dying) {
    // The exit_group that ends it goes into the kernel now.
    for (auto& [tid, other] : state_.tasks)
      if (std::exchange(other.exit_group_unsent, false)) tracees_.at(tid).resume(Resume::cont);
    // Ending: its events until its exit need nothing to run.
    if (next->kind != EventKind::exit) return WaitStatus::not_resumed();
    if (auto ended = tracee().exit_status()) return *ended;
    // On its way out it may stop first (the end of the call it was in).
    for (;;) {
      WaitStatus status = tracee().wait();
      if (status.is_exit()) return status;
      tracee().resume(Resume::cont);
    }
  }
  // A thread stopped at this syscall's entry already (its `blocked` event).
  // (An execve's result is its exec event.)
  bool call = next->kind == EventKind::syscall || next->kind == EventKind::spawn || next->kind == EventKind::exec;
  if (call && task().parked) return *std::exchange(task().parked, std::nullopt);
  // A snapshot's stretch may begin exactly where it was taken.
  if (next->kind == EventKind::snapshot && tracee().regs().rip == next->args[0]) return WaitStatus::not_resumed();
  // ttdb's own changes to the program follow the event before them at once.
  if (next->kind == EventKind::patch) return WaitStatus::not_resumed();
  // So do the program's tracer's, made while it stands stopped.
  if (next->kind == EventKind::ptrace || next->kind == EventKind::live) return WaitStatus::not_resumed();
  if (tsc_patched_) prepare_tsc(*next);
  if (std::exchange(task().step_next, false)) how = Resume::singlestep;
  for (;;) {
    fill_queue(how == Resume::singlestep ? FastPath{state_.current, {}} : fast);
    Resume resume = set_free_run(how);
    if (resume == Resume::syscall && next_call_emulated()) resume = Resume::sysemu;
    set_snapshot_trap(true);
    WaitStatus status = resume_and_wait(resume);
    if (status.is_exit()) return status;
    set_snapshot_trap(false);
    sync_queue();
    if (!at_stop_stub(status)) {
      stop_free_run();
      return apply_kept_actions(status);
    }
    // A free run's end: on with syscall stops, towards the next event.
    end_free_run();
  }
}

void ReplaySession::apply_next(const WaitStatus& first) {
  auto e = take_event();
  if (!e) throw InternalError("apply_next() past the end of the recording");
  if (e->id != state_.current + 1)
    fail("trace {} is corrupt: event {} follows event {}", reader_.path(), e->id, state_.current);
  TTDB_LOG(replay, "event {} (process {}): {}", e->id, e->tid, render_event(*e));
  sink_.replaying(e->id, event_count_);
  state_.acting = trace::acting_tid(*e);
  bool starting = e->kind == EventKind::exec && tracees_.empty();
  if (!starting && !tracees_.contains(state_.acting))
    fail("trace {} is corrupt: event {} belongs to process {}, which is not live there", reader_.path(), e->id, e->tid);
  if (!starting && (e->kind == EventKind::spawn || e->kind == EventKind::exec)) task().entry_checked = false;  // (apply_syscall)
  switch (e->kind) {
    case EventKind::exec: apply_exec(*e, first); break;
    case EventKind::syscall: apply_syscall(*e, first); break;
    case EventKind::signal: apply_signal(*e, first); break;
    case EventKind::rdtsc: apply_rdtsc(*e, first); break;
    case EventKind::rdrand: apply_rdrand(*e, first); break;
    case EventKind::exit: apply_exit(*e, first); break;
    case EventKind::snapshot: apply_snapshot(*e, first); break;
    case EventKind::patch: apply_patch(*e); break;
    case EventKind::spawn: apply_spawn(*e, first); break;
    case EventKind::blocked: apply_blocked(*e, first); break;
    case EventKind::ptrace: apply_ptrace(*e); break;
    case EventKind::live: apply_live(*e); break;
    default: fail("trace {} is corrupt: event {} has an unknown kind", reader_.path(), e->id);
  }
  // (Its mask is read again before it next runs.)
  if (e->kind == EventKind::syscall && changes_signal_mask(e->nr))
    if (auto acting = state_.tasks.find(state_.acting); acting != state_.tasks.end()) acting->second.trap_blocked.reset();
  state_.current = e->id;
  follow_cursor();
}

WaitStatus ReplaySession::resume_and_wait(Resume how) {
  // A real child's SIGCHLD that came while ttdb injected a syscall: the
  // program gets the recorded ones instead (below).
  for (const auto& info : tracee().take_deferred_signals())
    TTDB_LOG(replay, "dropped {} that came during an injected syscall", signal_name(info.si_signo));
  task().at_signal_stop = false;
  for (;;) {
    note_delivery(state_.process_of(state_.acting).trap_action, task().resume_signal);
    if (!task().trap_blocked) task().trap_blocked = (tracee().signal_mask() & sigbit(SIGTRAP)) != 0;
    // An int3 on a loader's xsavec would force a blocked SIGTRAP through,
    // unblocking it: while the program blocks it, the CPU runs them.
    bool lifted = rand().patches_xsave() && (tracee().signal_mask() & sigbit(SIGTRAP));
    if (lifted) rand().arm_xsave(tracee(), false);
    tracee().resume(how, std::exchange(task().resume_signal, 0));
    WaitStatus status = tracee().wait();
    // (An exec left the memory they were in.)
    if (lifted && !status.is_exit() && !status.is_event(PTRACE_EVENT_EXEC)) rand().arm_xsave(tracee(), true);
    // Job-control stops were not kept in the recording either.
    if (status.kind() == WaitStatus::Kind::group_stop) continue;
    if (status.is_event(PTRACE_EVENT_STOP) && std::exchange(task().continue_trap, false)) continue;
    // The kernel tells a parent of its real children's ends; the program
    // gets the recorded SIGCHLDs, which ttdb sends, instead.
    if (status.is_signal_stop() && status.code() == SIGCHLD && tracee().siginfo().si_code > 0) continue;
    if (run_loader_xsave(status, how)) continue;
    return status;
  }
}

bool ReplaySession::next_call_emulated() {
  // The first event the queue does not hold: the program's next traced call.
  std::size_t queued = task().queued - task().queue_taken;
  const Event* e = events_.peek(queued);
  if (!e || e->kind != EventKind::syscall || e->tid != state_.acting || !e->ret) return false;
  const SyscallInfo* si = find_syscall(e->nr);
  if (!si || si->policy != ReplayPolicy::emulate) return false;
  // Not a wait that a signal ended, which replay waits in (wait_in_sigsuspend).
  const Event* after = events_.peek(queued + 1);
  return !(after && after->kind == EventKind::signal && after->tid == e->tid);
}

WaitStatus ReplaySession::end_thread_in_syscall(const Event& e) {
  Tracee& t = tracee();
  if (t.syscall_info().op != PTRACE_SYSCALL_INFO_ENTRY) diverge(e, "is not at the syscall its seccomp filter killed it in");
  Registers regs = t.regs();
  regs.orig_rax = __NR_exit;
  regs.rdi = 0;
  t.set_regs(regs);
  t.resume(Resume::cont);
  for (;;) {
    WaitStatus status = t.wait();
    if (status.is_exit()) break;
    t.resume(Resume::cont);
  }
  return WaitStatus::decode(SIGSYS);
}

WaitStatus ReplaySession::die_of(int sig) {
  // Another thread's fatal signal ended this one in the recording (its
  // event may come later: the kernel ends the threads in any order). The
  // same signal sent to this thread ends the whole process the same way,
  // since what a signal does is the process's; SIGKILL would end it as
  // killed by SIGKILL.
  TTDB_LOG(replay, "ending thread {} with {}, as another thread's fatal signal did", tracee().tid(), signal_name(sig));
  send_signal(sig);
  Tracee& t = tracee();
  t.resume(Resume::cont);
  for (;;) {
    WaitStatus status = t.wait();
    if (status.is_exit()) return status;
    t.resume(Resume::cont, status.is_signal_stop() ? status.code() : 0);
  }
}

void ReplaySession::send_signal(int sig) {
  // Queued while the program is stopped at a boundary, it is delivered before
  // the program runs another instruction, as it was in the recording.
  // tkill: a thread's own tid is not its process's.
  ::syscall(SYS_tkill, tracee().tid(), sig);
  if (sig == SIGCONT)
    for (auto& [tid, other] : state_.tasks)
      if (other.process(tid) == task().process(state_.acting)) other.continue_trap = true;
}

std::string ReplaySession::describe_stop(const WaitStatus& status) {
  Tracee& t = tracee();
  switch (status.kind()) {
    case WaitStatus::Kind::syscall_stop: {
      auto info = t.syscall_info();
      if (info.op != PTRACE_SYSCALL_INFO_ENTRY) return "returned from a syscall";
      Event seen;
      seen.nr = static_cast<std::int64_t>(info.entry.nr);
      std::copy(std::begin(info.entry.args), std::end(info.entry.args), seen.args.begin());
      if (const auto* si = find_syscall(seen.nr)) {
        for (std::size_t i = 0; i < si->args.size(); ++i)
          if (si->args[i].format == ArgFormat::s)
            (seen.path ? seen.path2 : seen.path) = t.read_c_string(RemotePtr(seen.args[i])).value_or("");
      }
      return "made " + render_call(seen);
    }
    case WaitStatus::Kind::signal_stop: {
      // A syscall the thread made running free, which syscall user dispatch
      // stopped before it ran (SYS_USER_DISPATCH).
      constexpr int kUserDispatch = 2;
      if (status.code() == SIGSYS) {
        siginfo_t info = t.siginfo();
        if (info.si_code == kUserDispatch) {
          const SyscallInfo* si = find_syscall(info.si_syscall);
          return fmt::format("made syscall {} at {:#x}, which did not run",
                             si ? std::string(si->name) : std::to_string(info.si_syscall),
                             reinterpret_cast<std::uint64_t>(info.si_call_addr));
        }
      }
      return fmt::format("received {} at {:#x}", signal_name(status.code()), t.regs().rip);
    }
    case WaitStatus::Kind::event_stop:
      return status.event() == PTRACE_EVENT_EXEC ? "executed a new program"
                                                 : fmt::format("stopped at ptrace event {}", status.event());
    default: return status.describe();
  }
}

void ReplaySession::diverge(const Event& e, const std::string& what) {
  throw Divergence(e.id, fmt::format("replay diverged at event {}: the recording has {}, but the program {}",
                                     e.id, render_event(e), what));
}

void ReplaySession::apply_signal(const Event& e, const WaitStatus& status) {
  int sig = static_cast<int>(e.nr);
  bool natural = e.args[0] == static_cast<std::uint64_t>(trace::SignalDelivery::natural);
  task().signal_sent_for.reset();
  if (!status.is_signal_stop() || status.code() != sig) diverge(e, describe_stop(status));
  if (natural && tracee().regs().rip != e.args[1])
    diverge(e, fmt::format("received {} at {:#x}", signal_name(sig), tracee().regs().rip));
  if (!natural && e.info.size() >= sizeof(siginfo_t)) {
    siginfo_t info;
    std::memcpy(&info, e.info.data(), sizeof info);
    tracee().set_siginfo(info);
  }
  task().resume_signal = sig;
  task().at_signal_stop = true;
}

void ReplaySession::apply_exit(const Event& e, const WaitStatus& status) {
  bool killed = e.args[0] == static_cast<std::uint64_t>(trace::ExitKind::killed);
  if (!status.is_exit()) diverge(e, describe_stop(status));
  bool same = status.code() == e.nr && (status.kind() == WaitStatus::Kind::killed) == killed;
  if (!same) diverge(e, status.describe());
  // A fatal signal ends every thread of the process: the others die too,
  // whatever they were doing (their exit events follow).
  if (killed && task().threaded && e.args[2] != 1) {
    int leader = task().process(e.tid);
    for (auto& [tid, other] : state_.tasks)
      if (tid != e.tid && other.process(tid) == leader && !other.dying) {
        other.dying = true;
        other.exit_group_unsent = true;
      }
  }
  // Reaped: nothing to kill.
  tracee().forget();
  tracees_.erase(e.tid);
  state_.tasks.erase(e.tid);
  if (e.tid == state_.first) state_.first_status = status;
  if (tracees_.empty()) state_.ended = state_.first_status.value_or(status);
}

void ReplaySession::apply_ptrace(const Event& e) {
  // The program's own tracer (emulated while recording) acted on this
  // stopped task: its writes, and how it let the task go on.
  switch (static_cast<trace::PtraceEffect>(e.nr)) {
    case trace::PtraceEffect::memory: write_memory(e); break;
    case trace::PtraceEffect::registers: {
      Registers regs;
      if (e.info.size() != sizeof regs) fail("trace {} is corrupt: event {} has no registers", reader_.path(), e.id);
      std::memcpy(&regs, e.info.data(), sizeof regs);
      tracee().set_regs(regs);
      break;
    }
    case trace::PtraceEffect::resume:
      // Its tracer chose the signal delivered (none: the one it stopped for
      // is not), and maybe what it says (its siginfo).
      task().resume_signal = static_cast<int>(e.args[0]);
      if (e.info.size() == sizeof(siginfo_t)) {
        siginfo_t info;
        std::memcpy(&info, e.info.data(), sizeof info);
        tracee().set_siginfo(info);
      }
      task().step_next = e.args[1] == static_cast<std::uint64_t>(trace::PtraceResume::singlestep);
      if (!task().resume_signal) restart_interrupted_call();
      break;
    case trace::PtraceEffect::signal_mask: {
      std::uint64_t mask = e.args[0];
      if (!fallible_ptrace(PTRACE_SETSIGMASK, tracee().tid(), reinterpret_cast<void*>(sizeof mask), &mask))
        diverge(e, "could not be given its tracer's signal mask");
      break;
    }
    default: fail("trace {} is corrupt: event {} is a ptrace event of an unknown kind", reader_.path(), e.id);
  }
}

void ReplaySession::restart_interrupted_call() {
  // A syscall that stopped for a signal the tracer suppressed goes back into
  // the kernel, as the kernel makes it go; done here rather than left to
  // the kernel's own restart, which a checkpoint's fork would not inherit.
  Tracee& t = tracee();
  Registers regs = t.regs();
  auto ret = static_cast<std::int64_t>(regs.rax);
  bool restarts = ret == -512 || ret == -513 || ret == -514;  // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND
  if (!task().at_signal_stop || !restarts || static_cast<std::int64_t>(regs.orig_rax) < 0) return;
  regs.rax = regs.orig_rax;
  regs.rip -= 2;
  regs.orig_rax = static_cast<unsigned long long>(-1);  // so that the kernel does not restart it again
  t.set_regs(regs);
}

void ReplaySession::apply_blocked(const Event& e, const WaitStatus& first) {
  // The thread waits at the entry while the others run: its result comes
  // with its syscall event.
  check_entry(e, first);
  task().parked = first;
  task().entry_checked = true;
  // What the kernel wrote as the thread went to sleep there (a PI lock's
  // waiters bit), which the other threads see from now on.
  write_memory(e);
}

namespace {

// A process the program makes is made ttdb's child (CLONE_PARENT), as its
// checkpoints are: ttdb, its tracer and parent at once, reaps it when it
// ends. The program's own child would stay a zombie until the program ended,
// since the program's wait4 is emulated (hundreds of them, for a program that
// forks hundreds of children). The program sees no difference: getppid and
// the exit statuses are the recording's, and its SIGCHLDs come from there.
class AdoptedSpawn {
 public:
  AdoptedSpawn(Tracee& parent, long nr, const Registers& entry, const SpawnArgs& spawn)
      : nr_(nr), entry_(entry), shares_memory_(spawn.flags & CLONE_VM) {
    if (spawn.flags & CLONE_THREAD || !parent.is_ttdb_child()) return;
    adopted_ = true;
    Registers call = entry;
    switch (nr) {
      case __NR_clone: call.rdi |= CLONE_PARENT; break;
      case __NR_fork:
      case __NR_vfork:
        // The same call as a clone, which takes flags; a vfork child stays on its parent's stack.
        call.orig_rax = __NR_clone;
        call.rdi = spawn.flags | CLONE_PARENT;
        call.rsi = call.rdx = call.r10 = call.r8 = 0;
        break;
      case __NR_clone3: {
        // clone3 takes CLONE_PARENT only without an exit signal (ttdb waits
        // with __WALL, which needs none).
        args_at_ = RemotePtr(entry.rdi);
        args_ = parent.read_value<Clone3Head>(args_at_);
        Clone3Head adopting = args_;
        adopting.flags |= CLONE_PARENT;
        adopting.exit_signal = 0;
        parent.write_value(args_at_, adopting);
        return;
      }
      default: adopted_ = false; return;
    }
    parent.set_regs(call);
  }

  // Once the kernel made the child: the program's memory and the child's
  // registers as the program's own call would have left them (the parent's
  // registers are set at the call's exit).
  void give_back(Tracee& parent, Tracee& child) {
    if (!adopted_) return;
    child.known_ttdb_child();
    if (nr_ == __NR_clone3) {
      parent.write_value(args_at_, args_);
      if (!shares_memory_) child.write_value(args_at_, args_);
      return;
    }
    Registers regs = child.regs();
    regs.rdi = entry_.rdi;
    regs.rsi = entry_.rsi;
    regs.rdx = entry_.rdx;
    regs.r10 = entry_.r10;
    regs.r8 = entry_.r8;
    child.set_regs(regs);
  }

 private:
  // The fields of struct clone_args up to exit_signal.
  struct Clone3Head {
    std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
  };
  long nr_;
  Registers entry_;
  bool shares_memory_;
  bool adopted_ = false;
  RemotePtr args_at_;
  Clone3Head args_{};
};

}  // namespace

void ReplaySession::apply_spawn(const Event& e, const WaitStatus& first) {
  Tracee& parent = tracee();
  if (!first.is_syscall_stop()) diverge(e, describe_stop(first));
  auto info = parent.syscall_info();
  SyscallArgs call;
  call.nr = static_cast<long>(info.entry.nr);
  std::copy(std::begin(info.entry.args), std::end(info.entry.args), call.a);
  const SyscallInfo* si = find_syscall(call.nr);
  auto spawn = info.op == PTRACE_SYSCALL_INFO_ENTRY ? spawn_args(parent, call) : std::nullopt;
  if (!si || si->policy != ReplayPolicy::spawn || !spawn) diverge(e, describe_stop(first));
  // (CLONE_UNTRACED is dropped from what the kernel runs, in a clone3's struct too.)
  if ((spawn->flags & ~std::uint64_t{CLONE_UNTRACED}) != (e.args[0] & ~std::uint64_t{CLONE_UNTRACED}))
    diverge(e, fmt::format("made a new process with flags {:#x}", spawn->flags));
  Registers entry = parent.regs();
  AdoptedSpawn adopted(parent, call.nr, entry, *spawn);
  drop_untraced_flag(parent, call);
  WaitStatus made = resume_and_wait();
  if (!made.is_event(PTRACE_EVENT_FORK) && !made.is_event(PTRACE_EVENT_VFORK) && !made.is_event(PTRACE_EVENT_CLONE))
    diverge(e, describe_stop(made));
  Tracee child(static_cast<pid_t>(parent.event_message()));
  WaitStatus child_first = child.wait();  // attached by PTRACE_O_TRACEFORK, it stops first
  if (child_first.is_exit()) diverge(e, "lost its new process before it ran");
  adopted.give_back(parent, child);

  // The child has its parent's code, patches and syscall buffer; its tid is the recorded one.
  int tid = static_cast<int>(e.nr);
  // Threads take turns, and so does their shared shim; so do processes that
  // share memory without waiting for each other (CLONE_VM without CLONE_VFORK).
  bool vm_process = (e.args[0] & CLONE_VM) && !(e.args[0] & (CLONE_THREAD | CLONE_VFORK));
  if (e.args[0] & CLONE_THREAD || vm_process) task().threaded = true;
  // A checkpoint's fork would give each of them a memory of its own.
  if (vm_process) task().shares_memory = true;
  TaskState state = task();
  if (e.args[0] & CLONE_THREAD) {
    state.leader = task().process(e.tid);
    state.mapping_fds.clear();  // its process's
    state.rand = RandPatcher{};  // likewise
  } else {
    // A process of its own, with one thread, and what its parent's process
    // keeps in its first thread's state: the attachments, the rdrand and
    // rdtsc sites, and the mapped files' descriptors, which a copy of the
    // descriptor table holds too (a shared one is its parent's to close).
    const TaskState& parent_process = state_.tasks.at(task().process(e.tid));
    state.leader = 0;
    state.threaded = vm_process;
    state.shm_attachments = parent_process.shm_attachments;
    state.rand = parent_process.rand;
    state.trap_action = parent_process.trap_action;
    state.mapping_fds = (e.args[0] & CLONE_FILES) ? decltype(state.mapping_fds){} : parent_process.mapping_fds;
  }
  state.resume_signal = 0;
  state.signal_sent_for.reset();
  state.queued = state.queue_taken = state.queue_makes = 0;
  task().spawn_entry = entry;
  // As the kernel wrote it before the child ran (CLONE_PARENT_SETTID, where
  // pthread_create keeps a thread's tid): the child's first events may come
  // before the parent's call returns, and a robust mutex the child locks
  // then holds that tid.
  if (spawn->parent_tid) parent.write_value(RemotePtr(spawn->parent_tid), static_cast<pid_t>(tid));
  if (spawn->child_tid) child.write_value(RemotePtr(spawn->child_tid), static_cast<pid_t>(tid));
  // It returns through the trampoline's slow tail as the recorded child did.
  if (state.shim && state.sites.where(child.regs().rip) == SyscallPatcher::Where::slow_tail) state.sites.finish_tail(child);
  tracees_.emplace(tid, std::move(child));
  state_.tasks[tid] = std::move(state);
}

void ReplaySession::apply_snapshot(const Event& e, const WaitStatus& status) {
  // The program ran into the stretch where the recording stopped it; now put
  // its recorded state in place: same instruction, registers and memory.
  Tracee& t = tracee();
  if (status.kind() != WaitStatus::Kind::not_resumed) {
    if (!status.is_signal_stop() || status.code() != SIGTRAP || t.regs().rip != e.args[0] + 1)
      diverge(e, describe_stop(status));
  }
  auto state = snapshot_registers(e);
  t.set_regs(state.regs);
  if (!state.xstate.empty()) t.set_xstate(state.xstate);
  write_memory(e);
}

void ReplaySession::apply_patch(const Event& e) {
  Event patch = e;
  for (auto& m : patch.mem)
    if (m.blob) {
      m.data = reader_.mem_bytes(m);
      m.blob.reset();
    }
  try {
    if (is_shim_event(patch)) {
      task().shim = apply_shim(tracee(), task().syscall_insn, patch, ShimMode::replay);
      task().shim_version = patch.args[3];
      task().shim_stops = shim_stops(patch, task().shim);
      task().free_running = false;
    } else {
      task().sites.apply(tracee(), task().syscall_insn, patch);
      // An rdtsc site's int3 (replay's scan put one there too) is gone under its jump.
      for (std::uint64_t site : tsc_sites_in(patch)) rand().forget(site, site + 1);
    }
  } catch (const Error& error) {
    diverge(e, fmt::format("could not take it: {}", error.what()));
  }
}

Replayer::Replayer(const std::string& trace_path, OutputSink& sink)
    : session_(std::make_unique<ReplaySession>(trace_path, sink)) {}

Replayer::~Replayer() = default;

ReplayEnd Replayer::run_to_end() {
  while (session_->step()) {
  }
  ReplayEnd end;
  end.last_event = session_->current_event();
  if (session_->ended()) {
    end.kind = ReplayEnd::Kind::exited;
    end.status = *session_->ended();
    return end;
  }
  end.kind = ReplayEnd::Kind::incomplete;
  end.reason = session_->reader().meta(trace::meta::end_reason)
                   .value_or("the recorder stopped before the program ended");
  return end;
}

}  // namespace ttdb
