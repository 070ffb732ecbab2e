// Preemption snapshots copy what the program wrote since the previous one,
// not all its memory, and replay stays exact.
#include <gtest/gtest.h>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

TEST(Snapshots, AfterTheFirstOnlyThePagesWrittenSince) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("big_heap_spin")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  long snapshots = sql_count(trace, "SELECT count(*) FROM events WHERE kind = 7");
  ASSERT_GE(snapshots, 3) << "preemptions of the spinning thread";
  // The first holds the 64 MiB heap; each later one the page or two the
  // turn wrote, and the stacks'.
  long first = sql_count(trace, "SELECT min(event) FROM mem WHERE event IN (SELECT id FROM events WHERE kind = 7)");
  EXPECT_GE(sql_count(trace, "SELECT sum(size) FROM mem WHERE event = " + std::to_string(first)), 64l << 20);
  EXPECT_LT(sql_count(trace, "SELECT max(s) FROM (SELECT sum(size) AS s FROM mem WHERE event > " +
                                 std::to_string(first) + " AND event IN (SELECT id FROM events WHERE kind = 7) GROUP BY event)"),
            1l << 20);
  expect_same_run(recorded, replay(trace));
  expect_round_trip(trace);
}

}  // namespace
}  // namespace ttdb::test
