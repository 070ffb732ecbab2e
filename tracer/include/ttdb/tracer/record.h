// Recording: run a program under ptrace and write everything it cannot
// reproduce by itself to a trace. This is the tracer library's front door.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ttdb/tracer/wait_status.h"

namespace ttdb {

struct RecordOptions {
  std::string program;             // as resolved by resolve_program()
  std::vector<std::string> argv;   // argv[0] as the user typed it
  std::vector<std::string> env;
  std::string trace_path;          // must not exist yet, unless claimed
  // trace_path exists, empty: the caller created it to reserve the name
  // (trace::TraceWriter::claim).
  bool trace_claimed = false;
  // The in-process syscall buffer: frequent syscalls recorded without a ptrace stop.
  bool syscall_buffer = true;
  // Keep a copy of every file the program runs or maps, system files too,
  // so that the trace replays where they are gone or other (ttdb pack).
  bool pack = false;
  // "x86-64-v2" and so on: hold glibc to that baseline (cpu_features.h),
  // so that the trace replays on any CPU that meets it. Empty: this CPU.
  std::string cpu_baseline;
  // Called for ttdb's own warnings (one sentence each, without "ttdb: ").
  void (*warn)(const std::string& message) = nullptr;
};

struct RecordOutcome {
  WaitStatus status;        // how the program ended (killed when ttdb stopped it)
  std::int64_t events = 0;  // events written
  bool finished = false;    // false: the recording stopped before the program ended
  std::string stop_reason;  // why, when not finished
};

// Records until the program ends. Throws ttdb::Error when it cannot start;
// problems after the start are reported in the outcome, with the trace kept.
RecordOutcome record(const RecordOptions& options);

}  // namespace ttdb
