// The shell's stdin when it is not a terminal: lines of commands, not
// keystrokes for readline, and nothing of it goes into the history file.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class ShellInputTest : public ShellTest {
 protected:
  void SetUp() override { trace_ = recorded("debug_loops"); }

  // Where the shell would keep its history: TTDB_HISTORY, or the trace directory.
  RunOptions piped(const std::string& input) {
    RunOptions options;
    options.stdin_data = input;
    options.timeout = std::chrono::seconds(20);
    options.extra_env = {"TTDB_HISTORY=" + dir_.file("history"), "TTDB_TRACE_DIR=" + dir_.file("traces")};
    return options;
  }

  std::string trace_;
};

TEST_F(ShellInputTest, PipedGarbageIsLinesOfCommandsThatEndAtEndOfInput) {
  auto started = std::chrono::steady_clock::now();
  RunResult r = ttdb({"replay", trace_}, piped("\033\n\315k\221\240\035\033x\\\n"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_of(r.err, "Undefined command"), 2) << r.err;
  EXPECT_EQ(r.err.find("\033"), std::string::npos) << "control characters are shown escaped: " << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("history")));

  // Without TTDB_HISTORY, the default place is not written either.
  RunOptions options = piped("print 1\n");
  options.extra_env[0] = "TTDB_HISTORY";
  r = ttdb({"replay", trace_}, options);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("traces/shell_history")));
}

TEST_F(ShellInputTest, PipedCommandsRunInOrderAndAnErrorDoesNotStopThem) {
  RunResult r = ttdb({"replay", trace_}, piped("print 1 +\nbreak accumulate\ncontinue\nprint n\nquit\nprint 2\n"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "The expression ends too early.\n");
  EXPECT_NE(r.out.find("Breakpoint 1, accumulate (n=10)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("$1 = 10\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("$2"), std::string::npos) << "quit ends the input: " << r.out;
  EXPECT_EQ(r.out.find("(ttdb)"), std::string::npos) << "no prompt without a terminal: " << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("history")));

  // A last line without its newline still runs; a line longer than 64 KiB is skipped whole.
  r = ttdb({"replay", trace_}, piped("print " + std::string(70000, '1') + "\nprint 3"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "A command line longer than 64 KiB was skipped.\n");
  EXPECT_NE(r.out.find("$1 = 3\n"), std::string::npos) << r.out;
}

TEST_F(ShellInputTest, SigtermEndsTheShellWhateverItsInput) {
  // Endless input without a newline, and garbage, then input that never comes.
  std::string fifo = dir_.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int writer = open(fifo.c_str(), O_RDWR);  // keeps the fifo open: the shell's read blocks
  ASSERT_GE(writer, 0);
  // Half an escape sequence, which readline waited on for ever, ignoring SIGTERM.
  std::string garbage = "\033\n\315k\221\240\035\033x\\\n";
  ASSERT_EQ(write(writer, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  for (const std::string& input : {std::string("/dev/zero"), fifo}) {
    RunOptions options = piped("");
    options.stdin_file = input;
    Child shell = Child::spawn({ttdb_binary(), "replay", trace_}, options);
    ASSERT_TRUE(shell.wait_for_output("<_start>:", std::chrono::seconds(20))) << input;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    shell.signal(SIGTERM);
    RunResult r = shell.wait();
    EXPECT_EQ(r.status, 128 + SIGTERM) << input << "\n" << r.err;
  }
  close(writer);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("history")));
}

TEST_F(ShellInputTest, CtrlCWhileWaitingForPipedInputDoesNotInterruptTheNextCommand) {
  std::string fifo = dir_.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int writer = open(fifo.c_str(), O_RDWR);  // the shell reads it; the test writes it
  ASSERT_GE(writer, 0);
  RunOptions options = piped("");
  options.stdin_file = fifo;
  Child shell = Child::spawn({ttdb_binary(), "replay", trace_}, options);
  ASSERT_TRUE(shell.wait_for_output("<_start>:", std::chrono::seconds(20)));
  // gdb answers a Ctrl-C at its prompt with "Quit" and reads on.
  bool quit = false;
  for (int i = 0; i < 50 && !quit; ++i) {
    shell.signal(SIGINT);
    quit = shell.wait_for_output("Quit", std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(quit);
  std::string commands = "break accumulate\ncontinue\nprint n\n";
  ASSERT_EQ(write(writer, commands.data(), commands.size()), static_cast<ssize_t>(commands.size()));
  ASSERT_TRUE(shell.wait_for_output("$1 = 10", std::chrono::seconds(20)));
  close(writer);
  RunResult r = shell.wait();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("Interrupted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Breakpoint 1, accumulate (n=10)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ttdb::test
