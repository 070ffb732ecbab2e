// The replay shell as users drive it: scripts with asserts (-x, -ex,
// --junit), and an interactive session through a pseudo-terminal.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class ShellTest : public ::testing::Test {
 protected:
  // Records `name` once per test; the shell replays it.
  std::string recorded(const std::string& name, const std::vector<std::string>& args = {}) {
    std::string trace = dir_.file(name + ".ttdb");
    std::vector<std::string> command{program(name)};
    command.insert(command.end(), args.begin(), args.end());
    RunResult r = record(trace, command);
    EXPECT_EQ(r.status, 0) << r.err;
    return trace;
  }

  // ttdb replay -x SCRIPT TRACE, the script given as text.
  RunResult script(const std::string& trace, const std::string& text, const std::vector<std::string>& extra = {}) {
    std::string path = dir_.file("script.ttdb-commands");
    write_file(path, text);
    std::vector<std::string> args{"replay", "-x", path};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(trace);
    return ttdb(args);
  }

  TempDir dir_;
};

// The lines of `text` that match `pattern`, in order.
std::vector<std::string> lines_matching(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re(pattern);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, re)) out.push_back(line);
  return out;
}

TEST_F(ShellTest, InferiorsListSwitchAndTravelWithTheProcessThatStopped) {
  std::string trace = recorded("fork_wait");
  // Children stop at their _exit (in whatever order they ran), going forward
  // and back; the parent, looked at meanwhile, stands in its fork.
  RunResult r = script(trace,
                       "break fork_wait.c:27\n"
                       "continue\n"
                       "print i\n"
                       "info inferiors\n"
                       "inferior 1\n"
                       "bt\n"
                       "continue\n"
                       "print i\n"
                       "reverse-continue\n"
                       "print i\n"
                       "inferior\n"
                       "inferior 7\n");
  EXPECT_EQ(r.status, 2) << r.out << r.err;  // the last command fails
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, main () at fork_wait.c:27"), 3) << r.out;
  std::smatch first, second, back;
  ASSERT_TRUE(std::regex_search(r.out, first, std::regex("\\$1 = (\\d)"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, second, std::regex("\\$2 = (\\d)"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, back, std::regex("\\$3 = (\\d)"))) << r.out;
  EXPECT_NE(first[1], second[1]) << "two children";
  EXPECT_EQ(back[1], first[1]) << "reverse-continue returns to the first child's stop";
  // The parent and the children it made so far; the one that stopped moves next.
  std::smatch moving;
  ASSERT_TRUE(std::regex_search(r.out, moving, std::regex("\\* (\\d)    process \\d+ +\\S+/fork_wait  \\(moves next\\)\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  1    process \\d+ +\\S+/fork_wait\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Switching to inferior 1 \\[process \\d+\\]"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("#\\d+ +0x[0-9a-f]+ in main \\(\\) at fork_wait.c:17"))) << r.out;
  EXPECT_NE(r.out.find("[Current inferior " + moving[1].str() + " [process"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("here is no inferior 7 here"), std::string::npos) << r.err;
}

TEST_F(ShellTest, AProcessThatExecdAnotherProgramHasThatProgramsSymbols) {
  std::string trace = dir_.file("chain.ttdb");
  ASSERT_EQ(record(trace, {program("exec_chain")}).status, 5);  // the first link's depth
  // Just before /bin/echo, the chain's last link, prints.
  RunResult events = ttdb({"events", trace});
  std::smatch write;
  ASSERT_TRUE(std::regex_search(events.out, write, std::regex("(\\d+)  \\[pid +\\d+\\] write\\(1, \"the end of the chain"))) << events.out;
  std::int64_t before = std::stoll(write[1]) - 1;
  RunResult r = script(trace, "goto event " + std::to_string(before) + "\nbt\ninferior 1\nbt\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Switching to inferior 5 \\[process \\d+\\] \\(/usr/bin/echo\\)\\]"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("#\\d+ +0x[0-9a-f]+ in .* from /usr/bin/echo\n"))) << r.out;
  EXPECT_FALSE(std::regex_search(r.out, std::regex("#0  0x[0-9a-f]+ in \\?\\? \\(\\)\n"))) << r.out;
  // The first process is still exec_chain, with its lines.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("in main \\(.*\\) at exec_chain.c:\\d+"))) << r.out;
}

TEST_F(ShellTest, InfoThreadsAndThreadN) {
  std::string trace = recorded("threads_sync");
  RunResult r = script(trace,
                       "break consume\n"
                       "continue\n"
                       "info threads\n"
                       "thread 1\n"
                       "bt\n"
                       "thread\n"
                       "info inferiors\n"
                       "thread 9\n");
  EXPECT_EQ(r.status, 2) << r.out << r.err;  // the last command fails
  // Whichever consumer ran first stops; it is the one looked at, and moves next.
  std::smatch stopped;
  ASSERT_TRUE(std::regex_search(r.out, stopped, std::regex("\\[Switching to thread (\\d) \\(Thread \\d+\\)\\]\n\nBreakpoint 1, consume"))) << r.out;
  EXPECT_NE(stopped[1], "1");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("  1    Thread \\d+ +0x[0-9a-f]+ in \\S+ \\(")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\* " + stopped[1].str() + "    Thread \\d+ +0x[0-9a-f]+ in consume \\(arg=0x\\d\\) at threads_sync.c:\\d+  \\(moves next\\)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Switching to thread 1 \\(Thread \\d+\\)\\]"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Switching to thread 1 \\(Thread \\d+\\)\\]\n#0  \\S+ \\("))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Current thread is 1 \\(Thread \\d+\\)\\]"))) << r.out;
  // One process, however many threads.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\* 1    process \\d+ +\\S+/threads_sync  \\(moves next\\)\n(?!  2)"))) << r.out;
  EXPECT_NE(r.err.find("no thread 9 in this process"), std::string::npos) << r.err;
}

TEST_F(ShellTest, ABreakpointOfOneThreadStopsOnlyThatThreadBothWays) {
  std::string trace = recorded("threads_sync");
  // Once all three consumers run, a breakpoint in their loop for thread 3 only.
  RunResult r = script(trace,
                       "break consume\ncontinue\ncontinue\ncontinue\ndelete\n"
                       "break threads_sync.c:27 thread 3\n"
                       "continue\nthread\ncontinue\nthread\ncontinue\nthread\n"
                       "reverse-continue\nthread\nreverse-continue\nthread\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(count_of(r.out, "Breakpoint 2, consume ("), 5) << r.out;
  EXPECT_EQ(count_of(r.out, "[Current thread is 3 (Thread "), 5) << r.out;
  EXPECT_EQ(count_of(r.out, "[Current thread is "), 5) << r.out;
}

TEST_F(ShellTest, PrintAnswersAsGdbDoes) {
  std::string trace = recorded("debug_loops");
  RunResult r = script(trace, R"(break accumulate
continue
print n
print &counter
print origin
print greeting
print origin.name
print n * 2 + 1
print/x 255
print (char)65
print sizeof(struct point)
up
print values
print p.x + values[3]
print &p
print (&p)->y == 4 && values[0] == 10
print $1 + $6
print $event
)");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Breakpoint 1, accumulate (n=10) at debug_loops.c:20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$1 = 10\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\$2 = \(int \*\) 0x[0-9a-f]+ <counter>\n)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\$3 = \{x = 0, y = 0, name = 0x[0-9a-f]+ "origin"\}\n)"))) << r.out;
  EXPECT_NE(r.out.find("$4 = \"hello, ttdb\"\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\$5 = 0x[0-9a-f]+ "origin"\n)"))) << r.out;
  EXPECT_NE(r.out.find("$6 = 21\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$7 = 0xff\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$8 = 65 'A'\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$9 = 16\n"), std::string::npos) << r.out;
  // `values` is main's: visible one frame up.
  EXPECT_NE(r.out.find("$10 = {10, 20, 30, 40}\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$11 = 43\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\$12 = \(struct point \*\) 0x7ff[0-9a-f]+\n)"))) << r.out;
  EXPECT_NE(r.out.find("$13 = 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$14 = 31\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$15 = 39\n"), std::string::npos) << r.out;
  // Not in scope where the program stands: a clear message.
  RunResult out_of_scope = ttdb({"replay", "-ex", "break accumulate", "-ex", "continue", "-ex", "print values", trace});
  EXPECT_EQ(out_of_scope.status, 2);
  EXPECT_NE(out_of_scope.err.find("No symbol \"values\" in the current context."), std::string::npos) << out_of_scope.err;
}

TEST_F(ShellTest, ArtificialArraysAndDisplays) {
  std::string trace = recorded("debug_loops");
  RunResult r = script(trace, R"(break accumulate
continue
display n
display/x counter
up
print values[1]@2
print *values@4
down
next
undisplay 1
next
)");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("$1 = {20, 30}\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$2 = {10, 20, 30, 40}\n"), std::string::npos) << r.out;
  // Shown when made, then after each stop, until undisplayed.
  EXPECT_EQ(lines_matching(r.out, "^1: n = 10$").size(), 2u) << r.out;
  EXPECT_EQ(lines_matching(r.out, "^2: /x counter = 0x0$").size(), 3u) << r.out;
}

TEST_F(ShellTest, TypesWithoutReadingMemory) {
  std::string trace = recorded("debug_structs");
  // At main's first line head is still NULL: ptype *head needs no memory.
  RunResult r = script(trace, "break main\ncontinue\nptype *head\nwhatis grid\nptype enum color\nwhatis &u\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("type = struct node {\n    int value;\n    enum color color;\n    struct node *next;\n}\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("type = int [2][3]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("type = enum color {\n    RED, GREEN, BLUE\n}\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("type = union number *\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, PassingAssertsExitZeroAndFailingOnesExitOneWithTheirContext) {
  std::string trace = recorded("debug_loops");
  RunResult pass = script(trace, "break accumulate if n == 12\ncontinue\nassert n == 12\nassert counter == 21 \"two rounds done\"\n");
  EXPECT_EQ(pass.status, 0) << pass.out << pass.err;
  EXPECT_EQ(lines_matching(pass.out, "^assert passed").size(), 2u) << pass.out;

  std::string junit = dir_.file("report.xml");
  RunResult fail = script(trace, "break accumulate if n == 12\ncontinue\nassert counter == 99 \"wrong on purpose\"\nassert n == 12\n",
                          {"--junit", junit});
  EXPECT_EQ(fail.status, 1) << fail.out << fail.err;
  EXPECT_NE(fail.out.find("assert FAILED: counter == 99 (wrong on purpose)\n  value: 0\n  at event 41, accumulate at debug_loops.c:20"),
            std::string::npos)
      << fail.out;
  // The script goes on after a failed assert: the second one ran.
  EXPECT_NE(fail.out.find("assert passed: n == 12"), std::string::npos) << fail.out;
  std::string xml = read_file(junit);
  EXPECT_NE(xml.find("<testsuites tests=\"2\" failures=\"1\" errors=\"0\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"wrong on purpose\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"counter == 99 is 0\">"), std::string::npos) << xml;
}

TEST_F(ShellTest, ABadScriptOrTraceExitsTwoWithAClearMessage) {
  std::string trace = recorded("debug_loops");
  RunResult bad_command = script(trace, "break accumulate\nfrobnicate now\nassert 1\n");
  EXPECT_EQ(bad_command.status, 2);
  EXPECT_NE(bad_command.err.find("Undefined command: \"frobnicate\"; try \"help\"."), std::string::npos) << bad_command.err;
  EXPECT_NE(bad_command.err.find("script.ttdb-commands:2"), std::string::npos) << bad_command.err;
  EXPECT_EQ(bad_command.out.find("assert passed"), std::string::npos) << "the script stops at the bad command";

  RunResult bad_expression = ttdb({"replay", "-ex", "print 1 +", trace});
  EXPECT_EQ(bad_expression.status, 2);
  EXPECT_NE(bad_expression.err.find("The expression ends too early."), std::string::npos) << bad_expression.err;

  RunResult missing = ttdb({"replay", "-ex", "print 1", dir_.file("nothing.ttdb")});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("ttdb: cannot open trace"), std::string::npos) << missing.err;

  RunResult no_script = ttdb({"replay", "-x", dir_.file("absent"), trace});
  EXPECT_EQ(no_script.status, 2);
  EXPECT_NE(no_script.err.find("cannot read the script"), std::string::npos) << no_script.err;
}

TEST_F(ShellTest, LineStepsForwardAndBackwardFollowTheSource) {
  std::string trace = recorded("debug_loops");
  RunResult r = script(trace, R"(break accumulate
continue
next
next
step
step
next
reverse-step
reverse-step
reverse-step
reverse-next
reverse-next
)");
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = lines_matching(r.out, R"( at debug_loops\.c:\d+ \[event)");
  std::vector<std::string> where;
  for (const auto& l : lines) where.push_back(l.substr(0, l.find(" (")) + ":" + l.substr(l.rfind(':') + 1, l.find(" [") - l.rfind(':') - 1));
  std::vector<std::string> expected{
      "Breakpoint 1, accumulate:20",  // break
      "accumulate:21", "accumulate:22",  // next, next
      "square:17",                       // step into square(0)
      "accumulate:22",                   // step out: back in the middle of line 22, at a statement
      "accumulate:23",                   // next
      "square:17",                       // reverse-step: back into the call on line 22
      "accumulate:22",                   // reverse-step: out, to the start of the call's line
      "accumulate:21",                   // reverse-step: line 21 calls nothing
      "accumulate:20", "main:40",        // reverse-next twice: the first line, then the caller
  };
  EXPECT_EQ(where, expected) << r.out;
}

TEST_F(ShellTest, FinishReportsTheValueAndReverseFinishGoesBackToTheCall) {
  std::string trace = recorded("debug_loops");
  RunResult r = script(trace, R"(break square if v == 3
continue
reverse-finish
print i
info registers rip
x/i $pc
delete
stepi
finish
)");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Breakpoint 1, square (v=3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Run back to call of #0"), std::string::npos) << r.out;
  // At the call instruction in accumulate, line 22, in the same round.
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in accumulate \(n=10\) at debug_loops\.c:22)").size(), 1u) << r.out;
  EXPECT_NE(r.out.find("$1 = 3\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(rip +0x[0-9a-f]+ +0x[0-9a-f]+ <accumulate\+\d+>)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(=> 0x[0-9a-f]+ <accumulate\+\d+>:\tcall)"))) << r.out;
  EXPECT_NE(r.out.find("Value returned is $2 = 9"), std::string::npos) << r.out;
}

// Where each stop of a signal_handlers script was: "function:line", after
// "SIGUSR1" and the like for a signal's arrival.
std::vector<std::string> signal_stops(const std::string& out) {
  std::vector<std::string> where;
  std::regex signal(R"(^Program received signal (\w+)\.)");
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
  for (const auto& line : lines_matching(r.out, R"(^(Breakpoint 1|Program received signal)|\[event \d+\]$)")) {
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

TEST_F(ShellTest, WatchpointsFireForwardAndBackwardOnTheHeap) {
  std::string trace = recorded("debug_structs");
  RunResult r = script(trace, R"(break debug_structs.c:38
continue
delete
print *head
print head->next->next->value
print grid
print grid[1][2]
watch -l head->next->value
continue
continue
reverse-continue
print head->next->value
print u
print/x u.i
)");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\$1 = \{value = 50, color = BLUE, next = 0x[0-9a-f]+\})"))) << r.out;
  EXPECT_NE(r.out.find("$2 = 30\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$3 = {{1, 2, 3}, {4, 5, 6}}\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$4 = 6\n"), std::string::npos) << r.out;
  // Forward: 40 becomes 41 in the loop; then the program ends without another change.
  EXPECT_NE(r.out.find("Old value = 40\nNew value = 41\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[The program exited normally"), std::string::npos) << r.out;
  // Backward from the end: the same write, undone.
  EXPECT_NE(r.out.find("Old value = 41\nNew value = 40\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$5 = 40\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$6 = {i = 1069547520, f = 1.5}\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$7 = 0x3fc00000\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, APositionInsideALongLoopIsReturnedToExactly) {
  std::string trace = recorded("debug_loops");
  // 3000 instructions into spin's loop of 200,000 rounds without a syscall.
  RunResult r = script(trace, R"(tbreak spin
continue
next
stepi 3000
print i
print sum
info registers rip
checkpoint
goto event 2
restart 1
print i
print sum
info registers rip
reverse-stepi 40
stepi 40
print i
print sum
)");
  ASSERT_EQ(r.status, 0) << r.err;
  auto values = lines_matching(r.out, R"(^\$[0-9]+ = )");
  ASSERT_EQ(values.size(), 6u) << r.out;
  auto value = [&](std::size_t k) { return values[k].substr(values[k].find('=')); };
  EXPECT_NE(value(0), "= 0") << "deep inside the loop, i has moved on";
  EXPECT_EQ(value(0), value(2));
  EXPECT_EQ(value(1), value(3));
  EXPECT_EQ(value(0), value(4));
  EXPECT_EQ(value(1), value(5));
  auto rips = lines_matching(r.out, R"(^rip )");
  ASSERT_EQ(rips.size(), 2u) << r.out;
  EXPECT_EQ(rips[0], rips[1]);
}

TEST_F(ShellTest, StepsBackDeepInsideAHotLoop) {
  std::string trace = recorded("debug_hot");
  // 20,000 hits of a breakpoint whose condition fails, then backward from
  // there: the hits in between are counted positions, kept by checkpoints.
  RunResult r = script(trace, R"(break debug_hot.c:9 if i == 20000
continue
print i
print total
reverse-stepi
reverse-stepi
reverse-stepi
reverse-next
print i
print total
next
next
print i
reverse-continue
print $event
)");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Breakpoint 1, main () at debug_hot.c:9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$1 = 20000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$2 = 59997\n"), std::string::npos) << r.out;  // sum of i % 7 below 20000
  EXPECT_NE(r.out.find("$3 = 19999\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$4 = 59997\n"), std::string::npos) << r.out;  // 19999 % 7 == 0
  EXPECT_NE(r.out.find("$5 = 20000\n"), std::string::npos) << r.out;
  // Backward, the condition holds nowhere before: back to the start.
  EXPECT_NE(r.out.find("No more reverse-execution history."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$6 = 1\n"), std::string::npos) << r.out;
}

TEST_F(ShellTest, ReverseNextOutOfAHotOneLineLoop) {
  std::string trace = recorded("debug_loops", {"long"});
  // `next` runs spin's 3,000,000 rounds natively; going back over that line
  // must not stop at each round (minutes): the line before `return sum` is
  // known from the code.
  RunResult r = script(trace, R"(tbreak spin
continue
next
next
reverse-next
print sum
reverse-next
next
next
print sum
)");
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = lines_matching(r.out, R"(^spin \(rounds=3000000\) at debug_loops\.c:\d+)");
  std::vector<std::string> where;
  for (const auto& l : lines) where.push_back(l.substr(l.rfind(':') + 1, l.find(" [") - l.rfind(':') - 1));
  EXPECT_EQ(where, (std::vector<std::string>{"30", "31", "30", "29", "30", "31"})) << r.out;
  EXPECT_NE(r.out.find("$1 = 0\n"), std::string::npos) << r.out;  // at the loop's start
  EXPECT_NE(r.out.find("$2 = 4499998500000\n"), std::string::npos) << r.out;  // what the program printed
}

TEST_F(ShellTest, GotoEventAndEventsShowThePast) {
  std::string trace = recorded("debug_loops");
  RunResult r = script(trace, "goto event 42\nassert $event == 42\nevents 1\ngoto event $event - 2\nprint $event\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Event 42: write(1, \"round 2 result 1176\\n\", 20) = 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("=>     42  write(1, \"round 2 result 1176\\n\", 20) = 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$1 = 40\n"), std::string::npos) << r.out;
  // The program's output appears once, when the replay first passes it.
  EXPECT_EQ(lines_matching(r.out, "^round 0 result").size(), 1u) << r.out;
}

// --- the interactive shell, through a pseudo-terminal ---------------------------

class Pty {
 public:
  Pty(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Pty() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  void send(const std::string& text) { ASSERT_EQ(write(fd_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
  // Reads until `text` appears after the last expect; returns what came.
  std::string expect(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto at = buffer_.find(text, mark_); at != std::string::npos) {
        std::string seen = buffer_.substr(mark_, at + text.size() - mark_);
        mark_ = at + text.size();
        return seen;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        ADD_FAILURE() << "no \"" << text << "\" in: " << buffer_.substr(mark_);
        return {};
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) {
        ADD_FAILURE() << "the shell ended; waiting for \"" << text << "\" in: " << buffer_.substr(mark_);
        return {};
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::size_t mark_ = 0;
};

TEST_F(ShellTest, InteractiveSessionThroughATerminal) {
  std::string trace = recorded("debug_loops", {"long"});
  std::string history = dir_.file("history");
  Pty shell({ttdb_binary(), "replay", trace}, {"TTDB_HISTORY=" + history});
  shell.expect("(ttdb) ");
  // Tab completes commands and symbols.
  shell.send("brea\t");
  shell.expect("break ");
  shell.send("accum\t");
  shell.expect("accumulate");
  shell.send("\n");
  shell.expect("Breakpoint 1 at");
  shell.expect("(ttdb) ");
  shell.send("continue\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("Breakpoint 1, accumulate (n=10)"), std::string::npos);
  // Mistakes get one clear line; the shell stays usable.
  shell.send("frobnicate\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("Undefined command: \"frobnicate\""), std::string::npos);
  shell.send("print n +* 2)\n");
  shell.expect("(ttdb) ");
  shell.send("print nosuch\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("No symbol \"nosuch\" in the current context."), std::string::npos);
  shell.send("print n\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("$1 = 10"), std::string::npos);
  // An empty line repeats the last motion, as in gdb.
  shell.send("next\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("debug_loops.c:21"), std::string::npos);
  shell.send("\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("debug_loops.c:22"), std::string::npos);
  // Ctrl-C interrupts a long command: a watchpoint whose condition never
  // holds stops the program at every one of spin's 3,000,000 rounds.
  shell.send("delete\n");
  shell.expect("(ttdb) ");
  shell.send("tbreak spin\n");
  shell.expect("(ttdb) ");
  shell.send("continue\n");
  shell.expect("(ttdb) ");
  shell.send("watch sum\n");
  shell.expect("(ttdb) ");
  shell.send("condition 3 sum == -1\n");
  shell.expect("(ttdb) ");
  shell.send("continue\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  shell.send("\x03");
  std::string interrupted = shell.expect("(ttdb) ", std::chrono::seconds(30));
  EXPECT_NE(interrupted.find("Interrupted."), std::string::npos) << interrupted;
  shell.send("print i > 0\n");
  EXPECT_NE(shell.expect("(ttdb) ").find("= 1"), std::string::npos);
  shell.send("reverse-stepi\n");
  shell.expect("(ttdb) ");
  // Ctrl-C in a backward command: the first reverse-stepi after leaving the
  // loop single-steps it, which takes minutes; interrupted, the shell is back
  // where the command started.
  shell.send("delete\nuntil\n");
  shell.expect("(ttdb) ");
  EXPECT_NE(shell.expect("(ttdb) ").find("debug_loops.c:31"), std::string::npos);
  shell.send("print $pc\n");
  std::string before = shell.expect("(ttdb) ");
  shell.send("reverse-stepi\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  shell.send("\x03");
  interrupted = shell.expect("(ttdb) ", std::chrono::seconds(30));
  EXPECT_NE(interrupted.find("Interrupted."), std::string::npos) << interrupted;
  shell.send("print $pc\n");
  std::string after = shell.expect("(ttdb) ");
  EXPECT_EQ(before.substr(before.find('(')), after.substr(after.find('(')));
  shell.send("quit\n");
  EXPECT_EQ(shell.wait_exit(), 0);
  // History is kept for the next session.
  EXPECT_NE(read_file(history).find("condition 3 sum == -1"), std::string::npos);
}

}  // namespace
}  // namespace ttdb::test
