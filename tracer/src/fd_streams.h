// Which of each process's file descriptors lead to ttdb's own stdout and
// stderr. Writes through them are the output replay re-emits; the tables
// follow dup, dup2, fcntl(F_DUPFD), close and new descriptors, event by
// event, in the order they are written to the trace. A new process starts
// with a copy of its parent's, and keeps it across exec.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "ttdb/trace/event.h"

namespace ttdb {

// ttdb's stdout when it is a regular file of its own (not stderr's too,
// whose writes would move the same position): where it stands, how long it
// is, and whether it appends. Output may go anywhere in it (pwrite, lseek,
// ftruncate), and replay follows where.
struct StdoutFile {
  std::int64_t offset = 0, size = 0;
  bool append = false;
};
std::optional<StdoutFile> stdout_file();

class FdStreams {
 public:
  // `positions`: ttdb's stdout is a StdoutFile, whose position replay follows.
  explicit FdStreams(bool positions) : positions_(positions) {}
  // Marks a write to stdout or stderr as output (e.emit), and (with
  // `positions`) an lseek, ftruncate or fcntl(F_SETFL) on one as acting on
  // it; then follows what the event did to the descriptors.
  void annotate(trace::Event& e);

 private:
  bool positions_;
  // One process's descriptors: fd -> 1 (stdout) or 2 (stderr).
  using Table = std::map<std::uint64_t, int>;
  static int stream_of(const Table& table, std::uint64_t fd);
  static void set(Table& table, std::uint64_t fd, int stream);
  static void after_syscall(Table& table, const trace::Event& e);
  Table& table_of(int tid);
  // By tid; threads (CLONE_FILES) share their table.
  std::map<int, std::shared_ptr<Table>> processes_;
  // The last table table_of found (most events come in runs of one thread's).
  int last_tid_ = 0;
  Table* last_table_ = nullptr;
};

}  // namespace ttdb
