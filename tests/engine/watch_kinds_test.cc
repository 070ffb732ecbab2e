// Read and access watchpoints in the engine: x86 traps reads and writes
// alike, and a read is an access that left the value as it was.
#include <gtest/gtest.h>

#include <cstring>

#include "engine_fixture.h"
#include "ttdb/replay/engine.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class WatchKindsTest : public RecordedProgram {
 protected:
  void SetUp() override {
    start({program("debug_loops")});
    counter_ = symbol(program("debug_loops"), "counter");
  }

  static std::uint32_t as_int(const Bytes& bytes) {
    std::uint32_t v = 0;
    std::memcpy(&v, bytes.data(), std::min<std::size_t>(bytes.size(), 4));
    return v;
  }

  std::uint64_t counter_ = 0;
};

TEST_F(WatchKindsTest, AReadWatchpointStopsAfterEachReadBothWays) {
  // `counter++` reads counter, then writes it: only the reads stop.
  int w = engine_->add_watchpoint(counter_, 4, WatchKind::read);
  std::vector<Registers> at;
  for (std::uint32_t expected = 0; expected < 3; ++expected) {
    Stop stop = engine_->resume(Direction::forward);
    ASSERT_EQ(stop.kind, Stop::Kind::watchpoint) << expected;
    EXPECT_EQ(stop.id, w);
    EXPECT_EQ(as_int(stop.old_value), expected);
    EXPECT_EQ(as_int(stop.new_value), expected);
    at.push_back(regs());
  }
  // Backward: the read before, at the same instruction after it, as forward.
  ASSERT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::watchpoint);
  EXPECT_TRUE(same_registers(regs(), at[1]));
  ASSERT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::watchpoint);
  EXPECT_TRUE(same_registers(regs(), at[0]));
  EXPECT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::start);
  EXPECT_EQ(engine_->watchpoints().front().kind, WatchKind::read);
}

TEST_F(WatchKindsTest, AnAccessWatchpointStopsAtReadsAndWrites) {
  engine_->add_watchpoint(counter_, 4, WatchKind::access);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (int i = 0; i < 4; ++i) {
    Stop stop = engine_->resume(Direction::forward);
    ASSERT_EQ(stop.kind, Stop::Kind::watchpoint) << i;
    seen.emplace_back(as_int(stop.old_value), as_int(stop.new_value));
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{0, 0}, {0, 1}, {1, 1}, {1, 2}}));
  // A position among accesses is reached again exactly.
  Position there = engine_->position();
  Registers regs_there = regs();
  engine_->goto_event(1);
  engine_->seek(there);
  EXPECT_TRUE(same_registers(regs(), regs_there)) << there.describe();
  EXPECT_NE(there.describe().find("access"), std::string::npos) << there.describe();
}

TEST_F(WatchKindsTest, AnAccessWatchpointGoingBackStopsBeforeEachWriteLikeAWriteWatchpoint) {
  // Backward over a write, an access watchpoint is a write watchpoint: it
  // stops before the store, with the values swapped (it gave the forward
  // ones, after the store). Over a read it stops after the read, as forward.
  int a = engine_->add_watchpoint(counter_, 4, WatchKind::access);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::watchpoint) << i;
  Stop write = engine_->resume(Direction::backward);  // over the 1 -> 2 write
  ASSERT_EQ(write.kind, Stop::Kind::watchpoint);
  EXPECT_EQ(write.id, a);
  EXPECT_EQ(as_int(write.old_value), 2u);
  EXPECT_EQ(as_int(write.new_value), 1u);
  Registers before_store = regs();
  // The same place as a write watchpoint's backward stop.
  engine_->remove(a);
  engine_->add_watchpoint(counter_, 4, WatchKind::write);
  engine_->resume(Direction::forward);
  Stop same = engine_->resume(Direction::backward);
  ASSERT_EQ(same.kind, Stop::Kind::watchpoint);
  EXPECT_TRUE(same_registers(regs(), before_store));
}

}  // namespace
}  // namespace ttdb::test
