// The replay shell across signal handlers (tests/programs/signal_handlers.c):
// signals are positions like any other, forward and backward. Lines and
// values are gdb's on the same program where gdb has the command.
#include <regex>
#include <string>
#include <vector>

#include "shell_fixture.h"

namespace ttdb::test {
namespace {

// Where each stop of a signal_handlers script was: "function:line", after
// "SIGUSR1" and the like for a signal's arrival.
std::vector<std::string> signal_stops(const std::string& out) {
  std::vector<std::string> where;
  std::regex signal(R"(^Program received signal (\w+)[,.])");
  std::regex at(R"(^(?:Breakpoint \d+, )?(?:0x[0-9a-f]+ in )?(\w+) \(.*\) at signal_handlers\.c:(\d+) \[event)");
  std::smatch m;
  for (const auto& line : lines_matching(out, R"(^Program received signal|signal_handlers\.c:\d+ \[event)")) {
    if (std::regex_search(line, m, signal)) where.push_back(m[1]);
    else if (std::regex_search(line, m, at)) where.push_back(m[1].str() + ":" + m[2].str());
  }
  return where;
}

TEST_F(ShellTest, AWatchpointChangedInASignalHandlerFiresBothWays) {
  std::string trace = recorded("signal_handlers");
  // Going back from the handler's write once replayed a single step into the
  // handler whose trap reached the program (a divergence at rt_sigreturn).
  RunResult r = script(trace, R"(watch hits
continue 3
reverse-continue
reverse-continue
reverse-continue
continue
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("diverged"), std::string::npos) << r.err;
  // As gdb: the handler's write to 1002 stops at its closing line, on the third continue.
  EXPECT_NE(r.out.find("Old value = 1001\nNew value = 1002\non_alarm (sig=14) at signal_handlers.c:20"), std::string::npos) << r.out;
  // Backward: before each write, in the handler and in main, both ways.
  EXPECT_NE(r.out.find("Old value = 1002\nNew value = 1001\n0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Old value = 1001\nNew value = 1\n0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Old value = 1\nNew value = 0\n0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Old value = 0\nNew value = 1\non_alarm (sig=14) at signal_handlers.c:20"), std::string::npos) << r.out;
  std::vector<std::string> expected{"on_alarm:20", "on_alarm:19", "main:42", "on_alarm:19", "on_alarm:20"};
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
}

TEST_F(ShellTest, ASignalInALoopThatComesBackToTheSameRegistersSeesTheLoopsProgress) {
  // After a handler's rt_sigreturn the loop's registers come back the same
  // every round: the next tick was taken as arriving at once, and replay
  // showed the second handler the first one's memory (a watchpoint fired
  // twice, once in code that never writes the variable).
  std::string trace = recorded("debug_alarm_loop");
  RunResult r = script(trace, R"(watch work_at_tick[1]
continue
assert work_at_tick[1] == work
continue
)");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  std::smatch seen, printed;
  ASSERT_TRUE(std::regex_search(r.out, seen, std::regex("Old value = 0\nNew value = (\\d+)\non_alarm"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, printed, std::regex("work at tick 1: (\\d+)"))) << r.out;
  EXPECT_EQ(seen[1], printed[1]) << r.out;
  EXPECT_EQ(lines_matching(r.out, "^Old value").size(), 1u) << r.out;
  EXPECT_NE(r.out.find("exited normally"), std::string::npos) << r.out;
}

TEST_F(ShellTest, StepsOffAHandlersLastLineStopWhereItsSignalArrived) {
  // As gdb's: not in the kernel's trampoline, which has no line.
  std::string trace = recorded("signal_handlers");
  RunResult r = script(trace, R"(break on_alarm
continue 2
delete
next
next
assert hits == 1002
break on_alarm
continue
step
step
assert hits == 2003
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^assert passed").size(), 2u) << r.out;
  EXPECT_EQ(r.out.find("<signal handler called>"), std::string::npos) << r.out;
  std::vector<std::string> expected{"on_alarm:19", "on_alarm:20", "main:41", "on_alarm:19", "on_alarm:20", "main:41"};
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
}

TEST_F(ShellTest, ReverseNextFromASignalThatArrivedWhereALineBeginsMovesBack) {
  // The syscall before the signal ended on the line's first instruction: that
  // arrival is the same moment as the signal's, and reverse-next stopped at
  // the signal again, every time.
  std::string trace = recorded("signal_at_line_start");
  RunResult r = script(trace, "continue\nreverse-next\nwhen\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^Program received signal SIGUSR1").size(), 1u) << r.out;
  auto stops = lines_matching(r.out, R"(^main \(\) at signal_at_line_start\.c:\d+ \[event)");
  ASSERT_EQ(stops.size(), 2u) << r.out;
  EXPECT_NE(stops[0], stops[1]) << r.out;
}

TEST_F(ShellTest, ReverseMotionsFromTheSignalTrampolineFrame) {
  // finish out of a handler stops in the kernel's trampoline
  // (<signal handler called>): reverse-step goes back into the handler's
  // last line, reverse-next and reverse-finish to where the signal arrived
  // (they said "Cannot find the call", or went back to the start).
  std::string trace = recorded("signal_handlers");
  RunResult r = script(trace, R"(break on_alarm
continue 2
delete
finish
reverse-step
assert hits == 1002
finish
reverse-next
assert hits == 1001
break on_alarm
continue
finish
reverse-finish
assert hits == 1001
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^assert passed").size(), 3u) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^<signal handler called> \[event)").size(), 3u) << r.out;
  std::vector<std::string> expected{"on_alarm:19", "on_alarm:20", "main:41", "on_alarm:19", "main:41"};
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
}

TEST_F(ShellTest, ReverseMotionsLeaveASignalHandlerWhereItsSignalArrived) {
  std::string trace = recorded("signal_handlers");
  // The handler's caller is the kernel's trampoline (__restore_rt); the
  // frame it returns to is main's, interrupted at 0x...26e-like address on
  // line 41, just after the syscall that sent the signal.
  RunResult r = script(trace, R"(break on_alarm
continue 2
reverse-finish
assert hits == 1001
stepi
reverse-stepi
continue
reverse-step
assert hits == 1001
continue
next
reverse-next
reverse-next
assert hits == 1001
continue
finish
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("Cannot find the call"), std::string::npos) << r.out;
  EXPECT_EQ(lines_matching(r.out, "^assert passed").size(), 3u) << r.out;
  std::vector<std::string> expected{
      "on_alarm:19",                 // continue 2: the second signal's handler
      "main:41",                     // reverse-finish: where the signal interrupted main
      "on_alarm:18",                 // stepi: the handler's first instruction, as gdb's
      "main:41",                     // reverse-stepi: the instruction it interrupted, again
      "on_alarm:19",                 // continue: the same hit
      "main:41",                     // reverse-step: out of the handler, to its line's start
      "on_alarm:19", "on_alarm:20",  // continue, next
      "on_alarm:19", "main:41",      // reverse-next twice: the handler's line, then out
      "on_alarm:19",                 // continue
  };
  auto where = signal_stops(r.out);
  EXPECT_EQ(where, expected) << r.out;
  // Mid-line after reverse-finish and reverse-stepi; at the start of the line after reverse-step.
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in main \(\) at signal_handlers\.c:41 \[event)").size(), 2u) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^main \(\) at signal_handlers\.c:41 \[event)").size(), 2u) << r.out;
  // finish: out to the kernel's trampoline, which gdb names so.
  EXPECT_NE(r.out.find("\n<signal handler called> [event"), std::string::npos) << r.out;
}

TEST_F(ShellTest, TheInstructionsAroundAHandlersReturnAreExactPositions) {
  std::string trace = recorded("signal_handlers");
  // rt_sigreturn ends exactly where the signal interrupted main: a run that
  // began just after it counted its arrivals one short, so going back to a
  // position after finish and next ran on to the next round instead.
  RunResult r = script(trace, R"(break on_alarm
continue
finish
next
reverse-stepi
reverse-stepi
reverse-stepi
stepi
stepi
stepi
reverse-next
assert hits == 0
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("this is a bug"), std::string::npos) << r.err;
  std::vector<std::string> where;
  for (const auto& line : lines_matching(r.out, R"( \[event \d+\]$)")) where.push_back(line.substr(0, line.find(" [event")));
  ASSERT_GE(where.size(), 9u) << r.out;
  where.erase(where.begin(), where.end() - 9);  // from finish on
  std::regex mid_41(R"(^0x[0-9a-f]+ in main \(\) at signal_handlers\.c:41$)");
  EXPECT_EQ(where[0], "<signal handler called>") << r.out;                         // finish
  EXPECT_EQ(where[1], "main () at signal_handlers.c:42") << r.out;                 // next: out, to the next line
  EXPECT_TRUE(std::regex_match(where[2], mid_41)) << r.out;                        // reverse-stepi: rt_sigreturn's end
  EXPECT_NE(where[3].find(" in __restore_rt () from "), std::string::npos) << r.out;  // its syscall
  EXPECT_EQ(where[4], "<signal handler called>") << r.out;
  EXPECT_NE(where[5].find(" in __restore_rt () from "), std::string::npos) << r.out;  // stepi, three times
  EXPECT_TRUE(std::regex_match(where[6], mid_41)) << r.out;
  EXPECT_EQ(where[7], "main () at signal_handlers.c:42") << r.out;
  EXPECT_EQ(where[8], "main () at signal_handlers.c:41") << r.out;                 // reverse-next: the line's start
  EXPECT_NE(r.out.find("assert passed: hits == 0"), std::string::npos) << r.out;
}

TEST_F(ShellTest, StepiOverTheSyscallThatSendsASignalStopsAtItsArrivalThenInItsHandler) {
  std::string trace = recorded("signal_handlers");
  // As gdb's stepi: the syscall, then the signal's arrival reported, then
  // the handler's first instruction; and the same instructions backward,
  // none twice. (Before, a step stood again at the same instruction with
  // the signal applied, and reverse-stepi came back there.)
  RunResult r = script(trace, R"(break 44
continue
stepi 4
stepi
stepi
reverse-stepi
reverse-stepi
stepi
stepi
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::vector<std::string> expected{
      "main:44",               // the breakpoint
      "main:44",               // stepi 4: at the syscall instruction
      "SIGUSR1", "main:44",    // stepi: the syscall, and the signal arrives
      "on_usr1:26",            // stepi: the handler's first instruction
      "main:44",               // reverse-stepi: the arrival
      "main:44",               // reverse-stepi: the syscall instruction
      "SIGUSR1", "main:44",    // stepi, stepi: the same way again
      "on_usr1:26",
  };
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
  auto syscall_at = lines_matching(r.out, R"(^0x[0-9a-f]+ in main \(\) at signal_handlers\.c:44 \[event)");
  ASSERT_EQ(syscall_at.size(), 5u) << r.out;
  EXPECT_EQ(syscall_at[0].substr(0, 18), syscall_at[3].substr(0, 18)) << "back at the syscall";
  EXPECT_EQ(syscall_at[1].substr(0, 18), syscall_at[2].substr(0, 18)) << "back at the arrival";
  EXPECT_EQ(syscall_at[1].substr(0, 18), syscall_at[4].substr(0, 18));
}

TEST_F(ShellTest, ABreakpointWhereASignalInterruptedTheProgramStopsOnceEachTimeBothWays) {
  std::string trace = recorded("signal_handlers");
  RunResult first = script(trace, "continue\n");
  std::smatch arrival;
  ASSERT_TRUE(std::regex_search(first.out, arrival, std::regex(R"(\n(0x[0-9a-f]+) in main \(\) at signal_handlers\.c:44)"))) << first.out;
  // The program arrives there as the syscall sending SIGUSR1 returns, and
  // again as the handler returns (rt_sigreturn). The signal, applied in
  // between, leaves it where it was: no arrival, and no stop. Backward, the
  // same stops in reverse, none of them twice.
  RunResult r = script(trace, "break *" + arrival[1].str() + "\ncontinue\ncontinue\ncontinue\ncontinue\n" +
                                  "reverse-continue\nreverse-continue\nreverse-continue\nreverse-continue\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::vector<std::string> where;
  for (const auto& line : lines_matching(r.out, R"(^(Breakpoint 1,|Program received signal)|\[event \d+\]$)")) {
    if (line.rfind("Breakpoint 1, ", 0) == 0) where.push_back("break " + line.substr(line.rfind('[')));
    else if (line.rfind("Program", 0) == 0) where.push_back(line.substr(line.find("SIG"), 7));
    else if (line.find("signal_handlers.c") != std::string::npos) where.push_back(line.substr(line.rfind('[')));
  }
  std::smatch e53;
  ASSERT_TRUE(std::regex_search(r.out, e53, std::regex(R"(Breakpoint 1, .*(\[event \d+\]))"))) << r.out;
  ASSERT_EQ(where.size(), 11u) << r.out;
  EXPECT_EQ(where[0], "break " + e53[1].str()) << r.out;     // the syscall's return
  EXPECT_EQ(where[1], "SIGUSR1") << r.out;                   // the signal arrives there
  EXPECT_EQ(where[2], e53[1].str()) << r.out;                // (the same event: no other stop between)
  EXPECT_EQ(where[3], "SIGUSR2") << r.out;                   // nested, in the handler
  EXPECT_EQ(where[5].rfind("break [event", 0), 0u) << r.out; // the handler's return
  EXPECT_NE(where[5], where[0]) << r.out;
  EXPECT_EQ(where[6], "SIGUSR2") << r.out;                   // reverse-continue: the same stops, backward
  EXPECT_EQ(where[7], where[4]) << r.out;
  EXPECT_EQ(where[8], "SIGUSR1") << r.out;
  EXPECT_EQ(where[9], e53[1].str()) << r.out;
  EXPECT_EQ(where[10], where[0]) << r.out;
}

TEST_F(ShellTest, FromWhereASignalInterruptedALineReverseStepGoesToThatLinesStart) {
  std::string trace = recorded("signal_handlers");
  // reverse-finish out of the nested handler stands in the middle of line
  // 29 of SIGUSR1's handler, after the syscall that sent SIGUSR2: back to
  // that line's start first (as gdb goes from the middle of a line), not to
  // the line before it.
  RunResult r = script(trace, R"(break on_usr2
continue
continue
continue
reverse-finish
reverse-step
assert hits == 3013
reverse-next
assert hits == 3003
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^assert passed").size(), 2u) << r.out;
  std::vector<std::string> expected{"SIGUSR1", "main:44", "SIGUSR2", "on_usr1:29", "on_usr2:23",
                                    "on_usr1:29", "on_usr1:29", "on_usr1:28"};
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in on_usr1 \(sig=10\) at signal_handlers\.c:29 \[event)").size(), 2u) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^on_usr1 \(sig=10\) at signal_handlers\.c:29 \[event)").size(), 1u) << r.out;
}

TEST_F(ShellTest, AFaultIsAStopBeforeItsHandlerBothWays) {
  std::string trace = recorded("signal_handlers");
  // Line 63 writes to read-only memory; the SIGSEGV handler makes the page
  // writable and the write is made again. As gdb's stepi: the faulting
  // instruction, the signal's arrival there, the handler's first
  // instruction. Before, the arrival was applied at once, with no stop, and
  // continue from it stopped again at the breakpoint on the same line.
  RunResult r = script(trace, R"(break 63
continue
continue
continue
continue
stepi
stepi
stepi
reverse-stepi
reverse-stepi
reverse-stepi
continue
continue
reverse-continue
reverse-continue
assert hits == 4115
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto where = signal_stops(r.out);
  ASSERT_GE(where.size(), 13u) << r.out;
  where.erase(where.begin(), where.end() - 13);
  std::vector<std::string> expected{
      "main:63",                // the breakpoint (after three other signals' stops)
      "main:63",                // stepi: the faulting instruction
      "SIGSEGV", "main:63",     // stepi: the fault's signal arrives
      "on_segv:71",             // stepi: its handler
      "main:63", "main:63",     // reverse-stepi: the arrival, the faulting instruction,
      "main:63",                // and the line's start
      "SIGSEGV", "main:63",     // continue: the fault again; continue: to the end
      "SIGSEGV", "main:63",     // reverse-continue, reverse-continue
      "main:63",
  };
  EXPECT_EQ(where, expected) << r.out;
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, main () at signal_handlers.c:63"), 2) << r.out;
  EXPECT_NE(r.out.find("[The program exited normally"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("assert passed: hits == 4115"), std::string::npos) << r.out;
}

TEST_F(ShellTest, SignalArrivalsAreStopsBothWaysAndStepsEnterTheirHandlers) {
  std::string trace = recorded("signal_handlers");
  // SIGUSR1's handler sends SIGUSR2 (nested); SIGALRM, sent while blocked,
  // arrives when sigprocmask unblocks it (queued).
  RunResult r = script(trace, R"(break on_usr2
continue
continue
continue
assert hits == 3013
reverse-continue
reverse-continue
reverse-continue
continue
step
next
assert hits == 3003
continue
step
bt 5
reverse-stepi
reverse-finish
delete
break on_alarm
continue
continue
assert hits == 4113
reverse-continue
assert hits == 3013
reverse-continue
reverse-continue
assert hits == 2002
)");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, "^assert passed").size(), 5u) << r.out;
  std::vector<std::string> expected{
      "SIGUSR1", "main:44",       // continue: the arrivals stop, as in gdb
      "SIGUSR2", "on_usr1:29",    // (nested: in SIGUSR1's handler)
      "on_usr2:23",               // the breakpoint in SIGUSR2's handler
      "SIGUSR2", "on_usr1:29",    // reverse-continue: the same stops, backward
      "SIGUSR1", "main:44",       // (and the third: back to the start)
      "SIGUSR1", "main:44",       // continue
      "on_usr1:26",               // step: into the handler, at its first instruction (gdb's too)
      "on_usr1:28",               // next
      "SIGUSR2", "on_usr1:29",    // continue
      "on_usr2:22",               // step: into the nested handler
      "on_usr1:29",               // reverse-stepi: where SIGUSR2 interrupted SIGUSR1's handler
      "main:44",                  // reverse-finish: where SIGUSR1 interrupted main
      "SIGUSR2", "on_usr1:29",    // continue: SIGUSR1's handler runs again
      "on_alarm:19",              // the queued SIGALRM's handler
      "SIGUSR2", "on_usr1:29",    // reverse-continue, three times
      "SIGUSR1", "main:44",
      "on_alarm:19",              // the third SIGALRM's handler
  };
  EXPECT_EQ(signal_stops(r.out), expected) << r.out;
  // Two handlers deep: below each handler, the trampoline, then what the signal interrupted (as gdb's bt).
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(#1  <signal handler called>\n#2  0x[0-9a-f]+ in on_usr1 \(sig=10\) at signal_handlers\.c:29\n#3  <signal handler called>\n#4  0x[0-9a-f]+ in main \(\) at signal_handlers\.c:44\n)"))) << r.out;
}

TEST_F(ShellTest, HandleChoosesWhichSignalsStopContinueBothWays) {
  // signal_handlers gets SIGALRM (five times), SIGUSR1, SIGUSR2, then SIGSEGV.
  std::string trace = recorded("signal_handlers");
  RunResult r = script(trace,
                       "handle SIGUSR1 nostop noprint\nhandle USR2 nostop print\ncontinue\n"
                       "handle 10 stop\nreverse-continue\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SIGUSR1       No\tNo\tYes\t\tUser defined signal 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SIGUSR2       No\tYes\tYes\t\tUser defined signal 2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SIGUSR1       Yes\tYes\tYes\t\tUser defined signal 1\n"), std::string::npos) << r.out;
  // Forward: SIGUSR1 unseen, SIGUSR2 (sent twice) printed in passing, the
  // fault stops. Backward from the fault: both SIGUSR2 printed and passed
  // again, then SIGUSR1, asked to stop now, stops.
  const std::string usr1 = "Program received signal SIGUSR1, User defined signal 1.";
  const std::string usr2 = "Program received signal SIGUSR2, User defined signal 2.";
  const std::string segv = "Program received signal SIGSEGV, Segmentation fault.";
  EXPECT_EQ(lines_matching(r.out, R"(^Program received signal)"),
            (std::vector<std::string>{usr2, usr2, segv, usr2, usr2, usr1}))
      << r.out;
  EXPECT_EQ(r.out.find("No more reverse-execution history"), std::string::npos) << r.out;
}

TEST_F(ShellTest, HandleStopsAtASignalGdbPassesByDefault) {
  std::string trace = recorded("signal_handlers");
  RunResult r = script(trace, "handle SIGALRM stop\ncontinue\ncontinue\ninfo signals SIGALRM SIGCHLD\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(lines_matching(r.out, R"(^Program received signal SIGALRM, Alarm clock\.$)").size(), 2u) << r.out;
  EXPECT_NE(r.out.find("SIGCHLD       No\tNo\tYes\t\tChild status changed\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, HandleRefusesToChangeWhatTheProgramReceived) {
  std::string trace = recorded("signal_handlers");
  RunResult r = script(trace, "handle SIGUSR1 nopass\n");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("The past is read-only"), std::string::npos) << r.err;
  r = script(trace, "handle SIGNOTHING stop\n");
  EXPECT_NE(r.err.find("\"SIGNOTHING\" is not a signal's name"), std::string::npos) << r.err;
}

TEST_F(ShellTest, InfoSignalsSaysWhatGdbSays) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("signal_handlers");
  RunResult ours = script(trace, "info signals SIGUSR1 SIGALRM SIGSEGV SIGCHLD SIGWINCH\n");
  RunResult theirs = run({*gdb, "-nx", "-batch", "-ex", "info signals SIGUSR1", "-ex", "info signals SIGALRM", "-ex",
                          "info signals SIGSEGV", "-ex", "info signals SIGCHLD", "-ex", "info signals SIGWINCH",
                          program("signal_handlers")});
  auto rows = [](const std::string& out) { return lines_matching(out, R"(^SIG[A-Z0-9]+ +(Yes|No)\t)"); };
  ASSERT_EQ(rows(theirs.out).size(), 5u) << theirs.out << theirs.err;
  EXPECT_EQ(rows(ours.out), rows(theirs.out)) << ours.out;
}

}  // namespace
}  // namespace ttdb::test
