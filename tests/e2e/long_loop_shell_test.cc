// The shell deep inside a loop without syscalls: where gdb can follow the
// same program (its `record full`, on a loop short enough for it), ttdb
// lands on the same instructions and values, both ways.
#include <gtest/gtest.h>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// The values of `$N = ...` lines, without the type gdb and ttdb spell
// differently ("(void (*)())" and "(void (*)(void))").
std::vector<std::string> values(const std::string& out) {
  std::vector<std::string> found;
  for (std::string line : lines_matching(out, R"(^\$[0-9]+ = )")) {
    line = line.substr(line.find('=') + 2);
    std::size_t depth = 0, end = 0;
    for (; end < line.size() && line.starts_with("("); ++end) {
      depth += line[end] == '(';
      depth -= line[end] == ')';
      if (depth == 0) {
        line = line.substr(end + 2);  // the type and the space after it
        break;
      }
    }
    found.push_back(line);
  }
  return found;
}

TEST_F(ShellTest, ReverseStepiOutOfALongStretchLandsWhereGdbDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  // 4000 rounds, the write on round 3000: 25,000 instructions after the
  // stretch's last event, more than ttdb single-steps before it counts.
  std::string trace = recorded("long_loop", {"4000"});
  const std::string motions =
      "print $pc\nreverse-stepi\nprint $pc\nreverse-stepi\nprint $pc\nreverse-stepi\nprint $pc\nprint i\n"
      "reverse-stepi 20\nprint $pc\nprint i\nprint sum\nstepi 23\nprint $pc\n";
  RunResult ours = script(trace, "watch marker\ncontinue\n" + motions);
  ASSERT_EQ(ours.status, 0) << ours.err;

  // gdb records from the loop on (its recorder stops at the AVX-512 string
  // functions printf uses).
  std::vector<std::string> args{"-nx", "-batch", "-ex", "break long_loop.c:17", "-ex", "run 4000", "-ex", "delete 1",
                                "-ex", "record full", "-ex", "watch marker", "-ex", "continue"};
  std::istringstream lines(motions);
  for (std::string line; std::getline(lines, line);) {
    args.push_back("-ex");
    args.push_back(line);
  }
  args.push_back(program("long_loop"));
  args.insert(args.begin(), *gdb);
  RunResult theirs = run(args);
  auto expected = values(theirs.out);
  ASSERT_EQ(expected.size(), 9u) << theirs.out << theirs.err;
  EXPECT_EQ(values(ours.out), expected) << ours.out;
}

}  // namespace
}  // namespace ttdb::test
