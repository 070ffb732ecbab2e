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
                                           Case{"tsc", -1}, Case{"rdrand", 77},
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

}  // namespace
}  // namespace ttdb::test
