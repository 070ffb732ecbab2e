// Instructions in the shell read as gdb writes them (GNU objdump's AT&T
// spelling, with the symbol a call or jump goes to), and `disassemble`
// takes gdb's /r and /s and address ranges: compared with gdb on the same
// binary (tests/programs/debug_loops.c), stopped at the same place.
#include <gtest/gtest.h>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class DisassembleTest : public ShellTest {
 protected:
  // The output of `looks` after "---", in both debuggers, stopped at accumulate.
  std::pair<std::string, std::string> both(const std::vector<std::string>& looks) {
    auto gdb = installed_tool("gdb");
    if (!gdb) return {};
    std::vector<std::string> ours{"break accumulate", "continue", "echo ---\\n"};
    ours.insert(ours.end(), looks.begin(), looks.end());
    std::vector<std::string> theirs{"break accumulate", "run", "echo ---\\n"};
    theirs.insert(theirs.end(), looks.begin(), looks.end());
    RunResult us = script(recorded("debug_loops"), joined(ours));
    EXPECT_EQ(us.status, 0) << us.err;
    return {from_line(us.out, "---"), from_line(gdb_batch(*gdb, "debug_loops", theirs).out, "---")};
  }
};

TEST_F(DisassembleTest, FunctionsReadAsInGdbWithRawBytes) {
  if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed";
  auto [ours, theirs] = both({"disassemble", "disassemble /r main", "x/12i $pc"});
  ASSERT_NE(theirs.find("call   0x"), std::string::npos) << theirs;
  EXPECT_EQ(ours, theirs);
  // A call shows where it goes, a PLT stub by gdb's name for it.
  EXPECT_TRUE(std::regex_search(ours, std::regex(R"(call   0x[0-9a-f]+ <accumulate>)"))) << ours;
  EXPECT_TRUE(std::regex_search(ours, std::regex(R"(call   0x[0-9a-f]+ <\w+@plt>)"))) << ours;
}

TEST_F(DisassembleTest, RangesAndSourceLinesAsInGdb) {
  if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed";
  auto [ours, theirs] = both({"disassemble accumulate,+12", "disassemble square,accumulate", "disassemble /s square"});
  ASSERT_NE(theirs.find("Dump of assembler code from 0x"), std::string::npos) << theirs;
  EXPECT_EQ(ours, theirs);
}

TEST_F(DisassembleTest, FunctionsAsValuesHaveTheirParameterTypes) {
  if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed";
  auto [ours, theirs] = both({"print square", "print &accumulate", "whatis spin", "ptype main", "print *accumulate", "info args"});
  ASSERT_NE(theirs.find("{int (int)} 0x"), std::string::npos) << theirs;
  EXPECT_EQ(ours, theirs);
}

TEST_F(DisassembleTest, InfoFunctionsVariablesAndTypesListDeclarationsAsGdbDoes) {
  if (!installed_tool("gdb")) GTEST_SKIP() << "gdb is not installed";
  // The declarations (the symbols without debug information that follow
  // depend on which minimal symbols each debugger reads).
  auto declared = [](std::string text) {
    return std::regex_replace(text, std::regex("\nNon-debugging symbols:\n(0x[0-9a-f]+  .*\n)*"), "\n");
  };
  auto [ours, theirs] = both({"info functions ^squ", "info functions ^accum", "info variables ^counter$", "info variables ^orig",
                              "info types ^point$"});
  ASSERT_NE(theirs.find("static int square(int);"), std::string::npos) << theirs;
  EXPECT_EQ(declared(ours), declared(theirs));
}

TEST_F(DisassembleTest, BadModifiersAndRangesAreRefused) {
  std::string trace = recorded("debug_loops");
  for (const char* bad : {"disassemble /q main", "disassemble main+8,main"}) {
    RunResult r = script(trace, std::string("break accumulate\ncontinue\n") + bad + "\n");
    EXPECT_NE(r.status, 0) << bad;
    EXPECT_EQ(r.err.find("Internal"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ttdb::test
