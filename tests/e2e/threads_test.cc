// Programs with threads: they run one at a time, switching at syscalls and
// when one spins, and replay reproduces the recorded interleaving exactly.
#include <asm/unistd_64.h>

#include <regex>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// Records COMMAND, then replays it `replays` times: each replay must be the recorded run.
RunResult record_and_replay(const std::vector<std::string>& command, int replays = 1) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, command);
  for (int i = 0; i < replays; ++i) expect_same_run(recorded, replay(trace));
  return recorded;
}

// Records and replays COMMAND `times` times, each a new recording (where the
// threads' turns end differs from one to the next): each prints `expected`.
void expect_each_recording_prints(const std::vector<std::string>& command, int times, const std::string& expected) {
  for (int i = 0; i < times; ++i) {
    RunResult run = record_and_replay(command);
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, expected);
  }
}

// Thread ids that wrap around pid_max, in a pid namespace of the test's own
// whose pid_max is 1000: the first thread is 998 or so, its later threads
// 300 and 301. Going back ends the replay's threads and takes a checkpoint's;
// the first thread's end, which the kernel reports only after the others
// are reaped, must come last, whatever its tid.
TEST(Threads, TidsThatWrapAroundPidMaxGoBackward) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = run({"unshare", "-pf", "--mount-proc", "sh", "-c",
                            "echo 1000 > /proc/sys/kernel/pid_max && echo 995 > /proc/sys/kernel/ns_last_pid && "
                            "exec \"$0\" record -q -o \"$1\" \"$2\"",
                            ttdb_binary(), trace, program("debug_threads_joined")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  long first = sql_count(trace, "SELECT tid FROM events WHERE id = 1");
  long last = sql_count(trace, "SELECT max(nr) FROM events WHERE kind = 9 AND nr < 900");
  ASSERT_GT(first, last) << "the tids did not wrap around";
  RunOptions bounded;
  bounded.timeout = std::chrono::seconds(60);
  RunResult back = ttdb({"replay", "-ex", "break work", "-ex", "continue", "-ex", "continue", "-ex", "reverse-continue",
                         "-ex", "print *(int*)arg", trace}, bounded);
  EXPECT_EQ(back.status, 0) << back.err;
  EXPECT_NE(back.out.find("$1 = 1"), std::string::npos) << back.out;
}

// A new thread's first code comes after its creator's clone returns, in
// every recording, whichever of their stops the kernel reported first
// (going live at the thread's first line found its creator still inside
// the clone about one recording in ten, under the sanitizers).
TEST(Threads, ANewThreadRunsAfterItsCreatorsCloneReturns) {
  for (int i = 0; i < 10; ++i) {
    TempDir dir;
    std::string trace = dir.file("t.ttdb");
    ASSERT_EQ(record(trace, {program("threads")}).status, 0);
    ASSERT_EQ(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 9 AND (a0 & 65536) != 0"), 1);
    EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM events s WHERE s.kind = 9 AND (s.a0 & 65536) != 0 AND "
                               "(SELECT min(id) FROM events c WHERE c.tid = s.nr) < "
                               "(SELECT min(id) FROM events p WHERE p.tid = s.tid AND p.kind = 2 AND p.id > s.id)"),
              0)
        << "recording " << i;
  }
}

TEST(Threads, MutexAndConditionVariables) {
  RunResult run = record_and_replay({program("threads_sync")});
  ASSERT_EQ(run.status, 0) << run.err;
  std::regex consumer("consumer (\\d): (\\d+) items, sum (\\d+)\n");
  int consumers = 0;
  long items = 0;
  for (std::sregex_iterator it(run.out.begin(), run.out.end(), consumer), end; it != end; ++it) {
    ++consumers;
    items += std::stol((*it)[2]);
  }
  EXPECT_EQ(consumers, 3) << run.out;
  EXPECT_EQ(items, 2000) << run.out;
  EXPECT_NE(run.out.find("produced 2000 items"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("consumed 2000\n"), std::string::npos) << run.out;
}

TEST(Threads, WhileLibcsSitesAreStillBeingFound) {
  // With an empty site cache, libc's syscall sites are found in the
  // background and would be patched once the consumers wait in futex calls
  // at some of them: they would come back into rewritten bytes.
  for (int i = 0; i < 3; ++i) {
    TempDir dir;
    RunOptions cold;
    cold.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
    std::string trace = dir.file("t.ttdb");
    RunResult recorded = record(trace, {program("threads_sync")}, cold);
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_NE(recorded.out.find("consumed 2000\n"), std::string::npos) << recorded.out;
    expect_same_run(recorded, replay(trace));
  }
}

TEST(Threads, ASpinningThreadLetsTheOthersRun) {
  // The main thread holds a spin lock through a long computation while the
  // other spins for it without a syscall: only a preempted spinner lets the
  // holder finish.
  RunResult run = record_and_replay({program("spin_lock")});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("counter 200000 (expected 200000)"), std::string::npos) << run.out;
}

TEST(Threads, ADataRaceReplaysAsRecorded) {
  // Lost increments depend on where each thread was stopped: the replays
  // print the recorded count, every time.
  RunResult run = record_and_replay({program("data_race")}, 3);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("^counter \\d+ of 40000000\n$"))) << run.out;
}

TEST(Threads, AThreadThenAChildProcess) {
  // A thread, then posix_spawn: a vfork child in the memory the threads share.
  RunResult run = record_and_replay({program("threads")});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "before the thread\nin the thread\nafter the thread\nfrom a child\nchild exited with 0\n");
}

TEST(Threads, AForkWhileAnotherThreadHasTheTurn) {
  // The child is a process of its own: it does not wait for a turn that
  // belongs to its parent's threads (it did, and the recording hung).
  expect_each_recording_prints({program("fork_thread")}, 3,
                               "child 0 runs\nchild 0 exited with 10\nchild 1 runs\nchild 1 exited with 11\n"
                               "child 2 runs\nchild 2 exited with 12\n");
}

TEST(Threads, AnExecOfAVforkChildThatAnotherThreadOvertook) {
  // posix_spawn's child waits at its execve while the parent's other thread
  // runs on: replay parks it there, and its exec event takes it on.
  expect_each_recording_prints({program("fork_thread"), "spawn"}, 2,
                               "child 0 runs\nchild 0 exited with 0\nchild 1 runs\nchild 1 exited with 0\n"
                               "child 2 runs\nchild 2 exited with 0\n");
}

TEST(Threads, SignalsForksAndMappingsAmongBusyThreads) {
  for (int i = 0; i < 3; ++i) {
    TempDir dir;
    std::string trace = dir.file("t.ttdb");
    RunResult recorded = record(trace, {program("threads_mix")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_NE(recorded.out.find("round 19: y\ncos(0.5) = 0.877583\nthe timer fired: yes\n"), std::string::npos)
        << recorded.out;
    expect_same_run(recorded, replay(trace));
    ASSERT_NO_FATAL_FAILURE(expect_round_trip(trace));
  }
}

TEST(Threads, AWaitASignalInterruptsWhileAnotherThreadRuns) {
  // The interrupted read's result waits for its signal; its entry goes into
  // the trace in its place, before the other thread's code that followed it.
  expect_each_recording_prints({program("interrupted_wait")}, 2, "read: interrupted\nwork 31999996000000\n");
}

TEST(Threads, TheFirstThreadLeavesFirst) {
  // It kept the turn while it ended, and its end waits for the others': the
  // recording hung.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunOptions patient;
  patient.timeout = std::chrono::seconds(30);
  RunResult recorded = record(trace, {program("main_exits")}, patient);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "main leaves\nworker: 100 calls\n");
  expect_same_run(recorded, replay(trace));
  ASSERT_NO_FATAL_FAILURE(expect_round_trip(trace));
}

TEST(Threads, SiblingsCallsThatAnExitGroupCutShort) {
  // A sibling's call the kernel finished as the exit_group's kill came has a
  // result in the recording, while in replay the kill may come first. The
  // reader thread waits on an empty pipe when the main thread exits: its
  // read, ended by the kill, is given a result, as such a race gives it (a
  // recording without the buffer has a few of those of its own).
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = ttdb({"record", "-q", "-n", "-o", trace, program("exit_amid_syscalls")});
  ASSERT_EQ(recorded.status, 7) << recorded.err;
  long exit_group = sql_count(trace, "SELECT max(id) FROM events WHERE kind = (SELECT id FROM kinds WHERE name = 'syscall') AND nr = 231");
  int finished = edit_trace(trace, [&](trace::Event& e) {
    if (e.id <= exit_group || e.kind != trace::EventKind::syscall || e.nr != __NR_read || e.ret) return false;
    e.ret = 1;
    return true;
  });
  ASSERT_EQ(sql_count(trace, "SELECT count(*) FROM events WHERE nr = 0 AND ret IS NOT NULL AND id > " + std::to_string(exit_group)), 1)
      << finished;
  for (int i = 0; i < 2; ++i) expect_same_run(recorded, replay(trace));
  // Across it both ways, in the shell.
  long last = sql_count(trace, "SELECT max(id) FROM events");
  RunResult travelled = ttdb({"replay", "-ex", "goto event " + std::to_string(last), "-ex",
                              "goto event " + std::to_string(exit_group - 1), "-ex", "goto event " + std::to_string(last), trace});
  EXPECT_EQ(travelled.status, 0) << travelled.err;
  EXPECT_EQ(travelled.err.find("diverged"), std::string::npos) << travelled.err;
}

TEST(Threads, ARobustMutexHeldByAThreadThatEnds) {
  // The kernel marks the mutex's owner dead by its tid, and the replayed
  // thread's tid is not the recorded one: ttdb marks it instead.
  RunResult run = record_and_replay({program("thread_state")});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "worker: 400 rounds, altstack ours 65536 bytes, SIGUSR1 blocked, SIGWINCH blocked\n"
            "joined; the mutex's owner died\n");
}

TEST(Threads, TheirSyscallsGoThroughTheBufferBetweenPreemptions) {
  // Three threads make their syscalls in the buffer (no stop) and race on a
  // counter; each is preempted mid-race, often right after a buffered call.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // 200 ms of additions per thread: a turn lasts longer than the 20 ms slice
  // however fast the machine (30,000 additions a round made it a close call,
  // and 100,000 gave a single preemption now and then on two busy cores).
  RunResult recorded = record(trace, {program("threads_buffered"), dir.path(), "1000", "200000"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_TRUE(std::regex_search(recorded.out, std::regex("counter \\d+ of 600000000\n$"))) << recorded.out;
  std::string main_tid = "(SELECT tid FROM events WHERE id = 1)";
  EXPECT_EQ(sql_count(trace, "SELECT count(DISTINCT tid) FROM events WHERE buffered AND tid != " + main_tid), 3);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE buffered AND tid != " + main_tid), 2900);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 7"), 2) << "preemptions";
  for (int i = 0; i < 2; ++i) expect_same_run(recorded, replay(trace));
}

TEST(Threads, PreemptedInTheVdsosClockCodeTheShimRunsTheyGoOn) {
  // Two threads read the clock most of the time, through the vDSO's code,
  // which the shim calls inside a call of its own, on its one stack:
  // preempting one there and letting the other in took that stack from
  // under it (one recording in six died of SIGSEGV: eight of them find it
  // three times in four).
  TempDir dir;
  for (int i = 0; i < 8; ++i) {
    std::string trace = dir.file("t" + std::to_string(i) + ".ttdb");
    RunResult recorded = record(trace, {program("threads_clock_reads")});
    ASSERT_EQ(recorded.status, 0) << "recording " << i << ": " << recorded.err;
    EXPECT_EQ(recorded.out, "1\n");
    if (i == 0) expect_same_run(recorded, replay(trace));
  }
}

// The real programs with threads (sort, xz, python3, node) are in processes_test.cc.

}  // namespace
}  // namespace ttdb::test
