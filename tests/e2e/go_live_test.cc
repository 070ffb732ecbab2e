// go-live: the replayed process runs on live from a past position, its
// files reopened at their recorded paths and offsets, on ttdb's own stdout.
#include <filesystem>

#include <fmt/format.h>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// Records fork_wait into `trace` until the recording has the parent make a
// syscall while a child it forked lives (how the recording interleaves
// them varies): returns that event, and the child's tid.
std::pair<long, long> record_parent_beside_a_child(const std::string& trace) {
  std::string query =
      "SELECT coalesce(min(e.id), 0) FROM events e WHERE e.kind = 2 AND e.tid = (SELECT tid FROM events WHERE id = 1) "
      "AND EXISTS (SELECT 1 FROM events s WHERE s.kind = 9 AND s.id < e.id AND s.nr IN "
      "(SELECT tid FROM events x WHERE x.kind = 6 AND x.id > e.id))";
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::filesystem::remove(trace);
    if (record(trace, {program("fork_wait")}).status != 0) break;
    if (long at = sql_count(trace, query)) {
      long child = sql_count(trace, "SELECT min(s.nr) FROM events s WHERE s.kind = 9 AND s.id < " + std::to_string(at) +
                                        " AND s.nr IN (SELECT tid FROM events x WHERE x.kind = 6 AND x.id > " +
                                        std::to_string(at) + ")");
      return {at, child};
    }
  }
  return {0, 0};
}


TEST(GoLive, TheLiveRunReadsTheFileAsItIsNowFromTheRecordedOffset) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), text = dir.file("lines.txt");
  write_file(text, "one\ntwo\nthree\nfour\nfive\n");
  RunResult recorded = record(trace, {program("read_lines"), text});
  ASSERT_EQ(recorded.status, 5) << recorded.err;
  EXPECT_EQ(recorded.out, "line 1: one\nline 2: two\nline 3: three\nline 4: four\nline 5: five\n5 lines\n");

  // Its later lines change; the live run, from the third line on, reads them.
  write_file(text, "one\ntwo\nthree\nFOUR, edited\nFIVE, edited\nsix, added\n");
  RunResult live = ttdb({"replay", "-ex", "break show", "-ex", "ignore 1 2", "-ex", "continue", "-ex", "go-live", trace});
  EXPECT_EQ(live.status, 6) << live.err;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  // Replay printed the first two lines; the live process the rest.
  EXPECT_NE(live.out.rfind("line 1: one\nline 2: two\n", went), std::string::npos) << live.out;
  EXPECT_EQ(live.out.find("line 3"), live.out.find("line 3: three\nline 4: FOUR, edited\nline 5: FIVE, edited\nline 6: six, added\n6 lines\n"))
      << live.out;
  EXPECT_GT(live.out.find("line 3"), went) << live.out;
  EXPECT_EQ(count_of(live.out, "line 1: one"), 1) << live.out;

  // Going live at the first instruction runs the whole program anew.
  RunResult whole = ttdb({"replay", "-ex", "go-live", trace});
  EXPECT_EQ(whole.status, 6) << whole.err;
  EXPECT_NE(whole.out.find("line 4: FOUR, edited\n"), std::string::npos) << whole.out;
}

TEST(GoLive, AFileOpenedByARelativePathIsFoundFromTheRecordedDirectory) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  write_file(dir.file("lines.txt"), "one\ntwo\nthree\n");
  RunResult recorded = run({"sh", "-c", "cd \"$1\" && exec \"$2\" record -q -o t.ttdb \"$3\" lines.txt", "sh", dir.path(),
                            ttdb_binary(), program("read_lines")});
  ASSERT_EQ(recorded.status, 3) << recorded.err;
  write_file(dir.file("lines.txt"), "one\nTWO, edited\nTHREE, edited\n");
  // Replay runs from elsewhere: the test's own directory.
  RunResult live = ttdb({"replay", "-ex", "break show", "-ex", "continue", "-ex", "go-live", trace});
  EXPECT_EQ(live.status, 3) << live.err;
  EXPECT_NE(live.out.find("line 1: one\nline 2: TWO, edited\nline 3: THREE, edited\n3 lines\n"), std::string::npos) << live.out;
}

TEST(GoLive, EveryThreadOfTheProcessGoesOn) {
  TempDir dir;
  RunResult live;
  // In the thread's function: the program has two threads there. In some
  // recordings the new thread got there before its parent's clone3 had
  // returned, where go-live refuses (every thread must be out of a fork):
  // another recording then.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string trace = dir.file(fmt::format("t{}.ttdb", attempt));
    RunResult recorded = record(trace, {program("threads")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    live = ttdb({"replay", "-ex", "break run", "-ex", "continue", "-ex", "info threads", "-ex", "go-live", trace});
    if (live.err.find("is inside a fork") == std::string::npos) break;
  }
  EXPECT_EQ(live.status, 0) << live.err;
  EXPECT_NE(live.out.find("  1.1  Thread "), std::string::npos) << live.out;
  EXPECT_NE(live.out.find("* 1.2  Thread "), std::string::npos) << live.out;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  EXPECT_EQ(live.out.substr(live.out.find('\n', went) + 1),
            "in the thread\nafter the thread\nfrom a child\nchild exited with 0\n");
}

TEST(GoLive, TheOtherProcessesAliveThereAreNamed) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record(trace, {program("fork_wait")}).status, 0);
  // Before the first fork returns in the parent, there is no other process.
  RunResult first = ttdb({"replay", "-ex", "break fork", "-ex", "continue", "-ex", "go-live", trace});
  EXPECT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out.find("stay"), std::string::npos) << first.out;
  EXPECT_EQ(count_of(first.out, " exited with "), 3) << first.out;
  // Where a child lives, it stays behind, named.
  std::string beside = dir.file("beside.ttdb");
  auto [at, alive] = record_parent_beside_a_child(beside);
  ASSERT_GT(at, 0) << "no recording had the parent run while a child lived";
  // (goto shows the process that acts next: the parent goes live.)
  RunResult later = ttdb({"replay", "-ex", "goto event " + std::to_string(at), "-ex", "inferior 1", "-ex", "go-live", beside});
  EXPECT_NE(later.out.find("The recording's other process (" + std::to_string(alive) + ") stays behind, stopped: the live "
                           "process cannot wait for it.\n"),
            std::string::npos) << later.out;
}

TEST(GoLive, AnOffsetSendfileMovedIsFollowed) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), text = dir.file("lines.txt");
  write_file(text, "aaaaa\nbbbbb\nccccc\nddddd\n");
  RunResult recorded = record(trace, {program("send_lines"), text});
  ASSERT_EQ(recorded.status, 4) << recorded.err;
  write_file(text, "aaaaa\nbbbbb\nCCCCC\nDDDDD\nEEEEE\n");
  // After the first six bytes went out: the live run sends the rest, as the file is now.
  RunResult live = ttdb({"replay", "-ex", "break copied", "-ex", "continue", "-ex", "go-live", trace});
  EXPECT_EQ(live.status, 5) << live.err;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  EXPECT_EQ(live.out.substr(live.out.find('\n', went) + 1), "bbbbb\nCCCCC\nDDDDD\nEEEEE\n") << live.out;
}

TEST(GoLive, APipeIsMadeAnewWhenItCanBeAndNamedWhenNot) {
  TempDir dir;
  std::string text = dir.file("lines.txt");
  write_file(text, "one\ntwo\n");
  // Both ends held, empty: made anew, the program none the wiser.
  std::string both = dir.file("both.ttdb");
  ASSERT_EQ(record(both, {program("read_lines"), text, "pipe"}).status, 2);
  RunResult live = ttdb({"replay", "-ex", "break show", "-ex", "continue", "-ex", "go-live", both});
  EXPECT_EQ(live.status, 2) << live.err;
  EXPECT_NE(live.out.find("line 2: two\n2 lines\n"), std::string::npos) << live.out;

  struct Case {
    std::string mode, what;
  };
  for (const auto& c : {Case{"halfpipe", "a pipe whose other end is gone"}, Case{"fullpipe", "a pipe holding 1 unread byte"}}) {
    std::string trace = dir.file(c.mode + ".ttdb");
    ASSERT_EQ(record(trace, {program("read_lines"), text, c.mode}).status, 2);
    // (Recorded on or not: a refusal leaves no trace behind.)
    RunResult refused = ttdb({"replay", "-ex", "break show", "-ex", "continue", "-ex", "go-live --record " + dir.file("no.ttdb"), trace});
    EXPECT_FALSE(std::filesystem::exists(dir.file("no.ttdb")));
    EXPECT_NE(refused.err.find("File descriptor 3 of process "), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find(" is " + c.what + ", which go-live cannot re-create; give it /dev/null with go-live --null 3 "
                               "(or --null-all"),
              std::string::npos) << refused.err;
    EXPECT_EQ(refused.out.find("runs on live"), std::string::npos) << refused.out;
    // Given /dev/null, it goes live.
    for (std::string option : {c.mode == "halfpipe" ? "--null 3" : "--null 3 --null 4", "--null-all"}) {
      RunResult given = ttdb({"replay", "-ex", "break show", "-ex", "continue", "-ex", "go-live " + option, trace});
      EXPECT_EQ(given.status, 2) << c.mode << " " << option << given.err;
      EXPECT_NE(given.out.find("line 2: two\n2 lines\n"), std::string::npos) << given.out;
    }
  }
}

TEST(GoLive, RecordedOnTheNewTraceReplaysTheRecordingThenTheLiveRun) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), live_trace = dir.file("live.ttdb"), text = dir.file("lines.txt");
  write_file(text, "one\ntwo\nthree\nfour\nfive\n");
  ASSERT_EQ(record(trace, {program("read_lines"), text}).status, 5);
  write_file(text, "one\ntwo\nthree\nFOUR, edited\nFIVE, edited\nsix, added\n");
  RunResult live = ttdb({"replay", "-ex", "break show", "-ex", "ignore 1 2", "-ex", "continue", "-ex",
                         "go-live --record " + live_trace, trace});
  EXPECT_EQ(live.status, 6) << live.err;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  std::int64_t at = std::stoll(live.out.substr(went + 25));
  EXPECT_NE(live.out.find("line 3: three\nline 4: FOUR, edited\nline 5: FIVE, edited\nline 6: six, added\n6 lines\n", went),
            std::string::npos) << live.out;
  EXPECT_NE(live.out.find("events 1 to " + std::to_string(at) + " from the recording, then the live run's) written to " + live_trace),
            std::string::npos) << live.out;

  // The new trace replays the recording's part, then the live run's.
  write_file(text, "changed again\n");
  RunResult replayed = replay(live_trace);
  EXPECT_EQ(replayed.status, 6) << replayed.err;
  EXPECT_EQ(replayed.out, "line 1: one\nline 2: two\nline 3: three\nline 4: FOUR, edited\nline 5: FIVE, edited\n"
                          "line 6: six, added\n6 lines\n");
  EXPECT_EQ(sql_count(live_trace, "SELECT count(*) FROM events WHERE kind = 12 AND id = " + std::to_string(at + 1)), 1);
  EXPECT_NE(ttdb({"info", live_trace}).out.find("live:      events 1 to " + std::to_string(at) + " come from " + trace), std::string::npos);
  // And travels back across the moment it went live.
  RunResult shell = ttdb({"replay", "-ex", "break show", "-ex", "continue 5", "-ex", "print number", "-ex", "reverse-continue",
                          "-ex", "reverse-continue", "-ex", "reverse-continue", "-ex", "print line", "-ex", "continue", "-ex",
                          "continue", "-ex", "print line", live_trace});
  EXPECT_EQ(shell.status, 0) << shell.err;
  EXPECT_NE(shell.out.find("$1 = 5\n"), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find("$2 = 0x"), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find(" \"two\"\n"), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find("$3 = 0x"), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find(" \"FOUR, edited\"\n"), std::string::npos) << shell.out;

  // A trace that is there already is refused before anything changes.
  RunResult again = ttdb({"replay", "-ex", "break show", "-ex", "continue", "-ex", "go-live --record " + live_trace, "-ex",
                          "continue", trace});
  EXPECT_NE((again.out + again.err).find("annot create trace " + live_trace + ": the file already exists"), std::string::npos)
      << again.out << again.err;
  EXPECT_EQ(again.out.find(" runs on live "), std::string::npos) << again.out;
}

TEST(GoLive, RecordedOnWithThreadsAndWithProcessesLeftBehind) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), live_trace = dir.file("live.ttdb");
  ASSERT_EQ(record(trace, {program("threads")}).status, 0);
  RunResult live = ttdb({"replay", "-ex", "break run", "-ex", "continue", "-ex", "go-live --record " + live_trace, trace});
  EXPECT_EQ(live.status, 0) << live.err;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  std::string live_part = live.out.substr(live.out.find('\n', went) + 1);
  EXPECT_EQ(live_part.substr(0, live_part.find("ttdb: trace of")), "in the thread\nafter the thread\nfrom a child\nchild exited with 0\n");
  RunResult replayed = replay(live_trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, "before the thread\nin the thread\nafter the thread\nfrom a child\nchild exited with 0\n");

  // A child alive where the parent goes live stays behind: in the new
  // trace it ends there.
  std::string forks = dir.file("forks.ttdb"), forks_live = dir.file("forks-live.ttdb");
  auto [at, alive] = record_parent_beside_a_child(forks);
  ASSERT_GT(at, 0) << "no recording had the parent run while a child lived";
  RunResult later = ttdb({"replay", "-ex", "goto event " + std::to_string(at), "-ex", "inferior 1", "-ex",
                          "go-live --record " + forks_live, forks});
  EXPECT_NE(later.out.find("stays behind"), std::string::npos) << later.out;
  RunResult again = replay(forks_live);
  EXPECT_EQ(again.status, later.status) << again.err;
  // What the program printed, before and after it went live, in order.
  std::size_t from = 0;
  for (std::size_t start = 0, end; (end = again.out.find('\n', start)) != std::string::npos; start = end + 1) {
    from = later.out.find(again.out.substr(start, end + 1 - start), from);
    ASSERT_NE(from, std::string::npos) << again.out << "\n--- live:\n" << later.out;
  }
  EXPECT_NE(ttdb({"ps", forks_live}).out.find(std::to_string(alive) + "\t"), std::string::npos);
  EXPECT_NE(ttdb({"ps", forks_live}).out.find("\t-9\t(forked without exec)"), std::string::npos) << ttdb({"ps", forks_live}).out;
}

// Programs of several kinds, recorded on from the middle of their
// recording: the new trace replays as the live run ran, whatever the live
// run did.
TEST(GoLive, RecordedOnKeepsSigtrapAsTheProgramSetIt) {
  // Gone live after sigtrap_kept handles SIGTRAP, right where it blocks it:
  // the rdrand it runs live is trapped for the recorder, whose int3 must
  // leave SIGTRAP handled and blocked as the replay had it (the live run
  // was killed by the SIGTRAP it raised).
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), live_trace = dir.file("live.ttdb");
  ASSERT_EQ(record(trace, {program("sigtrap_kept")}).status, 0);
  long at = sql_count(trace,
                      "SELECT coalesce(min(id), 0) FROM events WHERE kind = 2 AND nr = 14 AND a0 = 0 AND a1 != 0 AND id > "
                      "(SELECT max(id) FROM events WHERE kind = 2 AND nr = 13 AND a0 = 5 AND a1 != 0)");
  ASSERT_GT(at, 0);
  RunResult live =
      ttdb({"replay", "-ex", "goto event " + std::to_string(at), "-ex", "go-live --record " + live_trace, trace});
  ASSERT_EQ(live.status, 0) << live.out << live.err;
  const std::string tail = "handled and blocked, after rdtsc and rdrand: SIGTRAP handled, blocked\n"
                           "raised while blocked: handled 0\nunblocked: handled 1\ntime read: 1\n";
  EXPECT_NE(live.out.find(tail), std::string::npos) << live.out;
  RunResult replayed = replay(live_trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_NE(replayed.out.find(tail), std::string::npos) << replayed.out;
}

TEST(GoLive, RecordedOnFromTheMiddleReplaysAsTheLiveRunRan) {
  for (std::string name : {"fork_thread", "fork_many", "clocks", "kernel_ipc", "exec_chain", "debug_threads_joined"}) {
    TempDir dir;
    std::string trace = dir.file("t.ttdb"), live_trace = dir.file("live.ttdb");
    record(trace, {program(name)});
    long events = sql_count(trace, "SELECT count(*) FROM events");
    ASSERT_GT(events, 2) << name;
    // (Where the process is ending, or inside a fork, it cannot go live: a few events on, it can.)
    RunResult live;
    for (long at = events / 2; at < events && live.out.find(" runs on live from event ") == std::string::npos; at += 3)
      live = ttdb({"replay", "-ex", "goto event " + std::to_string(at), "-ex", "go-live --null-all --record " + live_trace, trace});
    ASSERT_NE(live.out.find(" runs on live from event "), std::string::npos) << name << live.out << live.err;
    RunResult replayed = replay(live_trace);
    EXPECT_EQ(replayed.status, live.status) << name << replayed.err;
    EXPECT_EQ(replayed.err.find("diverged"), std::string::npos) << name << replayed.err;
  }
}

TEST(GoLive, AnIntervalTimerSetBeforeIsArmedAgain) {
  // The program counts 20 ticks of a 2 ms setitimer, then disarms it.
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), live_trace = dir.file("live.ttdb");
  ASSERT_EQ(record(trace, {program("alarm_ticks")}).status, 0);
  // At the tenth nap, in the program's own code.
  std::vector<std::string> middle{"replay", "-ex", "break nanosleep", "-ex", "ignore 1 9", "-ex", "continue"};
  auto at_middle = [&](std::vector<std::string> then) {
    std::vector<std::string> args = middle;
    args.insert(args.end(), then.begin(), then.end());
    args.push_back(trace);
    return args;
  };
  RunResult live = ttdb(at_middle({"-ex", "go-live"}));
  EXPECT_EQ(live.status, 0) << live.err;
  std::size_t went = live.out.find(" runs on live from event ");
  ASSERT_NE(went, std::string::npos) << live.out;
  EXPECT_NE(live.out.find(" ticks over ", went), std::string::npos) << live.out;
  // Recorded on, the ticks are the live run's signals.
  RunResult recorded_on = ttdb(at_middle({"-ex", "go-live --record " + live_trace}));
  EXPECT_EQ(recorded_on.status, 0) << recorded_on.err;
  RunResult replayed = replay(live_trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  std::size_t ticks = replayed.out.find(" ticks over ");
  ASSERT_NE(ticks, std::string::npos) << replayed.out;
  EXPECT_NE(recorded_on.out.find(replayed.out.substr(ticks - 2)), std::string::npos) << recorded_on.out << replayed.out;
}

}  // namespace
}  // namespace ttdb::test
