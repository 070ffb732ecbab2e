// ttdb timeline's page, opened in a real headless browser (Debian's
// chromium, driven by tests/support/browse_timeline.py): it renders without
// errors, has a lane for every process and thread, and hovering an event
// with the pointer shows it as `ttdb events` prints it.
#include <sstream>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

struct PageReport {
  bool ready = false;
  std::vector<std::string> errors, lanes, tip;
};

PageReport browse(const std::string& page, long hover) {
  RunResult r = run({"python3", TTDB_SOURCE_DIR "/tests/support/browse_timeline.py", page, "--hover", std::to_string(hover)});
  EXPECT_EQ(r.status, 0) << r.err;
  PageReport report;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto space = line.find(' ');
    std::string word = line.substr(0, space), rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (word == "ready") report.ready = true;
    if (word == "error") report.errors.push_back(rest);
    if (word == "lane") report.lanes.push_back(rest);
    if (word == "tip") report.tip.push_back(rest);
  }
  return report;
}

std::string events_line(const std::string& trace, long id) {
  std::string out = ttdb({"events", trace, "--from", std::to_string(id), "--limit", "1"}).out;
  return out.substr(0, out.find('\n'));
}

TEST(Timeline, PageShowsEveryProcessAndHoverShowsTheEventAsTtdbEventsDoes) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), page = dir.file("t.html");
  ASSERT_EQ(record(trace, {"sh", "-c", "echo one | tac; /bin/echo two"}).status, 0);
  RunResult made = ttdb({"timeline", trace, "-o", page});
  ASSERT_EQ(made.status, 0) << made.err;
  long events = sql_count(trace, "SELECT max(last) FROM chunks");
  EXPECT_EQ(made.err, "ttdb: timeline of " + std::to_string(events) + " events and 4 lanes written to " + page + "\n");
  // The write of a child process: not the first lane's.
  long write = sql_count(trace, "SELECT e.id FROM events e JOIN syscall_names s ON s.nr = e.nr WHERE e.kind = 2 AND "
                                "s.name = 'write' AND e.tid != (SELECT tid FROM events WHERE id = 1) LIMIT 1");
  ASSERT_GT(write, 1);

  PageReport report = browse(page, write);
  EXPECT_TRUE(report.ready);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  std::istringstream ps(ttdb({"ps", trace}).out);
  std::string row;
  std::getline(ps, row);  // the header
  std::size_t processes = 0;
  for (; std::getline(ps, row); ++processes) {
    std::string pid = row.substr(0, row.find('\t'));
    bool found = false;
    for (const auto& lane : report.lanes) found = found || lane.rfind("pid " + pid + " ", 0) == 0;
    EXPECT_TRUE(found) << "no lane for process " << pid;
  }
  EXPECT_EQ(processes, 4u);
  EXPECT_EQ(report.lanes.size(), 4u);
  ASSERT_EQ(report.tip.size(), 2u);
  EXPECT_EQ(report.tip[0], events_line(trace, write));
  EXPECT_EQ(report.tip[1].rfind("goto event " + std::to_string(write) + " ", 0), 0u) << report.tip[1];
}

TEST(Timeline, ThreadsHaveLanesUnderTheirProcess) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), page = dir.file("t.html");
  ASSERT_EQ(record(trace, {program("threads")}).status, 0);
  ASSERT_EQ(ttdb({"timeline", trace, "-o", page}).status, 0);
  long first = sql_count(trace, "SELECT tid FROM events WHERE id = 1");
  long thread = sql_count(trace, "SELECT nr FROM events WHERE kind = 9 ORDER BY id LIMIT 1");
  long last = sql_count(trace, "SELECT max(last) FROM chunks");
  PageReport report = browse(page, last);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  ASSERT_GE(report.lanes.size(), 2u);
  EXPECT_EQ(report.lanes[1], "tid " + std::to_string(thread) + " (thread of " + std::to_string(first) + ")");
  ASSERT_EQ(report.tip.size(), 2u);
  EXPECT_EQ(report.tip[0], events_line(trace, last));
}

}  // namespace
}  // namespace ttdb::test
