// Programs that trace other programs with ptrace (debuggers, strace-like
// tools, crash reporters). ttdb is the kernel's one tracer of everything it
// records, so it emulates the program's ptrace: each program records, and
// replays as recorded, twice, with and without the syscall buffer.
#include "ttdb/trace/format.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class TracingProgram : public ::testing::TestWithParam<const char*> {};

void records_and_replays(const char* name, const std::vector<std::string>& record_options) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program(name)});
  ASSERT_EQ(native.status, 0) << native.out << native.err;
  std::vector<std::string> args{"record", "-q", "-o", trace};
  args.insert(args.end(), record_options.begin(), record_options.end());
  args.push_back("--");
  args.push_back(program(name));
  RunResult recorded = ttdb(args);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.err, "");
  EXPECT_NE(recorded.out, "");
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
}

TEST_P(TracingProgram, RecordsAndReplaysAsRecorded) { records_and_replays(GetParam(), {}); }

TEST_P(TracingProgram, RecordsAndReplaysWithoutTheSyscallBuffer) {
  records_and_replays(GetParam(), {"--no-syscall-buffer"});
}

// ptrace_peek_poke: TRACEME, a stop, PEEKDATA/POKEDATA/GETREGS/PEEKUSER, CONT;
// ptrace_syscalls: ATTACH and a PTRACE_SYSCALL loop; ptrace_singlestep: 300
// single steps; ptrace_breakpoint: an int3 put with POKETEXT, SETREGS back;
// ptrace_kill_detach: PTRACE_KILL, and a tracer that exits with its tracee
// stopped; ptrace_seize_exec: SEIZE, INTERRUPT, GETREGSET, GETFPREGS, waitid,
// TRACEEXEC and DETACH; ptrace_exec_trap: the SIGTRAP after a traced exec;
// ptrace_blocked_wait: a tracer blocked in wait with SIGCHLD blocked, and a
// held tracee killed with kill(); ptrace_group_stop: a stopping signal
// passed on, group-stops seized and attached, LISTEN until SIGCONT, and a
// tracer that dies with its tracee at a signal stop; ptrace_foreign_tracer:
// a sibling attaches, and waits for the stop and the end;
// ptrace_follow_forks: TRACEFORK, TRACEVFORK with VFORKDONE, TRACECLONE,
// attached and seized; ptrace_signal_state: SETSIGINFO, GET/SETSIGMASK and
// the extended registers.
INSTANTIATE_TEST_SUITE_P(Programs, TracingProgram,
                         ::testing::Values("ptrace_peek_poke", "ptrace_syscalls", "ptrace_singlestep",
                                           "ptrace_breakpoint", "ptrace_kill_detach", "ptrace_seize_exec",
                                           "ptrace_exec_trap", "ptrace_blocked_wait", "ptrace_group_stop",
                                           "ptrace_foreign_tracer", "ptrace_follow_forks", "ptrace_signal_state"),
                         [](const auto& test_info) { return std::string(test_info.param); });

TEST(TracingProgram, WhatTheTracerSeesIsWhatItSeesNatively) {
  TempDir dir;
  for (const char* name :
       {"ptrace_peek_poke", "ptrace_syscalls", "ptrace_breakpoint", "ptrace_kill_detach", "ptrace_exec_trap",
        "ptrace_blocked_wait", "ptrace_group_stop", "ptrace_foreign_tracer", "ptrace_follow_forks",
        "ptrace_signal_state"}) {
    RunResult native = run({program(name)});
    RunResult recorded = record(dir.file(std::string(name) + ".ttdb"), {program(name)});
    EXPECT_EQ(recorded.out, native.out) << name;
  }
}

// The syscall buffer makes waits that cannot block, in every library from
// the start here (--buffer-after 0): not a tracer's, which ttdb answers.
TEST(TracingProgram, ATracerPollingWithWNOHANGSeesItsTraceesStops) {
  TempDir dir;
  std::string trace = dir.file("poll.ttdb");
  RunResult native = run({program("ptrace_poll_wait")});
  ASSERT_EQ(native.status, 0) << native.out;
  RunResult recorded = record_buffered(trace, {program("ptrace_poll_wait")});
  EXPECT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, native.out);
  expect_same_run(recorded, replay(trace));
}

TEST(TracingProgram, TheTracersEffectsAreEventsOfTheTracee) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("ptrace_breakpoint")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // Two POKETEXTs, one SETREGS, two resumptions, all of the child.
  EXPECT_EQ(sql_count(trace, "select count(*) from events where kind = 11 and nr = 0"), 2);
  EXPECT_EQ(sql_count(trace, "select count(*) from events where kind = 11 and nr = 1"), 1);
  EXPECT_EQ(sql_count(trace, "select count(*) from events where kind = 11 and nr = 2"), 2);
  EXPECT_EQ(sql_count(trace, "select count(distinct tid) from events where kind = 11"), 1);
  EXPECT_EQ(sql_count(trace, "select count(*) from kinds where id = 11 and name = 'ptrace'"), 1);
}

TEST(TracingProgram, AnUnsupportedRequestStopsTheRecordingNamingIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("ptrace_unsupported")});
  EXPECT_EQ(recorded.status, 125);
  EXPECT_NE(recorded.err.find("a ptrace PTRACE_SETOPTIONS request with option PTRACE_O_TRACESECCOMP, which ttdb "
                              "does not emulate"),
            std::string::npos)
      << recorded.err;
  EXPECT_EQ(count_of(recorded.err, "\n"), 1) << recorded.err;  // one sentence
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 123) << replayed.err;
  EXPECT_EQ(replayed.out, "before\n");
}

}  // namespace
}  // namespace ttdb::test

namespace ttdb::test {
namespace {

// Back and forth through checkpoints: the tracee's stops, the tracer's
// writes and a restarted syscall whose signal the tracer suppressed.
TEST(TracingProgram, TravelsThroughCheckpoints) {
  TempDir dir;
  for (const char* name : {"ptrace_syscalls", "ptrace_breakpoint", "ptrace_seize_exec"}) {
    std::string trace = dir.file(std::string(name) + ".ttdb");
    RunResult recorded = record(trace, {program(name)});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    long events = sql_count(trace, "select count(*) from events");
    std::string later = "goto event " + std::to_string(events * 2 / 3);
    std::string earlier = "goto event " + std::to_string(events / 3);
    // (The tracees' SIGSTOP and SIGTRAP would stop `continue`, as they stop gdb's.)
    RunResult r = ttdb({"replay", "--checkpoint-interval", "1", "--ex", "handle SIGSTOP nostop noprint", "--ex",
                        "handle SIGTRAP nostop noprint", "--ex", later, "--ex", "continue", "--ex", earlier, "--ex",
                        "continue", trace});
    EXPECT_EQ(r.err.find("diverged"), std::string::npos) << name << r.err;
    EXPECT_EQ(count_of(r.out, "[The program exited normally"), 2) << name << r.out << r.err;
  }
}

}  // namespace
}  // namespace ttdb::test

namespace ttdb::test {
namespace {

// Format 5 added the ptrace kind, format 6 the exec's vDSO treatment (its
// a5, 0 before): a trace of format 4 still replays. (A format-5 trace of the
// former recorder, whose vDSO was hidden, replays too: checked by hand, since
// a trace names the program by its absolute path.)
TEST(TraceFormat, ATraceOfTheFormerVersionStillReplays) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("fork_wait")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(sql_count(trace, "select value from meta where key = 'format_version'"), trace::kFormatVersion);
  trace_sql(trace, "UPDATE meta SET value = 4 WHERE key = 'format_version'");
  expect_same_run(recorded, replay(trace));
  RunResult info = ttdb({"info", trace});
  EXPECT_NE(info.out.find("format:    version 4"), std::string::npos) << info.out;
}

}  // namespace
}  // namespace ttdb::test

namespace ttdb::test {
namespace {

// Real tracers, recorded: gdb (forks followed, breakpoints written through
// /proc/PID/mem, SIGCHLD blocked while it waits) and strace -f (a syscall
// stop at every call of a shell and its children). Each prints in the
// recording what it prints natively, and replays as recorded.
void records_a_real_tracer(const std::vector<std::string>& command, bool as_native, const std::string& shows = "") {
  auto tool = installed_tool(command[0]);
  if (!tool) {
    GTEST_SKIP() << command[0] << " is not installed (scripts/bootstrap installs it)";
  }
  std::vector<std::string> argv = command;
  argv[0] = *tool;
  TempDir dir;
  RunResult native = run(argv);
  ASSERT_EQ(native.status, 0) << native.err;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, argv);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  if (as_native) {
    EXPECT_EQ(recorded.out + recorded.err, native.out + native.err);
  }
  EXPECT_NE(recorded.out.find(shows), std::string::npos) << recorded.out;
  expect_same_run(recorded, replay(trace));
}

TEST(RealTracer, GdbStopsAtBreakpointsAsItDoesNatively) {
  records_a_real_tracer({"gdb", "-nx", "-q", "-batch", "-ex", "break fact", "-ex", "run", "-ex", "bt", "-ex", "p n",
                         "-ex", "continue", "-ex", "p n", program("debug_recursion")},
                        true, "Breakpoint 1, fact (n=4)");
}

// strace's fault injection rewrites the call at its entry (orig_rax, with
// POKEUSER) and the result at its exit: the second open fails, recorded
// and replayed, as it does natively.
TEST(RealTracer, StraceInjectsAFaultAsItDoesNatively) {
  records_a_real_tracer({"strace", "-qq", "-o", "/dev/null", "-P", program("opens_itself"), "-e",
                         "inject=openat:error=ENOENT:when=2", program("opens_itself")},
                        true, "open 1: No such file or directory\nopen 2: opened\n");
}

TEST(RealTracer, StraceFollowsAShellsChildren) {
  records_a_real_tracer({"strace", "-f", "-qq", "-e", "trace=execve,exit_group", "-e", "signal=none", "sh", "-c",
                         "/bin/true; /bin/echo there"},
                        false);
}

}  // namespace
}  // namespace ttdb::test
