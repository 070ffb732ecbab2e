// The replay engine: a tracee re-running the recorded program, moved from
// event to event. Each recorded event says what the program must do next;
// the session resumes the tracee until it does, injects what the recording
// holds, and reports a Divergence the moment the two differ.
#pragma once

#include <deque>
#include <optional>

#include "file_contents.h"
#include "ttdb/replay/replay.h"
#include "ttdb/trace/reader.h"
#include "ttdb/tracer/nondet_insn.h"
#include "ttdb/tracer/syscall_table.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

class ReplaySession {
 public:
  ReplaySession(const std::string& trace_path, OutputSink& sink);

  // Applies the next recorded event. False when there is none left.
  bool step();
  std::int64_t current_event() const { return current_; }
  const trace::TraceReader& reader() const { return reader_; }
  // Set once the program has ended.
  const std::optional<WaitStatus>& ended() const { return ended_; }

 private:
  std::optional<trace::Event> next_event();
  const trace::Event* peek();

  void apply_exec(const trace::Event& e);
  void apply_syscall(const trace::Event& e);
  void apply_signal(const trace::Event& e);
  void apply_rdtsc(const trace::Event& e);
  void apply_rdrand(const trace::Event& e);
  void apply_exit(const trace::Event& e);
  void apply_snapshot(const trace::Event& e);
  // Runs the program until it is about to execute the instruction at `pc`.
  void run_to(std::uint64_t pc, const trace::Event& e);

  // Syscall handling (replay_syscall.cc).
  __ptrace_syscall_info expect_syscall_entry(const trace::Event& e);
  void check_inputs(const trace::Event& e, const SyscallInfo* info);
  void emulate(const trace::Event& e, const Registers& entry_regs);
  void wait_in_sigsuspend(const trace::Event& e, const Registers& entry_regs, std::uint64_t mask);
  std::int64_t execute(const trace::Event& e, const Registers& entry_regs);
  void replay_mmap(const trace::Event& e, const Registers& entry_regs);
  void after_syscall(const trace::Event& e);
  std::optional<std::uint64_t> wait_mask(const trace::Event& e, const SyscallInfo* info);
  void finish_syscall_exit(const trace::Event& e, const Registers& entry_regs);
  void write_memory(const trace::Event& e);

  // Resumes (passing any signal owed) and waits for the next stop.
  WaitStatus resume_and_wait();
  WaitStatus expect_syscall_exit(const trace::Event& e);
  void send_signal(int sig);
  [[noreturn]] void diverge(const trace::Event& e, const std::string& what);
  std::string describe_stop(const WaitStatus& status);

  trace::TraceReader reader_;
  trace::TraceReader::Cursor cursor_;
  std::deque<trace::Event> ahead_;
  OutputSink& sink_;
  FileContents files_;
  RandPatcher rand_;
  std::optional<Tracee> tracee_;
  std::optional<WaitStatus> ended_;
  std::int64_t current_ = 0;
  int resume_signal_ = 0;
  std::optional<std::int64_t> signal_sent_for_;  // the signal event already sent
  bool no_return_ = false;  // the last syscall does not return (exit, or killed inside)
};

}  // namespace ttdb
