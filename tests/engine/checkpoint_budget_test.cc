// Checkpoints the engine drops leave nothing behind: a long session takes
// and drops them by the hundred thousand, and each one left as a zombie
// would hold a pid until the machine had none left.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace ttdb::test {
namespace {

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
  EXPECT_EQ(children_of(engine.pid()).zombies, 0);
  EXPECT_EQ(children_of(::getpid()).zombies, 0);
}

}  // namespace
}  // namespace ttdb::test
