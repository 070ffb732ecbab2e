// The shell deep inside a loop without syscalls: where gdb can follow the
// same program (its `record full`, on a loop short enough for it), ttdb
// lands on the same instructions and values, both ways.
#include <gtest/gtest.h>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

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
  auto expected = printed_values(theirs.out);
  ASSERT_EQ(expected.size(), 9u) << theirs.out << theirs.err;
  EXPECT_EQ(printed_values(ours.out), expected) << ours.out;
}

// Line steps backward out of a loop look for the last arrival at a line:
// counted in the program, not stopped at every round. The loop's code is
// the same whatever its length, so 60 million rounds land where gdb lands
// after 4,000.
TEST_F(ShellTest, ReverseNextOutOfALongLoopLandsWhereGdbDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  const std::string motions = "reverse-next\nprint $pc\nreverse-next\nprint $pc\nreverse-next\nprint $pc\n";
  RunResult theirs = run({*gdb, "-nx", "-batch", "-ex", "break long_loop.c:17", "-ex", "run 4000", "-ex", "delete 1",
                          "-ex", "record full", "-ex", "break long_loop.c:20", "-ex", "continue", "-ex", "reverse-next",
                          "-ex", "print $pc", "-ex", "reverse-next", "-ex", "print $pc", "-ex", "reverse-next", "-ex",
                          "print $pc", program("long_loop")});
  auto expected = printed_values(theirs.out);
  ASSERT_EQ(expected.size(), 3u) << theirs.out << theirs.err;
  for (const char* rounds : {"4000", "60000000"}) {
    std::string trace = dir_.file(std::string("long_loop-") + rounds + ".ttdb");
    ASSERT_EQ(record(trace, {program("long_loop"), rounds}).status, 0);
    RunResult ours = script(trace, "break long_loop.c:20\ncontinue\n" + motions + "next\nnext\nnext\nprint $pc\n");
    ASSERT_EQ(ours.status, 0) << ours.err;
    auto got = printed_values(ours.out);
    ASSERT_EQ(got.size(), 4u) << ours.out;
    EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 3), expected) << rounds << "\n" << ours.out;
    // And forward again to the line after the loop.
    EXPECT_NE(ours.out.find("20\t  printf(\"sum"), std::string::npos) << ours.out;
  }
}

// reverse-continue to a breakpoint inside the loop: the last of 60 million
// hits, and the one before it, counted rather than stopped at.
TEST_F(ShellTest, ReverseContinueToABreakpointInALongLoopLandsWhereGdbDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  const std::vector<std::string> motions{"break long_loop.c:18", "reverse-continue", "print $pc", "print $rdx",
                                         "reverse-continue", "print $pc", "print $rdx", "continue", "print $rdx"};
  std::vector<std::string> args{*gdb, "-nx", "-batch", "-ex", "break long_loop.c:17", "-ex", "run 4000", "-ex",
                                "delete 1", "-ex", "record full", "-ex", "break long_loop.c:20", "-ex", "continue"};
  std::string script_text = "break long_loop.c:20\ncontinue\n";
  for (const auto& m : motions) {
    args.push_back("-ex");
    args.push_back(m);
    script_text += m + "\n";
  }
  args.push_back(program("long_loop"));
  auto expected = printed_values(run(args).out);
  ASSERT_EQ(expected.size(), 5u);
  // The loop counter (rdx) of the last round and the one before, 4,000 rounds in.
  EXPECT_EQ(expected[1], "3999");
  EXPECT_EQ(expected[3], "3998");
  std::string trace = dir_.file("long_loop.ttdb");
  ASSERT_EQ(record(trace, {program("long_loop"), "60000000"}).status, 0);
  RunResult ours = script(trace, script_text);
  ASSERT_EQ(ours.status, 0) << ours.err;
  auto got = printed_values(ours.out);
  ASSERT_EQ(got.size(), 5u) << ours.out;
  EXPECT_EQ(got[0], expected[0]);
  EXPECT_EQ(got[1], "59999999");
  EXPECT_EQ(got[2], expected[2]);
  EXPECT_EQ(got[3], "59999998");
  EXPECT_EQ(got[4], "59999999");
}

}  // namespace
}  // namespace ttdb::test
