// ttdb serve driven by stock gdb in batch mode, as a user or an IDE drives
// it: `target remote | ttdb serve TRACE`, then gdb's own commands, forward
// and backward. Where gdb can run the program itself, the answers are
// compared with gdb's native run.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class GdbServerTest : public ShellTest {
 protected:
  void SetUp() override {
    if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed (scripts/bootstrap installs it)";
  }

  // debug_gdb exits with 3, for gdb to report: recorded, whatever its status.
  std::string traced(const std::string& name) {
    std::string trace = dir_.file(name + ".ttdb");
    RunResult r = record(trace, {program(name)});
    EXPECT_EQ(r.status, 3) << r.err;
    return trace;
  }

  static RunOptions quiet_gdb() {
    RunOptions options;
    options.extra_env = {"DEBUGINFOD_URLS=", "HOME=/nonexistent"};
    return options;
  }

  // gdb -nx -batch -ex 'target remote | ttdb serve TRACE' -ex COMMAND... PROGRAM
  RunResult gdb(const std::string& trace, const std::string& name, const std::vector<std::string>& commands) {
    std::vector<std::string> argv{"gdb", "-nx", "-batch", "-ex", "set confirm off",
                                  "-ex", "target remote | " + ttdb_binary() + " serve " + trace};
    for (const auto& c : commands) argv.insert(argv.end(), {"-ex", c});
    argv.push_back(program(name));
    return run(argv, quiet_gdb());
  }

  // The same commands with gdb running the program itself.
  RunResult native(const std::string& name, const std::vector<std::string>& commands) {
    std::vector<std::string> argv{"gdb", "-nx", "-batch", "-ex", "set confirm off"};
    for (const auto& c : commands) argv.insert(argv.end(), {"-ex", c});
    argv.push_back(program(name));
    return run(argv, quiet_gdb());
  }
};

std::string all(const RunResult& r) { return r.out + r.err; }

// What gdb says about a stop, the same whether gdb runs the program or the replay does.
std::vector<std::string> stops_and_values(const std::string& output) {
  return lines_matching(output, R"(^(Breakpoint \d+, |\$\d+ = |#\d+ |\d+\t))");
}

TEST_F(GdbServerTest, BreakpointsBacktracesAndValuesMatchGdbsOwnRun) {
  std::string trace = traced("debug_gdb");
  std::vector<std::string> commands{"break add", "continue", "bt", "print value", "print total",
                                    "continue", "print value", "print total", "print $pc == add + 8"};
  RunResult served = gdb(trace, "debug_gdb", commands);
  EXPECT_NE(all(served).find("Breakpoint 1, add (value=1) at"), std::string::npos) << all(served);
  EXPECT_NE(all(served).find("Breakpoint 1, add (value=4) at"), std::string::npos) << all(served);
  EXPECT_NE(all(served).find("in main () at"), std::string::npos) << all(served);
  // gdb's native run: the same stops, frames and values (run instead of continue).
  std::vector<std::string> native_commands = commands;
  native_commands[1] = "run";
  RunResult own = native("debug_gdb", native_commands);
  auto served_lines = stops_and_values(served.out), own_lines = stops_and_values(own.out);
  EXPECT_FALSE(served_lines.empty());
  EXPECT_EQ(served_lines, own_lines) << "served:\n" << all(served) << "\nnative:\n" << all(own);
}

TEST_F(GdbServerTest, CppValuesPrintThroughLibstdcxxsPrintersAsInGdbsOwnRun) {
  // The plain command, gdb's default settings: the libraries come from the
  // local disk, and their auto-load scripts (the printers) with them.
  std::string trace = traced("debug_cpp");
  std::vector<std::string> commands{"break 29", "continue", "print squares", "print ages", "print greeting",
                                    "print *account", "print account->balance()"};
  RunResult served = gdb(trace, "debug_cpp", commands);
  EXPECT_NE(served.out.find("std::vector of length 5"), std::string::npos) << all(served);
  EXPECT_NE(served.out.find("std::map with 2 elements"), std::string::npos) << all(served);
  std::vector<std::string> native_commands = commands;
  native_commands[1] = "run";
  RunResult own = native("debug_cpp", native_commands);
  // (Calling a method needs the program to run code: the past cannot.)
  auto values = [](const std::string& out) { return lines_matching(out, R"(^\$[1-4] = )"); };
  EXPECT_EQ(values(served.out).size(), 4u) << all(served);
  EXPECT_EQ(values(served.out), values(own.out)) << "served:\n" << all(served) << "\nnative:\n" << all(own);
}

TEST_F(GdbServerTest, ReplayGdbStartsGdbOnTheRecordedProgramWithItsPrinters) {
  // ttdb replay --gdb TRACE -- GDB-ARGS: gdb on the recorded executable,
  // connected to a ttdb serve of the trace; the arguments after -- are gdb's.
  std::string trace = traced("debug_cpp");
  RunResult r = run({ttdb_binary(), "replay", "--gdb", trace, "--", "-nx", "-batch", "-ex", "break 29", "-ex", "continue",
                     "-ex", "print squares", "-ex", "print greeting"},
                    quiet_gdb());
  EXPECT_NE(r.out.find("Breakpoint 1, main () at "), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$1 = std::vector of length 5, capacity 8 = {0, 1, 4, 9, 16}"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$2 = \"hello, ttdb\""), std::string::npos) << all(r);
  // Its own commands are gdb's, not the shell's.
  RunResult mixed = run({ttdb_binary(), "replay", "--gdb", "--run", trace});
  EXPECT_EQ(mixed.status, 2) << all(mixed);
  EXPECT_NE(mixed.err.find("give gdb's commands after --"), std::string::npos) << all(mixed);
  RunOptions no_gdb;
  no_gdb.extra_env = {"PATH=/nonexistent"};
  RunResult missing = run({ttdb_binary(), "replay", "--gdb", trace}, no_gdb);
  EXPECT_EQ(missing.status, 125) << all(missing);
  EXPECT_NE(missing.err.find("cannot run gdb (No such file or directory)"), std::string::npos) << all(missing);
}

TEST_F(GdbServerTest, SharedLibrariesComeThroughTheProtocolAsInGdbsOwnRun) {
  // qXfer:libraries-svr4:read: the dynamic linker's list, read from the
  // replayed program's memory, at the first instruction and once main runs.
  std::string trace = traced("debug_cpp");
  RunResult served = gdb(trace, "debug_cpp", {"info sharedlibrary", "break main", "continue", "info sharedlibrary"});
  RunResult own = native("debug_cpp", {"break main", "run", "info sharedlibrary"});
  auto libraries = [](const std::string& out) { return lines_matching(out, R"(^(0x[0-9a-f]+ +0x[0-9a-f]+ +)?(Yes|No) )"); };
  auto served_lines = libraries(served.out), own_lines = libraries(own.out);
  ASSERT_GE(served_lines.size(), 5u) << all(served);
  // Before the dynamic linker has run, only itself; then the list gdb's own run shows (no vDSO in either).
  EXPECT_NE(served_lines[0].find("/ld-linux-x86-64.so.2"), std::string::npos) << all(served);
  EXPECT_EQ(std::vector<std::string>(served_lines.begin() + 1, served_lines.end()), own_lines)
      << "served:\n" << all(served) << "\nnative:\n" << all(own);
  EXPECT_NE(all(served).find("libstdc++.so.6"), std::string::npos) << all(served);
}

TEST_F(GdbServerTest, ALibraryGoneFromDiskIsReadFromTheTraceAndPrintersStillLoad) {
  // A C++ library of the user's (not a system file: the trace keeps a copy),
  // deleted after the recording: gdb reads the recorded copy the server
  // names, and libstdc++'s printers, read from the local disk, still print
  // the program's vector.
  if (!installed_tool("c++")) GTEST_SKIP() << "no C++ compiler";
  write_file(dir_.file("greet.cc"), "int greet(int n) { return n * 3 + 1; }\n");
  write_file(dir_.file("main.cc"), "#include <vector>\nint greet(int n);\n"
                                   "int main() { std::vector<int> v{1, 2, 3}; return greet(v[1]) == 7 ? 3 : 1; }\n");
  RunResult built = run({"sh", "-c", "cd \"$0\" && c++ -g -O0 -shared -fPIC -o libgreet.so greet.cc && "
                         "c++ -g -O0 -o usegreet main.cc -L. -lgreet -Wl,-rpath,\"$0\"", dir_.path()});
  ASSERT_EQ(built.status, 0) << built.err;
  std::string trace = dir_.file("greet.ttdb");
  ASSERT_EQ(record(trace, {dir_.file("usegreet")}).status, 3);
  ASSERT_EQ(::unlink(dir_.file("libgreet.so").c_str()), 0);
  // At main the library is loaded; gdb takes the PLT stub for a location of `break greet` in C++, not of a line.
  RunResult r = run({"gdb", "-nx", "-batch", "-ex", "target remote | " + ttdb_binary() + " serve " + trace, "-ex", "break main",
                     "-ex", "continue", "-ex", "break greet.cc:1", "-ex", "continue", "-ex", "info sharedlibrary", "-ex", "up", "-ex",
                     "print v", "-ex", "down", "-ex", "finish", dir_.file("usegreet")},
                    quiet_gdb());
  EXPECT_NE(r.out.find("Breakpoint 2, greet (n=2) at greet.cc:1"), std::string::npos) << all(r);
  auto copy = lines_matching(r.out, R"(^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +/.*/libgreet\.so$)");
  ASSERT_EQ(copy.size(), 1u) << all(r);
  EXPECT_EQ(copy[0].find(dir_.path()), std::string::npos) << "the recorded copy, not the deleted file: " << copy[0];
  EXPECT_EQ(lines_matching(r.out, "target:").size(), 0u) << all(r);
  EXPECT_NE(r.out.find("std::vector of length 3, capacity 3 = {1, 2, 3}"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("Value returned is $2 = 7"), std::string::npos) << all(r);
}

TEST_F(GdbServerTest, StartsAtTheFirstInstructionAndCannotGoBeforeIt) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb", {"reverse-continue", "reverse-stepi", "info symbol $pc"});
  // The dynamic loader's entry, as in the shell.
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in _start \(\) from .*ld-linux)").size(), 3u) << all(r);
  EXPECT_EQ(count_of(all(r), "No more reverse-execution history."), 2) << all(r);
  EXPECT_NE(r.out.find("_start in section .text of "), std::string::npos) << all(r);
}

TEST_F(GdbServerTest, LineSteppingBothWaysMatchesGdbsOwnRecord) {
  std::string trace = traced("debug_gdb");
  std::vector<std::string> motions{"next", "next", "step", "print n", "next", "print result", "reverse-next",
                                   "print result", "reverse-step", "reverse-stepi", "print $pc"};
  std::vector<std::string> served_commands{"break main", "continue"};
  served_commands.insert(served_commands.end(), motions.begin(), motions.end());
  RunResult served = gdb(trace, "debug_gdb", served_commands);
  // gdb's own process record is the oracle for where reverse motions land.
  std::vector<std::string> own_commands{"break main", "run", "record"};
  own_commands.insert(own_commands.end(), motions.begin(), motions.end());
  RunResult own = native("debug_gdb", own_commands);
  auto served_lines = stops_and_values(served.out), own_lines = stops_and_values(own.out);
  EXPECT_GE(served_lines.size(), 8u) << all(served);
  EXPECT_EQ(served_lines, own_lines) << "served:\n" << all(served) << "\nnative:\n" << all(own);
  EXPECT_NE(served.out.find("square (n=1) at"), std::string::npos) << all(served);
}

TEST_F(GdbServerTest, X87SseAndAvxRegistersMatchGdbsOwnRun) {
  std::string trace = traced("debug_gdb");
  std::vector<std::string> commands{"break add", "continue", "info registers xmm0", "print $xmm1.uint128", "print $ymm0.v2_int128",
                                    "print $mxcsr", "print $fctrl", "print $ftag", "print $st0", "info registers fop"};
  RunResult served = gdb(trace, "debug_gdb", commands);
  std::vector<std::string> native_commands = commands;
  native_commands[1] = "run";
  RunResult own = native("debug_gdb", native_commands);
  auto values = [](const std::string& out) { return lines_matching(out, R"(^(\$\d+ = |xmm0 |fop ))"); };
  EXPECT_GE(values(served.out).size(), 8u) << all(served);
  EXPECT_EQ(all(served).find("<unavailable>"), std::string::npos) << all(served);
  EXPECT_EQ(values(served.out), values(own.out)) << "served:\n" << all(served) << "\nnative:\n" << all(own);
}

TEST_F(GdbServerTest, ReverseContinueReturnsToTheEarlierBreakpoint) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break add", "continue", "continue", "continue", "print value", "reverse-continue", "print value",
                     "reverse-continue", "print value", "print total"});
  EXPECT_NE(r.out.find("$1 = 9"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$2 = 4"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$3 = 1"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$4 = 0"), std::string::npos) << all(r);
}

TEST_F(GdbServerTest, WatchpointsFireForwardAndBackward) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break main", "continue", "watch total", "continue", "continue", "reverse-continue", "print total",
                     "reverse-continue", "print total"});
  std::string text = all(r);
  EXPECT_NE(text.find("Old value = 0\nNew value = 2"), std::string::npos) << text;
  EXPECT_NE(text.find("Old value = 2\nNew value = 10"), std::string::npos) << text;
  // Backward, the watchpoint stops on the write that set the value.
  EXPECT_NE(text.find("Old value = 10\nNew value = 2"), std::string::npos) << text;
  EXPECT_NE(text.find("total += doubled;"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$1 = 2"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$2 = 0"), std::string::npos) << text;
}

TEST_F(GdbServerTest, ContinuingToTheEndShowsTheRecordedExit) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb", {"continue"});
  EXPECT_NE(all(r).find("exited with code 03]"), std::string::npos) << all(r);
  // The program's own output goes to stderr, not into gdb's channel.
  EXPECT_NE(all(r).find("total 28 count 3"), std::string::npos) << all(r);
}

TEST_F(GdbServerTest, ThePastIsReadOnly) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break add", "continue", "set var total = 1", "print total", "set var $rax = 12345", "print total", "print $rax == 12345"});
  EXPECT_NE(all(r).find("Cannot access memory at address"), std::string::npos) << all(r);
  EXPECT_NE(all(r).find("Could not write register \"rax\""), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$1 = 0"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$2 = 0"), std::string::npos) << all(r);
  EXPECT_NE(r.out.find("$3 = 0"), std::string::npos) << all(r);
}

TEST_F(GdbServerTest, MonitorCommandsReachTtdbsPositions) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"monitor help", "monitor event", "monitor goto event 20", "monitor event", "monitor goto event 999999",
                     "monitor nonsense", "maintenance flush register-cache", "continue"});
  std::string text = all(r);
  EXPECT_NE(text.find("monitor goto event N"), std::string::npos) << text;
  EXPECT_NE(text.find("event 1 of "), std::string::npos) << text;
  EXPECT_NE(text.find("event 20 of "), std::string::npos) << text;
  EXPECT_NE(text.find("no event 999999 in this recording"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown monitor command 'nonsense'"), std::string::npos) << text;
  EXPECT_NE(text.find("exited with code 03]"), std::string::npos) << text;
}

TEST_F(GdbServerTest, MonitorCheckpointAndRestart) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break add", "continue", "monitor checkpoint", "continue", "print value", "monitor restart 1",
                     "maintenance flush register-cache", "maintenance flush dcache", "print value", "monitor restart 7"});
  std::string text = all(r);
  EXPECT_NE(text.find("checkpoint 1: event "), std::string::npos) << text;
  EXPECT_NE(r.out.find("$1 = 4"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$2 = 1"), std::string::npos) << text;
  EXPECT_NE(text.find("no checkpoint 7"), std::string::npos) << text;
}

TEST_F(GdbServerTest, ReadWatchpointsStopAfterEachReadAsInGdbsOwnRun) {
  // rwatch: `total += doubled` reads total, then writes it; only the read
  // stops, at the instruction after it, and printf's read in main too.
  std::string trace = traced("debug_gdb");
  std::vector<std::string> commands{"break main", "continue", "rwatch total", "continue", "continue", "continue", "continue", "continue"};
  RunResult served = gdb(trace, "debug_gdb", commands);
  std::vector<std::string> native_commands = commands;
  native_commands[1] = "run";
  RunResult own = native("debug_gdb", native_commands);
  auto hits = [](const std::string& out) {
    return lines_matching(out, R"(^(Value = |Hardware read watchpoint|0x[0-9a-f]+ in (add|main) |main \(\) at|\d+\t))");
  };
  EXPECT_EQ(count_of(served.out, "Value = "), 5) << all(served);
  EXPECT_EQ(hits(served.out), hits(own.out)) << "served:\n" << all(served) << "\nnative:\n" << all(own);
}

TEST_F(GdbServerTest, ReadWatchpointsStopAfterTheReadGoingBackward) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break main", "continue", "rwatch total", "continue", "continue", "continue", "print $pc", "reverse-continue",
                     "print $pc", "print value", "reverse-continue", "print value", "reverse-continue"});
  std::string text = all(r);
  // Forward the third read (total was 10, in add(9)); back to the second and the first, at the same instruction.
  EXPECT_NE(text.find("Value = 10\n0x"), std::string::npos) << text;
  EXPECT_EQ(lines_matching(r.out, R"(^\$[12] = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <add\+\d+>$)").size(), 2u) << text;
  auto pcs = lines_matching(r.out, R"(^\$[12] = )");
  ASSERT_EQ(pcs.size(), 2u) << text;
  EXPECT_EQ(pcs[0].substr(4), pcs[1].substr(4)) << text;
  EXPECT_NE(r.out.find("$3 = 4"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$4 = 1"), std::string::npos) << text;
  EXPECT_NE(text.find("Value = 0\n"), std::string::npos) << text;
  // No read before the first: back to the breakpoint in main.
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, main () at"), 2) << text;
}

TEST_F(GdbServerTest, AReadWatchpointFiresOnTheStepOffABreakpoint) {
  // A breakpoint on the reading instruction: gdb steps off it with one
  // single step before continuing, and that step is the read.
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break main", "continue", "rwatch total", "continue", "print $pc", "reverse-stepi", "break *$pc", "continue",
                     "print $pc"});
  std::string text = all(r);
  EXPECT_EQ(count_of(r.out, "Value = 0\n"), 2) << text;
  auto pcs = lines_matching(r.out, R"(^\$[12] = )");
  ASSERT_EQ(pcs.size(), 2u) << text;
  EXPECT_EQ(pcs[0].substr(4), pcs[1].substr(4)) << text;
}

TEST_F(GdbServerTest, AccessWatchpointsStopAtReadsAndWritesBothWays) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break main", "continue", "awatch total", "continue", "continue", "continue", "reverse-continue", "reverse-continue"});
  std::string text = all(r);
  // The read of 0, the write of 2, the read of 2; back: the write (the
  // server stops before it, where gdb sees the old value), the read of 0.
  std::regex hit(R"(Hardware access \(read/write\) watchpoint 2: total\n\n(Value = \d+|Old value = \d+\nNew value = \d+))");
  std::vector<std::string> seen;
  for (std::sregex_iterator it(text.begin(), text.end(), hit), end; it != end; ++it) seen.push_back((*it)[1]);
  std::vector<std::string> expected{"Value = 0", "Old value = 0\nNew value = 2", "Value = 2", "Old value = 2\nNew value = 0", "Value = 0"};
  EXPECT_EQ(seen, expected) << text;
}

TEST_F(GdbServerTest, ThreadsAreListedAndABreakpointInASecondThreadFiresBothWays) {
  std::string trace = recorded("debug_threads_joined");
  RunResult r = gdb(trace, "debug_threads_joined",
                    {"break work", "continue", "info threads", "print *(int*)arg", "continue", "print *(int*)arg",
                     "reverse-continue", "print *(int*)arg"});
  std::string text = all(r);
  EXPECT_NE(text.find("Thread 2 hit Breakpoint 1, work (arg="), std::string::npos) << text;
  EXPECT_EQ(lines_matching(r.out, R"(^\* 2 +Thread \d+ +work \(arg=)").size(), 1u) << text;
  EXPECT_EQ(lines_matching(r.out, R"(^  1 +Thread \d+ )").size(), 1u) << text;
  EXPECT_NE(r.out.find("$1 = 1"), std::string::npos) << text;
  // The next hit is another thread's: which one ran first is the recording's.
  EXPECT_TRUE(r.out.find("$2 = 2") != std::string::npos || r.out.find("$2 = 3") != std::string::npos) << text;
  // Back into the first thread's hit.
  EXPECT_NE(r.out.find("$3 = 1"), std::string::npos) << text;
}

TEST_F(GdbServerTest, ServesOneProcessOfARecordingWithAFork) {
  // Two forked children run steps(); --process 3 is the second child (as
  // ttdb info lists them): the first child's hits never reach gdb.
  std::string trace = recorded("debug_fork_steps");
  RunResult info = ttdb({"info", trace});
  EXPECT_EQ(lines_matching(info.out, R"(^  process [123]: pid \d+, events \d+ to \d+$)").size(), 3u) << info.out;
  auto served = [&](const std::string& process, const std::vector<std::string>& commands) {
    std::vector<std::string> argv{"gdb", "-nx", "-batch", "-ex", "target remote | " + ttdb_binary() + " serve --process " + process + " " + trace};
    for (const auto& c : commands) argv.insert(argv.end(), {"-ex", c});
    argv.push_back(program("debug_fork_steps"));
    return run(argv, quiet_gdb());
  };
  RunResult r = served("3", {"info threads", "break steps", "continue", "print who", "break 16", "continue", "print sum",
                             "reverse-continue", "print who", "reverse-continue", "bt 1"});
  std::string text = all(r);
  // It starts where its life does, in the fork that made it, right past its
  // syscall (which may start a line: then gdb shows no address); one thread.
  EXPECT_EQ(lines_matching(r.out, R"(^\* 1 +Thread \d+ +(0x[0-9a-f]+ in )?\w*fork)").size(), 1u) << text;
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, steps (who=1)"), 2) << text;
  EXPECT_EQ(count_of(r.out, "who=0"), 0) << text;
  EXPECT_NE(r.out.find("$1 = 1\n"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$2 = 13\n"), std::string::npos) << text;
  EXPECT_NE(r.out.find("$3 = 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("No more reverse-execution history."), std::string::npos) << text;
  // Its own end, not the recording's.
  RunResult first = served("2", {"break steps", "continue", "print who", "continue"});
  EXPECT_NE(first.out.find("$1 = 0\n"), std::string::npos) << all(first);
  EXPECT_NE(all(first).find("exited normally]"), std::string::npos) << all(first);
  EXPECT_EQ(count_of(first.out, "who=1"), 0) << all(first);
  // The same through ttdb replay --gdb --process: gdb asks the server for the program.
  RunResult replayed = run({ttdb_binary(), "replay", "--gdb", "--process", "3", trace, "--", "-nx", "-batch", "-ex", "break steps",
                            "-ex", "continue", "-ex", "print who"},
                           quiet_gdb());
  EXPECT_NE(replayed.out.find("Breakpoint 1, steps (who=1)"), std::string::npos) << all(replayed);
  EXPECT_NE(replayed.out.find("$1 = 1\n"), std::string::npos) << all(replayed);
  RunResult none = run({ttdb_binary(), "serve", "--process", "9", trace}, quiet_gdb());
  EXPECT_NE(none.err.find("the recording has no process 9"), std::string::npos) << all(none);
  // On a port, before it listens.
  RunResult none_on_port = run({ttdb_binary(), "serve", "--port", "0", "--process", "9", trace});
  EXPECT_EQ(none_on_port.status, 125) << all(none_on_port);
  EXPECT_EQ(none_on_port.err.find("serving"), std::string::npos) << all(none_on_port);
}

TEST_F(GdbServerTest, SignalsAreTheStopReasonWithGdbsNames) {
  std::string trace = recorded("signal_handlers");
  RunResult r = gdb(trace, "signal_handlers", {"continue", "continue", "bt 1"});
  std::string text = all(r);
  // Linux's SIGUSR1 is 10 and gdb's 30: the server translates.
  EXPECT_NE(text.find("Program received signal SIGUSR1, User defined signal 1."), std::string::npos) << text;
  EXPECT_NE(text.find("Program received signal SIGUSR2, User defined signal 2."), std::string::npos) << text;
  EXPECT_NE(text.find("in on_usr1 (sig=10)"), std::string::npos) << text;
}

TEST_F(GdbServerTest, CatchSyscallStopsAtCallsAndReturnsBothWaysAsInGdbsOwnRun) {
  // QCatchSyscalls: gdb's catch syscall over the protocol, in both directions.
  std::vector<std::string> commands{"handle SIGUSR1 nostop noprint", "catch syscall write getppid", "continue",
                                    "continue", "continue", "continue"};
  std::string trace = recorded("debug_catch");
  RunResult ours = gdb(trace, "debug_catch", commands);
  std::vector<std::string> natively = commands;
  natively[2] = "run";
  RunResult theirs = native("debug_catch", natively);
  auto titles = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& line : lines_matching(text, R"(^Catchpoint 1 \((call to|returned from))"))
      out.push_back(line.substr(0, line.find("),") + 1));
    return out;
  };
  auto expected = titles(all(theirs));
  ASSERT_EQ(expected.size(), 4u) << all(theirs);
  EXPECT_EQ(titles(all(ours)), expected) << all(ours);
  RunResult back = gdb(trace, "debug_catch",
                       {"handle SIGUSR1 nostop noprint", "catch syscall write getppid", "continue", "continue", "continue",
                        "continue", "reverse-continue", "reverse-continue", "reverse-continue"});
  auto both = titles(all(back));
  ASSERT_EQ(both.size(), 7u) << all(back);
  // Backward: the stops before the last one, the other way.
  EXPECT_EQ(both[4], both[2]) << all(back);
  EXPECT_EQ(both[5], both[1]) << all(back);
  EXPECT_EQ(both[6], both[0]) << all(back);
}

TEST_F(GdbServerTest, ControlCInterruptsALongContinue) {
  // Long enough that the replay is still running when ^C comes: 4e9 rounds
  // take about 3 s at native speed on an idle machine (1e9 took less than
  // the second the ^C waits).
  std::string trace = recorded("long_loop", {"4000000000"});
  // vCont;c, then gdb's ^C a second later, as its Ctrl-C sends it.
  RunResult r = run({"sh", "-c", "(printf '$vCont;c#a8'; sleep 1; printf '\\003'; sleep 3; printf '$k#6b') | \"$0\" serve \"$1\"",
                     ttdb_binary(), trace});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("$T02thread:"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("$W"), std::string::npos) << r.out;
}

TEST_F(GdbServerTest, FinishAndReverseFinishAcrossCalls) {
  std::string trace = traced("debug_gdb");
  RunResult r = gdb(trace, "debug_gdb",
                    {"break square", "continue", "continue", "finish", "delete", "break add", "continue", "next", "delete",
                     "reverse-finish", "bt"});
  std::string text = all(r);
  EXPECT_NE(text.find("Value returned is $1 = 4"), std::string::npos) << text;
  // Back out of add to its call in main, before the call.
  EXPECT_EQ(lines_matching(r.out, R"(^#0  0x[0-9a-f]+ in main \(\) at .*debug_gdb\.c:20$)").size(), 1u) << text;
  EXPECT_EQ(lines_matching(r.out, R"(^#1 )").size(), 0u) << text;
}

TEST_F(GdbServerTest, ListensOnAPortAndSaysHowToConnect) {
  std::string trace = traced("debug_gdb");
  // stderr into stdout, where the test can wait for the line that says how to connect.
  Child server = Child::spawn({"sh", "-c", "exec \"$0\" serve --port 0 \"$1\" 2>&1", ttdb_binary(), trace});
  ASSERT_TRUE(server.wait_for_output("/debug_gdb\n", std::chrono::seconds(60))) << server.output();
  std::smatch port;
  std::string said = server.output();
  ASSERT_TRUE(std::regex_search(said, port, std::regex("connect with: gdb -ex 'target remote 127\\.0\\.0\\.1:(\\d+)' ")))
      << said;
  RunResult r = run({"gdb", "-nx", "-batch", "-ex", "target remote 127.0.0.1:" + port[1].str(), "-ex", "break add",
                     "-ex", "continue", "-ex", "print value", program("debug_gdb")},
                    quiet_gdb());
  EXPECT_NE(r.out.find("$1 = 1"), std::string::npos) << all(r);
  RunResult ended = server.wait();
  EXPECT_EQ(ended.status, 0) << ended.out;
}

}  // namespace
}  // namespace ttdb::test
