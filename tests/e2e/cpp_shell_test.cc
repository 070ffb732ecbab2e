// The shell on C++ (debug_shapes.cc, -O0), with gdb on the same binary as
// the oracle: the standard library's types as libstdc++'s printers show
// them, classes with bases, members and methods, Class::method
// breakpoints, members through `this`, and demangled, qualified names.
#include <gtest/gtest.h>

#include <regex>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class CppShellTest : public ShellTest {
 protected:
  // Runs `looks` at `where` in both debuggers; the output from the echo on must agree.
  void expect_as_gdb(const std::string& where, const std::vector<std::string>& looks, const std::string& must_show) {
    auto gdb = installed_tool("gdb");
    if (!gdb) GTEST_SKIP() << "gdb is not installed";
    std::string trace = recorded("debug_shapes");
    std::vector<std::string> ours_commands{"break " + where, "continue", "echo ---\\n"};
    ours_commands.insert(ours_commands.end(), looks.begin(), looks.end());
    RunResult ours = script(trace, joined(ours_commands));
    std::vector<std::string> theirs_commands{"break " + where, "run", "echo ---\\n"};
    theirs_commands.insert(theirs_commands.end(), looks.begin(), looks.end());
    RunResult theirs = gdb_batch(*gdb, "debug_shapes", theirs_commands);
    std::string expected = from_line(theirs.out, "---");
    ASSERT_NE(expected.find(must_show), std::string::npos) << theirs.out << theirs.err;
    EXPECT_EQ(from_line(ours.out, "---"), expected) << ours.err;
  }
};

TEST_F(CppShellTest, StandardLibraryValuesPrintAsLibstdcxxsPrintersShowThem) {
  expect_as_gdb("debug_shapes.cc:54",
                {"print squares", "print words", "print ages", "print cubes", "print rect", "print shared", "print other",
                 "print some", "print none", "print greeting", "print empty", "whatis words", "whatis cubes", "whatis ages"},
                "std::vector of length 5, capacity 8 = {0, 1, 4, 9, 16}");
}

TEST_F(CppShellTest, ClassesShowTheirBasesMembersAndMethods) {
  expect_as_gdb("debug_shapes.cc:54", {"ptype geo::Rect", "ptype geo::Shape", "whatis geo::Shape::name"},
                "type = class geo::Rect : public geo::Shape {");
}

TEST_F(CppShellTest, AMethodBreakpointStopsWithThisAndItsMembersByName) {
  expect_as_gdb("geo::Rect::scale", {"backtrace", "print w_", "print sides_", "print *this", "print this->h_"},
                "#0  geo::Rect::scale (this=");
}

TEST_F(CppShellTest, SmartPointersAndVectorsTakeStarArrowAndSubscriptAsGdbsXmethodsDo) {
  expect_as_gdb("debug_shapes.cc:54",
                {"print squares[2]", "print *rect", "print rect->w_", "print *shared", "print words[1]", "print *other"},
                "$2 = {<geo::Shape> = {_vptr.Shape = ");
}

TEST_F(CppShellTest, ALambdaIsSteppedIntoAndNamedAsGdbNamesIt) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_shapes");
  const std::vector<std::string> looks{"echo ---\\n", "step", "backtrace", "info args", "finish"};
  std::vector<std::string> ours_commands{"break debug_shapes.cc:59", "continue"}, theirs_commands{"break debug_shapes.cc:59", "run"};
  ours_commands.insert(ours_commands.end(), looks.begin(), looks.end());
  theirs_commands.insert(theirs_commands.end(), looks.begin(), looks.end());
  RunResult ours = script(trace, joined(ours_commands));
  RunResult theirs = gdb_batch(*gdb, "debug_shapes", theirs_commands);
  // The stack's addresses differ between a run under gdb and the recorded
  // one (the environment); gdb -batch says "Run till exit" elsewhere.
  auto comparable = [](const std::string& out) {
    std::string text = std::regex_replace(from_line(out, "---"), std::regex("0x7ff[0-9a-f]+"), "STACK");
    return std::regex_replace(text, std::regex("Run till exit from [^\\n]*\\n"), "");
  };
  ASSERT_NE(theirs.out.find("#0  operator() (__closure="), std::string::npos) << theirs.out << theirs.err;
  EXPECT_EQ(comparable(ours.out), comparable(theirs.out)) << ours.err;
}

// `break write` is every function of that name, as in gdb: the program's
// Log::write and libc's write (a symbol, in another module). A program of
// gcc's, cc1, has a method named write too: without it, its libc's write
// was no location, and its writes did not stop.
TEST_F(CppShellTest, ABreakpointOnANameIsEveryFunctionOfThatNameAsInGdb) {
  auto gdb = installed_tool("gdb");
  if (!gdb) GTEST_SKIP() << "gdb is not installed";
  std::string trace = recorded("debug_cxx_write");
  RunResult ours = script(trace, "break write\ncontinue\ncontinue\ncontinue\ncontinue\n");
  RunResult theirs = gdb_batch(*gdb, "debug_cxx_write", {"break write", "run", "continue", "continue", "continue"});
  // The stops, as "1.1 Log::write": gdb names libc's by its GI alias.
  auto stops = [](const std::string& out) {
    std::vector<std::string> found;
    std::regex stop("Breakpoint (1\\.\\d), (?:__GI_)*([A-Za-z_:]+) \\(");
    for (std::sregex_iterator it(out.begin(), out.end(), stop), end; it != end; ++it)
      found.push_back((*it)[1].str() + " " + (*it)[2].str());
    return found;
  };
  ASSERT_EQ(stops(theirs.out).size(), 4u) << theirs.out << theirs.err;
  EXPECT_EQ(stops(ours.out), stops(theirs.out)) << ours.out << ours.err;
  // (Two here, more where the program loads a sanitizer's runtime, whose
  // interceptor is a `write` too.)
  EXPECT_TRUE(std::regex_search(ours.out, std::regex("Breakpoint 1 at 0x[0-9a-f]+: write\\. \\([2-9] locations\\)"))) << ours.out;
}

TEST_F(CppShellTest, PrintRawShowsTheMembersUnderThePrinter) {
  std::string trace = recorded("debug_shapes");
  RunResult r = script(trace, "break debug_shapes.cc:54\ncontinue\nprint/r squares\nprint/r some\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("_M_start = 0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("_M_engaged = true"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ttdb::test
