// The syscall buffer in replay: the calls the shim made while recording
// that change the process (memory mapped and protected, the heap's end, the
// signal mask) are made again by the shim, the thread running without
// syscall stops until the next event the replayer applies; the debugger
// still stops among them, and a call that returns otherwise is a divergence.
// Older shims' traces replay as they did.
#include <asm/unistd_64.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "shell_fixture.h"
#include "ttdb/trace/reader.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// How many of `call`'s events a replay_logged log says the shim made.
std::size_t made_in_process(const RunResult& replayed, const std::string& call) {
  return lines_matching(replayed.err, ": " + call + R"(\(.*made in-process\)$)").size();
}

// make's way of waiting: polls with WNOHANG, which the buffer makes, some
// of them reaping a child; replay gives each its pid and status back, and
// travels through them.
TEST(BufferReplay, PollsThatReapChildrenGiveBackTheirPidsAndStatuses) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("poll_children")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(count_of(recorded.out, "child " + std::to_string(i) + " exited " + std::to_string(10 + i) + "\n"), 1)
        << recorded.out;
  EXPECT_EQ(count_of(recorded.out, "none left: 1\n"), 1);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE buffered AND name = 'wait4' AND ret > 0"), 1);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE NOT buffered AND name = 'wait4'"), 0);
  expect_same_run(recorded, replay(trace));
  expect_round_trip(trace);
}

TEST(BufferReplay, CallsThatChangeTheProcessAreMadeInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("debug_made_again")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(lines_matching(recorded.out, "^sum [0-9a-f]+, handled 4, other tids 0$").size(), 1u) << recorded.out;
  for (const char* name : {"mmap", "mprotect", "munmap", "brk", "rt_sigprocmask", "set_tid_address"})
    EXPECT_GE(sql_count(trace, std::string("SELECT count(*) FROM syscalls WHERE buffered AND name = '") + name + "'"), 190)
        << name;
  expect_same_run(recorded, replay(trace));
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  // Each of them made by the shim, but the rt_sigprocmask that unblocked a
  // pending signal (its delivery is the replayer's to make) and the first
  // calls, before the program's libc was patched. set_tid_address gives
  // back the recorded thread id (expect_same_run: "other tids 0").
  for (const char* call : {"mmap", "mprotect", "munmap", "brk", "rt_sigprocmask", "set_tid_address"})
    EXPECT_GE(made_in_process(replayed, call), 190u) << call;
}

// In a process of several threads, each thread's run of calls to make is
// its own: the others wait their turn outside the shim.
TEST(BufferReplay, ThreadsMakeTheirCallsInsideTheBufferInTurn) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("threads_made_again")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(lines_matching(recorded.out, "^thread [01]: [0-9a-f]+$").size(), 2u) << recorded.out;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE buffered AND name = 'munmap'"), 190);
  expect_same_run(recorded, replay(trace));
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  EXPECT_GE(made_in_process(replayed, "munmap"), 190u) << replayed.err;
}

// 24 MiB read in buffered reads: the replayer reads the trace ahead in
// batches of at most 1 MiB of records (not 512 reads of 32 KiB), queues
// no more than the shim's buffer holds, and travels back and forth there.
TEST(BufferReplay, LargeBufferedReadsReplayAndTravel) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), file = dir.file("big");
  std::string text;
  for (int i = 0; text.size() < (24u << 20); ++i) text += std::to_string(i * 7919) + "\n";
  write_file(file, text);
  RunResult recorded = record_buffered(trace, {"/usr/bin/md5sum", file});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'read' AND buffered"), 700);
  expect_same_run(recorded, replay(trace));
  long middle = sql_count(trace, "SELECT max(event) FROM syscalls WHERE name = 'read'") / 2;
  RunResult shell = ttdb({"replay", "-ex", "goto event " + std::to_string(middle), "-ex", "goto event 40", "-ex",
                          "goto event " + std::to_string(middle + 100), "-ex", "continue", trace});
  EXPECT_EQ(shell.status, 0) << shell.err;
  EXPECT_EQ(shell.err.find("diverged"), std::string::npos) << shell.err;
  EXPECT_NE(shell.out.find(recorded.out), std::string::npos) << shell.out;
}

// A shell's programs map their libraries as the shell did: each view of a
// file the recording's shim made, replay's shim makes again from the
// descriptor replay keeps open for that file (inherited from the shell).
TEST(BufferReplay, ViewsOfFilesAreMappedAgainInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {"/bin/sh", "-c", "for i in $(seq 20); do /bin/true; done; echo done"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "done\n");
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  // libc's whole file, its read-only data and its data, and the loader's
  // cache, for each of the 20.
  auto made = lines_matching(replayed.err, R"(: mmap\(.*MAP_PRIVATE.*, [0-9]+, 0x[0-9a-f]+\) = 0x[0-9a-f]+ \(made in-process\)$)");
  EXPECT_GE(made.size(), 60u) << replayed.err;
}

// The debugger's stops among calls the shim makes, forward and back, see
// what gdb sees running the program.
class BufferReplayShellTest : public ShellTest {};

TEST_F(BufferReplayShellTest, TheDebuggerStopsAmongCallsMadeInsideTheBuffer) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = dir_.file("t.ttdb");
  ASSERT_EQ(record_buffered(trace, {program("debug_made_again")}).status, 0);
  RunResult ours = script(trace, joined({"handle SIGUSR1 nostop noprint", "break round_done", "continue 119", "print round", "print sum", "continue",
                                         "print round", "print sum", "reverse-continue", "print round", "print sum"}));
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "debug_made_again",
                               {"handle SIGUSR1 nostop noprint", "break round_done if round >= 118", "run", "print round", "print sum", "continue",
                                "print round", "print sum"});
  auto expected = printed_values(theirs.out);
  ASSERT_EQ(expected.size(), 4u) << theirs.out << theirs.err;
  EXPECT_EQ(expected[0], "118");
  expected.push_back(expected[0]);
  expected.push_back(expected[1]);
  EXPECT_EQ(printed_values(ours.out), expected) << ours.out;
}

TEST(BufferReplay, ACallMadeInsideTheBufferThatReturnsOtherwiseIsADivergence) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record_buffered(trace, {program("debug_made_again")}).status, 0);
  // The 100th mprotect the shim made failed in the recording.
  int seen = 0;
  std::int64_t changed = 0;
  edit_trace(trace, [&](trace::Event& e) {
    if (e.kind != trace::EventKind::syscall || e.nr != __NR_mprotect || !e.buffered || ++seen != 100) return false;
    e.ret = -ENOMEM;
    changed = e.id;
    return true;
  });
  ASSERT_NE(changed, 0);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 124);
  EXPECT_NE(replayed.err.find("replay diverged at event " + std::to_string(changed) + ": the recording has mprotect("),
            std::string::npos)
      << replayed.err;
  EXPECT_NE(replayed.err.find("= -1 ENOMEM (Cannot allocate memory), but the program got 0"), std::string::npos)
      << replayed.err;
}

// A replay that diverges while its thread runs free must not make a
// syscall unseen: a recorded read changed to an 'x' has the program make a
// write of its own, which syscall user dispatch stops before it runs.
TEST(BufferReplay, ASyscallTheRecordingDoesNotHaveDoesNotRunWhileRunningFree) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), file = dir.file("bytes");
  write_file(file, std::string(300, 'a'));
  RunResult recorded = record_buffered(trace, {program("free_run_escape"), file});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "300 reads\n");
  int seen = 0;
  std::int64_t changed = 0;
  edit_trace(trace, [&](trace::Event& e) {
    if (e.kind != trace::EventKind::syscall || e.nr != __NR_read || !e.buffered || e.ret != 1 || ++seen != 200)
      return false;
    e.mem.at(0).data = {'x'};
    changed = e.id;
    return true;
  });
  ASSERT_NE(changed, 0);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 124);
  EXPECT_EQ(replayed.out.find("ESCAPED"), std::string::npos) << replayed.out;
  EXPECT_NE(replayed.err.find("replay diverged at event " + std::to_string(changed + 2)), std::string::npos)
      << replayed.err;
  EXPECT_NE(replayed.err.find("but the program made syscall write at 0x"), std::string::npos) << replayed.err;
  EXPECT_NE(replayed.err.find(", which did not run"), std::string::npos) << replayed.err;
}

// A traced call replay emulates stops once, at its entry (PTRACE_SYSEMU:
// the kernel skips it), where replay gives its result; from there stepi
// goes one instruction on and back, and the process goes live from it.
class EmulatedCallShellTest : public ShellTest {};

TEST_F(EmulatedCallShellTest, SteppingAndGoingLiveRightAfterAnEmulatedCall) {
  std::string trace = recorded("debug_sleeps");
  long third = sql_count(trace, "SELECT event FROM syscalls WHERE name = 'clock_nanosleep' LIMIT 1 OFFSET 2");
  ASSERT_GT(third, 0);
  std::string there = "goto event " + std::to_string(third);
  RunResult steps = script(trace, joined({there, "print $pc", "print $rax", "x/2i $pc", "stepi", "print $pc",
                                          "reverse-stepi", "print $pc"}));
  ASSERT_EQ(steps.status, 0) << steps.err;
  auto values = printed_values(steps.out);
  ASSERT_EQ(values.size(), 4u) << steps.out;
  EXPECT_EQ(values[1], "0") << steps.out;  // its recorded result
  // The second line of x/2i is the instruction after the one at $pc.
  auto listed = lines_matching(steps.out, R"(^ +0x[0-9a-f]+ <)");
  ASSERT_FALSE(listed.empty()) << steps.out;
  std::string next = listed[0].substr(listed[0].find("0x"));
  next = next.substr(0, next.find(' '));
  EXPECT_EQ(values[2].substr(0, values[2].find(' ')), next) << steps.out;
  EXPECT_EQ(values[3], values[0]) << steps.out;
  RunResult live = ttdb({"replay", "-ex", there, "-ex", "go-live", trace});
  EXPECT_EQ(live.status, 0) << live.err;
  EXPECT_NE(live.out.find("slept 10\n"), std::string::npos) << live.out << live.err;
}

// Traces of version 7 replay as they did: recorded before the control
// block listed the files the shim may map (format 13: it ends before
// `mappable_count` and `mappable[64][5]`, shim_abi.h) or after (format 14
// and 15: it ends before version 8's `stop_to`, `made_differs` and
// `made_result`); one of another size is refused as malformed.
TEST(BufferReplay, ControlBlocksOfVersionSevenStillReplay) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("buffered_io"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // This ttdb's shim, said to be version 7, with a shorter control block.
  auto shorten_control = [&](std::size_t by) {
    trace::TraceReader reader(trace);  // (the block is a blob: its bytes from there)
    return edit_trace(trace, [&](trace::Event& e) {
      if (e.kind != trace::EventKind::patch || e.args[2] != 1 || e.mem.size() != 2) return false;
      trace::MemWrite& control = e.mem[1];
      if (control.blob) control.data = reader.blob(*std::exchange(control.blob, std::nullopt));
      control.data.resize(control.data.size() - by);
      control.size = control.data.size();
      e.args[3] = 7;
      return true;
    });
  };
  constexpr std::size_t kVersionEight = 4 * 8;
  constexpr std::size_t kMappableFiles = 8 + 64 * 5 * 8;
  ASSERT_GE(shorten_control(kVersionEight), 1);
  expect_same_run(recorded, replay(trace));
  ASSERT_GE(shorten_control(kMappableFiles), 1);
  expect_same_run(recorded, replay(trace));
  ASSERT_GE(shorten_control(8), 1);
  RunResult refused = replay(trace);
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("the syscall buffer's mapping at event 2 is malformed"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace ttdb::test
