// Catchpoints (tests/programs/debug_catch.cc): `catch syscall`, `catch
// signal`, `catch throw`, `catch catch` and `catch rethrow` stop where gdb's
// do on the same binary, in the same order, and going backward they stop at
// the same places in the opposite order.
#include <gtest/gtest.h>

#include <algorithm>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// "Catchpoint 1 (call to syscall write)" and the function it stopped in.
std::vector<std::string> catch_stops(const std::string& out) {
  std::vector<std::string> stops;
  std::regex title(R"(^Catchpoint (\d+) \(([^)]*)\), (?:0x[0-9a-f]+ in )?([\w:]+) )");
  std::smatch m;
  for (const auto& line : lines_matching(out, R"(^Catchpoint \d+ \(.*\), )"))
    if (std::regex_search(line, m, title)) stops.push_back(m[1].str() + " " + m[2].str() + " in " + m[3].str());
  return stops;
}

// The stop titles alone: glibc's functions have other names in gdb (its
// own symbols: __GI___libc_write) than in their DWARF.
std::vector<std::string> titles(std::vector<std::string> stops) {
  for (auto& s : stops) s = s.substr(0, s.find(" in "));
  return stops;
}

class CatchTest : public ShellTest {
 protected:
  // gdb's stops for these catchpoints, over the whole run.
  std::vector<std::string> gdb_stops(const std::vector<std::string>& catches) {
    auto gdb = installed_tool("gdb");
    if (!gdb) return {};
    std::vector<std::string> commands = catches;
    commands.push_back("run");
    for (int i = 0; i < 40; ++i) commands.push_back("continue");
    return catch_stops(gdb_batch(*gdb, "debug_catch", commands).out);
  }

  // ttdb's: forward as many times as gdb stopped, then backward to the first.
  std::pair<std::vector<std::string>, std::vector<std::string>> ours(const std::vector<std::string>& catches, std::size_t stops) {
    std::string trace = recorded("debug_catch");
    std::vector<std::string> commands = catches;
    for (std::size_t i = 0; i < stops; ++i) commands.push_back("continue");
    commands.push_back("echo ---\\n");
    for (std::size_t i = 1; i < stops; ++i) commands.push_back("reverse-continue");
    RunResult r = script(trace, joined(commands));
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto split = r.out.find("---");
    return {catch_stops(r.out.substr(0, split)), catch_stops(r.out.substr(split))};
  }

  void expect_as_gdb(std::vector<std::string> catches, bool same_functions) {
    if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed";
    // Only the catchpoints stop, in either debugger.
    catches.insert(catches.begin(), "handle SIGUSR1 nostop noprint");
    auto expected = gdb_stops(catches);
    ASSERT_FALSE(expected.empty());
    auto [forward, backward] = ours(catches, expected.size());
    if (same_functions) EXPECT_EQ(forward, expected);
    else EXPECT_EQ(titles(forward), titles(expected));
    // Backward: the same stops, the other way, down to the first.
    std::vector<std::string> reversed(forward.rbegin() + 1, forward.rend());
    EXPECT_EQ(backward, reversed);
  }
};

TEST_F(CatchTest, SyscallsStopAtTheirCallAndTheirReturnBothWays) {
  expect_as_gdb({"catch syscall write getppid"}, false);
}

TEST_F(CatchTest, SignalsStopAtTheirArrivalEvenThoseGdbPassesBy) {
  // SIGALRM does not stop `continue` by gdb's table, but a catchpoint does.
  expect_as_gdb({"catch signal SIGUSR1 SIGALRM"}, false);
}

TEST_F(CatchTest, ExceptionsStopWhereTheyAreThrownCaughtAndRethrown) {
  expect_as_gdb({"catch throw", "catch catch", "catch rethrow"}, false);
}

TEST_F(CatchTest, ThrowStopsInTheThrowingFunctionsCaller) {
  std::string trace = recorded("debug_catch");
  RunResult r = script(trace, "handle SIGUSR1 nostop noprint\ncatch throw\ncontinue\nbacktrace 3\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Catchpoint 1 (exception thrown), 0x"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(#1  0x[0-9a-f]+ in risky \(n=1\) at [^ ]*debug_catch\.cc:\d+)"))) << r.out;
}

TEST_F(CatchTest, TheListShowsCatchpointsAsGdbDoes) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::vector<std::string> commands{"catch syscall write", "catch syscall getppid kill", "catch syscall",
                                    "catch signal SIGUSR1", "catch signal", "catch signal all", "catch throw",
                                    "catch rethrow", "disable 3", "echo ---\\n", "info breakpoints"};
  std::string expected = from_line(gdb_batch(*gdb, "debug_catch", commands).out, "---");
  ASSERT_NE(expected.find("syscalls \"getppid, kill\""), std::string::npos) << expected;
  std::string trace = recorded("debug_catch");
  RunResult ours = script(trace, joined(commands));
  ASSERT_EQ(ours.status, 0) << ours.err;
  EXPECT_EQ(from_line(ours.out, "---"), expected);
  // A hit is counted, and a deleted catchpoint stops nothing.
  RunResult hits = script(trace, "handle SIGUSR1 nostop noprint\ncatch syscall getppid\ncontinue\ncontinue\ninfo breakpoints\ndelete 1\ncontinue\n");
  ASSERT_EQ(hits.status, 0) << hits.err;
  EXPECT_NE(hits.out.find("\tcatchpoint already hit 2 times\n"), std::string::npos) << hits.out;
  EXPECT_NE(hits.out.find("[The program exited normally"), std::string::npos) << hits.out;
}

TEST_F(CatchTest, WhatCannotBeCaughtIsRefusedInOneSentence) {
  std::string trace = recorded("debug_catch");
  for (const char* bad : {"catch syscall no_such_call", "catch fork", "catch", "catch signal SIGNOPE"}) {
    RunResult r = script(trace, std::string(bad) + "\n");
    EXPECT_NE(r.status, 0) << bad;
    // The reason in one line, then the script's end.
    auto first_line = r.err.substr(0, r.err.find('\n'));
    EXPECT_TRUE(first_line.ends_with(".")) << r.err;
    EXPECT_NE(r.err.find("\nttdb: "), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ttdb::test
