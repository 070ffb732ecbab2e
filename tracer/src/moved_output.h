// Output that reaches ttdb's stdout or stderr without passing through the
// program's memory: sendfile, copy_file_range and splice from a file, and
// vmsplice. Replay re-emits every byte the program wrote there, so the
// recorder keeps these bytes in the event (its `info`).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "ttdb/base/bytes.h"
#include "ttdb/tracer/syscall_memory.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// The descriptor a call moves bytes into, for the calls that move bytes
// between descriptors; nullopt for the others.
std::optional<std::uint64_t> moved_into(const SyscallArgs& call);

struct Unseeable {
  std::string from;  // where the bytes came from, as "from a pipe or socket"
};

// For a call that moved `ret` bytes into ttdb's own stdout or stderr: the
// bytes, or why they cannot be known (from a pipe: they are gone). Nothing
// for calls that moved nothing there.
std::variant<std::monostate, Bytes, Unseeable> output_moved(Tracee& tracee, const SyscallArgs& call, std::int64_t ret);

}  // namespace ttdb
