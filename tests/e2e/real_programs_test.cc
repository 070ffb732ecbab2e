// Real programs, recorded and replayed: their output must come back byte for byte.
#include <filesystem>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

struct RealProgram {
  const char* name;
  std::vector<std::string> command;
  std::string stdin_data;
};

void PrintTo(const RealProgram& p, std::ostream* os) { *os << p.name; }

class RealPrograms : public ::testing::TestWithParam<RealProgram> {};

TEST_P(RealPrograms, ReplayIdentically) {
  const auto& param = GetParam();
  if (!std::filesystem::exists("/usr/bin/" + param.command[0]) && !std::filesystem::exists("/bin/" + param.command[0]))
    GTEST_SKIP() << param.command[0] << " is not installed";
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunOptions options;
  options.stdin_data = param.stdin_data;
  RunResult recorded = record(trace, param.command, options);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_FALSE(recorded.out.empty());
  expect_same_run(recorded, replay(trace));
}

INSTANTIATE_TEST_SUITE_P(
    Tools, RealPrograms,
    ::testing::Values(
        RealProgram{"ls", {"ls", "-la", "/usr/share/doc"}, ""},
        RealProgram{"gzip", {"gzip", "-c", TTDB_BINARY}, ""},
        RealProgram{"date", {"date", "+%s.%N"}, ""},
        RealProgram{"od", {"od", "-N", "256", "-x", "/dev/urandom"}, ""},
        RealProgram{"awk", {"awk", "BEGIN { srand(); print rand(), rand(), srand() }"}, ""},
        RealProgram{"perl", {"perl", "-e", "print rand(), \" \", time, \"\\n\""}, ""},
        RealProgram{"sqlite3", {"sqlite3", ":memory:", "select random(), random();"}, ""},
        RealProgram{"bc", {"bc", "-l"}, "scale=50\n4*a(1)\nsqrt(2)\n"},
        RealProgram{"tar", {"tar", "-cf", "-", "/usr/share/doc/bash"}, ""}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace ttdb::test
