// Programs with child processes: every process of the tree is recorded in one
// trace and replayed with its output, exit status and signals.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// Records COMMAND and replays it; the replay must be the recorded run.
RunResult record_and_replay(const std::vector<std::string>& command, const RunOptions& options = {}) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, command, options);
  expect_same_run(recorded, replay(trace));
  return recorded;
}

TEST(Processes, PsListsEveryProcessAndThreadWithItsParentStatusAndCommand) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {"sh", "-c", "/bin/echo hi; (exit 7); sh -c 'kill -9 $$'; exit 5"});
  ASSERT_EQ(recorded.status, 5) << recorded.err;
  long sh = sql_count(trace, "SELECT tid FROM events WHERE id = 1");
  std::vector<long> children;
  for (int i = 0; i < 3; ++i)
    children.push_back(sql_count(trace, "SELECT nr FROM events WHERE kind = 9 ORDER BY id LIMIT 1 OFFSET " + std::to_string(i)));
  RunResult ps = ttdb({"ps", trace});
  ASSERT_EQ(ps.status, 0) << ps.err;
  EXPECT_EQ(ps.out, fmt::format("PID\tPPID\tEXIT\tCMD\n"
                                "{0}\t--\t5\tsh -c \"/bin/echo hi; (exit 7); sh -c 'kill -9 $$'; exit 5\"\n"
                                "{1}\t{0}\t0\t/bin/echo hi\n"
                                "{2}\t{0}\t7\t(forked without exec)\n"
                                "{3}\t{0}\t-9\tsh -c \"kill -9 $$\"\n",
                                sh, children[0], children[1], children[2]));

  // Threads come under their process.
  std::string threads = dir.file("threads.ttdb");
  ASSERT_EQ(record(threads, {program("fork_thread")}).status, 0);
  RunResult listed = ttdb({"ps", threads});
  long parent = sql_count(threads, "SELECT tid FROM events WHERE id = 1");
  long thread = sql_count(threads, "SELECT nr FROM events WHERE kind = 9 ORDER BY id LIMIT 1");
  EXPECT_NE(listed.out.find(fmt::format("\n{0}\t{1}\t0\t(thread of {1})\n", thread, parent)), std::string::npos) << listed.out;
  for (int code : {10, 11, 12})
    EXPECT_NE(listed.out.find(fmt::format("\t{}\t{}\t(forked without exec)\n", parent, code)), std::string::npos) << listed.out;
}

TEST(Processes, ForkAndWait) {
  RunResult run = record_and_replay({program("fork_wait")});
  ASSERT_EQ(run.status, 0) << run.err;
  // Each child printed its own pid, random number and time; the parent saw
  // each exit status.
  EXPECT_EQ(lines_matching(run.out, "child \\d: pid \\d+, parent \\d+, random [0-9a-f]{8}").size(), 3u) << run.out;
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(run.out.find("child " + std::to_string(i) + " ("), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exited with 12"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exited with 10"), std::string::npos) << run.out;
}

TEST(Processes, ExecChainThroughForkVforkAndPosixSpawn) {
  RunResult run = record_and_replay({program("exec_chain")});
  EXPECT_EQ(run.status, 5) << run.err;  // the first link's depth
  EXPECT_EQ(lines_matching(run.out, "link \\d: pid \\d+, random [0-9a-f]{8}").size(), 5u) << run.out;
  EXPECT_NE(run.out.find("the end of the chain\n"), std::string::npos) << run.out;
  // Every link that started a child saw its status: depth 1 (fork), 2 (vfork), 3 (posix_spawn)...
  for (int depth : {1, 2, 3, 5})
    EXPECT_NE(run.out.find("link " + std::to_string(depth) + ": child "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exited with 2\n"), std::string::npos) << run.out;
}

TEST(Processes, PipeBetweenParentAndChild) {
  RunResult run = record_and_replay({program("pipe_child")});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(lines_matching(run.out, "round \\d+: sum \\d+").size(), 4u) << run.out;
  EXPECT_EQ(lines_matching(run.out, "total \\d+").size(), 1u) << run.out;
}

TEST(Processes, SignalsBetweenProcesses) {
  RunResult run = record_and_replay({program("kill_child")});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(lines_matching(run.out, "^parent: child \\d+ is ready$").size(), 1u) << run.out;
  EXPECT_EQ(lines_matching(run.out, "^child \\d+: woken by its parent$").size(), 1u) << run.out;
  EXPECT_NE(run.out.find("parent: child exited with 3\n"), std::string::npos) << run.out;
  EXPECT_EQ(lines_matching(run.out, "^parent: child \\d+ was killed by signal 9$").size(), 1u) << run.out;
}

TEST(Processes, AnotherProcessesSignalNextAfterAWaitUnderAMask) {
  // A call that waits under a mask of its own (pselect6) is replayed in
  // rt_sigsuspend when the recording's next event is a signal at a
  // boundary, sent to it first. When that signal was another process's
  // (make -j2's jobserver pselect6, then a shell's SIGCHLD), the waiting
  // process got a SIGCHLD the recording never gave it. The program's main
  // process returns from pselect6 as its grandchild writes and ends, while
  // the child gets its SIGCHLD: the trace is made to put the two
  // back to back, as a recording may (the events in between are neither's).
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // The two processes run at once: a recording where the child's SIGCHLD
  // came first (now and then, on a busy machine) is made again.
  RunResult recorded;
  long wait = 0, signal = 0;
  bool usable = false;
  for (int attempt = 0; attempt < 5 && !usable; ++attempt) {
    std::filesystem::remove(trace);
    recorded = record(trace, {program("sigchld_beside_pselect")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    wait = sql_count(trace, "SELECT coalesce(min(id), 0) FROM events WHERE kind = 2 AND nr = 270");
    ASSERT_GT(wait, 0);
    signal = sql_count(trace, fmt::format("SELECT coalesce(min(id), 0) FROM events WHERE kind = 3 AND nr = 17 AND id > {} "
                                          "AND tid != (SELECT tid FROM events WHERE id = {})", wait, wait));
    usable = signal > wait && sql_count(trace, fmt::format("SELECT count(*) FROM events WHERE id > {} AND id < {} AND "
                                                           "tid = (SELECT tid FROM events WHERE id = {})",
                                                           wait, signal, wait)) == 0;
  }
  ASSERT_TRUE(usable) << "in five recordings, the child's SIGCHLD never came next after the pselect6";
  // The pselect6 moves to just before the signal; what was between moves up.
  std::vector<trace::Event> span;
  edit_trace(trace, [&](trace::Event& e) {
    if (e.id >= wait && e.id < signal) span.push_back(e);
    return false;
  });
  std::rotate(span.begin(), span.begin() + 1, span.end());
  edit_trace(trace, [&](trace::Event& e) {
    if (e.id < wait || e.id >= signal) return false;
    std::int64_t id = e.id;
    e = span[static_cast<std::size_t>(id - wait)];
    e.id = id;
    return true;
  });
  ASSERT_EQ(sql_count(trace, fmt::format("SELECT nr FROM events WHERE id = {}", signal - 1)), 270);
  expect_same_run(recorded, replay(trace));
}

TEST(Processes, OutputKeepsTheRecordedOrderAcrossProcesses) {
  // Children and parent write to the same stdout: replay prints their lines
  // in the recorded order, every time.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("fork_wait")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  for (int i = 0; i < 3; ++i) expect_same_run(recorded, replay(trace));
}

TEST(Processes, EventsNameTheProcessThatMadeThem) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("fork_wait")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  RunResult events = ttdb({"events", trace});
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(lines_matching(events.out, "\\+\\+\\+ new process \\d+ \\+\\+\\+").size(), 3u) << events.out;
  EXPECT_EQ(lines_matching(events.out, "\\+\\+\\+ exited with 1[012] \\+\\+\\+").size(), 3u) << events.out;
}

// Real programs with children or threads, recorded and replayed byte for byte.
struct RealProgram {
  const char* name;
  std::vector<std::string> command;
};

void PrintTo(const RealProgram& p, std::ostream* os) { *os << p.name; }

class RealProcessTrees : public ::testing::TestWithParam<RealProgram> {};

TEST_P(RealProcessTrees, ReplayIdentically) {
  const auto& param = GetParam();
  auto tool = installed_tool(param.command[0]);
  if (!tool) GTEST_SKIP() << param.command[0] << " is not installed";
  TempDir dir;
  // make builds in its directory: a Makefile with three targets, built two at a time.
  write_file(dir.file("Makefile"),
             "all: a.txt b.txt c.txt\n\t@cat a.txt b.txt c.txt\n%.txt:\n\t@echo \"made $@ $$RANDOM\" > $@\n");
  // cc compiles this: the driver runs cc1 and hands its assembly back.
  write_file(dir.file("square.c"), "int square(int x) { return x * x; }\n");
  // sort and xz (with threads) take these.
  std::string numbers;
  for (int i = 0; i < 100000; ++i) numbers += std::to_string(i * 7919 % 100003) + "\n";
  write_file(dir.file("numbers"), numbers);
  std::vector<std::string> command = param.command;
  command[0] = *tool;
  for (auto& arg : command) arg = std::regex_replace(arg, std::regex("DIR"), dir.path());
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, command);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_FALSE(recorded.out.empty());
  // Replay makes no files: the recorded results come back instead.
  for (const char* made : {"a.txt", "b.txt", "c.txt"}) std::filesystem::remove(dir.file(made));
  expect_same_run(recorded, replay(trace));
  ASSERT_NO_FATAL_FAILURE(expect_round_trip(trace));
}

INSTANTIATE_TEST_SUITE_P(
    Tools, RealProcessTrees,
    ::testing::Values(
        RealProgram{"sh_pipeline", {"sh", "-c", "for i in 1 2 3; do echo $i; done | tac"}},
        RealProgram{"make_j2", {"make", "-j2", "-C", "DIR", "SHELL=/bin/bash"}},
        RealProgram{"cc", {"cc", "-O2", "-S", "-o", "-", "DIR/square.c"}},
        RealProgram{"find_exec", {"find", "/usr/share/doc/bash", "-type", "f", "-exec", "md5sum", "{}", "+"}},
        RealProgram{"python3_subprocess",
                    {"python3", "-c",
                     "import random, subprocess\n"
                     "print(random.random())\n"
                     "print(subprocess.run(['echo', 'from a child'], capture_output=True).stdout)\n"
                     "print(subprocess.check_output('ls /usr | head -3', shell=True))\n"}},
        // With threads: they take turns, and replay keeps the recorded schedule.
        RealProgram{"sort_parallel", {"sort", "--parallel=2", "-R", "DIR/numbers"}},
        RealProgram{"xz_T2", {"xz", "-T2", "-c", "DIR/numbers"}},
        RealProgram{"python3_threads",
                    {"python3", "-c",
                     "import random, subprocess, threading, time\n"
                     "results = {}\n"
                     "def work(i):\n"
                     "    results[i] = sum(random.random() for _ in range(20000)) + time.time() % 1\n"
                     "threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]\n"
                     "for t in threads: t.start()\n"
                     "for t in threads: t.join()\n"
                     "print(sorted(results.items()))\n"
                     "print(subprocess.check_output(['echo', 'from a child']))\n"}},
        RealProgram{"node", {"node", "-e", "console.log(Math.random(), Date.now())"}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace ttdb::test
