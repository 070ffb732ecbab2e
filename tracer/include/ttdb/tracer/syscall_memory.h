// What a syscall reads from and writes to the program's memory, beyond what
// the declarative table says: the "special" entries of syscalls.def.
#pragma once

#include <cstdint>
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

// Everything the kernel wrote into the program's memory for this call.
std::vector<trace::MemWrite> capture_outputs(Tracee& tracee, const SyscallInfo* info,
                                             const SyscallArgs& call, std::int64_t ret);

}  // namespace ttdb
