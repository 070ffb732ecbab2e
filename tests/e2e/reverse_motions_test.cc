// Backward motions land where gdb's land: its `record full` on the same
// binary is the oracle, for the shapes of code the motions must handle.
#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "shell_fixture.h"

namespace ttdb::test {
namespace {

class ReverseMotions : public ShellTest {
 protected:
  // The $pc after each of `motions`, from gdb (recording from main) and
  // from ttdb's shell (replaying `trace`), both first running `setup` from main.
  std::pair<std::vector<std::string>, std::vector<std::string>> pcs_after(const std::string& trace, const std::string& gdb,
                                                                          const std::string& name,
                                                                          const std::vector<std::string>& setup,
                                                                          const std::vector<std::string>& motions) {
    std::vector<std::string> theirs{"break main", "run", "record full"};
    std::vector<std::string> ours{"break main", "continue"};
    theirs.insert(theirs.end(), setup.begin(), setup.end());
    ours.insert(ours.end(), setup.begin(), setup.end());
    for (const auto& m : motions)
      for (auto* list : {&theirs, &ours}) list->insert(list->end(), {m, "print $pc"});
    RunResult t = script(trace, joined(ours));
    EXPECT_EQ(t.status, 0) << t.out << t.err;
    return {printed_values(gdb_batch(gdb, name, theirs).out), printed_values(t.out)};
  }
};

TEST_F(ReverseMotions, ReverseStepRightAfterAReturnGoesBackIntoTheCallee) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_returns");
  // A callee of several lines: back to its last line, then its first, then the call's.
  auto [theirs, ours] = pcs_after(trace, *gdb, "debug_returns", {"break add", "continue", "continue", "delete", "finish"},
                                  {"reverse-step", "reverse-step", "reverse-step"});
  ASSERT_EQ(theirs.size(), 3u);
  EXPECT_EQ(ours, theirs);
  // A callee on one line, called from a loop on one line: back to the row
  // that holds its return, not out of the caller (it went back before main).
  std::tie(theirs, ours) = pcs_after(trace, *gdb, "debug_returns",
                                     {"break add_twice", "continue", "continue", "delete", "finish"}, {"reverse-step"});
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(ours, theirs);
}

TEST_F(ReverseMotions, ReverseStepFromTheNextLineEntersEachCallTheLineMade) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_returns");
  // Line 14 is a whole loop calling add_twice three times: reverse-step
  // from line 15 goes into the last call, as gdb's does, and on from each
  // call's first line into the call before it. (gdb 13 also stops at each
  // statement of add_twice's one line; ttdb steps whole lines.)
  auto [theirs, ours] = pcs_after(trace, *gdb, "debug_returns", {"break 15", "continue"}, {"reverse-step"});
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(ours, theirs);
  RunResult r = script(trace, "break 15\ncontinue\nreverse-step\nreverse-step\nreverse-step\nreverse-step\nreverse-step\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::vector<std::string> expected{"add_twice (v=2)", "add_twice (v=1)", "add_twice (v=0)", "main ()", "main ()"};
  std::vector<std::string> got;
  for (const auto& line : lines_matching(r.out, R"(at debug_returns\.c:\d+ \[event)")) got.push_back(line.substr(0, line.find(" at ")));
  ASSERT_GE(got.size(), 6u) << r.out;
  EXPECT_EQ(std::vector<std::string>(got.end() - 5, got.end()), expected) << r.out;
}

TEST_F(ReverseMotions, ReverseNextInAForkedChildStaysInItsHistory) {
  // The child's main began before its fork: going back over its lines
  // reached the recording's start and ran forward again, into the parent.
  std::string trace = recorded("debug_fork_steps");
  RunResult r = script(trace, "break steps\ncontinue\ndelete\nreverse-next\nreverse-next\nreverse-next\nreverse-next\n"
                              "reverse-next\ninfo inferiors\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::smatch child;
  ASSERT_TRUE(std::regex_search(r.out, child, std::regex("\\[Switching to inferior (\\d) "))) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(\[Switching to inferior)").size(), 1u) << r.out;
  std::vector<std::string> lines;
  for (const auto& line : lines_matching(r.out, R"(^main \(\) at debug_fork_steps\.c:\d+ \[event)"))
    lines.push_back(line.substr(line.find(".c:") + 3, 2));
  EXPECT_EQ(lines, (std::vector<std::string>{"26", "25", "24", "23"})) << r.out;
  // Then the start of the child's history, still looking at the child.
  EXPECT_NE(r.out.find("No more reverse-execution history.\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\* " + child[1].str() + " +process \\d+ "))) << r.out;
  EXPECT_EQ(r.out.find("child 0:"), std::string::npos) << "replay ran forward: " << r.out;
}

TEST_F(ReverseMotions, ReverseStepiAfterACallOthersRanDuringGoesToItsEntry) {
  // pthread_join waits in futex while the threads run: the call's entry is
  // an event of its own, long before its result. One instruction back from
  // the result is the thread at the syscall instruction before that entry
  // (it was "this is a bug": the engine looked for it after the entry).
  std::string trace = recorded("debug_threads_joined");
  long blocked = sql_count(trace, "SELECT min(id) FROM events WHERE kind = 10 AND nr = 202");
  ASSERT_GT(blocked, 0);
  long result = sql_count(trace, "SELECT min(r.id) FROM events r, events b WHERE b.id = " + std::to_string(blocked) +
                                     " AND r.kind = 2 AND r.tid = b.tid AND r.nr = b.nr AND r.id > b.id");
  ASSERT_GT(result, blocked);
  RunResult r = script(trace, "goto event " + std::to_string(result) + "\nreverse-stepi\nwhen\nstepi\nwhen\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("this is a bug"), std::string::npos) << r.out;
  auto whens = lines_matching(r.out, "^Current event: ");
  ASSERT_EQ(whens.size(), 2u) << r.out;
  EXPECT_EQ(whens[0], "Current event: " + std::to_string(blocked - 1)) << r.out;
}

TEST_F(ReverseMotions, ReverseStepiRetracesStepiAcrossThreadSwitches) {
  // Each switch away from the spinning thread is a snapshot of its state,
  // which replay puts in place wherever the thread stands: going back over
  // one showed it inside an instruction, and every later step was off by one.
  std::string trace = recorded("debug_spin_handoff");
  const int steps = 150;
  std::string text = "break late\ncontinue\ndelete\nprint $pc\n";
  for (int i = 0; i < steps; ++i) text += "stepi\nprint $pc\n";
  for (int i = 0; i < steps; ++i) text += "reverse-stepi\nprint $pc\n";
  RunResult r = script(trace, text);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto pcs = printed_values(r.out);
  ASSERT_EQ(pcs.size(), 2u * steps + 1) << r.out;
  std::vector<std::string> forward(pcs.begin(), pcs.begin() + steps + 1);
  std::vector<std::string> backward(pcs.begin() + steps, pcs.end());
  std::reverse(backward.begin(), backward.end());
  EXPECT_EQ(backward, forward) << r.out;
}

TEST_F(ReverseMotions, LineStepsBackAtTheFirstInstructionSayThereIsNoMoreHistory) {
  // They said "reverse-finish" is not meaningful in the outermost frame,
  // and a script stopped there.
  std::string trace = recorded("debug_returns");
  RunResult r = script(trace, "reverse-step\nreverse-next\nwhen\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^No more reverse-execution history\\.$").size(), 2u) << r.out;
  EXPECT_NE(r.out.find("Current event: 1\n"), std::string::npos) << r.out;
}

TEST_F(ReverseMotions, StepsOutOfACallStopWhereGdbsDoOnLinesWithDiscriminators) {
  // gcc gives the rest of a line after a call a row of its own with a
  // discriminator; gdb folds such rows into the line, so a step out of the
  // callee goes on to the next line (ttdb stopped at the return address).
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_loops");
  auto [theirs, ours] = pcs_after(trace, *gdb, "debug_loops", {"break accumulate", "continue", "delete"},
                                  {"next", "next", "step", "step", "next", "step", "step", "finish", "next"});
  ASSERT_EQ(theirs.size(), 9u);
  EXPECT_EQ(ours, theirs);
}

TEST_F(ReverseMotions, NextOverARecursiveCallFromAnInnerLevelGoesOnToTheNextLine) {
  // The inner call returns to the same address the caller's frame returns
  // to: next stopped there, in the middle of the line.
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_recursion");
  auto [theirs, ours] = pcs_after(trace, *gdb, "debug_recursion", {"break fact", "continue", "continue", "delete"},
                                  {"next", "next", "next", "next", "next"});
  ASSERT_EQ(theirs.size(), 5u);
  EXPECT_EQ(ours, theirs);
}

TEST_F(ReverseMotions, ReverseStepIntoAOneLineFunctionStopsAfterItsPrologue) {
  // fib is one line: the start of the row holding its return is its first
  // instruction, before the frame is set up (n read wrong there); gdb stops
  // after the prologue.
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_recursion");
  auto [theirs, ours] = pcs_after(trace, *gdb, "debug_recursion", {"break fib", "continue", "continue", "delete"},
                                  {"reverse-step", "reverse-step", "reverse-step"});
  ASSERT_EQ(theirs.size(), 3u);
  EXPECT_EQ(ours, theirs);
}

}  // namespace
}  // namespace ttdb::test
