// Positions deep inside a long stretch without syscalls: reached, and left
// backward, at about the program's own speed (arrival counters), never by
// single-stepping the stretch.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine_fixture.h"

namespace ttdb::test {
namespace {

using namespace std::chrono_literals;

// Interrupts the engine if a test runs longer than it should: stepping a
// stretch of a hundred million rounds would take hours, and the test then
// fails (its commands stop as "interrupted") instead of hanging.
class Watchdog {
 public:
  Watchdog(Engine& engine, std::chrono::seconds limit)
      : thread_([this, &engine, limit] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) engine.interrupt();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

class LongLoopTest : public RecordedProgram {
 protected:
  // 60 million rounds: a fifth of a second natively, days of single steps.
  void SetUp() override { start({program("long_loop"), "60000000"}); }

  std::uint64_t marker() { return symbol(program("long_loop"), "marker"); }
  std::int64_t marker_value() {
    auto bytes = engine_->read_memory(marker(), 8);
    EXPECT_TRUE(bytes);
    std::int64_t v = 0;
    if (bytes) std::memcpy(&v, bytes->data(), 8);
    return v;
  }
};

TEST_F(LongLoopTest, ReverseStepiRightAfterAWatchpointDeepInTheLoopRetracesStepi) {
  Watchdog dog(*engine_, 120s);
  engine_->add_watchpoint(marker(), 8);
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::watchpoint);
  std::vector<Registers> states{regs()};
  ASSERT_NE(marker_value(), 0);
  for (int k = 0; k < 3; ++k) {
    ASSERT_EQ(engine_->stepi(Direction::backward).kind, Stop::Kind::step) << k;
    states.push_back(regs());
  }
  // One instruction back is before the write, whose value is not there yet.
  EXPECT_EQ(marker_value(), 0);
  EXPECT_NE(states[0].rip, states[1].rip);
  // A checkpoint here, and from the start of the recording back to it.
  int bookmark = engine_->bookmark();
  engine_->goto_event(1);
  ASSERT_EQ(engine_->seek(*engine_->bookmark_position(bookmark)).kind, Stop::Kind::step);
  EXPECT_TRUE(same_registers(regs(), states[3]));
  // Forward again, instruction by instruction, through the same states; the
  // last step is the write, which sets the watchpoint off, as gdb's stepi does.
  for (int k = 2; k >= 0; --k) {
    ASSERT_EQ(engine_->stepi(Direction::forward).kind, k == 0 ? Stop::Kind::watchpoint : Stop::Kind::step) << k;
    EXPECT_TRUE(same_registers(regs(), states[static_cast<std::size_t>(k)])) << k;
  }
  // Backward, the watchpoint stops before the write, with the values swapped.
  Stop back = engine_->resume(Direction::backward);
  ASSERT_EQ(back.kind, Stop::Kind::watchpoint);
  EXPECT_TRUE(same_registers(regs(), states[1]));
  EXPECT_EQ(marker_value(), 0);
  // Nothing wrote it before: back to the start.
  EXPECT_EQ(engine_->resume(Direction::backward).kind, Stop::Kind::start);
  EXPECT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::watchpoint);
  EXPECT_TRUE(same_registers(regs(), states[0]));
}

TEST_F(LongLoopTest, APositionOfMillionsOfArrivalsIsReachedAgainExactly) {
  Watchdog dog(*engine_, 120s);
  engine_->add_watchpoint(marker(), 8);
  ASSERT_EQ(engine_->resume(Direction::forward).kind, Stop::Kind::watchpoint);
  ASSERT_EQ(engine_->stepi(Direction::backward).kind, Stop::Kind::step);
  // Named by counting: the stretch's event, then arrivals by the million.
  Position deep = engine_->position();
  bool counted = false;
  for (const auto& m : deep.motions) counted |= m.tick.kind == Tick::Kind::code && m.count > 1000000;
  EXPECT_TRUE(counted) << deep.describe();
  Registers there = regs();
  for (int round = 0; round < 2; ++round) {
    engine_->goto_event(engine_->event_count() - 1);
    ASSERT_EQ(engine_->seek(deep).kind, Stop::Kind::step);
    EXPECT_TRUE(same_registers(regs(), there)) << round;
    EXPECT_EQ(marker_value(), 0);
  }
}

}  // namespace
}  // namespace ttdb::test
