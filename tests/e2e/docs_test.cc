// The examples in docs/commands.md run, in order, as a user would type them.
#include <filesystem>
#include <sstream>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// The ```sh blocks of a markdown file, joined into one script.
std::string shell_examples(const std::string& markdown) {
  std::istringstream in(markdown);
  std::string line, script;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh") {
      inside = true;
    } else if (inside && line == "```") {
      inside = false;
    } else if (inside) {
      script += line + "\n";
    }
  }
  return script;
}

TEST(Docs, CommandExamplesRun) {
  std::string script = shell_examples(read_file(TTDB_SOURCE_DIR "/docs/commands.md"));
  ASSERT_NE(script.find("ttdb record"), std::string::npos);
  TempDir dir;
  std::string bin = std::filesystem::path(ttdb_binary()).parent_path().string();
  RunResult result = run({"bash", "-euo", "pipefail", "-c",
                          "cd " + dir.path() + " && export PATH=" + bin + ":$PATH && " + script});
  EXPECT_EQ(result.status, 0) << "script:\n" << script << "\nstdout:\n" << result.out << "\nstderr:\n" << result.err;
}

TEST(Docs, GdbExamplesRun) {
  if (!installed_tool("gdb") || !installed_tool("cc")) GTEST_SKIP() << "gdb.md's examples need gdb and cc";
  std::string script = shell_examples(read_file(TTDB_SOURCE_DIR "/docs/gdb.md"));
  ASSERT_NE(script.find("ttdb replay --gdb"), std::string::npos);
  TempDir dir;
  std::string bin = std::filesystem::path(ttdb_binary()).parent_path().string();
  RunOptions options;
  options.extra_env = {"DEBUGINFOD_URLS=", "HOME=/nonexistent"};
  RunResult result = run({"bash", "-euo", "pipefail", "-c", "cd " + dir.path() + " && export PATH=" + bin + ":$PATH && " + script},
                         options);
  EXPECT_EQ(result.status, 0) << "script:\n" << script << "\nstdout:\n" << result.out << "\nstderr:\n" << result.err;
  // What the page says they print.
  EXPECT_NE(result.out.find("$2 = 1\nHardware read watchpoint 2: total"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Value = 0\n0x"), std::string::npos) << result.out;
  EXPECT_EQ(count_of(result.out, "*stopped,reason=\"breakpoint-hit\""), 3) << result.out;
  EXPECT_NE(result.out.find("^done,value=\"1\""), std::string::npos) << result.out;
}

}  // namespace
}  // namespace ttdb::test
