// Making a stopped tracee run a syscall it did not ask for, and putting it
// back exactly as it was: the basis of fork checkpoints.
#pragma once

#include <cstdint>

#include "ttdb/tracer/tracee.h"

namespace ttdb {

// Forks the stopped tracee: it executes a fork at `syscall_insn` (the address
// of a `syscall` instruction in its code), then gets all its registers back.
// The child, stopped, is a copy of it at the same point, registers included.
// The tracee must be stopped in user mode (not inside a syscall), with no
// signal owed to it.
Tracee fork_tracee(Tracee& tracee, std::uint64_t syscall_insn);

}  // namespace ttdb
