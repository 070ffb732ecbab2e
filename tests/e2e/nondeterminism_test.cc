// Programs that see something different on every run: a replay must see what
// the recording saw (twice over), not what a fresh run sees.
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

struct Case {
  const char* program;
  int skip_status;  // the program exits with this when the machine cannot run it
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.program; }

class Nondeterminism : public ::testing::TestWithParam<Case> {};

TEST_P(Nondeterminism, ReplaysAgreeWithTheRecordingNotAFreshRun) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program(GetParam().program)});
  if (recorded.status == GetParam().skip_status) GTEST_SKIP() << recorded.out;
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_FALSE(recorded.out.empty());
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
  EXPECT_NE(run({program(GetParam().program)}).out, recorded.out);
}

INSTANTIATE_TEST_SUITE_P(Sources, Nondeterminism,
                         ::testing::Values(Case{"random_sources", -1}, Case{"clocks", -1},
                                           Case{"tsc", -1}, Case{"tsc_code", -1}, Case{"tsc_proc_mem", -1}, Case{"tsc_moved_code", -1}, Case{"rdrand", 77}, Case{"rdrand_mapped_by_another_thread", 77},
                                           Case{"stack_guard", -1}, Case{"pids", -1}),
                         [](const auto& test_info) { return std::string(test_info.param.program); });

TEST(Nondeterminism, RdrandIsEmulatedWhereTheProgramRunsIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("rdrand")});
  if (recorded.status == 77) GTEST_SKIP() << "no rdrand here";
  RunResult events = ttdb({"events", trace});
  EXPECT_NE(events.out.find("rdrand at 0x"), std::string::npos) << events.out;
}

TEST(Nondeterminism, EveryRdtscIsRecordedWhereverTheCodeCameFrom) {
  // tsc_code runs rdtsc in its own code, then in code it wrote (which makes
  // every thread trap rdtsc again): each is an event, at its own address.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("tsc_code")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  std::string events = ttdb({"events", trace}).out;
  std::size_t lines = 0;
  for (std::string_view what : {"inline rdtsc", "inline rdtscp", "thread rdtsc", "written then executable", "rewritten",
                                "writable and executable", "second view"})
    for (std::size_t at = recorded.out.find(what); at != std::string::npos; at = recorded.out.find(what, at + 1)) ++lines;
  std::size_t rdtsc_events = 0;
  for (std::size_t at = events.find("] rdtsc"); at != std::string::npos; at = events.find("] rdtsc", at + 1)) ++rdtsc_events;
  // (The dynamic loader's own rdtsc at start-up are events too.)
  EXPECT_GE(rdtsc_events, lines) << events;
  // And the same with rdtsc trapped everywhere, as before.
  std::string trapped = dir.file("trapped.ttdb");
  RunResult old_way = ttdb({"record", "-q", "--trap-rdtsc", "-o", trapped, program("tsc_code")});
  ASSERT_EQ(old_way.status, 0) << old_way.err;
  expect_same_run(old_way, replay(trapped));
}

TEST(Nondeterminism, ReplayHoldsTheRecordedBytesWhereRdtscIs) {
  // Recording puts int3 on the rdtsc sites its scan finds; replay puts it
  // on the same ones, so a program reading its own code there reads the
  // same bytes: its sum, computed again in replay, is the printed one.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("tsc_code_bytes")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  auto at = recorded.out.find("code sum ");
  ASSERT_NE(at, std::string::npos) << recorded.out;
  std::string sum = recorded.out.substr(at + 9, recorded.out.find('\n', at) - at - 9);
  RunResult shell = ttdb({"replay", "-ex", "break report", "-ex", "continue", "-ex", "print sum", trace});
  EXPECT_NE(shell.out.find("$1 = " + sum + "\n"), std::string::npos) << shell.out << shell.err;
  // And code written at run time, where rdtsc faults instead, travelled
  // over both ways (a checkpoint's threads are made anew, their fault too).
  std::string written = dir.file("written.ttdb");
  ASSERT_EQ(record(written, {program("tsc_code")}).status, 0);
  long last = sql_count(written, "SELECT max(id) FROM events");
  RunResult travelled = ttdb({"replay", "-ex", "goto event " + std::to_string(last), "-ex",
                              "goto event " + std::to_string(last * 2 / 3), "-ex", "goto event " + std::to_string(last), written});
  EXPECT_EQ(travelled.status, 0) << travelled.err;
  EXPECT_EQ(travelled.err.find("diverged"), std::string::npos) << travelled.err;
}

TEST(Nondeterminism, ClockReadsRunInTheVdsoAsNatively) {
  // clock_sandbox's seccomp filter refuses the clock syscalls: its clock
  // reads work only where they make none, natively and under ttdb alike.
  RunResult native = run({program("clock_sandbox")});
  ASSERT_EQ(native.status, 0) << native.err;
  auto line = [](const std::string& out, std::string_view start) {
    auto at = out.find(start);
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("clock_sandbox")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(line(recorded.out, "vDSO clock_gettime"), line(native.out, "vDSO clock_gettime")) << recorded.out;
  EXPECT_EQ(line(recorded.out, "clock_gettime syscall"), line(native.out, "clock_gettime syscall")) << recorded.out;
  expect_same_run(recorded, replay(trace));
}

}  // namespace
}  // namespace ttdb::test
