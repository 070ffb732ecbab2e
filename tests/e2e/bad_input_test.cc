// Bad input gets one clear sentence and loses nothing.
#include <asm/unistd_64.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST(BadProgram, MissingNotExecutableOrDirectory) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult missing = record(trace, {dir.file("no-such-program")});
  EXPECT_EQ(missing.status, 127);
  EXPECT_EQ(missing.err, "ttdb: cannot run " + dir.file("no-such-program") + ": no such file or directory\n");
  EXPECT_FALSE(std::filesystem::exists(trace));

  RunResult not_in_path = record(trace, {"no-such-command-anywhere"});
  EXPECT_EQ(not_in_path.status, 127);
  EXPECT_NE(not_in_path.err.find("command not found in PATH"), std::string::npos) << not_in_path.err;

  write_file(dir.file("script.txt"), "not a program");
  RunResult not_executable = record(trace, {dir.file("script.txt")});
  EXPECT_EQ(not_executable.status, 126);
  EXPECT_NE(not_executable.err.find("permission denied"), std::string::npos) << not_executable.err;

  RunResult directory = record(trace, {dir.path()});
  EXPECT_EQ(directory.status, 126);
  EXPECT_NE(directory.err.find("it is a directory"), std::string::npos) << directory.err;

  // Executable, but not something the kernel can run.
  chmod(dir.file("script.txt").c_str(), 0755);
  RunResult bad_format = record(trace, {dir.file("script.txt")});
  EXPECT_EQ(bad_format.status, 126);
  EXPECT_NE(bad_format.err.find("Exec format error"), std::string::npos) << bad_format.err;
  EXPECT_FALSE(std::filesystem::exists(trace));
}

TEST(BadOutput, UnwritableTracePath) {
  TempDir dir;
  RunResult result = record(dir.file("missing-dir/t.ttdb"), {program("pids")});
  EXPECT_EQ(result.status, 125);
  EXPECT_EQ(result.err, "ttdb: cannot create trace " + dir.file("missing-dir/t.ttdb") + ": the directory " +
                            dir.file("missing-dir/") + " does not exist\n");
  EXPECT_EQ(result.out, "") << "the program must not run when its trace cannot be written";

  write_file(dir.file("exists.ttdb"), "precious");
  result = record(dir.file("exists.ttdb"), {program("pids")});
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("already exists"), std::string::npos) << result.err;
  EXPECT_EQ(read_file(dir.file("exists.ttdb")), "precious");
}

TEST(BadOutput, FullDisk) {
  TempDir dir;
  std::string mount_point = dir.file("small");
  std::filesystem::create_directory(mount_point);
  if (mount("ttdb-test", mount_point.c_str(), "tmpfs", 0, "size=256k") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here";
  std::string trace = mount_point + "/t.ttdb";
  RunResult result = record(trace, {program("large_read")});
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("disk is full"), std::string::npos) << result.err;
  // Full before its first batch: no trace is left, and the message says so;
  // soon after: what it holds replays as an incomplete recording.
  bool kept = std::filesystem::exists(trace);
  RunResult replayed = replay(trace);
  umount2(mount_point.c_str(), MNT_DETACH);
  if (kept)
    EXPECT_EQ(replayed.status, 123) << replayed.err;
  else
    EXPECT_NE(result.err.find("so no trace was kept"), std::string::npos) << result.err;
}

TEST(BadTrace, MissingEmptyNotATraceTruncatedNewer) {
  TempDir dir;
  RunResult missing = ttdb({"replay", "--run", dir.file("nope.ttdb")});
  EXPECT_EQ(missing.status, 125);
  EXPECT_EQ(missing.err, "ttdb: cannot open trace " + dir.file("nope.ttdb") + ": No such file or directory\n");

  write_file(dir.file("empty.ttdb"), "");
  RunResult empty = ttdb({"info", dir.file("empty.ttdb")});
  EXPECT_EQ(empty.status, 1);
  EXPECT_NE(empty.err.find("is empty"), std::string::npos) << empty.err;

  write_file(dir.file("text.ttdb"), std::string(5000, 'x'));
  RunResult text = ttdb({"replay", "--run", dir.file("text.ttdb")});
  EXPECT_EQ(text.status, 125);
  EXPECT_NE(text.err.find("is not a ttdb trace"), std::string::npos) << text.err;

  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record(trace, {program("large_read")}).status, 0);
  std::string whole = read_file(trace);
  write_file(dir.file("truncated.ttdb"), whole.substr(0, whole.size() / 2));
  RunResult truncated = ttdb({"replay", "--run", dir.file("truncated.ttdb")});
  EXPECT_EQ(truncated.status, 125);
  EXPECT_NE(truncated.err.find("is truncated: it should hold"), std::string::npos) << truncated.err;

  trace_sql(trace, "UPDATE meta SET value = 99 WHERE key = 'format_version'");
  RunResult newer = ttdb({"info", trace});
  EXPECT_EQ(newer.status, 1);
  EXPECT_NE(newer.err.find("format version 99, newer than this ttdb reads"), std::string::npos) << newer.err;
}

TEST(BadTrace, DivergenceSaysWhereAndWhy) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunOptions input;
  input.stdin_data = "abc";
  ASSERT_EQ(record(trace, {program("echo_stdin")}, input).status, 0);
  // Make the recorded read return other bytes: the program then writes them,
  // which the recording does not have.
  int edited = edit_trace(trace, [](trace::Event& e) {
    if (e.kind != trace::EventKind::syscall || e.nr != __NR_read || e.args[0] != 0 || e.ret != 3) return false;
    e.mem.at(0).data = {'x', 'y', 'z'};
    return true;
  });
  ASSERT_EQ(edited, 1);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 124);
  EXPECT_NE(replayed.err.find("replay diverged at event"), std::string::npos) << replayed.err;
  EXPECT_NE(replayed.err.find("write(1, \"abc\", 3) = 3"), std::string::npos) << replayed.err;
  EXPECT_NE(replayed.err.find("passed different bytes: \"xyz\""), std::string::npos) << replayed.err;
}

TEST(BadTrace, DivergentSyscallIsNamed) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string data = dir.file("data.txt");
  write_file(data, "x");
  ASSERT_EQ(record(trace, {program("mapped_file"), data}).status, 0);
  // The open now "fails" in the recording; the program takes another path.
  int edited = edit_trace(trace, [&](trace::Event& e) {
    if (e.kind != trace::EventKind::syscall || e.nr != __NR_openat || e.path != data) return false;
    e.ret = -2;
    return true;
  });
  ASSERT_EQ(edited, 1);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 124);
  EXPECT_NE(replayed.err.find("but the program made"), std::string::npos) << replayed.err;
}

TEST(Interrupted, RecorderKilledMidRecording) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  Child recording = Child::spawn({ttdb_binary(), "record", "-q", "-o", trace, program("slow_counter")});
  ASSERT_TRUE(recording.wait_for_output("line 100", std::chrono::seconds(60)));
  recording.signal(SIGKILL);
  RunResult recorded = recording.wait();
  EXPECT_EQ(recorded.status, 128 + SIGKILL);

  RunResult info = ttdb({"info", trace});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("finished:  no, the recording is incomplete: it ends at event"), std::string::npos) << info.out;

  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 123) << replayed.err;
  EXPECT_NE(replayed.err.find("the recording ends at event"), std::string::npos) << replayed.err;
  EXPECT_NE(replayed.err.find("replay stopped there"), std::string::npos);
  // What it replays is the start of what was recorded (a batch is at most 250 ms behind).
  EXPECT_EQ(recorded.out.substr(0, replayed.out.size()), replayed.out);
  EXPECT_NE(replayed.out.find("line 50\n"), std::string::npos) << replayed.out.size();
}

}  // namespace
}  // namespace ttdb::test
