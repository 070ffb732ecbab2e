// gdb's scripting in the shell (tests/programs/debug_catch.cc): command
// lists on breakpoints and catchpoints, commands of the user's own with
// their arguments, and command files, compared with gdb on the same binary.
#include <gtest/gtest.h>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class ScriptingTest : public ShellTest {};

const char* const kLists = R"(handle SIGUSR1 nostop noprint
handle SIGALRM nostop noprint
break on_signal
commands
  silent
  printf "handler got %d\n", sig
  continue
end
catch syscall getppid
commands 2
  echo getppid seen\n
end
)";

TEST_F(ScriptingTest, BreakpointCommandListsRunAtEachStopAsInGdb) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string lists = dir_.file("lists.gdb");
  write_file(lists, kLists);
  // gdb runs the program; ttdb's first continue is gdb's run.
  RunResult theirs = gdb_batch(*gdb, "debug_catch", {"source " + lists, "run", "continue", "continue"});
  auto expected = lines_matching(theirs.out, "^(handler got|getppid seen|Catchpoint 2 \\()");
  ASSERT_EQ(expected.size(), 7u) << theirs.out << theirs.err;
  RunResult ours = script(recorded("debug_catch"), "source " + lists + "\ncontinue\ncontinue\ncontinue\ninfo breakpoints\n");
  ASSERT_EQ(ours.status, 0) << ours.out << ours.err;
  auto got = lines_matching(ours.out, "^(handler got|getppid seen|Catchpoint 2 \\()");
  ASSERT_EQ(got.size(), expected.size()) << ours.out;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].substr(0, 30), expected[i].substr(0, 30)) << ours.out;
  // `silent` kept the handler's stops quiet; the list shows under its breakpoint.
  EXPECT_EQ(ours.out.find("Breakpoint 1, "), std::string::npos) << ours.out;
  EXPECT_NE(ours.out.find("\n        silent\n        printf \"handler got %d\\n\", sig\n        continue\n2 "), std::string::npos) << ours.out;
}

TEST_F(ScriptingTest, UserCommandsTakeArgumentsAndHaveHelp) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string file = dir_.file("define.gdb");
  write_file(file, R"(define twice
  echo $argc: $arg0 and $arg1\n
  printf "%d\n", $arg0 * 2
end
document twice
Prints its first argument twice over.
end
echo ---\n
twice 21 x
help twice
)");
  RunResult theirs = gdb_batch(*gdb, "debug_catch", {"source " + file});
  RunResult ours = script(recorded("debug_catch"), "source " + file + "\n");
  ASSERT_EQ(ours.status, 0) << ours.err;
  EXPECT_EQ(from_line(ours.out, "---"), from_line(theirs.out, "---"));
  EXPECT_NE(ours.out.find("2: 21 and x\n42\nPrints its first argument twice over.\n"), std::string::npos) << ours.out;
}

TEST_F(ScriptingTest, IfElseAndWhileRunAsInGdb) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string file = dir_.file("control.gdb");
  write_file(file, R"(set $i = 0
while $i < 6
  if $i == 2
    set $i = $i + 1
    loop_continue
  end
  if $i % 2 == 0
    echo even\n
  else
    printf "odd %d\n", $i
  end
  if $i == 4
    loop_break
  end
  set $i = $i + 1
end
define count_to
  set $k = 0
  while $k < $arg0
    set $k = $k + 1
  end
  printf "counted to %d\n", $k
end
count_to 4
handle SIGUSR1 nostop noprint
handle SIGALRM nostop noprint
break on_signal
commands
  silent
  if sig == 10
    echo usr1\n
  else
    echo other\n
  end
  continue
end
)");
  auto marks = "^(even|odd|counted|usr1|other)";
  auto expected = lines_matching(gdb_batch(*gdb, "debug_catch", {"source " + file, "run"}).out, marks);
  ASSERT_EQ(expected.size(), 7u);
  RunResult ours = script(recorded("debug_catch"), "source " + file + "\ncontinue\n");
  ASSERT_EQ(ours.status, 0) << ours.out << ours.err;
  EXPECT_EQ(lines_matching(ours.out, marks), expected) << ours.out;
}

TEST_F(ScriptingTest, BrokenScriptsAreRefusedInOneSentence) {
  std::string trace = recorded("debug_catch");
  std::string unended = dir_.file("unended.gdb");
  write_file(unended, "define loose\necho never\n");
  std::string loop = dir_.file("loop.gdb");
  write_file(loop, "define again\nagain\nend\nagain\n");
  struct Case {
    std::string text, says;
  } cases[] = {
      {"source " + unended + "\n", "a line saying \"end\" is missing"},
      {"source " + loop + "\n", "calls itself more than 32 deep"},
      {"define break\nend\n", "is a built-in command"},
      {"commands 9\n", "o breakpoint number 9"},
      {"source /no/such/file\n", "annot read /no/such/file"},
      {"if 1\necho never\n", "ends inside a block"},
      {"while 1\nend\n", "went round 10000000 times"},
  };
  for (const auto& c : cases) {
    RunResult r = script(trace, c.text);
    EXPECT_NE(r.status, 0) << c.text;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.text << r.err;
  }
}

}  // namespace
}  // namespace ttdb::test
