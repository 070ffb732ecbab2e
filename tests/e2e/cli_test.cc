// The command line as a user meets it.
#include <filesystem>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST(Cli, HelpForEveryCommand) {
  for (std::string command : {"record", "replay", "serve", "info", "ps", "pack", "events", "sql"}) {
    RunResult help = ttdb({command, "--help"});
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find("Usage: ttdb " + command), std::string::npos) << help.out;
  }
  EXPECT_EQ(ttdb({"--help"}).status, 0);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"record"}, {"record", "--bogus", "ls"}, {"events", "x.ttdb", "--limit", "lots"},
           {"replay", "--run", "a", "b"}}) {
    RunResult result = ttdb(args);
    EXPECT_EQ(result.status, 2) << result.err;
    EXPECT_EQ(result.err.rfind("ttdb: ", 0), 0u) << result.err;
  }
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record(trace, {program("pids")}).status, 0);
  RunResult unknown = ttdb({"events", trace, "--syscall", "no_such_call"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.err, "ttdb: there is no syscall named 'no_such_call'\n");
}

TEST(Cli, ProgramArgumentsAreNotTtdbOptions) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = ttdb({"record", "-q", "-o", trace, "/bin/echo", "-n", "-o", "--", "x"});
  EXPECT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "-o -- x");
}

TEST(Cli, DefaultTraceDirectoryAndLatest) {
  TempDir dir;
  RunOptions env;
  env.extra_env = {"TTDB_TRACE_DIR=" + dir.path()};
  RunResult first = ttdb({"record", program("pids")}, env);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.err, "ttdb: trace of " + first.err.substr(15, first.err.find(' ', 15) - 15) +
                           " events written to " + dir.file("pids-1.ttdb") + "\n");
  RunResult second = ttdb({"record", program("pids")}, env);
  ASSERT_EQ(second.status, 0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("pids-2.ttdb")));
  EXPECT_EQ(std::filesystem::read_symlink(dir.file("latest")), "pids-2.ttdb");
  // replay and info default to the latest recording.
  EXPECT_EQ(ttdb({"replay", "--run"}, env).out, second.out);
  EXPECT_NE(ttdb({"info"}, env).out.find("pids-2.ttdb"), std::string::npos);

  RunOptions xdg;
  xdg.extra_env = {"TTDB_TRACE_DIR=", "XDG_DATA_HOME=" + dir.path() + "/xdg"};
  ASSERT_EQ(ttdb({"record", "-q", program("pids")}, xdg).status, 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/xdg/ttdb/pids-1.ttdb"));
}

TEST(Cli, InfoAndEvents) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string data = dir.file("data.txt");
  write_file(data, "hello");
  ASSERT_EQ(record(trace, {program("mapped_file"), data}).status, 0);
  RunResult info = ttdb({"info", trace});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("program:   " + program("mapped_file")), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("argv:      " + program("mapped_file") + " " + data), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("finished:  yes, the program exited with status 0"), std::string::npos) << info.out;

  RunResult opens = ttdb({"events", trace, "--syscall", "openat"});
  EXPECT_EQ(opens.status, 0);
  EXPECT_NE(opens.out.find("openat(AT_FDCWD, \"" + data + "\", O_RDONLY, 0) = 3"), std::string::npos) << opens.out;
  RunResult writes = ttdb({"events", trace, "--syscall", "write"});
  EXPECT_NE(writes.out.find("write(1, \"hello\\n5 bytes, sum 532\\n\", 23) = 23"), std::string::npos) << writes.out;

  RunResult two = ttdb({"events", trace, "--from", "2", "--limit", "2"});
  EXPECT_EQ(two.out.substr(0, 8), "     2  ");
  EXPECT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 2);
  RunResult all = ttdb({"events", trace});
  EXPECT_EQ(all.out.substr(0, 16), "     1  exec \"" + program("mapped_file").substr(0, 2));
  EXPECT_NE(all.out.find("+++ exited with 0 +++"), std::string::npos);
}

TEST(Cli, InfoCountsProcessesAndThreadsApart) {
  TempDir dir;
  // One process whose first thread starts three others.
  std::string threads = dir.file("threads.ttdb");
  ASSERT_EQ(record(threads, {program("debug_threads_joined")}).status, 0);
  RunResult info = ttdb({"info", threads});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("\nprocesses: 1\nthreads:   4\n"), std::string::npos) << info.out;
  // Three children of one thread each.
  std::string children = dir.file("children.ttdb");
  ASSERT_EQ(record(children, {program("fork_wait")}).status, 0);
  info = ttdb({"info", children});
  EXPECT_NE(info.out.find("\nprocesses: 4\nthreads:   4\n"), std::string::npos) << info.out;
  // One of each.
  std::string one = dir.file("one.ttdb");
  ASSERT_EQ(record(one, {program("pids")}).status, 0);
  info = ttdb({"info", one});
  EXPECT_EQ(info.out.find("processes:"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("threads:"), std::string::npos) << info.out;
}

// A replay longer than a second shows how far it is on stderr, when that is
// a terminal (script(1) gives it one), and erases the line when it is done.
// Its events must come without a pause for more than a second: 1600
// processes (800 replayed in 1.0 s here, once short programs started
// without the syscall buffer: at the line's threshold).
TEST(Cli, LongReplayShowsItsProgressOnATerminalOnly) {
  auto script = installed_tool("script");
  ASSERT_TRUE(script) << "script(1) (bsdutils) gives the replay a terminal";
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {"sh", "-c", "i=0; while [ $i -lt 1600 ]; do /bin/true; i=$((i+1)); done; echo end"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  long events = sql_count(trace, "SELECT max(last) FROM chunks");
  RunResult piped = replay(trace);
  expect_same_run(recorded, piped);
  EXPECT_EQ(piped.err, "");

  RunResult shown = run({*script, "-qec", ttdb_binary() + " replay --run " + trace, "/dev/null"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  std::string shape = " of " + std::to_string(events) + " (";
  std::size_t last = shown.out.rfind("\rttdb: replaying event ");
  ASSERT_NE(last, std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(shape, last), std::string::npos) << shown.out;
  // The last one is erased, and the program's output is whole.
  EXPECT_NE(shown.out.find("\r\x1b[K", last), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("end\r\n"), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace ttdb::test
