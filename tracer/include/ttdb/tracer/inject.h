// Making a stopped tracee run a syscall it did not ask for, and putting it
// back exactly as it was: the basis of fork checkpoints and of mapping ttdb's
// own code (the syscall buffer) into the program.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "ttdb/tracer/tracee.h"

namespace ttdb {

// Runs syscall `nr` with `args` in the stopped tracee, at `syscall_insn` (the
// address of a `syscall` instruction in its memory), and gives it all its
// registers back. Returns the result (-errno on failure). The tracee must be
// stopped where it may run code (not in the middle of a syscall), with no
// signal owed to it.
std::int64_t inject_syscall(Tracee& tracee, std::uint64_t syscall_insn, long nr,
                            const std::array<std::uint64_t, 6>& args = {});

// Bytes put on a stopped tracee's own stack, at its stack pointer (always
// mapped), for a syscall ttdb makes it run: a path, a structure the kernel
// fills. The bytes they covered are put back when this goes, before the
// tracee runs its own code again.
class StackScratch {
 public:
  StackScratch(Tracee& tracee, ByteView data);
  ~StackScratch();
  StackScratch(const StackScratch&) = delete;
  StackScratch& operator=(const StackScratch&) = delete;
  // False when the stack there cannot be read or written.
  explicit operator bool() const { return saved_.has_value(); }
  RemotePtr addr() const { return at_; }

 private:
  Tracee& tracee_;
  RemotePtr at_;
  std::optional<Bytes> saved_;
};

// The kernel's struct sigaction, as rt_sigaction takes it: handler, flags,
// restorer, mask.
using KernelSigaction = std::array<std::uint64_t, 4>;
inline constexpr std::uint64_t kIgnoreAction = 1;  // SIG_IGN as its handler

// SIGTRAP's action in a new program (an exec, or the first program, which
// starts from ttdb's): ignored if it was, else the default.
inline KernelSigaction trap_action_after_exec(bool was_ignored) {
  return was_ignored ? KernelSigaction{kIgnoreAction, 0, 0, 0} : KernelSigaction{};
}

// The SIGTRAP action that rt_sigaction(nr, args) sets, read from the tracee
// stopped at the call's entry (the call may write the old one over it);
// nullopt for any other call.
std::optional<KernelSigaction> trap_action_set(Tracee& tracee, long nr, const std::uint64_t* args);

// After an int3 of ttdb's (an rdtsc or rdrand site), whose SIGTRAP the
// kernel forces through: that made an ignored SIGTRAP's action the default,
// and a blocked one's too, unblocking it. Puts back `action`, the one the
// program set (SIG_DFL needs nothing), and the block: where the caller knows
// SIGTRAP was `blocked` (with the default action or ignored, the kernel
// leaves nothing to tell), and where the kernel took a handler away (it
// does only when SIGTRAP was blocked). Stopped at the SIGTRAP.
void put_back_trap_action(Tracee& tracee, std::uint64_t syscall_insn, const KernelSigaction& action, bool blocked);
// The program is resumed with `sig`: a SIGTRAP delivered to a one-shot
// handler (SA_RESETHAND) leaves the default action.
inline void note_delivery(KernelSigaction& trap_action, int sig) {
  constexpr std::uint64_t kResetHand = 0x80000000;  // SA_RESETHAND
  if (sig == SIGTRAP && (trap_action[1] & kResetHand)) trap_action = {};
}

// Forks the stopped tracee the same way. The child, stopped, is a copy of it
// at the same point, registers included.
Tracee fork_tracee(Tracee& tracee, std::uint64_t syscall_insn);

// The parent of process `pid`, from /proc (0 when it cannot be read).
pid_t parent_of(pid_t pid);

// Makes a new thread in the stopped tracee's process the same way. It shares
// the process's memory, files and signal handlers, stands at its first stop
// with the tracee's registers, and has no state of its own yet (no robust
// list, no alternate signal stack, no tid address).
Tracee clone_thread(Tracee& tracee, std::uint64_t syscall_insn);

// Runs the stopped tracee's own code from `pc` to an int3 there, resumed
// with PTRACE_CONT (no syscall it makes stops), and gives it all its
// registers back. The code keeps to a stack of its own. A signal that comes
// meanwhile is deferred, as during an injected syscall. At a syscall's
// entry stop, that syscall is skipped (reenter_syscall() makes it again).
void run_until_trap(Tracee& tracee, std::uint64_t pc);
// Runs the stopped tracee's own code from where its registers say to the
// next int3, resumed with PTRACE_CONT; the registers stay as the code left
// them. A signal that comes meanwhile is deferred.
void run_to_trap(Tracee& tracee);

// For a tracee at a syscall's entry stop: skips that syscall, so that it
// stands at the exit, where it can run injected ones. Returns the entry's
// registers, for reenter_syscall().
Registers skip_entered_syscall(Tracee& tracee);
// Stands the tracee at the entry stop of the syscall whose entry registers
// are `entry` (as skip_entered_syscall() gave them): the same syscall, with
// the same arguments, returning to the same place.
void reenter_syscall(Tracee& tracee, std::uint64_t syscall_insn, const Registers& entry);

}  // namespace ttdb
