// Which of the program's file descriptors lead to ttdb's own stdout and
// stderr. Writes through them are the output replay re-emits; the table
// follows dup, dup2, fcntl(F_DUPFD), close and new descriptors.
#pragma once

#include <cstdint>
#include <map>

#include "ttdb/tracer/syscall_memory.h"

namespace ttdb {

class FdStreams {
 public:
  // 1 (stdout), 2 (stderr) or 0 (elsewhere).
  int stream_of(std::uint64_t fd) const;
  void after_syscall(Tracee& tracee, const SyscallInfo* info, const SyscallArgs& call, std::int64_t ret);

 private:
  void set(std::uint64_t fd, int stream);
  std::map<std::uint64_t, int> streams_{{1, 1}, {2, 2}};
};

}  // namespace ttdb
