#include "ttdb/tracer/inject.h"

#include <asm/unistd_64.h>
#include <sys/ptrace.h>

#include "ttdb/base/error.h"
#include "ttdb/base/log.h"

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

 private:
  Tracee& tracee_;
  Registers saved_;
};

void expect(bool ok, Tracee& tracee, const WaitStatus& status, const char* what) {
  if (!ok)
    throw InternalError(fmt::format("injected fork in {}: expected {}, got {}", tracee.tid(), what, status.describe()));
}

}  // namespace

Tracee fork_tracee(Tracee& tracee, std::uint64_t syscall_insn) {
  BorrowedRegisters borrowed(tracee);
  Registers call = borrowed.saved();
  call.rip = syscall_insn;
  // clone with no flags is fork, but with no exit signal: the program never
  // hears of its checkpoints dying (no SIGCHLD).
  call.rax = __NR_clone;
  call.rdi = 0;
  call.rsi = 0;
  call.rdx = 0;
  call.r10 = 0;
  call.r8 = 0;
  call.orig_rax = static_cast<unsigned long long>(-1);
  tracee.set_regs(call);

  tracee.resume(Resume::syscall);
  WaitStatus entry = tracee.wait();
  expect(entry.is_syscall_stop(), tracee, entry, "the fork's entry");
  tracee.resume(Resume::syscall);
  WaitStatus event = tracee.wait();
  expect(event.is_event(PTRACE_EVENT_CLONE) || event.is_event(PTRACE_EVENT_FORK), tracee, event, "a clone event");
  auto child_tid = static_cast<pid_t>(tracee.event_message());
  tracee.resume(Resume::syscall);
  WaitStatus exit = tracee.wait();
  expect(exit.is_syscall_stop(), tracee, exit, "the fork's exit");

  // The child is attached by PTRACE_O_TRACEFORK and reports a stop first.
  Tracee child(child_tid);
  WaitStatus first = child.wait();
  expect(!first.is_exit(), child, first, "the new child's first stop");
  child.set_regs(borrowed.saved());
  TTDB_LOG(ptrace, "forked {} into {}", tracee.tid(), child_tid);
  return child;
}

}  // namespace ttdb
