// Which of the program's file descriptors lead to ttdb's own stdout and
// stderr. Writes through them are the output replay re-emits; the table
// follows dup, dup2, fcntl(F_DUPFD), close and new descriptors, event by
// event, in the order they are written to the trace.
#pragma once

#include <cstdint>
#include <map>

#include "ttdb/trace/event.h"

namespace ttdb {

class FdStreams {
 public:
  // 1 (stdout), 2 (stderr) or 0 (elsewhere).
  int stream_of(std::uint64_t fd) const;
  // Marks a write to stdout or stderr as output (e.emit), then follows what
  // the event did to the descriptors. A new program starts afresh.
  void annotate(trace::Event& e);

 private:
  void after_syscall(const trace::Event& e);
  void set(std::uint64_t fd, int stream);
  std::map<std::uint64_t, int> streams_{{1, 1}, {2, 2}};
};

}  // namespace ttdb
