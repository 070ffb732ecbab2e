// The shell on functions gcc inlined (opt_inline.c, built -O2), with gdb on
// the same binary as the oracle: a breakpoint on an inlined function has a
// location for each inlined call, the stack shows each inlined call as a
// frame, and line steps go into, over and out of them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// gdb runs the program where the shell continues from its first instruction.
std::vector<std::string> for_gdb(std::vector<std::string> commands) {
  auto first = std::find(commands.begin(), commands.end(), "continue");
  if (first != commands.end()) *first = "run";
  return commands;
}

TEST_F(ShellTest, ABreakpointOnAnInlinedFunctionStopsAtEachInlinedCall) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("opt_inline");
  const std::vector<std::string> commands{"break square", "continue", "bt", "info args", "continue", "continue", "continue",
                                          "continue", "bt", "info breakpoints"};
  RunResult ours = script(trace, joined(commands));
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "opt_inline", for_gdb(commands));
  // Two locations: the call inside sum_squares (inside compute) and the one in main.
  EXPECT_NE(ours.out.find(": square. (2 locations)"), std::string::npos) << ours.out;
  auto stops = shown(theirs.out, "^Breakpoint 1[.0-9]*, ");
  ASSERT_EQ(stops.size(), 5u) << theirs.out << theirs.err;
  EXPECT_EQ(shown(ours.out, "^Breakpoint 1[.0-9]*, "), stops) << ours.out;
  EXPECT_EQ(shown(ours.out, "^#[0-9] "), shown(theirs.out, "^#[0-9] ")) << ours.out << theirs.out;
  EXPECT_EQ(shown(ours.out, "^x = "), shown(theirs.out, "^x = ")) << ours.out << theirs.out;
  EXPECT_EQ(shown(ours.out, R"(^1\.[12] )").size(), 2u) << ours.out;
  EXPECT_EQ(shown(ours.out, "already hit"), shown(theirs.out, "already hit")) << ours.out << theirs.out;
}

TEST_F(ShellTest, FramesOfInlinedCallsHaveTheirOwnArgumentsAndCallLines) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("opt_inline");
  const std::vector<std::string> commands{"break square", "continue", "up",   "info args", "info locals", "up",
                                          "info args",    "frame 0",  "print x", "down"};
  RunResult ours = script(trace, joined(commands));
  RunResult theirs = gdb_batch(*gdb, "opt_inline", for_gdb(commands));
  // From `up` on: frame lines, source lines, arguments and locals, and gdb's refusal at the bottom.
  EXPECT_EQ(from_line(ours.out, "#1  sum_squares"), from_line(theirs.out, "#1  sum_squares")) << ours.out << theirs.out;
  EXPECT_NE(ours.out.find("#2  compute (n=4) at "), std::string::npos) << ours.out;
  EXPECT_NE(ours.err.find("ottom (innermost) frame selected; you cannot go down"), std::string::npos) << ours.err;
}

TEST_F(ShellTest, LineStepsGoIntoOverAndOutOfInlinedCalls) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("opt_inline");
  // main's `int b = square(a);`: step enters the inlined call, finish leaves it.
  int line = 0;
  {
    std::ifstream in(TTDB_SOURCE_DIR "/tests/programs/opt_inline.c");
    std::string text;
    for (int n = 1; std::getline(in, text); ++n)
      if (text.find("int b = square(a);") != std::string::npos) line = n;
  }
  ASSERT_GT(line, 0);
  const std::vector<std::string> commands{fmt::format("break opt_inline.c:{}", line), "continue", "bt", "step", "bt"};
  RunResult ours = script(trace, joined(commands));
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "opt_inline", for_gdb(commands));
  EXPECT_EQ(from_line(ours.out, "Breakpoint 1, "), from_line(theirs.out, "Breakpoint 1, ")) << ours.out << theirs.out;

  // next from compute's first line steps over the inlined loop, stopping
  // at the line of the inlined call as gdb does, and never inside it.
  const std::vector<std::string> over{"break compute", "continue", "next", "next", "next", "bt 1"};
  RunResult ours_over = script(trace, joined(over));
  ASSERT_EQ(ours_over.status, 0) << ours_over.err;
  RunResult theirs_over = gdb_batch(*gdb, "opt_inline", for_gdb(over));
  auto lines = [](const std::string& out) { return shown(out, "^([0-9]+\t|#0 )"); };
  EXPECT_EQ(lines(ours_over.out), lines(theirs_over.out)) << ours_over.out << theirs_over.out;
  EXPECT_EQ(ours_over.out.find("square ("), std::string::npos) << ours_over.out;

  // finish out of the inlined square returns into sum_squares, in the same
  // machine frame; reverse-finish goes back before the call, never forward.
  RunResult out = script(trace, "break square\ncontinue\nfinish\nbt 1\nreverse-finish\n");
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_NE(out.out.find("Run till exit from #0  "), std::string::npos) << out.out;
  auto events = lines_matching(out.out, R"(\[event [0-9]+\]$)");
  ASSERT_GE(events.size(), 3u) << out.out;
  EXPECT_NE(out.out.find("#0  sum_squares (n=4) at "), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("exited"), std::string::npos) << out.out;
}

TEST_F(ShellTest, InlinedCxxMethodsTemplatesAndLambdasReadAsGdbShowsThem) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("opt_cpp_inline");
  const std::vector<std::string> commands{"break Meter::record", "break scaled<long>", "continue", "bt", "info args", "up",
                                          "info args", "continue", "bt"};
  RunResult ours = script(trace, joined(commands));
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "opt_cpp_inline", for_gdb(commands));
  auto stops = shown(theirs.out, "^Breakpoint [0-9.]+, ");
  ASSERT_EQ(stops.size(), 2u) << theirs.out << theirs.err;
  EXPECT_NE(stops.back().find("scaled<long> (value=7)"), std::string::npos) << theirs.out;
  EXPECT_EQ(shown(ours.out, "^Breakpoint [0-9.]+, "), stops) << ours.out;
  EXPECT_EQ(shown(ours.out, "^#[0-9] "), shown(theirs.out, "^#[0-9] ")) << ours.out << theirs.out;
  EXPECT_EQ(shown(ours.out, "^(amount|this|k|__closure) = "), shown(theirs.out, "^(amount|this|k|__closure) = "))
      << ours.out << theirs.out;
}

}  // namespace
}  // namespace ttdb::test
