// Starting a program under ptrace, the same way for recording and replay:
// address randomisation off, rdtsc trapping on, pinned to one CPU, stopped at
// its exec. An exec that fails comes back as an Error with its real cause.
#pragma once

#include <sys/resource.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ttdb/base/error.h"
#include "ttdb/tracer/syscall_buffer.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// A program that could not be started: exit_status is 127 (not found) or 126
// (found but not runnable), as shells report it.
class LaunchError : public Error {
 public:
  LaunchError(const std::string& message, int exit_status) : Error(message), exit_status_(exit_status) {}
  int exit_status() const { return exit_status_; }

 private:
  int exit_status_;
};

struct LaunchOptions {
  std::string path;  // absolute path of the program file
  // What execve is given, when not `path`: replay runs a copy of a program
  // that changed since it was recorded, by a path of the same length.
  std::string exec_path;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  // RLIMIT_STACK shapes where mmap places things: replay must use the recorded one.
  std::optional<rlim_t> stack_limit;
  int cpu = -1;  // pin the program to this CPU (-1: leave as is)
  // Replay: keep the terminal's signals (Ctrl-C) away from the program, whose
  // signals come from the recording only.
  bool own_process_group = false;
  // Replay: the signals the recorded program started with ignored, and its
  // signal mask (bit N-1 for signal N); a shell started in the background
  // ignores SIGINT, say, and the program decides by it.
  std::optional<std::uint64_t> ignored_signals;
  std::optional<std::uint64_t> blocked_signals;
  // Recording: install the seccomp filter that lets the syscall buffer's own
  // syscalls through (from its place in `shim`, with its secret) and stops
  // the tracer at every other one (PTRACE_EVENT_SECCOMP), and report the
  // program's exits before they happen.
  bool syscall_buffer = false;
  ShimSetup shim;
  // Set no_new_privs: a set-user-ID or set-group-ID program runs without its
  // privileges. Under a tracer the kernel grants them or not depending on
  // who traces (and the seccomp filter needs no_new_privs anyway); recording
  // always sets it, and replay does as the trace says, so both run it alike.
  bool no_new_privs = false;
  // rdtsc and rdtscp fault (PR_SET_TSC), so that the tracer sees each. Off
  // only for a recording that finds them in the code and patches them.
  bool trap_tsc = true;
};

// Finds `command` the way execvp does (PATH when it has no slash) and checks
// that it is a runnable file. Throws LaunchError with a clear message.
std::string resolve_program(const std::string& command);

// The signals a process ignores, blocks and catches (/proc/PID/status), as above.
struct SignalState {
  std::uint64_t ignored = 0;
  std::uint64_t blocked = 0;
  std::uint64_t caught = 0;
};
std::optional<SignalState> signal_state(pid_t pid);

// Starts the program and returns it stopped at PTRACE_EVENT_EXEC.
Tracee launch(const LaunchOptions& options);

// The ptrace options every ttdb tracee gets; a recording with the syscall
// buffer gets seccomp stops and exit stops too.
long tracee_options(bool syscall_buffer = false);

// Pins the calling thread to `cpu`; returns false when the kernel refuses
// (or cpu is -1: no pinning).
bool pin_to_cpu(int cpu);
// Keeps a helper thread of ttdb's (the trace writer, the event reader) off
// `cpu`, the one ttdb and the program share, when there is another.
void keep_off_cpu(std::thread& thread, int cpu);
// The same, from the helper thread itself, as the first thing it does: a
// new thread the kernel starts on its creator's CPU runs there until
// something moves it, and the creator, which would, waits for the CPU
// meanwhile (a trace writer creating its file held ttdb up a millisecond).
void leave_cpu(int cpu);
// The CPU to pin ttdb and the program to: the caller's now, a good choice.
// -1 when the environment says TTDB_NO_PIN=1.
int pinning_cpu();

}  // namespace ttdb
