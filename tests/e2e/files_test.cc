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

// Replay keeps a few mapped files' descriptors open in the process for
// their next mappings: more files than it keeps, a forked child with a copy
// of them, and travel back into the middle and on again.
TEST(Files, ManyFilesMappedInTurnAndAgainInAChild) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("mapped_files_many"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("parent: file 7 of 80\nparent: file 14 of 80\n"), std::string::npos) << recorded.out;
  EXPECT_NE(recorded.out.find("child: file 79 of 80\nchild: file 76 of 80\n"), std::string::npos) << recorded.out;
  for (int i = 0; i < 2; ++i) expect_same_run(recorded, replay(trace));
  long last = sql_count(trace, "SELECT max(id) FROM events");
  RunResult travelled = ttdb({"replay", "-ex", "goto event " + std::to_string(last), "-ex", "goto event " + std::to_string(last / 2),
                              "-ex", "goto event " + std::to_string(last), trace});
  EXPECT_EQ(travelled.status, 0) << travelled.err;
  EXPECT_EQ(travelled.err.find("diverged"), std::string::npos) << travelled.err;
}

// A stdout that is a file: what the program wrote at offsets, moved back
// over, cut or appended lands in replay's stdout file where it did in the
// recorded one (with `>>`, the kernel appends every write, pwrite too).
TEST(Files, OutputPlacedInAStdoutFileIsPlacedTheSameWayInReplay) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string prog = program("stdout_file_positions");
  for (std::string redirect : {">", ">>"}) {
    std::string native = dir.file("native.out"), recorded = dir.file("recorded.out"), replayed = dir.file("replayed.out");
    for (const auto& file : {native, recorded, replayed}) write_file(file, "what the file held before\n");
    std::filesystem::remove(trace);
    ASSERT_EQ(run({"sh", "-c", "\"$0\" " + redirect + " \"$1\"", prog, native}).status, 0);
    ASSERT_EQ(run({"sh", "-c", "\"$0\" record -q -o \"$1\" -- \"$2\" " + redirect + " \"$3\"", ttdb_binary(), trace, prog,
                   recorded}).status, 0);
    RunResult r = run({"sh", "-c", "\"$0\" replay --run \"$1\" " + redirect + " \"$2\"", ttdb_binary(), trace, replayed});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    if (redirect == ">") {
      EXPECT_EQ(read_file(native).find("line-ONE aaaa\nline-TWO bbbb\nline-three cccc\nappended"), 0u) << read_file(native);
    }
    EXPECT_EQ(read_file(recorded), read_file(native)) << redirect;
    EXPECT_EQ(read_file(replayed), read_file(recorded)) << redirect;
  }
  // To a pipe, replay passes on what the program wrote, in order.
  RunResult piped = replay(trace);
  EXPECT_NE(piped.out.find("line-one aaaa\nline-two bbbb\nONETWOline-three cccc\n"), std::string::npos) << piped.out;
}

}  // namespace
}  // namespace ttdb::test
