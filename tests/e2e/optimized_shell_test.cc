// The shell on optimized code (opt_compute.c, built -O2), with gdb on the
// same binary as the oracle: where `break` stops, arguments with their
// entry values, values the compiler did not keep, and reverse motions that
// always go backward.
#include <gtest/gtest.h>

#include <regex>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST_F(ShellTest, OptimizedCodeStopsAndShowsValuesAsGdbDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("opt_compute");
  // compute has no frame pointer and its loop begins right after its first
  // instructions: `break compute` must stop once a call, at its entry.
  const std::vector<std::string> commands{"break compute", "continue", "continue", "bt 2", "up",
                                          "info locals", "print argc", "print sum"};
  std::string text;
  for (const auto& c : commands) text += c + "\n";
  RunResult ours = script(trace, text);
  ASSERT_EQ(ours.status, 0) << ours.err;

  std::vector<std::string> theirs_commands{"break compute", "run", "continue", "bt 2", "up",
                                           "info locals", "print argc", "print sum"};
  RunResult theirs = gdb_batch(*gdb, "opt_compute", theirs_commands);
  auto stops = shown(theirs.out, "^Breakpoint 1, ");
  ASSERT_EQ(stops.size(), 2u) << theirs.out << theirs.err;
  EXPECT_EQ(stops.front(), "Breakpoint 1, compute (n=n@entry=20) at opt_compute.c:12") << theirs.out;
  EXPECT_EQ(shown(ours.out, "^Breakpoint 1, "), stops) << ours.out;
  EXPECT_EQ(shown(ours.out, "^#[01] "), shown(theirs.out, "^#[01] ")) << ours.out << theirs.out;
  // In main after its calls: round in a register, argc gone (gdb: <optimized out>).
  EXPECT_EQ(shown(ours.out, "^(round|n|sum) = "), shown(theirs.out, "^(round|n|sum) = ")) << ours.out << theirs.out;
  EXPECT_EQ(shown(ours.out, R"(^\$[0-9]+ = )"), shown(theirs.out, R"(^\$[0-9]+ = )")) << ours.out << theirs.out;
  EXPECT_NE(ours.out.find("$1 = <optimized out>"), std::string::npos) << ours.out;
}

TEST_F(ShellTest, ArithmeticOnAValueTheCompilerDidNotKeepIsRefused) {
  std::string trace = recorded("opt_compute");
  RunResult r = script(trace, "break compute\ncontinue\nup\nprint argc\nprint argc + 1\n");
  EXPECT_NE(r.status, 0) << r.out;  // the script's last command failed
  EXPECT_NE(r.out.find("$1 = <optimized out>"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("alue has been optimized out."), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("$2"), std::string::npos) << r.out;
}

TEST_F(ShellTest, ReverseStepInOptimizedCodeGoesBackwardIntoTheCallee) {
  // After a temporary breakpoint on the line after a call, reverse-step
  // goes back into the call (whose closing line has no statement of its
  // own), then up its loop: never forward, never past the stop's event.
  std::string trace = recorded("opt_compute");
  RunResult r = script(trace, "tbreak opt_compute.c:23\ncontinue\nreverse-step\nreverse-step\nreverse-step\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("exited"), std::string::npos) << r.out;
  auto stop = lines_matching(r.out, R"(^Temporary breakpoint 1, main .* at opt_compute.c:23 \[event [0-9]+\]$)");
  ASSERT_EQ(stop.size(), 1u) << r.out;
  std::string event = stop[0].substr(stop[0].find(" [event "));
  // gdb shows the address where a row is not a statement's (the closing brace).
  auto steps = lines_matching(r.out, R"(^(0x[0-9a-f]+ in )?compute \(n=n@entry=20\) at opt_compute.c:[0-9]+ \[event)");
  ASSERT_EQ(steps.size(), 3u) << r.out;
  for (const auto& s : steps) EXPECT_EQ(s.substr(s.find(" [event ")), event) << r.out;
  EXPECT_NE(steps[0].find(":16 "), std::string::npos) << r.out;  // the closing brace
  EXPECT_NE(steps[1].find(":12 "), std::string::npos) << r.out;  // the loop's test, last round
  EXPECT_NE(steps[2].find(":13 "), std::string::npos) << r.out;  // the loop's body, last round
}

}  // namespace
}  // namespace ttdb::test
