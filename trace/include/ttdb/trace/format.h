// The trace file's format version and the names other tools see in it.
#pragma once

namespace ttdb::trace {

// Bump when a reader of the previous version could misread a new trace.
// docs/trace-format.md describes every version.
inline constexpr int kFormatVersion = 16;
// The oldest version this ttdb still reads (version 3 only added spawn
// events: a version 2 trace is a version 3 trace of one process; version 4
// added what a version 3 trace never holds: see docs/trace-format.md).
inline constexpr int kOldestReadVersion = 2;

// Meta keys (table `meta`).
namespace meta {
inline constexpr const char* format_version = "format_version";
inline constexpr const char* ttdb_version = "ttdb_version";
inline constexpr const char* program = "program";    // the absolute path that was executed
inline constexpr const char* cwd = "cwd";
inline constexpr const char* hostname = "hostname";
inline constexpr const char* kernel = "kernel";
inline constexpr const char* start_time_ns = "start_time_ns";
inline constexpr const char* end_time_ns = "end_time_ns";
inline constexpr const char* stack_limit = "stack_limit";  // RLIMIT_STACK soft limit, -1 = unlimited
inline constexpr const char* finished = "finished";        // 1 once the recording ended cleanly
inline constexpr const char* end_reason = "end_reason";    // why an unfinished recording stopped
inline constexpr const char* exit_kind = "exit_kind";      // "exited" or "killed"
inline constexpr const char* exit_code = "exit_code";      // exit status, or the killing signal
inline constexpr const char* signals_ignored = "signals_ignored";  // at the first exec, bit N-1 for signal N (format 3)
inline constexpr const char* signals_blocked = "signals_blocked";  // the signal mask then, likewise
inline constexpr const char* processes = "processes";      // how many processes and threads the recording followed (format 3)
inline constexpr const char* no_new_privs = "no_new_privs";  // 1: the program ran with no_new_privs set (format 3)
// ttdb's stdout was a regular file of its own (not stderr's too): its
// position, size and O_APPEND flag when the recording began (format 6).
inline constexpr const char* stdout_offset = "stdout_offset";
inline constexpr const char* stdout_size = "stdout_size";
inline constexpr const char* stdout_append = "stdout_append";
// The CPU features the recording could use, by /proc/cpuinfo's names,
// space-separated, and the x86-64 baseline glibc was held to, if any
// (older traces have neither, and replay checks nothing then).
inline constexpr const char* cpu_features = "cpu_features";
inline constexpr const char* cpu_baseline = "cpu_baseline";
// A trace that went live (go-live --record, format 9): the trace its first
// events came from, and the last of them.
inline constexpr const char* live_from = "live_from";
inline constexpr const char* live_after_event = "live_after_event";
// 1: rdtsc ran without faulting, with int3 on each site the scan found
// (ttdb record without --trap-rdtsc); replay does the same. Absent: it
// faulted everywhere (--trap-rdtsc, or a ttdb before this key).
inline constexpr const char* rdtsc_patched = "rdtsc_patched";
}  // namespace meta

}  // namespace ttdb::trace
