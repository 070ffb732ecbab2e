// Command lines that used to succeed silently, or to change what they should
// only read: each is refused with one sentence and a failing status.
#include <filesystem>
#include <set>
#include <string>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

// `ttdb ARGS` run by sh, with its stdout redirected as `redirect` says (">&-", ">/dev/full").
RunResult with_stdout(const std::vector<std::string>& args, const std::string& redirect) {
  std::vector<std::string> argv{"sh", "-c", "exec \"$@\" " + redirect, "sh", ttdb_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

class CliBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(record(trace_, {program("pids")}).status, 0); }

  TempDir dir_;
  std::string trace_ = dir_.file("t.ttdb");
};

TEST_F(CliBadInputTest, SqlOnlyReadsAndRefusesWhatWouldWrite) {
  std::string before = read_file(trace_);
  auto files = files_in(dir_.path());
  for (const std::string& statement :
       {std::string("DELETE FROM meta"), std::string("DROP TABLE meta"), std::string("UPDATE meta SET value = 'x'"),
        "ATTACH '" + dir_.file("x.db") + "' AS p; CREATE TABLE p.x(a)", "VACUUM INTO '" + dir_.file("v.db") + "'",
        std::string("VACUUM"), std::string("PRAGMA user_version = 7"), std::string("PRAGMA journal_mode = WAL"),
        std::string("CREATE TEMP TABLE t(a)"), std::string("DELETE FROM events"), std::string("SELECT load_extension('x')"),
        std::string("SELECT 1; INSERT INTO trace.meta VALUES('k', 'v')"), std::string("ANALYZE"), std::string("PRAGMA optimize")}) {
    RunResult r = ttdb({"sql", statement, trace_});
    EXPECT_EQ(r.status, 2) << statement << "\n" << r.err;
    EXPECT_TRUE(r.err.starts_with("ttdb: refused to run \"")) << statement << "\n" << r.err;
    EXPECT_NE(r.err.find("the trace is read-only"), std::string::npos) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1) << r.err;
  }
  EXPECT_EQ(ttdb({"sql", "DELETE FROM meta", trace_}).err,
            "ttdb: refused to run \"DELETE FROM meta\": the trace is read-only, and ttdb sql only reads it; to change a "
            "trace, copy it and use sqlite3\n");
  EXPECT_TRUE(read_file(trace_) == before) << "the trace changed";
  EXPECT_EQ(files_in(dir_.path()), files) << "no file is created beside it";
  EXPECT_EQ(ttdb({"info", trace_}).status, 0);
  EXPECT_EQ(replay(trace_).status, 0);

  // Reading goes on as before: several statements, reading pragmas, a transaction.
  RunResult r = ttdb({"sql", "SELECT count(*) > 0 FROM events; SELECT 2", trace_});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\n2\n");
  r = ttdb({"sql", "BEGIN; PRAGMA table_info(meta); PRAGMA user_version; COMMIT", trace_});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("0|key|"), std::string::npos) << r.out;
  EXPECT_EQ(ttdb({"sql", "SELECT 1 +", trace_}).status, 1) << "bad SQL stays status 1";
}

TEST_F(CliBadInputTest, AScriptMustBeAFileOfCommands) {
  RunOptions options;
  options.timeout = std::chrono::seconds(30);
  RunResult directory = ttdb({"replay", "-x", dir_.path(), "--junit", dir_.file("j.xml"), trace_}, options);
  EXPECT_EQ(directory.status, 2);
  EXPECT_EQ(directory.err, "ttdb: the script " + dir_.path() + " is a directory; give -x a file of shell commands\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("j.xml")));

  RunResult device = ttdb({"replay", "-x", "/dev/zero", trace_}, options);
  EXPECT_EQ(device.status, 2);
  EXPECT_EQ(device.err, "ttdb: the script /dev/zero is not a regular file; give -x a file of shell commands\n");

  // A script of 17 MiB of one line.
  write_file(dir_.file("huge"), std::string(17 << 20, '#'));
  RunResult huge = ttdb({"replay", "-x", dir_.file("huge"), trace_}, options);
  EXPECT_EQ(huge.status, 2);
  EXPECT_EQ(huge.err, "ttdb: the script " + dir_.file("huge") + " is larger than 16 MiB; give -x a file of shell commands\n");

  // A pipe is still a script (-x <(...)).
  RunResult piped = run({"sh", "-c", "echo 'print 6 * 7' | \"$0\" replay -x /dev/stdin \"$1\"", ttdb_binary(), trace_});
  EXPECT_EQ(piped.status, 0) << piped.err;
  EXPECT_NE(piped.out.find("$1 = 42"), std::string::npos) << piped.out;
}

TEST_F(CliBadInputTest, OutputThatCannotBeWrittenIsAFailure) {
  RunResult closed = with_stdout({"replay", "--run", trace_}, ">&-");
  EXPECT_EQ(closed.status, 125);
  EXPECT_EQ(closed.err,
            "ttdb: cannot write to stdout (Bad file descriptor): the output is lost; check that stdout is open and its disk "
            "not full\n");
  RunResult full = with_stdout({"replay", "--run", trace_}, ">/dev/full");
  EXPECT_EQ(full.status, 125);
  EXPECT_NE(full.err.find("(No space left on device)"), std::string::npos) << full.err;
  RunResult info = with_stdout({"info", trace_}, ">&-");
  EXPECT_EQ(info.status, 1);
  EXPECT_NE(info.err.find("cannot write to stdout"), std::string::npos) << info.err;
  RunResult shell = with_stdout({"replay", "-ex", "print 1", trace_}, ">&-");
  EXPECT_EQ(shell.status, 125);
  EXPECT_NE(shell.err.find("cannot write to stdout"), std::string::npos) << shell.err;
  // Output to /dev/null is written, and the replay's status is the program's.
  EXPECT_EQ(with_stdout({"replay", "--run", trace_}, ">/dev/null").status, 0);
}

TEST_F(CliBadInputTest, EmptyOrOversizedOptionValuesAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::string usage = "; run 'ttdb --help' for usage\n";
  for (const Case& c : std::vector<Case>{
           {{"record", "-o", "", "--", program("pids")}, "ttdb: --output: the path is empty; name a file, or leave the option out" + usage},
           {{"info", ""}, "ttdb: trace: the path is empty; name a file, or leave the option out" + usage},
           {{"replay", "--run", ""}, "ttdb: trace: the path is empty; name a file, or leave the option out" + usage},
           {{"sql", "", trace_}, "ttdb: the SQL query is empty; give one or more statements\n"},
           {{"events", "--syscall", "", trace_}, "ttdb: --syscall: the syscall name is empty" + usage},
           {{"events", "--limit", "18446744073709551615", trace_},
            "ttdb: --limit: 18446744073709551615 is not a number from 0 to 9223372036854775807" + usage},
           {{"events", "--from", "99999999999999999999", trace_},
            "ttdb: --from: 99999999999999999999 is not a number from 1 to 9223372036854775807" + usage},
           {{"replay", "--checkpoint-interval", "18446744073709551615", "-ex", "print 1", trace_},
            "ttdb: --checkpoint-interval: 18446744073709551615 is not a number from 0 to 86400000" + usage},
           {{"replay", "--junit", dir_.file("j.xml"), trace_},
            "ttdb: --junit reports the asserts of a script: give it with -x FILE or -ex CMD\n"},
           {{"replay", "-ex", "print 1", "--junit", "", trace_}, "ttdb: --junit: the path is empty; name a file, or leave the option out" + usage},
       }) {
    RunOptions no_input;
    no_input.timeout = std::chrono::seconds(30);
    RunResult r = ttdb(c.args, no_input);
    EXPECT_EQ(r.status, 2) << c.args[0] << " " << c.args[1] << "\n" << r.err;
    EXPECT_EQ(r.err, c.error);
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("j.xml")));
}

TEST_F(CliBadInputTest, ATraceNamedWithAHugeNumberDoesNotStopTheNextRecording) {
  std::string traces = dir_.file("traces");
  std::filesystem::create_directory(traces);
  write_file(traces + "/pids-99999999999999999999.ttdb", "");
  write_file(traces + "/pids-7.ttdb", "");
  RunOptions options;
  options.extra_env = {"TTDB_TRACE_DIR=" + traces};
  RunResult r = ttdb({"record", "-q", "--", program("pids")}, options);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(traces + "/pids-8.ttdb"));
}

}  // namespace
}  // namespace ttdb::test
