// The replay shell as users drive it: scripts with asserts (-x, -ex,
// --junit), and an interactive session through a pseudo-terminal.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

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

// As gdb: `break write` is set in every program a process of the recording
// runs, at the address write has there; the parent's address in the child's
// program is other code (libc loads elsewhere there, after libm): an int3
// written there would have missed the child's writes, or broken its code.
TEST_F(ShellTest, ABreakpointOnAFunctionIsSetAgainInAProgramAnExecRuns) {
  std::string trace = dir_.file("exec_other.ttdb");
  RunResult recorded = record(trace, {program("debug_exec_other")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // The recorded writes, in order: the parent's, the child's three, the parent's.
  RunResult events = ttdb({"events", trace, "--syscall", "write"});
  std::vector<std::int64_t> writes;
  std::regex write_event("(\\d+)  \\[pid +\\d+\\] write\\(1, ");
  for (std::sregex_iterator it(events.out.begin(), events.out.end(), write_event), end; it != end; ++it)
    writes.push_back(std::stoll((*it)[1]));
  ASSERT_EQ(writes.size(), 5u) << events.out;
  std::string commands = "break write\n";
  for (int i = 0; i < 5; ++i) commands += "continue\np $pc\n";
  commands += "continue\n";
  for (int i = 0; i < 4; ++i) commands += "reverse-continue\np $pc\n";
  RunResult r = script(trace, commands);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("diverged"), std::string::npos) << r.out;
  // Each write stops, forward and back, each at the function's first
  // instruction in its own program's libc.
  std::vector<std::int64_t> stops;
  std::vector<std::string> pcs;
  std::regex stop("Breakpoint 1, __libc_write \\(fd=1[^\\n]*\\[event (\\d+)\\]\\n(?:[^\\n]*\\n)*?\\$\\d+ = \\(void \\(\\*\\)\\(\\)\\) (0x[0-9a-f]+) <__write>");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), stop), end; it != end; ++it) {
    stops.push_back(std::stoll((*it)[1]));
    pcs.push_back((*it)[2]);
  }
  ASSERT_EQ(stops.size(), 9u) << r.out;
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(stops[i], writes[i] - 1) << i << "\n" << r.out;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(stops[5 + i], stops[4 - i]) << i << "\n" << r.out;
    EXPECT_EQ(pcs[5 + i], pcs[4 - i]) << i;
  }
  EXPECT_EQ(pcs[0], pcs[4]);
  EXPECT_EQ(pcs[1], pcs[3]);
  EXPECT_NE(pcs[0], pcs[1]) << "libc is elsewhere in the child's program";
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Switching to inferior 2 \\[process \\d+\\] \\(.*/debug_libm_user\\)\\]"))) << r.out;
}

// A motion's own int3s (the lines `next` may reach, in the parent's
// program) stay out of a process of another program that runs meanwhile:
// the child runs while the parent sleeps, forward and while reverse-next
// searches back from a checkpoint the child took.
TEST_F(ShellTest, AMotionInOneProgramLeavesAnotherProgramsCodeAlone) {
  std::string trace = dir_.file("exec_other.ttdb");
  ASSERT_EQ(record(trace, {program("debug_exec_other")}).status, 0);
  RunResult r = script(trace,
                       "break debug_exec_other.c:31\ncontinue\nnext\nnext\nreverse-next\nreverse-next\nnext\nnext\ncontinue\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("diverged"), std::string::npos) << r.out;
  std::vector<std::string> lines;
  std::regex at("debug_exec_other\\.c:(\\d+) \\[event \\d+\\]");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), at), end; it != end; ++it) lines.push_back((*it)[1]);
  EXPECT_EQ(lines, (std::vector<std::string>{"31", "32", "33", "32", "31", "32", "33"})) << r.out;
  EXPECT_NE(r.out.find("[The program exited normally"), std::string::npos) << r.out;
}

// A watchpoint watches the memory of the process it was set in: the child's
// program keeps its own number at the same address, which changes nothing
// of the parent's (gdb does not watch another inferior's memory either).
TEST_F(ShellTest, AWatchpointWatchesItsOwnProcessOnly) {
  std::string trace = dir_.file("exec_other.ttdb");
  ASSERT_EQ(record(trace, {program("debug_exec_other")}).status, 0);
  RunResult r = script(trace,
                       "break debug_exec_other.c:23\ncontinue\nwatch *(int*)0x10000000\ncontinue\ncontinue\n"
                       "reverse-continue\nreverse-continue\nreverse-continue\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::vector<std::string> changes;
  std::regex change("Old value = (-?\\d+)\\nNew value = (-?\\d+)\\n[^\\n]* at debug_exec_other\\.c:(\\d+)");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), change), end; it != end; ++it)
    changes.push_back((*it)[1].str() + "->" + (*it)[2].str() + "@" + (*it)[3].str());
  // Forward: the parent's 7 after the child ran; back: 7 undone, then
  // (past the breakpoint) the parent's first 5.
  EXPECT_EQ(changes, (std::vector<std::string>{"5->7@35", "7->5@34", "5->0@15"})) << r.out;
  EXPECT_EQ(r.out.find("debug_libm_user.c"), std::string::npos) << r.out;
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

TEST_F(ShellTest, ThreadNumbersFollowTheOrderThreadsStartedWhereverTheReplayIs) {
  std::string trace = recorded("debug_threads_joined");
  // Thread 2 is joined before threads 3 and 4 start: gdb never gives its
  // number to another, and a thread keeps its number going back.
  RunResult r = script(trace,
                       "break work\n"
                       "continue\nthread\nprint *(int*)arg\n"
                       "continue\nthread\nprint *(int*)arg\n"
                       "continue\nthread\nprint *(int*)arg\n"
                       "info threads\n"
                       "break debug_threads_joined.c:13 thread 4\n"
                       "info breakpoints\n"
                       "reverse-continue\nreverse-continue\nthread\nprint *(int*)arg\n"
                       "continue\ncontinue\nthread 2\n");
  EXPECT_EQ(r.status, 2) << r.out << r.err;  // the last command fails: thread 2 has ended
  // The thread that ran work(&one) is thread 2, work(&two) 3, work(&three) 4.
  std::regex shown("\\[Current thread is (\\d) \\(Thread \\d+\\)\\]\n\\$\\d+ = (\\d)\n");
  std::vector<std::string> numbers;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), shown); it != std::sregex_iterator(); ++it) {
    EXPECT_EQ(std::stoi((*it)[1]), std::stoi((*it)[2]) + 1) << r.out;
    numbers.push_back((*it)[1]);
  }
  // Threads 3 and 4 run at once: which reaches work() first is the
  // recording's schedule, so the order of the stops is not the test's.
  ASSERT_EQ(numbers.size(), 4u) << r.out;
  std::vector<std::string> first(numbers.begin(), numbers.begin() + 3);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<std::string>{"2", "3", "4"})) << r.out;
  // A stop in another thread of the same process, even after the thread
  // shown last has ended, says which thread.
  EXPECT_EQ(count_of(r.out, "[Switching to inferior"), 0) << r.out;
  EXPECT_EQ(count_of(r.out, "[Switching to thread "), 7) << r.out;  // every stop is another thread's
  EXPECT_TRUE(std::regex_search(r.out, std::regex("  Id   Target Id          Frame\n  1    Thread \\d+ [^\n]*\n[ *] 3    Thread \\d+ [^\n]*\n[ *] 4    Thread \\d+ "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("at debug_threads_joined.c:13\n\tstop only in thread 4\n"))) << r.out;
  EXPECT_NE(r.err.find("no thread 2 in this process"), std::string::npos) << r.err;
}

TEST_F(ShellTest, ABreakpointForAThreadThatHasNotStartedYet) {
  std::string trace = recorded("debug_threads_joined");
  // Numbers come from the recording: thread 4 can be named before it runs.
  RunResult r = script(trace, "break work thread 4\ncontinue\nthread\nprint *(int*)arg\nbreak work thread 7\n");
  EXPECT_EQ(r.status, 2) << r.out << r.err;  // the last command fails: there is no thread 7
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\[Current thread is 4 \\(Thread \\d+\\)\\]\n\\$1 = 3\n"))) << r.out;
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, work "), 1) << r.out;
  EXPECT_NE(r.err.find("no thread 7 in the recording"), std::string::npos) << r.err;
}

TEST_F(ShellTest, AThreadStoppedInClone3ShowsPthreadCreateAndMain) {
  std::string trace = recorded("debug_threads_joined");
  // At each "new thread" event, the thread that made it stands in clone3,
  // after its syscall, where glibc has no call frame information. gdb shows
  // (for the first):
  //   #0  clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:62
  //   #1  0x00007ffff7edc93d in __GI___clone_internal (...) at ../sysdeps/unix/sysv/linux/clone-internal.c:54
  //   #2  0x00007ffff7e5bdf0 in create_thread (...) at ./nptl/pthread_create.c:295
  //   #3  0x00007ffff7e5c8ed in __pthread_create_2_1 (...) at ./nptl/pthread_create.c:831
  //   #4  0x0000555555555207 in main () at debug_threads_joined.c:24
  RunResult events = ttdb({"events", trace});
  std::string text;
  for (const auto& line : lines_matching(events.out, "\\+\\+\\+ new thread \\d+ \\+\\+\\+"))
    text += "goto event " + std::to_string(std::stoi(line)) + "\nthread 1\nbt\n";
  RunResult r = script(trace, text);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::regex stack("#0  \\S*clone3 \\(\\) at clone3.S:\\d+\n"
                   "#1  0x[0-9a-f]+ in \\S*clone_internal \\([^\n]*\n"
                   "#2  0x[0-9a-f]+ in create_thread \\([^\n]*\n"
                   "#3  0x[0-9a-f]+ in \\S*pthread_create\\S* \\([^\n]*\n"
                   "#4  0x[0-9a-f]+ in main \\(\\) at debug_threads_joined.c:(\\d+)\n");
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), stack); it != std::sregex_iterator(); ++it)
    lines.push_back((*it)[1]);
  EXPECT_EQ(lines, (std::vector<std::string>{"24", "26", "27"})) << r.out;
}

TEST_F(ShellTest, AfterJoinedThreadsBreakpointsStepsAndTravelWork) {
  std::string trace = recorded("debug_threads_joined");
  // Every motion here runs past threads that end (or, going back, revives
  // them from checkpoints); none may leave an int3 behind in the memory the
  // threads shared.
  RunResult r = script(trace,
                       "break debug_threads_joined.c:30\n"
                       "continue\n"
                       "assert total == 18\n"
                       "next\n"
                       "assert doubled == 36\n"
                       "next\n"
                       "assert tripled == 54\n"
                       "reverse-next\n"
                       "assert doubled == 36\n"
                       "reverse-continue\n"
                       "assert total == 18\n"
                       "stepi\n"
                       "goto event $event + 1\n"
                       "continue\n"
                       "reverse-continue\n"
                       "info line\n"
                       "continue\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, main () at debug_threads_joined.c:30"), 3) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("assert passed: total == 18\nmain \\(\\) at debug_threads_joined.c:31 .*\n31\t"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("assert passed: doubled == 36\nmain \\(\\) at debug_threads_joined.c:32 .*\n32\t"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("assert passed: tripled == 54\nmain \\(\\) at debug_threads_joined.c:31 .*\n31\t"))) << r.out;
  EXPECT_EQ(count_of(r.out, "total 18, doubled 36, tripled 54\n"), 1) << r.out;
  EXPECT_EQ(count_of(r.out, "[The program exited normally"), 2) << r.out;
  EXPECT_EQ(r.err.find("diverge"), std::string::npos) << r.err;
}

TEST_F(ShellTest, LineStepsStayInTheProcessTheyStartedIn) {
  std::string trace = recorded("debug_fork_steps");
  // Both children run steps() at once, in frames at the same addresses:
  // every stop must be the first child's, forward and backward.
  RunResult r = script(trace,
                       "break steps\ncontinue\ndelete\n"
                       "next\nnext\nnext\nnext\nnext\nnext\n"
                       "reverse-next\nreverse-next\nreverse-next\n"
                       "reverse-finish\ninfo inferiors\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(count_of(r.out, "[Switching to inferior "), 1) << r.out;
  std::regex stop("steps \\(who=(\\d)\\) at debug_fork_steps.c:(\\d+) \\[event");
  std::set<std::string> who;
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), stop); it != std::sregex_iterator(); ++it) {
    who.insert((*it)[1]);
    lines.push_back((*it)[2]);
  }
  EXPECT_EQ(who.size(), 1u) << r.out;
  EXPECT_EQ(lines, (std::vector<std::string>{"10", "11", "12", "13", "14", "15", "16", "15", "14", "13"})) << r.out;
  // reverse-finish: back to the call, in that child still. (reverse-step
  // there would go into usleep where libc has lines, as gdb's does.)
  std::smatch first;
  ASSERT_TRUE(std::regex_search(r.out, first, std::regex("\\[Switching to inferior (\\d) "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("in main \\(\\) at debug_fork_steps.c:26 \\[event"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\* " + first[1].str() + " +process \\d+ "))) << r.out;
}

TEST_F(ShellTest, AStepEndsWhenItsThreadOrProcessDoes) {
  // A child's next over its _exit: gdb stops when that inferior exits,
  // rather than at the end of the recording.
  RunResult child = script(recorded("debug_fork_steps"), "break debug_fork_steps.c:29\ncontinue\ndelete\nnext\ninfo inferiors\n");
  ASSERT_EQ(child.status, 0) << child.out << child.err;
  std::smatch stopped;
  ASSERT_TRUE(std::regex_search(child.out, stopped, std::regex("\\[Switching to inferior (\\d) \\[process (\\d+)\\]"))) << child.out;
  std::string exited = "\n[Inferior " + stopped[1].str() + " (process " + stopped[2].str() + ") exited normally]\n";
  EXPECT_NE(child.out.find(exited + "[Switching to inferior "), std::string::npos) << child.out;
  EXPECT_EQ(count_of(child.out, "process " + stopped[2].str()), 2) << child.out;  // not in info inferiors
  EXPECT_EQ(child.out.find("[The program exited"), std::string::npos) << child.out;
  // A thread's next out of its function, through start_thread, to its end.
  RunResult thread = script(recorded("debug_threads_joined"), "break debug_threads_joined.c:18\ncontinue\ndelete\nnext 100\n");
  ASSERT_EQ(thread.status, 0) << thread.out << thread.err;
  EXPECT_TRUE(std::regex_search(thread.out, std::regex("\n\\[Thread \\d+ exited\\]\n\\[Switching to thread \\d "))) << thread.out;
  EXPECT_EQ(thread.out.find("[The program exited"), std::string::npos) << thread.out;
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
  // $event is the event the stop names.
  std::smatch stop;
  ASSERT_TRUE(std::regex_search(r.out, stop, std::regex(R"(Breakpoint 1, accumulate .* \[event (\d+)\])"))) << r.out;
  EXPECT_NE(r.out.find("$15 = " + stop[1].str() + "\n"), std::string::npos) << r.out;
  // Not in scope where the program stands: a clear message.
  RunResult out_of_scope = ttdb({"replay", "-ex", "break accumulate", "-ex", "continue", "-ex", "print values", trace});
  EXPECT_EQ(out_of_scope.status, 2);
  EXPECT_NE(out_of_scope.err.find("No symbol \"values\" in current context."), std::string::npos) << out_of_scope.err;
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
  std::smatch stop;
  ASSERT_TRUE(std::regex_search(fail.out, stop, std::regex(R"(Breakpoint 1, accumulate \(n=12\) .*\[event (\d+)\])"))) << fail.out;
  // Both sides of the failed comparison, with their values.
  EXPECT_NE(fail.out.find("assert FAILED: counter == 99 (wrong on purpose)\n  value: 0\n  counter = 21\n  99 = 99\n  at event " +
                          stop[1].str() + ", accumulate at debug_loops.c:20"),
            std::string::npos)
      << fail.out;
  // The script goes on after a failed assert: the second one ran.
  EXPECT_NE(fail.out.find("assert passed: n == 12"), std::string::npos) << fail.out;
  std::string xml = read_file(junit);
  EXPECT_NE(xml.find("<testsuites tests=\"2\" failures=\"1\" errors=\"0\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"wrong on purpose\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"counter == 99 is 0: counter = 21, 99 = 99\">"), std::string::npos) << xml;

  // A command that fails says why in the report; a trace that cannot be
  // opened still gives a report, with the error.
  RunResult broken = script(trace, "break accumulate\nprint nosuch\n", {"--junit", junit});
  EXPECT_EQ(broken.status, 2) << broken.err;
  EXPECT_NE(read_file(junit).find(":2: the command 'print nosuch' failed: No symbol &quot;nosuch&quot; in current context."),
            std::string::npos)
      << read_file(junit);
  RunResult missing = ttdb({"replay", "-ex", "assert 1", "--junit", junit, dir_.file("gone.ttdb")});
  EXPECT_EQ(missing.status, 2) << missing.err;
  std::string report = read_file(junit);
  EXPECT_NE(report.find("errors=\"1\""), std::string::npos) << report;
  EXPECT_NE(report.find("<error message=\"cannot open trace " + dir_.file("gone.ttdb")), std::string::npos) << report;
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
  const std::string commands = R"(break accumulate
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
)";
  // Forward, gdb's stops on the same binary; line 22's rows after the call
  // carry discriminators, which gdb folds into the line's first row.
  std::vector<std::string> expected{
      "Breakpoint 1, accumulate:20",  // break
      "accumulate:21", "accumulate:22",  // next, next
      "square:17",                       // step into square(0)
      "accumulate:23",                   // step out: the rest of line 22, on to 23
      "accumulate:21",                   // next
      "accumulate:23",                   // reverse-step: back to line 23's start
      "square:17",                       // reverse-step: back into the call on line 22
      "accumulate:22",                   // reverse-step: out, to the start of the call's line
      "accumulate:21",                   // reverse-next
      "Breakpoint 1, accumulate:20",     // reverse-next onto the breakpoint, which gdb reports
  };
  // Also with a checkpoint at every stop: a backward search must find an
  // arrival that a checkpoint stands right after (the step into square).
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--checkpoint-interval", "0"}}) {
    SCOPED_TRACE(extra.empty() ? "default checkpoints" : "a checkpoint at every stop");
    RunResult r = script(trace, commands, extra);
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> where;
    for (const auto& l : lines_matching(r.out, R"( at debug_loops\.c:\d+ \[event)"))
      where.push_back(l.substr(0, l.find(" (")) + ":" + l.substr(l.rfind(':') + 1, l.find(" [") - l.rfind(':') - 1));
    EXPECT_EQ(where, expected) << r.out;
  }
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
  // At the call instruction in accumulate, line 22, in the same round; and
  // after finish, in the middle of line 22, as gdb says it.
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in accumulate \(n=10\) at debug_loops\.c:22)").size(), 2u) << r.out;
  EXPECT_NE(r.out.find("$1 = 3\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(rip +0x[0-9a-f]+ +0x[0-9a-f]+ <accumulate\+\d+>)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(=> 0x[0-9a-f]+ <accumulate\+\d+>:\tcall)"))) << r.out;
  EXPECT_NE(r.out.find("Value returned is $2 = 9"), std::string::npos) << r.out;
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
  // The event of the program's third line, as `ttdb events` numbers it.
  std::smatch listed;
  std::string events = ttdb({"events", trace}).out;
  ASSERT_TRUE(std::regex_search(events, listed, std::regex(R"(\s(\d+)  write\(1, "round 2 result)"))) << events;
  int n = std::stoi(listed[1].str());
  std::string at = std::to_string(n);
  RunResult r = script(trace, "goto event " + at + "\nassert $event == " + at + "\nevents 1\ngoto event $event - 2\nprint $event\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Event " + at + ": write(1, \"round 2 result 1176\\n\", 20) = 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("=> " + std::string(6 - std::min<std::size_t>(6, at.size()), ' ') + at + "  write(1, \"round 2 result 1176\\n\", 20) = 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$1 = " + std::to_string(n - 2) + "\n"), std::string::npos) << r.out;
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
  EXPECT_NE(shell.expect("(ttdb) ").find("No symbol \"nosuch\" in current context."), std::string::npos);
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
  // Ctrl-C in a backward command: going back over the loop with a
  // watchpoint whose condition never holds looks at every round, which takes
  // minutes; interrupted, the shell is back where the command started.
  shell.send("delete\nuntil\n");
  shell.expect("(ttdb) ");
  EXPECT_NE(shell.expect("(ttdb) ").find("debug_loops.c:31"), std::string::npos);
  shell.send("watch sum\n");
  shell.expect("(ttdb) ");
  shell.send("condition 4 sum == -1\n");
  shell.expect("(ttdb) ");
  shell.send("print $pc\n");
  std::string before = shell.expect("(ttdb) ");
  shell.send("reverse-continue\n");
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
