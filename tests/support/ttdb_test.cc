#include "ttdb_test.h"

#include <sqlite3.h>

#include "ttdb/trace/tools.h"
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace ttdb::test {

// TTDB_TEST_TTDB runs these tests against another build's ttdb: scripts/test
// points them at the sanitized one (docs/testing.md).
std::string ttdb_binary() {
  const char* other = getenv("TTDB_TEST_TTDB");
  return other && *other ? other : TTDB_BINARY;
}
std::string program(const std::string& name) { return std::string(TTDB_TEST_PROGRAMS) + "/" + name; }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ttdb-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

RunResult ttdb(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv{ttdb_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

RunResult record(const std::string& trace, const std::vector<std::string>& command, const RunOptions& options) {
  std::vector<std::string> args{"record", "-q", "-o", trace, "--"};
  args.insert(args.end(), command.begin(), command.end());
  return ttdb(args, options);
}

RunResult record_buffered(const std::string& trace, const std::vector<std::string>& command, const RunOptions& options) {
  std::vector<std::string> args{"record", "-q", "--buffer-after", "0", "-o", trace, "--"};
  args.insert(args.end(), command.begin(), command.end());
  return ttdb(args, options);
}

std::optional<std::string> installed_tool(const std::string& name) {
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"})
    if (std::filesystem::exists(std::string(dir) + "/" + name)) return std::string(dir) + "/" + name;
  return std::nullopt;
}

RunResult replay(const std::string& trace, const RunOptions& options) {
  return ttdb({"replay", "--run", trace}, options);
}

RunResult replay_logged(const std::string& trace) {
  RunOptions logged;
  logged.extra_env = {"TTDB_LOG=replay"};
  return replay(trace, logged);
}

void expect_same_run(const RunResult& recorded, const RunResult& replayed) {
  EXPECT_EQ(replayed.out, recorded.out);
  EXPECT_EQ(replayed.err, recorded.err);
  EXPECT_EQ(replayed.status, recorded.status);
}

long sql_count(const std::string& trace, const std::string& query) {
  RunResult r = ttdb({"sql", query, trace});
  EXPECT_EQ(r.status, 0) << r.err;
  return std::stol(r.out.empty() ? "-1" : r.out);
}

void expect_round_trip(const std::string& trace, const std::vector<std::string>& first) {
  RunResult count = ttdb({"sql", "select count(*) from events", trace});
  ASSERT_EQ(count.status, 0) << count.err;
  long events = std::stol(count.out);
  std::string later = "goto event " + std::to_string(events * 2 / 3);
  std::string earlier = "goto event " + std::to_string(events / 3);
  std::vector<std::string> args = {"replay", "--checkpoint-interval", "1"};
  for (const auto& command : first) args.insert(args.end(), {"--ex", command});
  for (const auto& command : {later, std::string("continue"), later, std::string("continue"), earlier, std::string("continue")})
    args.insert(args.end(), {"--ex", command});
  args.push_back(trace);
  RunResult r = ttdb(args);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("diverged"), std::string::npos) << r.err;
  EXPECT_EQ(count_of(r.out, "[The program exited normally"), 3) << r.out << r.err;
}


Children children_of(pid_t parent) {
  Children found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) continue;
    ++found.all;
    if (state == 'Z') ++found.zombies;
  }
  return found;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

void trace_sql(const std::string& trace, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(trace.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

int edit_trace(const std::string& trace, const std::function<bool(trace::Event&)>& change) {
  int changed = 0;
  trace::edit_events(trace, [&](trace::Event& e) {
    bool yes = change(e);
    changed += yes;
    return yes;
  });
  return changed;
}

std::vector<std::string> lines_matching(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re(pattern);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, re)) out.push_back(line);
  return out;
}

}  // namespace ttdb::test
