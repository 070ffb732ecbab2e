// Programs with threads: they run one at a time, switching at syscalls and
// when one spins, and replay reproduces the recorded interleaving exactly.
#include <filesystem>
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

struct RealProgram {
  const char* name;
  std::vector<std::string> command;
};

void PrintTo(const RealProgram& p, std::ostream* os) { *os << p.name; }

class RealThreadedPrograms : public ::testing::TestWithParam<RealProgram> {};

TEST_P(RealThreadedPrograms, ReplayIdentically) {
  const auto& param = GetParam();
  std::optional<std::string> tool;
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"})
    if (!tool && std::filesystem::exists(std::string(dir) + "/" + param.command[0])) tool = std::string(dir) + "/" + param.command[0];
  if (!tool) GTEST_SKIP() << param.command[0] << " is not installed";
  TempDir dir;
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
  expect_same_run(recorded, replay(trace));
}

INSTANTIATE_TEST_SUITE_P(
    Tools, RealThreadedPrograms,
    ::testing::Values(
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
