// What the end-to-end tests share: where ttdb and the test programs are,
// a scratch directory per test, and record/replay as a user runs them.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "ttdb/trace/event.h"

namespace ttdb::test {

std::string ttdb_binary();
std::string program(const std::string& name);

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ttdb record -q -o TRACE -- COMMAND...
RunResult record(const std::string& trace, const std::vector<std::string>& command, const RunOptions& options = {});
// The same with the syscall buffer in every program from its start
// (--buffer-after 0): what the buffer's own tests look at.
RunResult record_buffered(const std::string& trace, const std::vector<std::string>& command, const RunOptions& options = {});
// ttdb replay --run TRACE
RunResult replay(const std::string& trace, const RunOptions& options = {});
// The same with TTDB_LOG=replay: its stderr says how replay took each event
// ("given back in-process", "made in-process", or applied at a stop).
RunResult replay_logged(const std::string& trace);
// ttdb ARGS...
RunResult ttdb(const std::vector<std::string>& args, const RunOptions& options = {});

// The replay printed and returned exactly what the recorded run did.
void expect_same_run(const RunResult& recorded, const RunResult& replayed);

// Where a real program the tests record is installed, if it is.
std::optional<std::string> installed_tool(const std::string& name);

// Time travel over every process and thread of a recording, with a
// checkpoint every millisecond of replay: two thirds in, to the end, back
// there (from the checkpoint before it) and on to the end again, then back
// to a third in and on to the end. The replay says where it diverges, if it does.
void expect_round_trip(const std::string& trace, const std::vector<std::string>& first = {});

// The processes whose parent is `parent`, and how many of them are zombies.
struct Children {
  int all = 0;
  int zombies = 0;
};
Children children_of(pid_t parent);

// How many times `what` occurs in `text`.
int count_of(const std::string& text, const std::string& what);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
// `ttdb sql QUERY TRACE`, when it answers one number.
long sql_count(const std::string& trace, const std::string& query);
// Runs SQL on a trace, as a tool (or a vandal) would.
void trace_sql(const std::string& trace, const std::string& sql);
// Rewrites the recorded events `change` returns true for; returns how many.
int edit_trace(const std::string& trace, const std::function<bool(trace::Event&)>& change);

// The lines of `text` that match `pattern` (std::regex, searched), in order.
std::vector<std::string> lines_matching(const std::string& text, const std::string& pattern);

}  // namespace ttdb::test
