// Programs whose whole behaviour comes from their inputs: replay must print
// exactly what the recorded run printed, and end the same way.
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST(RecordReplay, FileAndPipeIo) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("file_io"), dir.file("scratch.txt")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("read 18: line one\nline two\n"), std::string::npos) << recorded.out;
  EXPECT_NE(recorded.out.find("pipe 16: through the pipe"), std::string::npos);
  EXPECT_EQ(recorded.err, "to stderr\n");
  expect_same_run(recorded, replay(trace));
}

TEST(RecordReplay, StdinIsReplayedNotRead) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunOptions with_input;
  with_input.stdin_data = "first line\nsecond line\n";
  RunResult recorded = record(trace, {program("stdin_echo")}, with_input);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("23 bytes"), std::string::npos) << recorded.out;
  // Replay gets other input on its own stdin, and must not read it.
  RunOptions other_input;
  other_input.stdin_data = "something else\n";
  expect_same_run(recorded, replay(trace, other_input));
}

TEST(RecordReplay, ManySmallReadsAndWrites) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string input;
  for (int i = 0; i < 2000; ++i) input += "line " + std::to_string(i) + "\n";
  write_file(dir.file("input"), input);
  RunOptions options;
  options.stdin_file = dir.file("input");
  RunResult recorded = record(trace, {program("echo_stdin")}, options);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, input);
  expect_same_run(recorded, replay(trace));
}

TEST(RecordReplay, LargeReadsReplayTheRecordedBytes) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("large_read")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("8388608 bytes"), std::string::npos) << recorded.out;
  expect_same_run(recorded, replay(trace));
  EXPECT_NE(run({program("large_read")}).out, recorded.out) << "urandom gave the same 8 MiB twice";
}

TEST(RecordReplay, ExitStatusIsThePrograms) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("crash"), "neither"});
  EXPECT_EQ(recorded.status, 3);
  expect_same_run(recorded, replay(trace));
}

}  // namespace
}  // namespace ttdb::test
