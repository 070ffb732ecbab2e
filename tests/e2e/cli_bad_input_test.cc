// Command lines that used to succeed silently, or to change what they should
// only read: each is refused with one sentence and a failing status.
#include <filesystem>
#include <set>
#include <string>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

class CliBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(record(trace_, {program("pids")}).status, 0); }

  TempDir dir_;
  std::string trace_ = dir_.file("t.ttdb");
};

TEST_F(CliBadInputTest, SqlOnlyReadsAndRefusesWhatWouldWrite) {
  std::string before = read_file(trace_);
  auto files = files_in(dir_.path());
  for (const std::string& statement :
       {std::string("DELETE FROM meta"), std::string("DROP TABLE meta"), std::string("UPDATE meta SET value = 'x'"),
        "ATTACH '" + dir_.file("x.db") + "' AS p; CREATE TABLE p.x(a)", "VACUUM INTO '" + dir_.file("v.db") + "'",
        std::string("VACUUM"), std::string("PRAGMA user_version = 7"), std::string("PRAGMA journal_mode = WAL"),
        std::string("CREATE TEMP TABLE t(a)"), std::string("DELETE FROM events"), std::string("SELECT load_extension('x')"),
        std::string("SELECT 1; INSERT INTO trace.meta VALUES('k', 'v')"), std::string("ANALYZE"), std::string("PRAGMA optimize")}) {
    RunResult r = ttdb({"sql", statement, trace_});
    EXPECT_EQ(r.status, 2) << statement << "\n" << r.err;
    EXPECT_TRUE(r.err.starts_with("ttdb: refused to run \"")) << statement << "\n" << r.err;
    EXPECT_NE(r.err.find("the trace is read-only"), std::string::npos) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1) << r.err;
  }
  EXPECT_EQ(ttdb({"sql", "DELETE FROM meta", trace_}).err,
            "ttdb: refused to run \"DELETE FROM meta\": the trace is read-only, and ttdb sql only reads it; to change a "
            "trace, copy it and use sqlite3\n");
  EXPECT_TRUE(read_file(trace_) == before) << "the trace changed";
  EXPECT_EQ(files_in(dir_.path()), files) << "no file is created beside it";
  EXPECT_EQ(ttdb({"info", trace_}).status, 0);
  EXPECT_EQ(replay(trace_).status, 0);

  // Reading goes on as before: several statements, reading pragmas, a transaction.
  RunResult r = ttdb({"sql", "SELECT count(*) > 0 FROM events; SELECT 2", trace_});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\n2\n");
  r = ttdb({"sql", "BEGIN; PRAGMA table_info(meta); PRAGMA user_version; COMMIT", trace_});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("0|key|"), std::string::npos) << r.out;
  EXPECT_EQ(ttdb({"sql", "SELECT 1 +", trace_}).status, 1) << "bad SQL stays status 1";
}

}  // namespace
}  // namespace ttdb::test
