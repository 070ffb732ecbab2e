// The subcommands. Each returns ttdb's exit status; errors are thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/base/error.h"
#include "progress_line.h"
#include "ttdb/replay/replay.h"

namespace ttdb {

// A command line that parses but makes no sense (exit status 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

struct RecordArgs {
  std::string output;
  bool quiet = false;
  bool no_syscall_buffer = false;
  unsigned buffer_after = 48;  // --buffer-after: calls a program makes traced before its libraries get the buffer
  bool trap_rdtsc = false;
  bool pack = false;  // --pack: copy the system files it ran and mapped into the trace too
  std::string cpu_baseline;  // --cpu-baseline: hold glibc to x86-64-vN
  std::vector<std::string> command;
};
int run_record(const RecordArgs& args);

struct ReplayArgs {
  bool run = false;
  bool gdb = false;                   // --gdb: start gdb on a ttdb serve of the trace
  std::vector<std::string> gdb_args;  // after "--": passed to gdb as they are
  int process = 0;                    // with --gdb: serve only process N (ttdb serve --process)
  std::string trace;
  // -x FILE and -ex CMD, in the order given: (true, file) or (false, command).
  std::vector<std::pair<bool, std::string>> script;
  std::string junit;
  std::size_t checkpoint_budget = 1024;
  std::uint64_t checkpoint_memory_mib = 1024;
  std::uint64_t checkpoint_interval_ms = 20;
};
// The shell: interactive on a terminal, or running the script and exiting.
int run_shell(const ReplayArgs& args);
int run_replay(const ReplayArgs& args);
// Replaces ttdb with gdb connected to `ttdb serve TRACE`; returns only by throwing.
[[noreturn]] int run_gdb(const ReplayArgs& args);

struct ServeArgs {
  std::string trace;
  int port = -1;  // -1: gdb's channel is stdin and stdout
  int process = 0;  // 0: the whole recording; else only process N (as ttdb info numbers them)
};
// A gdb remote-protocol server over the replay (docs/commands.md).
int run_serve(const ServeArgs& args);

struct InfoArgs {
  std::string trace;
};
int run_info(const InfoArgs& args);

struct EventsArgs {
  std::string trace;
  std::string syscall;
  std::int64_t from = 1;
  std::int64_t limit = -1;
};
int run_events(const EventsArgs& args);

struct TimelineArgs {
  std::string trace;
  std::string output;
};
// Writes the recording's timeline as one self-contained HTML page.
int run_timeline(const TimelineArgs& args);

struct PackArgs {
  std::string trace;
};
// Copies the files the trace only checks on disk into it (docs/commands.md);
// throws, naming one, when a file could not be packed.
int run_pack(const PackArgs& args);

struct PsArgs {
  std::string trace;
};
// A trace's processes and threads, as rr ps lists them (docs/commands.md).
int run_ps(const PsArgs& args);

struct SqlArgs {
  std::string query;
  std::string trace;
  bool header = false;
};
int run_sql(const SqlArgs& args);

// Writes the replayed program's output to ttdb's own stdout and stderr.
class FdSink : public OutputSink {
 public:
  void write(int stream, ByteView bytes) override;
  // When ttdb's stdout is a regular file, the recorded offsets are kept in
  // it, counted from where it stood at the first of these; otherwise appended.
  void write_at(int stream, std::int64_t offset, std::int64_t position, ByteView bytes) override;
  void seek(int stream, std::int64_t position) override;
  void truncate(int stream, std::int64_t size) override;
  void replaying(std::int64_t event, std::int64_t events) override { progress_.at_event(event, events); }
  ProgressLine& progress() { return progress_; }

 private:
  ProgressLine progress_;
  // ttdb's stdout is a regular file: where it stood at the first write_at.
  std::optional<std::int64_t> base();
  bool asked_ = false;
  std::optional<std::int64_t> base_;
};
// The errno of the first write to stdout an FdSink could not make (EPIPE
// aside: the reader went away on purpose), or 0.
int fd_sink_failure();

// A command line as a shell would take it back: plain words bare, the others quoted.
std::string quoted_argv(const std::vector<std::string>& argv);
// 123 bytes, 45.6 KiB, 7.8 MiB.
std::string human_size(std::uint64_t bytes);

// The trace the user named, or the latest one.
std::string trace_or_latest(const std::string& named);

}  // namespace ttdb
