#include "ttdb/tracer/inject.h"

#include <asm/unistd_64.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "shim_control.h"
#include "ttdb/base/error.h"
#include "ttdb/base/log.h"
#include "ttdb/tracer/proc_maps.h"
#include "ttdb/tracer/signals.h"
#include "ttdb/tracer/syscall_table.h"

namespace ttdb {
namespace {

// Registers borrowed for an injected syscall, given back on every path.
class BorrowedRegisters {
 public:
  explicit BorrowedRegisters(Tracee& tracee) : tracee_(tracee), saved_(tracee.regs()) {}
  ~BorrowedRegisters() {
    if (tracee_.alive()) tracee_.set_regs(saved_);
  }
  BorrowedRegisters(const BorrowedRegisters&) = delete;
  BorrowedRegisters& operator=(const BorrowedRegisters&) = delete;
  const Registers& saved() const { return saved_; }
  // The thread stands at a seccomp stop of a call of ttdb's, which it skips
  // on its way back to the saved registers.
  void give_back_skipping() {
    saved_.orig_rax = ~0ull;
    tracee_.set_regs(saved_);
    tracee_.mark_entry_skipped();
  }

 private:
  Tracee& tracee_;
  Registers saved_;
};

void expect(bool ok, Tracee& tracee, const WaitStatus& status, const char* what) {
  if (!ok)
    throw InternalError(fmt::format("injected syscall in {}: expected {}, got {}", tracee.tid(), what, status.describe()));
}

// Resumes to the next stop that is not a signal's (but `awaited`'s, if not
// 0) or a group-stop: a signal pending when ttdb borrows the tracee (a child
// ended) is not the injected syscall's to take.
WaitStatus resume_past_signals(Tracee& tracee, Resume how = Resume::syscall, int awaited = 0) {
  for (;;) {
    tracee.resume(how);
    WaitStatus status = tracee.wait();
    // A stop of its whole process (another thread took SIGSTOP) holds no
    // syscall: resuming goes on with ours, as the kernel lets a tracer do.
    if (status.kind() == WaitStatus::Kind::group_stop) continue;
    // An interrupt the recorder sent while the tracee ran its own code (a
    // held signal's deadline, a turn's end, its tracer's request) stops it
    // here, with nothing to do: its reason is seen again at its next stop.
    if (status.is_event(PTRACE_EVENT_STOP)) continue;
    if (!status.is_signal_stop() || (awaited && status.code() == awaited)) return status;
    // Only ttdb's own code runs here: a fault of its would come back at
    // every resume, deferred each time.
    siginfo_t info = tracee.siginfo();
    if (is_fault(info))
      throw InternalError(fmt::format("ttdb's own code faulted in {} ({} at {:#x})", tracee.tid(), signal_name(info.si_signo),
                                      tracee.regs().rip));
    tracee.defer_signal(info);
  }
}

// Starts the syscall: the registers are set, the tracee stands at its
// entry, or at the seccomp filter's stop (one stop less, three to two).
void enter(Tracee& tracee, const Registers& saved, std::uint64_t syscall_insn, long nr,
           const std::array<std::uint64_t, 6>& args) {
  Registers call = saved;
  call.rip = syscall_insn;
  call.rax = static_cast<unsigned long long>(nr);
  set_syscall_args(call, args.data());
  call.orig_rax = static_cast<unsigned long long>(-1);
  tracee.set_regs(call);
  if (tracee.injections_stop_at_filter()) {
    WaitStatus filtered = resume_past_signals(tracee, Resume::cont);
    expect(filtered.is_event(PTRACE_EVENT_SECCOMP), tracee, filtered, "the seccomp filter's stop");
    return;
  }
  WaitStatus entry = resume_past_signals(tracee);
  expect(entry.is_syscall_stop(), tracee, entry, "the syscall's entry");
}

// Runs to the syscall's exit; a seccomp filter that traces it stops it on the way.
WaitStatus finish(Tracee& tracee) {
  for (;;) {
    WaitStatus status = resume_past_signals(tracee);
    if (!status.is_event(PTRACE_EVENT_SECCOMP)) return status;
  }
}

// A call at the shim's instruction may go through its door (ShimDoor): the
// filter lets it through and stops the thread right after it. Not when it
// could not carry the secret, nor when the saved registers are a call the
// kernel is to restart (which reads orig_rax, the door's way back sets it
// to -1), nor without the filter's stops; nor at a signal-delivery stop,
// whose signal the thread then gets on its way (from the filter's stop
// where the door leaves it, a resume's signal would be lost).
bool door_opens(Tracee& tracee, std::uint64_t syscall_insn, long nr, const Registers& saved) {
  const ShimDoor& door = tracee.shim_door();
  if (!door.untraced_insn || syscall_insn != door.untraced_insn || !tracee.injections_stop_at_filter() ||
      tracee.at_signal_stop())
    return false;
  const SyscallInfo* info = find_syscall(nr);
  if (!info || (info->args.size() > TTDB_SECRET_ARG && !secret_in_fifth(static_cast<std::uint32_t>(nr)))) return false;
  auto ret = static_cast<std::int64_t>(saved.rax);
  bool restarts = static_cast<std::int64_t>(saved.orig_rax) >= 0 && ret <= -512 && ret >= -516;
  return !restarts;
}

// One stop: the call returns into the traced instruction, whose filter stop
// holds the result in orig_rax (the number of the call it would make).
std::int64_t through_door(Tracee& tracee, BorrowedRegisters& borrowed, long nr, const std::array<std::uint64_t, 6>& args) {
  const ShimDoor& door = tracee.shim_door();
  if (!tracee.write_data(RemotePtr(door.return_slot), ByteView(reinterpret_cast<const std::uint8_t*>(&door.traced_insn), 8)))
    throw InternalError(fmt::format("cannot write the syscall buffer's memory in {} at {:#x}", tracee.tid(), door.return_slot));
  std::array<std::uint64_t, 6> carried = args;
  carry_secret(nr, carried.data(), door.secret);
  Registers call = borrowed.saved();
  call.rip = door.untraced_insn;
  call.rsp = door.return_slot;
  call.rax = static_cast<unsigned long long>(nr);
  set_syscall_args(call, carried.data());
  call.orig_rax = ~0ull;
  tracee.set_regs(call);
  WaitStatus after = resume_past_signals(tracee, Resume::cont);
  expect(after.is_event(PTRACE_EVENT_SECCOMP) && tracee.regs().rip == door.traced_insn + 2, tracee, after,
         "the stop after the call, at the traced instruction");
  auto result = static_cast<std::int64_t>(tracee.regs().orig_rax);
  borrowed.give_back_skipping();
  return result;
}

}  // namespace

std::int64_t inject_syscall(Tracee& tracee, std::uint64_t syscall_insn, long nr, const std::array<std::uint64_t, 6>& args) {
  BorrowedRegisters borrowed(tracee);
  if (door_opens(tracee, syscall_insn, nr, borrowed.saved())) {
    std::int64_t result = through_door(tracee, borrowed, nr, args);
    TTDB_LOG(ptrace, "injected syscall {} in {} = {}, through the shim's door", nr, tracee.tid(), result);
    return result;
  }
  enter(tracee, borrowed.saved(), syscall_insn, nr, args);
  WaitStatus exit = finish(tracee);
  expect(exit.is_syscall_stop(), tracee, exit, "the syscall's exit");
  auto result = static_cast<std::int64_t>(tracee.regs().rax);
  TTDB_LOG(ptrace, "injected syscall {} in {} = {}", nr, tracee.tid(), result);
  return result;
}

namespace {

// Runs clone(args) in the tracee; returns the child, at its first stop, with
// the tracee's registers.
Tracee clone_tracee(Tracee& tracee, std::uint64_t syscall_insn, const std::array<std::uint64_t, 6>& args) {
  BorrowedRegisters borrowed(tracee);
  enter(tracee, borrowed.saved(), syscall_insn, __NR_clone, args);
  WaitStatus event = finish(tracee);
  expect(event.is_event(PTRACE_EVENT_CLONE) || event.is_event(PTRACE_EVENT_FORK), tracee, event, "a clone event");
  auto child_tid = static_cast<pid_t>(tracee.event_message());
  WaitStatus exit = finish(tracee);
  expect(exit.is_syscall_stop(), tracee, exit, "the clone's exit");

  // The child is attached by PTRACE_O_TRACEFORK or TRACECLONE and reports a stop first.
  Tracee child(child_tid);
  WaitStatus first = child.wait();
  expect(!first.is_exit(), child, first, "the new child's first stop");
  child.set_regs(borrowed.saved());
  TTDB_LOG(ptrace, "cloned {} into {}", tracee.tid(), child_tid);
  return child;
}

}  // namespace

pid_t parent_of(pid_t pid) {
  std::istringstream fields(stat_fields(pid));
  char state = 0;
  pid_t ppid = 0;
  fields >> state >> ppid;
  return ppid;
}

Tracee fork_tracee(Tracee& tracee, std::uint64_t syscall_insn) {
  // clone with no flags is fork, but with no exit signal: the program never
  // hears of its checkpoints dying (no SIGCHLD). A child of ttdb's own is
  // forked as ttdb's child too (CLONE_PARENT): ttdb, tracer and parent at
  // once, then reaps the checkpoints it drops, which would otherwise stay
  // zombies of the program until it ended (tens of thousands in a long
  // session, and the machine's pids run out).
  bool adopted = tracee.is_ttdb_child();
  Tracee child = clone_tracee(tracee, syscall_insn, {adopted ? std::uint64_t{CLONE_PARENT} : 0, 0, 0, 0, 0, 0});
  if (adopted) child.known_ttdb_child();
  return child;
}

Tracee clone_thread(Tracee& tracee, std::uint64_t syscall_insn) {
  // What pthread_create shares. No stack: the thread never runs on the one it
  // starts with, its registers are set before it runs.
  constexpr std::uint64_t kThread =
      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  return clone_tracee(tracee, syscall_insn, {kThread, 0, 0, 0, 0, 0});
}

StackScratch::StackScratch(Tracee& tracee, ByteView data)
    : tracee_(tracee), at_(tracee.regs().rsp) {
  saved_ = tracee.try_read_bytes(at_, data.size());
  if (saved_ && !tracee.write_bytes(at_, data)) saved_.reset();
}

StackScratch::~StackScratch() {
  if (saved_) tracee_.write_bytes(at_, *saved_);
}

std::optional<KernelSigaction> trap_action_set(Tracee& tracee, long nr, const std::uint64_t* args) {
  if (nr != __NR_rt_sigaction || args[0] != SIGTRAP || !args[1] || args[3] != 8) return std::nullopt;
  KernelSigaction action{};
  if (tracee.read_some(RemotePtr(args[1]), action.data(), sizeof action) != sizeof action) return std::nullopt;
  return action;
}

void put_back_trap_action(Tracee& tracee, std::uint64_t syscall_insn, const KernelSigaction& action, bool blocked) {
  constexpr std::uint64_t kDefault = 0;  // SIG_DFL
  if (blocked) tracee.set_signal_mask(tracee.signal_mask() | sigbit(SIGTRAP));
  // (No syscall instruction to borrow: what the kernel did stays, and a
  // replay that comes to depend on it says where it diverged.)
  if (action[0] == kDefault || !syscall_insn) return;
  // The action to set, then room for the one the kernel has now.
  std::array<std::uint64_t, 8> both{};
  std::copy(action.begin(), action.end(), both.begin());
  StackScratch scratch(tracee, ByteView(reinterpret_cast<const std::uint8_t*>(both.data()), sizeof both));
  if (!scratch) throw InternalError(fmt::format("cannot put SIGTRAP's action back in {}: its stack is not writable", tracee.tid()));
  RemotePtr set = scratch.addr(), old = scratch.addr() + sizeof(KernelSigaction);
  std::int64_t got = inject_syscall(tracee, syscall_insn, __NR_rt_sigaction, {SIGTRAP, set.addr(), old.addr(), 8, 0, 0});
  if (got != 0) throw InternalError(fmt::format("cannot put SIGTRAP's action back in {}: {}", tracee.tid(), got));
  auto was = tracee.read_value<KernelSigaction>(old);
  if (action[0] != kIgnoreAction && was[0] == kDefault)
    tracee.set_signal_mask(tracee.signal_mask() | sigbit(SIGTRAP));
}

Registers skip_entered_syscall(Tracee& tracee) {
  Registers entry = tracee.regs();
  Registers skip = entry;
  skip.orig_rax = static_cast<unsigned long long>(-1);
  tracee.set_regs(skip);
  WaitStatus exit = finish(tracee);
  expect(exit.is_syscall_stop(), tracee, exit, "the skipped syscall's exit");
  return entry;
}

void run_until_trap(Tracee& tracee, std::uint64_t pc) {
  BorrowedRegisters borrowed(tracee);
  Registers run = borrowed.saved();
  run.rip = pc;
  run.orig_rax = static_cast<unsigned long long>(-1);  // (a syscall entered is skipped; none restarts)
  tracee.set_regs(run);
  WaitStatus trap = resume_past_signals(tracee, Resume::cont, SIGTRAP);
  expect(trap.is_signal_stop(), tracee, trap, "the int3 its code ends at");
}

void run_to_trap(Tracee& tracee) {
  WaitStatus trap = resume_past_signals(tracee, Resume::cont, SIGTRAP);
  expect(trap.is_signal_stop(), tracee, trap, "an int3 of ttdb's");
}

void reenter_syscall(Tracee& tracee, std::uint64_t syscall_insn, const Registers& entry) {
  Registers call = entry;
  call.rip = syscall_insn;
  call.rax = entry.orig_rax;
  tracee.set_regs(call);
  WaitStatus again = resume_past_signals(tracee);
  expect(again.is_syscall_stop() && tracee.syscall_info().op == PTRACE_SYSCALL_INFO_ENTRY, tracee, again,
         "the syscall's entry");
  // It returns where the first entry would have.
  tracee.set_regs(entry);
}

}  // namespace ttdb
