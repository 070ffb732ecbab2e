// The gdb commands people reach for, with the same names and meanings:
// printf, ?:, set (convenience variables, print pretty; the past is
// read-only), ignore, backtrace full and counts, list ranges, $_ and
// $bpnum, $eflags; and rr's when. gdb on the same binary is the oracle.
#include <gtest/gtest.h>

#include <regex>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST_F(ShellTest, PrintfConditionalsPrettyStructsAndExaminedAddressesPrintAsInGdb) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_structs");
  const std::vector<std::string> looks{
      "echo ---\\n",
      "printf \"%s (%d) %5.1f %x %c%%\\n\", message, sum, 2.5, 255, 65",
      "print sum > 50 ? 1 : 2",
      "print sum < 50 ? sum : -sum",
      "set $twice = sum * 2",
      "print $twice + 1",
      "x/2xw &grid",
      "print $_",
      "print $bpnum",
      "list 8,10",
      "backtrace full",
      "set print pretty on",
      "print *head",
      "print grid",
      "print u"};
  std::vector<std::string> ours_commands{"break debug_structs.c:43", "continue"};
  ours_commands.insert(ours_commands.end(), looks.begin(), looks.end());
  RunResult ours = script(trace, joined(ours_commands));
  ASSERT_EQ(ours.status, 0) << ours.out << ours.err;

  std::vector<std::string> theirs_commands{"break debug_structs.c:43", "run"};
  theirs_commands.insert(theirs_commands.end(), looks.begin(), looks.end());
  RunResult theirs = gdb_batch(*gdb, "debug_structs", theirs_commands);
  std::string expected = from_line(theirs.out, "---");
  ASSERT_NE(expected.find("sum is 155 (155)   2.5 ff A%"), std::string::npos) << theirs.out << theirs.err;
  EXPECT_EQ(from_line(ours.out, "---"), expected);
}

TEST_F(ShellTest, FlagsAndStackRegistersPrintWithGdbsTypes) {
  std::string trace = recorded("debug_structs");
  RunResult r = script(trace, "break debug_structs.c:43\ncontinue\nprint $eflags\nprint $rsp\nprint $sp == $rsp\n"
                              "p/x$sp\nx/1xg$sp\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_matching(r.out, R"(^\$1 = \[ ([A-Z]+ )*\]$)").size(), 1u) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^\$2 = \(void \*\) 0x7[0-9a-f]+$)").size(), 1u) << r.out;
  EXPECT_NE(r.out.find("$3 = 1"), std::string::npos) << r.out;
  // A format needs no space before the expression, as in gdb.
  EXPECT_EQ(lines_matching(r.out, R"(^\$4 = 0x7[0-9a-f]+$)").size(), 1u) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^0x7[0-9a-f]+:\t0x[0-9a-f]+$)").size(), 1u) << r.out;
}

TEST_F(ShellTest, ThePastIsReadOnlyToSetAndToAssignments) {
  std::string trace = recorded("debug_structs");
  for (const char* change : {"set var sum = 1", "print sum = 3", "print sum += 1", "set sum = 2", "set $rip = 0"}) {
    RunResult r = script(trace, std::string("break debug_structs.c:43\ncontinue\n") + change + "\n");
    EXPECT_NE(r.status, 0) << change;
    EXPECT_NE(r.err.find("The past is read-only: ttdb cannot change the recorded program's memory or registers."),
              std::string::npos)
        << change << ": " << r.err;
  }
  // Comparisons are not assignments.
  RunResult r = script(trace, "break debug_structs.c:43\ncontinue\nprint sum == 155\nprint sum <= 1\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("$1 = 1\n$2 = 0\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, IgnorePassesOverStopsInEitherDirection) {
  std::string trace = recorded("debug_structs");
  RunResult r = script(trace,
                       "break push\nignore 1 2\ncontinue\nprint value\ncontinue\nprint value\n"
                       "ignore 1 1\nreverse-continue\nprint value\ninfo breakpoints\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Will ignore next 2 crossings of breakpoint 1."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Will ignore next crossing of breakpoint 1."), std::string::npos) << r.out;
  // Calls with 10, 20, 30, 40: the third, then the fourth, then back past the third to the second.
  EXPECT_NE(r.out.find("$1 = 30\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$2 = 40\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$3 = 20\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, WhenAndInfoRecordTellTheCurrentEvent) {
  std::string trace = recorded("debug_structs");
  RunResult r = script(trace, "break debug_structs.c:43\ncontinue\nwhen\ninfo record\n");
  ASSERT_EQ(r.status, 0) << r.err;
  auto stop = lines_matching(r.out, R"(^Breakpoint 1, main .* \[event [0-9]+\]$)");
  ASSERT_EQ(stop.size(), 1u) << r.out;
  std::string event = stop[0].substr(stop[0].rfind(' ') + 1);
  event.pop_back();
  EXPECT_NE(r.out.find("Current event: " + event + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Current event is " + event + ".\n"), std::string::npos) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^Recorded events are numbered 1 to [0-9]+\.$)").size(), 1u) << r.out;
}

TEST_F(ShellTest, InfoFrameSaysWhatGdbsDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_loops");
  RunResult ours = script(trace, "break square\ncontinue\ninfo frame\nup\ninfo frame\n");
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "debug_loops", {"break square", "run", "info frame", "up", "info frame"});
  // Stack addresses differ between gdb's run and the recorded one (the
  // environment), and gdb names files by the path they were compiled from.
  auto frames = [](const std::string& out) {
    std::string text = std::regex_replace(from_line(out, "Stack level 0"), std::regex("0x7ff[0-9a-f]+"), "STACK");
    return lines_matching(std::regex_replace(text, std::regex("\\(/[^ ]*/([^/ ]+:[0-9]+)\\)"), "($1)"), "^( |Stack level)");
  };
  auto expected = frames(theirs.out);
  ASSERT_GE(expected.size(), 14u) << theirs.out;
  EXPECT_EQ(frames(ours.out), expected) << ours.out << theirs.out;
}

TEST_F(ShellTest, AWatchOnAStructTakesSeveralDebugRegistersBothWays) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_structs");
  // *head is 16 bytes: two debug registers, as gdb takes them.
  RunResult ours = script(trace, "break debug_structs.c:34\ncontinue\nwatch *head\ncontinue\nreverse-continue\n");
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "debug_structs", {"break debug_structs.c:34", "run", "watch *head", "continue"});
  auto values = [](const std::string& out) { return lines_matching(out, "^(Old|New) value = "); };
  auto forward = values(theirs.out);
  ASSERT_EQ(forward.size(), 2u) << theirs.out;
  EXPECT_NE(forward[0].find("value = 50"), std::string::npos) << theirs.out;
  auto both_ways = values(ours.out);
  ASSERT_EQ(both_ways.size(), 4u) << ours.out;
  EXPECT_EQ(std::vector(both_ways.begin(), both_ways.begin() + 2), forward) << ours.out;
  // Backward, the stop is before the write, with the values the other way round.
  EXPECT_EQ(both_ways[2].substr(12), forward[1].substr(12)) << ours.out;
  EXPECT_EQ(both_ways[3].substr(12), forward[0].substr(12)) << ours.out;

  // 32 bytes take all four; with one taken already, the shell says so.
  RunResult full = script(trace, "break debug_structs.c:34\ncontinue\nwatch *head\nwatch message\n");
  EXPECT_NE(full.err.find("Cannot watch \"message\": watching 32 bytes at "), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("needs 4 debug registers and 2 of the 4 are free"), std::string::npos) << full.err;
}

}  // namespace
}  // namespace ttdb::test
