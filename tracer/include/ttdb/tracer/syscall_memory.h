// What a syscall reads from and writes to the program's memory, beyond what
// the declarative table says: the "special" entries of syscalls.def.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/tracee.h"
#include "ttdb/trace/event.h"

namespace ttdb {

struct SyscallArgs {
  long nr = 0;
  std::uint64_t a[6] = {};
};

// The bytes the program hands to an output syscall (write, writev, sendto...)
// gathered in order; empty for other syscalls.
Bytes gather_input(Tracee& tracee, const SyscallInfo* info, const SyscallArgs& call);
// Does this syscall take an input buffer?
bool has_input(const SyscallInfo* info);

// What a call that makes a process or thread (fork, vfork, clone, clone3)
// asks of the kernel, in clone()'s terms.
struct SpawnArgs {
  std::uint64_t flags = 0;       // CLONE_* flags, and the exit signal in the low byte
  std::uint64_t parent_tid = 0;  // where CLONE_PARENT_SETTID writes the child's tid (parent's memory)
  std::uint64_t child_tid = 0;   // where CLONE_CHILD_SETTID writes it (child's memory)
  std::uint64_t pidfd = 0;       // where CLONE_PIDFD writes a pidfd (parent's memory)
};
// nullopt for other calls, and for a clone3 whose arguments cannot be read.
std::optional<SpawnArgs> spawn_args(Tracee& tracee, const SyscallArgs& call);

// Why a call that has just returned cannot be recorded, because replay could
// not reproduce its effect (a syscall or ioctl ttdb does not model...);
// nullopt when it can. `tgid` is the calling process.
std::optional<std::string> unrecordable(Tracee& tracee, pid_t tgid, const SyscallInfo* info, const SyscallArgs& call,
                                        std::int64_t ret);

// CLONE_UNTRACED would hide a new process from ttdb: at a clone's or
// clone3's entry, the flag is taken out of what the kernel runs (the
// register, or clone3's struct). The recorded call keeps it.
void drop_untraced_flag(Tracee& tracee, const SyscallArgs& call);

// `size` bytes of the program's memory at `addr` (as many as can be read,
// at most 2 GiB), appended to `out` as a memory write; none for a null
// address or an empty or unreadable range.
void capture_memory(Tracee& tracee, std::uint64_t addr, std::uint64_t size, std::vector<trace::MemWrite>& out);

// Everything the kernel wrote into the program's memory for this call.
std::vector<trace::MemWrite> capture_outputs(Tracee& tracee, const SyscallInfo* info,
                                             const SyscallArgs& call, std::int64_t ret);

}  // namespace ttdb
