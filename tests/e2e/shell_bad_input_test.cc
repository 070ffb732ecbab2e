// The shell never dies of what it is given: overflowing arithmetic, numbers
// too large for anything, expressions nested without end, huge requests. Each
// gets one sentence on stderr, and the script stops with status 2.
#include <string>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class ShellBadInputTest : public ShellTest {
 protected:
  void SetUp() override { trace_ = recorded("debug_loops"); }

  // `ttdb replay -ex COMMAND`: a refused command exits 2 with `error` as its one line on stderr.
  void expect_refused(const std::string& command, const std::string& error) {
    RunOptions options;
    options.timeout = std::chrono::seconds(30);
    RunResult r = ttdb({"replay", "-ex", command, trace_}, options);
    std::string shown = command.substr(0, 60);
    EXPECT_EQ(r.status, 2) << shown << "\n" << r.err;
    EXPECT_EQ(r.err, error + "\n") << shown;
  }

  // `ttdb replay -ex COMMAND`: it prints `expected`.
  void expect_prints(const std::string& command, const std::string& expected) {
    RunResult r = ttdb({"replay", "-ex", command, trace_});
    EXPECT_EQ(r.status, 0) << command << "\n" << r.err;
    EXPECT_NE(r.out.find(expected), std::string::npos) << command << "\n" << r.out;
  }

  std::string trace_;
};

TEST_F(ShellBadInputTest, DividingTheSmallestIntegerByMinusOneWrapsAsGdbDoes) {
  expect_prints("print (-9223372036854775807-1) / -1", "$1 = -9223372036854775808\n");
  expect_prints("print (-9223372036854775807-1) % -1", "$1 = 0\n");
  expect_prints("print (-2147483647-1) / -1", "$1 = -2147483648\n");
  expect_prints("print 9223372036854775807 + 1", "$1 = -9223372036854775808\n");
  expect_prints("print (long)1e300", "$1 = -9223372036854775808\n");
  expect_refused("print 1 / 0", "Division by zero.");
  expect_refused("print (-9223372036854775807-1) % 0", "Division by zero.");
}

TEST_F(ShellBadInputTest, NumbersTooLargeForAnythingAreOneSentence) {
  expect_refused("print $99999999999999999999", "History has not yet reached $99999999999999999999.");
  expect_refused("print 99999999999999999999", "Numeric constant too large: 99999999999999999999 does not fit in 64 bits.");
  expect_refused("print 0x1ffffffffffffffff", "Numeric constant too large: 0x1ffffffffffffffff does not fit in 64 bits.");
  expect_refused("x/99999999999999999999x $sp", "The repeat count 99999999999999999999 is too large: at most 2147483647.");
  expect_refused("goto event 999999999999999999999", "Numeric constant too large: 999999999999999999999 does not fit in 64 bits.");
  expect_refused("frame 9999999999999", "The frame number 9999999999999 is too large: at most 2147483647.");
  expect_refused("up 9999999999999", "The frame count 9999999999999 is too large: at most 2147483647.");
  expect_refused("delete 99999999999999999999", "A breakpoint number 99999999999999999999 is too large: at most 2147483647.");
  expect_refused("continue 99999999999999999999", "The repeat count 99999999999999999999 is too large: at most 2147483647.");
  expect_refused("restart 99999999999999999999", "The checkpoint number 99999999999999999999 is too large: at most 2147483647.");
  expect_refused("frame 2147483647", "No frame at level 2147483647.");
  RunResult list = ttdb({"replay", "-ex", "list main", "-ex", "list 2147483647", trace_});
  EXPECT_EQ(list.status, 2) << list.err;
  EXPECT_TRUE(list.err.starts_with("Line number 2147483642 out of range")) << list.err;
}

TEST_F(ShellBadInputTest, HugeRequestsAreRefusedBeforeAnythingIsAllocated) {
  expect_refused("x/100000000x $sp", "Cannot show 400000000 bytes with x/100000000: x shows at most 1 MiB at once; ask for fewer.");
  expect_refused("x/2000000000gx $sp", "Cannot show 16000000000 bytes with x/2000000000: x shows at most 1 MiB at once; ask for fewer.");
  expect_refused("x/1000000i $pc", "Cannot show 1000000 instructions with x/1000000i: x shows at most 65536 at once; ask for fewer.");
  expect_prints("x/2xg $sp", "0x7fff");
  // 2^61 eight-byte objects: the size must not wrap to 0 and pass the check.
  expect_refused("print *(long *)$sp@2305843009213693952", "'@' asks for more than 1 MiB.");
}

TEST_F(ShellBadInputTest, ExpressionsNestedTooDeeplyAreRefusedBeforeTheStackRunsOut) {
  const std::string nested_too_deeply = "Expression nested too deeply: at most 256 levels.";
  expect_refused("print " + std::string(10000, '(') + "1" + std::string(10000, ')'), nested_too_deeply);
  expect_refused("print " + std::string(30000, '!') + "1", nested_too_deeply);
  expect_refused("print " + std::string(30000, '*') + "1", nested_too_deeply);
  std::string minus;
  for (int i = 0; i < 30000; ++i) minus += "- ";
  expect_refused("print " + minus + "1", nested_too_deeply);
  expect_refused("print " + std::string(30000, '~') + "1", nested_too_deeply);
  expect_refused("print sizeof " + std::string(30000, '&') + "x", nested_too_deeply);
  expect_prints("print " + std::string(100, '(') + "-1" + std::string(100, ')'), "$1 = -1\n");
  // A long junk tail is quoted shortened, still one sentence.
  expect_refused("print 1 " + std::string(30000, ')'), "Unexpected '" + std::string(40, ')') + "...' in the expression.");
}

TEST_F(ShellBadInputTest, ALongBreakLocationIsLookedUpNotFedToARegex) {
  std::string letters(30000, 'a');
  RunOptions options;
  options.timeout = std::chrono::seconds(30);
  RunResult r = ttdb({"replay", "-ex", "break " + letters, trace_}, options);
  EXPECT_EQ(r.status, 2) << r.err.substr(0, 200);
  EXPECT_NE(r.err.find("Function \"aaaa"), std::string::npos) << r.err.substr(0, 200);
  r = ttdb({"replay", "-ex", "break " + letters + " thread " + std::string(30000, '1'), trace_}, options);
  EXPECT_EQ(r.status, 2) << r.err.substr(0, 200);
  // The thread suffix still works, matched by hand.
  expect_prints("break accumulate thread 1", "Breakpoint 1 at ");
  expect_prints("break debug_loops.c:21  thread  1.1", "Breakpoint 1 at ");
}

}  // namespace
}  // namespace ttdb::test
