// A thread's own state, beyond the memory it shares with its process: what a
// fork of the process leaves behind, and what makes a new thread in the fork
// the same thread again. Checkpoints of processes with threads keep one per
// thread.
#pragma once

#include <signal.h>

#include <cstdint>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

struct ThreadCopy {
  Registers regs{};
  // It stood at the entry stop of a syscall (regs are the entry's), and must
  // again; otherwise it stood where it runs code next.
  bool at_syscall_entry = false;
  Bytes xstate;
  std::uint64_t signal_mask = 0;
  std::uint64_t tid_address = 0;  // set_tid_address: cleared and woken when the thread ends
  std::uint64_t robust_list = 0;  // set_robust_list
  std::uint64_t robust_list_len = 0;
  stack_t altstack{nullptr, SS_DISABLE, 0};  // sigaltstack
};

// Reads the stopped thread's state. It must stand where it may run injected
// syscalls (skip_entered_syscall() first, for one at a syscall's entry).
ThreadCopy copy_thread(Tracee& thread, std::uint64_t syscall_insn);
// Gives a stopped thread (a new one, or a fork's only one) the copied state,
// and stands it where the copy stood.
void restore_thread(Tracee& thread, std::uint64_t syscall_insn, const ThreadCopy& copy);

}  // namespace ttdb
