// Making a stopped tracee run a syscall it did not ask for, and putting it
// back exactly as it was: the basis of fork checkpoints and of mapping ttdb's
// own code (the syscall buffer) into the program.
#pragma once

#include <array>
#include <cstdint>

#include "ttdb/tracer/tracee.h"

namespace ttdb {

// Runs syscall `nr` with `args` in the stopped tracee, at `syscall_insn` (the
// address of a `syscall` instruction in its memory), and gives it all its
// registers back. Returns the result (-errno on failure). The tracee must be
// stopped where it may run code (not in the middle of a syscall), with no
// signal owed to it.
std::int64_t inject_syscall(Tracee& tracee, std::uint64_t syscall_insn, long nr,
                            const std::array<std::uint64_t, 6>& args = {});

// Forks the stopped tracee the same way. The child, stopped, is a copy of it
// at the same point, registers included.
Tracee fork_tracee(Tracee& tracee, std::uint64_t syscall_insn);

}  // namespace ttdb
