// Recording: run a program under ptrace and write everything it cannot
// reproduce by itself to a trace. This is the tracer library's front door.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ttdb/tracer/inject.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/tracee.h"
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
  // A program gets the buffer once it has made this many calls (or rdtsc
  // reads) the buffer would have made without a stop; 0: at its exec.
  // Setting the buffer up costs about as much as 48 traced calls, and most
  // programs a shell or make starts end before that.
  unsigned buffer_after = 48;
  // rdtsc and rdtscp fault everywhere (PR_SET_TSC), as before ttdb let the
  // vDSO read the clock: every clock read is then a syscall.
  bool trap_rdtsc = false;
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

// A replayed process that runs on live from a position of its trace, and is
// recorded from there (go-live --record): the new trace begins with the old
// one's events up to that position. Its threads are ttdb's tracees,
// stopped, with ttdb's syscall buffer taken out of them; each is stopped at
// a syscall's entry, which it is about to make, or anywhere else.
struct LiveThread {
  Tracee tracee;
  int recorded_tid = 0;  // its tid in the trace
  // Stopped at the entry of a syscall that a `blocked` event of the trace
  // placed already: its syscall event is all that is still to come.
  bool entry_placed = false;
};
struct LiveStart {
  std::string source_trace;
  std::int64_t last_event = 0;  // the source's events up to here come first
  int live_pid = 0;
  int recorded_pid = 0;
  std::vector<LiveThread> threads;
  RandPatcher rand;               // the rdrand sites trapped in it
  KernelSigaction trap_action{};  // SIGTRAP's action as the program set it (put_back_trap_action)
  std::uint64_t syscall_insn = 0; // a syscall instruction, for ttdb's own
  // The source's other tasks alive there (recorded tids), each process's
  // first thread after its others: they end there in the new trace.
  std::vector<int> left_behind;
};
// Records `start` on until it ends, into options.trace_path (syscall_buffer
// is not used: every syscall is a ptrace stop). Throws ttdb::Error when it
// cannot begin.
RecordOutcome record_live(const RecordOptions& options, LiveStart start);

// Records until the program ends. Throws ttdb::Error when it cannot start;
// problems after the start are reported in the outcome, with the trace kept.
RecordOutcome record(const RecordOptions& options);

}  // namespace ttdb
