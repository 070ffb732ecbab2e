// Checkpoints the engine drops leave nothing behind: a long session takes
// and drops them by the hundred thousand, and each one left as a zombie
// would hold a pid until the machine had none left.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>

#include "engine_fixture.h"

namespace ttdb::test {
namespace {

// How many zombies the process `parent` has.
int zombies_of(pid_t parent) {
  int count = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    count += state == 'Z' && ppid == parent;
  }
  closedir(proc);
  return count;
}

TEST(CheckpointBudget, DroppedCheckpointsAreReaped) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record(trace, {program("debug_loops")}).status, 0);
  NullSink sink;
  // A checkpoint at every stop, eight kept: hundreds dropped on the way.
  EngineOptions options;
  options.checkpoint_budget = 8;
  options.checkpoint_every = std::chrono::milliseconds(0);
  Engine engine(trace, sink, options);
  std::int64_t last = engine.event_count() - 1;
  for (int round = 0; round < 3; ++round) {
    engine.goto_event(last);
    engine.goto_event(2);
  }
  for (int i = 0; i < 200; ++i) engine.stepi(Direction::forward);
  EXPECT_LE(engine.checkpoint_count(), 12u);
  EXPECT_EQ(zombies_of(engine.pid()), 0);
  EXPECT_EQ(zombies_of(::getpid()), 0);
}

}  // namespace
}  // namespace ttdb::test
