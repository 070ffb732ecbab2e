// The shell on a program that calls into a shared library of its own
// (debug_libcall.c and lib/shout.c), with gdb on the same binary as the
// oracle: breakpoints set before the library is loaded, and steps through
// its PLT stub and the dynamic linker's lazy resolver, both ways.
#include <gtest/gtest.h>

#include <regex>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST_F(ShellTest, BreakpointsInALibraryNotLoadedYetStopWithTheirConditionsBothWays) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_libcall");
  // At the first instruction libshout.so is not mapped; the recording knows
  // where it will be.
  RunResult ours = script(trace, "break shout if text[0] == 98\nbreak shout.c:7\ncontinue\nbt\ncontinue\ncontinue\n"
                                 "reverse-continue\nreverse-continue\nreverse-continue\n");
  ASSERT_EQ(ours.status, 0) << ours.err;
  // gdb sets them once the library is loaded, at main.
  RunResult theirs = gdb_batch(*gdb, "debug_libcall", {"tbreak main", "run", "break shout if text[0] == 98", "break shout.c:7",
                                                       "continue", "bt", "continue", "continue"});
  auto stops = [](const std::string& out) {
    std::vector<std::string> out_lines;
    for (auto line : lines_matching(out, "^(Breakpoint [0-9]+, |#[0-9] )"))
      // Breakpoint numbers differ (gdb's first is main's), and so do stack
      // addresses between gdb's run and the recorded one (the environment).
      out_lines.push_back(std::regex_replace(std::regex_replace(as_gdb_shows(line), std::regex("^Breakpoint [0-9]+, "), "Breakpoint, "),
                                             std::regex("0x7ff[0-9a-f]+"), "STACK"));
    return out_lines;
  };
  auto theirs_stops = stops(theirs.out);
  ASSERT_EQ(theirs_stops.size(), 5u) << theirs.out << theirs.err;
  auto ours_stops = stops(ours.out);
  ASSERT_EQ(ours_stops.size(), 7u) << ours.out;
  EXPECT_EQ(std::vector(ours_stops.begin(), ours_stops.begin() + 5), theirs_stops) << ours.out;
  // Backward: the same stops in reverse (the condition still holds), then
  // the start of the recording.
  EXPECT_EQ(ours_stops[5], theirs_stops[3]) << ours.out;
  EXPECT_EQ(ours_stops[6], theirs_stops[0]) << ours.out;
  EXPECT_NE(ours.out.find("No more reverse-execution history."), std::string::npos) << ours.out;
}

TEST_F(ShellTest, StepGoesThroughThePltIntoALibraryAndReverseStepComesBackOut) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_libcall");
  // The first call of shout goes through its PLT stub and the dynamic
  // linker's lazy resolver, which jumps into shout.
  RunResult ours = script(trace, "break debug_libcall.c:9\ncontinue\nstep\nbt 1\nreverse-step\nbt 1\n");
  ASSERT_EQ(ours.status, 0) << ours.err;
  RunResult theirs = gdb_batch(*gdb, "debug_libcall", {"break debug_libcall.c:9", "run", "step", "bt 1"});
  auto into = std::regex_replace(shown(theirs.out, "^#0 ").at(0), std::regex("0x7ff[0-9a-f]+"), "STACK");
  auto frames = shown(ours.out, "^#0 ");
  ASSERT_EQ(frames.size(), 2u) << ours.out;
  EXPECT_EQ(std::regex_replace(frames[0], std::regex("0x7ff[0-9a-f]+"), "STACK"), into) << ours.out << theirs.out;
  // Back out, past the resolver, to the call's line in main.
  EXPECT_EQ(frames[1], "#0  main () at debug_libcall.c:9") << ours.out;
  EXPECT_EQ(ours.out.find("_dl_runtime_resolve"), std::string::npos) << ours.out;
}

}  // namespace
}  // namespace ttdb::test
