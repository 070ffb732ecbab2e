// What the shell tests share: a program recorded per test, and the shell
// run on its trace with a script, as a CI job runs it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ttdb_test.h"

namespace ttdb::test {

class ShellTest : public ::testing::Test {
 protected:
  // Records `name` once per test; the shell replays it.
  std::string recorded(const std::string& name, const std::vector<std::string>& args = {}) {
    std::string trace = dir_.file(name + ".ttdb");
    std::vector<std::string> command{program(name)};
    command.insert(command.end(), args.begin(), args.end());
    RunResult r = record(trace, command);
    EXPECT_EQ(r.status, 0) << r.err;
    return trace;
  }

  // ttdb replay -x SCRIPT TRACE, the script given as text.
  RunResult script(const std::string& trace, const std::string& text, const std::vector<std::string>& extra = {}) {
    std::string path = dir_.file("script.ttdb-commands");
    write_file(path, text);
    std::vector<std::string> args{"replay", "-x", path};
    // TTDB_TEST_CHECKPOINT_INTERVAL=0 asks for the same answers with a
    // checkpoint at every stop: backward searches then cross checkpoints
    // where they would not otherwise (docs/testing.md).
    const char* interval = std::getenv("TTDB_TEST_CHECKPOINT_INTERVAL");
    if (interval && extra.empty())
      args.insert(args.end(), {"--checkpoint-interval", interval});
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(trace);
    return ttdb(args);
  }

  TempDir dir_;
};

// gdb, the oracle, in batch mode on test program `name`, running `commands`.
inline RunResult gdb_batch(const std::string& gdb, const std::string& name, const std::vector<std::string>& commands) {
  std::vector<std::string> args{gdb, "-nx", "-batch"};
  for (const auto& c : commands) args.insert(args.end(), {"-ex", c});
  args.push_back(program(name));
  return run(args);
}

// Output as both debuggers can agree on it: ttdb's " [event N]" taken off,
// and source files by their base name (gdb shows the path the compiler was given).
inline std::string as_gdb_shows(std::string text) {
  text = std::regex_replace(text, std::regex(" at /[^ ]*/([^/ ]+:[0-9]+)"), " at $1");
  return std::regex_replace(text, std::regex(" \\[event [0-9]+\\]"), "");
}

// Lines matching `pattern`, as both debuggers can agree on them.
inline std::vector<std::string> shown(const std::string& out, const std::string& pattern) {
  auto lines = lines_matching(out, pattern);
  for (auto& line : lines) line = as_gdb_shows(line);
  return lines;
}

// The output from `from`'s first occurrence on, as both debuggers can agree on it.
inline std::string from_line(const std::string& out, const std::string& from) {
  auto at = out.find(from);
  return as_gdb_shows(at == std::string::npos ? "" : out.substr(at));
}

// The values of `$N = ...` lines, without the type gdb and ttdb spell
// differently ("(void (*)())" and "(void (*)(void))").
inline std::vector<std::string> printed_values(const std::string& out) {
  std::vector<std::string> found;
  for (std::string line : lines_matching(out, R"(^\$[0-9]+ = )")) {
    line = line.substr(line.find('=') + 2);
    std::size_t depth = 0, end = 0;
    for (; end < line.size() && line.starts_with("("); ++end) {
      depth += line[end] == '(';
      depth -= line[end] == ')';
      if (depth == 0) {
        line = line.substr(end + 2);  // the type and the space after it
        break;
      }
    }
    found.push_back(line);
  }
  return found;
}

// Commands as a script's lines.
inline std::string joined(const std::vector<std::string>& commands) {
  std::string text;
  for (const auto& c : commands) text += c + "\n";
  return text;
}

}  // namespace ttdb::test
