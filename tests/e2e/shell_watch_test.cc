// The shell's read and access watchpoints (rwatch, awatch), both ways, as
// gdb words their stops.
#include <gtest/gtest.h>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class ShellWatchTest : public ShellTest {
 protected:
  // debug_gdb: `total += doubled` in add() reads total, then writes it; exits 3.
  std::string traced() {
    std::string trace = dir_.file("debug_gdb.ttdb");
    EXPECT_EQ(record(trace, {program("debug_gdb")}).status, 3);
    return trace;
  }
};

TEST_F(ShellWatchTest, RwatchStopsAfterEachReadForwardAndBackward) {
  RunResult r = script(traced(), "break main\ncontinue\nrwatch total\ninfo watchpoints\ncontinue\ncontinue\n"
                                 "reverse-continue\nprint value\nreverse-continue\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Hardware read watchpoint 2: total\n"), std::string::npos) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^2 +read watchpoint +keep y +total$)").size(), 1u) << r.out;
  // Reads only (the writes change the value): 0, then 2; back to the first read.
  EXPECT_EQ(lines_matching(r.out, R"(^Value = )"), (std::vector<std::string>{"Value = 0", "Value = 2", "Value = 0"})) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^0x[0-9a-f]+ in add \(value=1\) at debug_gdb\.c:14)").size(), 2u) << r.out;
  EXPECT_NE(r.out.find("$1 = 1\n"), std::string::npos) << r.out;
  // Nothing read total before main: back there.
  EXPECT_EQ(count_of(r.out, "Breakpoint 1, main () at"), 2) << r.out;
}

TEST_F(ShellWatchTest, AwatchStopsAtReadsAndWrites) {
  // Back over the write: before it, the values swapped, as watch says it.
  RunResult r = script(traced(), "break main\ncontinue\nawatch total\ncontinue\ncontinue\ncontinue\nreverse-continue\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Hardware access (read/write) watchpoint 2: total\n"), std::string::npos) << r.out;
  EXPECT_EQ(lines_matching(r.out, R"(^(Value|Old value|New value) = )"),
            (std::vector<std::string>{"Value = 0", "Old value = 0", "New value = 2", "Value = 2", "Old value = 2", "New value = 0"}))
      << r.out;
}

}  // namespace
}  // namespace ttdb::test
