// Files the program maps or runs, and what happens when they change later.
#include <sys/stat.h>

#include <filesystem>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST(Files, MappedFileThatChangesAfterRecording) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string data = dir.file("data.txt");
  write_file(data, "the recorded content");
  RunResult recorded = record(trace, {program("mapped_file"), data});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("the recorded content"), std::string::npos);

  write_file(data, "something else entirely, and longer");
  expect_same_run(recorded, replay(trace));
  std::filesystem::remove(data);
  expect_same_run(recorded, replay(trace));
}

TEST(Files, ChangedProgramIsNamed) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string copy = dir.file("pids_copy");
  std::filesystem::copy_file(program("pids"), copy);
  RunResult recorded = record(trace, {copy});
  ASSERT_EQ(recorded.status, 0) << recorded.err;

  std::filesystem::copy_file(program("tsc"), copy, std::filesystem::copy_options::overwrite_existing);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 125);
  EXPECT_NE(replayed.err.find(copy + " changed since it was recorded"), std::string::npos) << replayed.err;
  EXPECT_EQ(replayed.out, "");

  std::filesystem::remove(copy);
  replayed = replay(trace);
  EXPECT_EQ(replayed.status, 125);
  EXPECT_NE(replayed.err.find(copy + " is gone"), std::string::npos) << replayed.err;
}

}  // namespace
}  // namespace ttdb::test
