// The syscall buffer: the frequent syscalls are recorded inside the program,
// without a ptrace stop, and replayed the same way; everything else, and
// everything that would block, takes the traced path. Replays are exact
// either way.
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <cstdlib>

#include "ttdb/trace/reader.h"
#include "shell_fixture.h"
#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// The values the replay shell's `finish` prints for `function`'s 50th call,
// then again after reverse-continue goes back into it: the value each
// "Value returned is $N = V" line gives.
std::vector<std::string> values_returned_there_and_back(const std::string& trace, const std::string& function) {
  RunResult shell = ttdb({"replay", "-ex", "break " + function, "-ex", "continue 50", "-ex", "finish", "-ex",
                          "reverse-continue", "-ex", "finish", trace});
  EXPECT_EQ(shell.status, 0) << shell.err;
  std::vector<std::string> values;
  for (auto at = shell.out.find("Value returned is "); at != std::string::npos; at = shell.out.find("Value returned is ", at + 1)) {
    auto value = shell.out.find(" = ", at);
    values.push_back(shell.out.substr(value + 3, shell.out.find('\n', at) - value - 3));
  }
  EXPECT_EQ(values.size(), 2u) << shell.out << shell.err;
  return values;
}

TEST(SyscallBuffer, BufferedSyscallsReplayIdentically) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("buffered_io"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // 3000 rounds of six buffered calls, and the directory listings.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE buffered"), 18000);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE buffered AND name = 'getdents64'"), 20);
  expect_same_run(recorded, replay(trace));
  // What it printed came from the clock: another run prints something else.
  EXPECT_NE(run({program("buffered_io"), dir.path()}).out, recorded.out);
}

// The recorder takes the records once the buffer holds TTDB_SHIM_DRAIN_AT
// bytes, at an int3 right after the call that filled it: that call is a
// buffered one like the others, and replay gives back runs as long as its
// queue holds. (Through the traced path, each such call ended a run: the
// 18000 calls below replayed in queues of at most 2370.)
TEST(SyscallBuffer, TakingTheRecordsEndsNoRunOfBufferedCalls) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("buffered_io"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE NOT buffered AND name IN "
                             "('read', 'write', 'pread64', 'pwrite64', 'newfstatat', 'clock_gettime')"),
            0);
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  // The program's loop of buffered calls replays in full queues: no stop of
  // the recording ended one early (the records are taken every few
  // thousand calls).
  std::vector<long> queues;
  for (const std::string& line : lines_matching(replayed.err, R"(queued events \d+ to \d+ in the syscall buffer)")) {
    long first = 0, last = 0;
    ASSERT_EQ(std::sscanf(line.c_str() + line.find("events"), "events %ld to %ld", &first, &last), 2) << line;
    queues.push_back(last - first + 1);
  }
  ASSERT_FALSE(queues.empty());
  long full = *std::max_element(queues.begin(), queues.end());
  auto first = std::find(queues.begin(), queues.end(), full);
  auto last = std::find(queues.rbegin(), queues.rend(), full).base();
  EXPECT_GE(full, 4000);
  EXPECT_GE(last - first, 4) << "18000 buffered calls in queues of " << full;
  for (auto queue = first; queue < last; ++queue) EXPECT_EQ(*queue, full) << replayed.err.substr(0, 4000);
}

TEST(SyscallBuffer, WithoutItEverySyscallStops) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = ttdb({"record", "-q", "--no-syscall-buffer", "-o", trace, program("buffered_io"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM events WHERE buffered OR kind = 8"), 0);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls"), 18000);
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, ABufferedCallThatDiffersIsADivergence) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  ASSERT_EQ(record_buffered(trace, {program("buffered_io"), dir.path()}).status, 0);
  // The 100th pwrite to the file "passed" other bytes in the recording.
  int seen = 0;
  std::int64_t changed = 0;
  edit_trace(trace, [&](trace::Event& e) {
    if (e.kind != trace::EventKind::syscall || e.nr != __NR_pwrite64 || !e.buffered || ++seen != 100) return false;
    *e.digest ^= 1;
    changed = e.id;
    return true;
  });
  ASSERT_NE(changed, 0);
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 124);
  EXPECT_NE(replayed.err.find("replay diverged at event " + std::to_string(changed) + ": the recording has pwrite64("),
            std::string::npos)
      << replayed.err;
  EXPECT_NE(replayed.err.find("passed different bytes: \"record 99\\n\""), std::string::npos) << replayed.err;
}

TEST(SyscallBuffer, SignalsAmongBufferedSyscalls) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("buffered_signals")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // 30 ticks at least: one more may come before the timer is stopped.
  EXPECT_GE(std::atoi(recorded.out.c_str()), 30) << recorded.out;
  EXPECT_NE(recorded.out.find(" ticks over "), std::string::npos) << recorded.out;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 3"), 30);
  // How many calls fit between ticks depends on the machine's load (93 under
  // a loaded sanitizer run): one a tick is what must hold.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE buffered"), 30);
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, SignalsLandingInsideABufferedCallWaitForItsRecord) {
  // A tick every half millisecond stops the program inside the buffer's own
  // code, often while it writes a record: the recorder takes the buffer only
  // once the record is whole (it read half-made records, or lost them).
  for (int i = 0; i < 3; ++i) {
    TempDir dir;
    std::string trace = dir.file("t.ttdb");
    RunResult recorded = record_buffered(trace, {program("signals_in_buffered_calls")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_EQ(recorded.out, "40000 calls, 0 failed, ticks came\n");
    expect_same_run(recorded, replay(trace));
  }
}

TEST(SyscallBuffer, ABrokenPipeKillsRightAfterTheWrite) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program("broken_pipe")});
  RunResult recorded = record_buffered(trace, {program("broken_pipe")});
  EXPECT_EQ(native.status, 128 + SIGPIPE);
  EXPECT_EQ(recorded.status, native.status);
  EXPECT_EQ(recorded.out, "ignored: write = -1, EPIPE\n");
  EXPECT_EQ(recorded.out, native.out);
  expect_same_run(recorded, replay(trace));
}

// The program's own syscall instructions: one whose next instruction
// stores through a pointer stays traced; one followed by register moves is
// patched, its trampoline running them moved.
TEST(SyscallBuffer, ProgramsOwnSyscallInstructionsArePatchedWhereWhatFollowsCanMove) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("raw_syscall")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "200 of 200 agree\n");
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getpid' AND NOT buffered"), 200);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getpid' AND buffered"), 200);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'clock_gettime' AND buffered"), 200);
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, AReadThatWouldWaitIsTraced) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Child recording = Child::spawn({ttdb_binary(), "record", "-q", "--buffer-after", "0", "-o", trace, program("fifo_reader"), fifo});
  int writer = ::open(fifo.c_str(), O_WRONLY);  // waits for the reader
  ASSERT_GE(writer, 0);
  for (const char* line : {"one\n", "two\n", "three\n"}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(::write(writer, line, std::strlen(line)), static_cast<ssize_t>(std::strlen(line)));
  }
  ::close(writer);
  RunResult recorded = recording.wait();
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "got 4: one\ngot 4: two\ngot 6: three\nend after 3 reads\n");
  // The reads found nothing yet each time, and waited where the recorder could see them.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'read' AND a0 = 3 AND NOT buffered"), 3);
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, SitesFoundOnceAreKeptForTheNextRecording) {
  TempDir dir;
  RunOptions cold;
  cold.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  // An empty cache: libc's sites are found while the program runs on.
  std::string first = dir.file("first.ttdb");
  RunResult recorded = record_buffered(first, {program("buffered_io"), dir.path()}, cold);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  expect_same_run(recorded, replay(first));
  EXPECT_TRUE(std::filesystem::exists(dir.file("cache/ttdb"))) << "no cache directory";
  // The cache's files of one kind, by their name's start.
  auto kept = [&](const std::string& kind) {
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir.file("cache/ttdb")))
      if (entry.path().filename().string().starts_with(kind)) found.push_back(entry.path());
    return found;
  };
  EXPECT_GE(kept("sites-").size(), 1u);
  // And, by the version of each system file, its content hash; by its
  // content, where its rdrand/rdseed are (none, but looked for).
  EXPECT_GE(kept("hash-").size(), 2u) << "ld.so and libc (the test program is no system file)";
  EXPECT_GE(kept("rand-").size(), 1u);
  // And the vDSO's treatment (its functions' stubs and moved entries), by its content.
  ASSERT_FALSE(kept("vdso-").empty());
  std::string clock_reads = "SELECT count(*) FROM syscalls WHERE name = 'clock_gettime' AND buffered";
  EXPECT_EQ(sql_count(first, clock_reads), 3000);
  // Known now: libc is patched as soon as its code is mapped.
  std::string second = dir.file("second.ttdb");
  recorded = record_buffered(second, {program("buffered_io"), dir.path()}, cold);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  expect_same_run(recorded, replay(second));
  EXPECT_EQ(sql_count(second, "SELECT count(*) FROM events p JOIN events m ON m.id = p.id - 1 WHERE p.kind = 8 AND p.a2 = 0 "
                          "AND m.kind = 2 AND m.nr = 9 AND (m.a2 & 4) != 0"),
            1);
  EXPECT_GE(sql_count(second, "SELECT count(*) FROM events WHERE buffered"), 18000);
  EXPECT_EQ(sql_count(second, clock_reads), 3000) << "the vDSO's kept treatment reads the clock in the shim too";
  // The hash a later recording takes from the cache is the file's.
  std::string libc_hash = "SELECT hex(hash) FROM files WHERE path LIKE '%/libc.so.6'";
  RunResult first_hash = ttdb({"sql", libc_hash, first}), second_hash = ttdb({"sql", libc_hash, second});
  EXPECT_EQ(second_hash.out, first_hash.out);
  EXPECT_EQ(first_hash.out.size(), 33u) << first_hash.out << first_hash.err;
  // A cache that holds garbage is ignored.
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("cache/ttdb"))) write_file(entry.path(), "garbage");
  std::string third = dir.file("third.ttdb");
  recorded = record_buffered(third, {program("buffered_io"), dir.path()}, cold);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  expect_same_run(recorded, replay(third));
  EXPECT_EQ(sql_count(third, clock_reads), 3000);
  ASSERT_FALSE(kept("vdso-").empty());
  EXPECT_GT(std::filesystem::file_size(kept("vdso-").front()), 4096u) << "treated again and kept in the garbage's place";
}

TEST(SyscallBuffer, RegularFilesOpenInsideTheBufferFifosOutsideIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("buffered_io"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // buffered_io opens its data file and its directory 20 times.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'openat' AND buffered AND path = '" + dir.path() + "'"),
            20);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'openat' AND buffered AND path = '" + dir.file("data") + "'"),
            1);
}

TEST(SyscallBuffer, OpensThatFailInThePathsLookupStayInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("open_probes"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(count_of(recorded.out, "missing: ENOENT\n"), 3) << recorded.out;
  EXPECT_EQ(count_of(recorded.out, "symlink loop: ELOOP\n"), 3) << recorded.out;
  EXPECT_EQ(count_of(recorded.out, "name too long: ENAMETOOLONG\n"), 3) << recorded.out;
  EXPECT_EQ(count_of(recorded.out, "under a file: ENOTDIR\n"), 3) << recorded.out;
  auto opens = [&](const std::string& path, const std::string& where) {
    return sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'openat' AND path LIKE '%" + path + "' AND " + where);
  };
  // Each fails alike without waiting: no stop.
  EXPECT_EQ(opens("/no-such-file", "buffered AND ret = -2"), 3);
  EXPECT_EQ(opens("/loop", "buffered AND ret = -40"), 3);
  EXPECT_EQ(opens("xxxx", "buffered AND ret = -36"), 3);
  EXPECT_EQ(opens("/created/inside", "buffered AND ret = -20"), 3);
  // O_CREAT makes a regular file, the first time too.
  EXPECT_EQ(opens("/created", "buffered AND ret >= 0"), 3);
  // A FIFO may wait: traced.
  EXPECT_EQ(opens("/fifo", "NOT buffered"), 1);
  // Replay opens nothing: what the program made may be gone.
  std::filesystem::remove(dir.file("created"));
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, OnlySitesWhoseSyscallTheBufferMakesArePatched) {
  TempDir dir;
  RunOptions cache;
  cache.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  // The first recording finds the sites; the second patches them at once.
  ASSERT_EQ(record_buffered(dir.file("first.ttdb"), {program("site_choice")}, cache).status, 0);
  std::string trace = dir.file("second.ttdb");
  RunResult recorded = record_buffered(trace, {program("site_choice")}, cache);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("\n50 50 50\n"), std::string::npos) << recorded.out;
  auto address_of = [&](const std::string& name) {
    std::size_t at = recorded.out.find(name + " at 0x");
    return at == std::string::npos ? 0 : std::strtoull(recorded.out.c_str() + at + name.size() + 4, nullptr, 16);
  };
  // Bytes a patch event rewrote in the function (up to the next one, or its
  // first 64 bytes: at -O0 the site is 33 bytes in).
  auto patched = [&](const std::string& name) {
    std::uint64_t at = address_of(name), end = at + 64;
    EXPECT_NE(at, 0u) << recorded.out;
    for (const char* other : {"getppid", "sched_yield", "any"})
      if (std::uint64_t next = address_of(other); next > at && next < end) end = next;
    return sql_count(trace, fmt::format("SELECT count(*) FROM mem m JOIN events e ON e.id = m.event WHERE e.kind = 8 "
                                        "AND m.addr >= {} AND m.addr < {}",
                                        at, end));
  };
  EXPECT_EQ(patched("getppid"), 1);
  // sched_yield is always traced: its trampoline would only lead back to the syscall.
  EXPECT_EQ(patched("sched_yield"), 0);
  EXPECT_EQ(patched("any"), 1);  // its number is not in the code
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'sched_yield' AND NOT buffered"), 50);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getppid' AND buffered"), 100);
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, OutputWrittenInsideTheBufferComesOutOfReplayInOrder) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("output_lines")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(count_of(recorded.out, "\n"), 300);
  EXPECT_EQ(count_of(recorded.err, "\n"), 100);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'write' AND buffered"), 400);
  expect_same_run(recorded, replay(trace));
  // The shim gives the writes back without a stop, and hands over what
  // they wrote with them.
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  int given_back = 0;
  std::istringstream log(replayed.err);
  for (std::string line; std::getline(log, line);)
    given_back += line.find(": write(1, ") != std::string::npos && line.find("given back in-process") != std::string::npos;
  EXPECT_GE(given_back, 290) << replayed.err;
}

TEST(SyscallBuffer, SignalActionsReadOrSetStayInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("signal_queries")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("handled after two: 2\n"), std::string::npos) << recorded.out;
  EXPECT_NE(recorded.out.find("SIGUSR2 blocked: 1, SIGUSR1 blocked: 0\ncaught 10\n"), std::string::npos) << recorded.out;
  // 29 signals' actions read twice: without a stop.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'rt_sigaction' AND a1 = 0 AND buffered"), 58);
  // What changes them too. Replay gives those back as well, and makes the
  // actions the kernel's at the next stop: the handler set catches SIGUSR1.
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'rt_sigaction' AND a1 != 0 AND buffered"), 2);
  expect_same_run(recorded, replay(trace));
  RunResult replayed = replay_logged(trace);
  EXPECT_EQ(replayed.out, recorded.out);
  EXPECT_GE(lines_matching(replayed.err, R"(rt_sigaction\(SIGUSR1, 0x.*given back in-process)").size(), 1u) << replayed.err;
}

// A handler set inside the buffer and a fault right after: replay makes the
// action the kernel's at the fault's own stop, and delivers the fault as it
// came (the handler sees the address).
TEST(SyscallBuffer, AFaultRightAfterAHandlerIsSetReachesIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("fault_handler")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "faulting\nsignal 11 at 0x1234\n");
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'rt_sigaction' AND a0 = 11 AND buffered"), 1);
  expect_same_run(recorded, replay(trace));
  // Back at the call, and live from there: the process has the handler.
  long set = sql_count(trace, "SELECT event FROM syscalls WHERE name = 'rt_sigaction' AND a0 = 11");
  RunResult live = ttdb({"replay", "-ex", fmt::format("goto event {}", set), "-ex", "go-live", trace});
  EXPECT_EQ(live.status, 0) << live.err;
  EXPECT_NE(live.out.find("signal 11 at 0x1234\n"), std::string::npos) << live.out;
}

// Fresh private memory, mprotect without PROT_EXEC, munmap and the thread
// pointer set change nothing the recorder must see happen: the shim makes
// them, and replay makes them again.
TEST(SyscallBuffer, MemoryMappedOrProtectedWithoutCodeStaysInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("protections")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "write refused, still a\nwritten: b\nshared: c\n");
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'mmap' AND a3 = 34 AND a2 = 3 AND buffered"), 1);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'mprotect' AND a2 = 1 AND buffered"), 1);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'mprotect' AND a2 = 3 AND buffered"), 1);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'arch_prctl' AND buffered"), 1);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'munmap' AND a1 = 4096 AND buffered"), 2);
  // Making code is the recorder's to see (it scans it for syscalls and
  // rdtsc), and so is memory that processes share (they take turns).
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name IN ('mprotect', 'mmap') AND a2 & 4 AND buffered"), 0);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'mmap' AND (a3 & 3) = 1 AND buffered"), 0);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'mmap' AND a2 = 5 AND a3 = 34"), 1);
  expect_same_run(recorded, replay(trace));
}

// A private, read-only view of a file version the recorder has catalogued
// (a traced mmap mapped it), from a descriptor open for reading only, is
// mapped by the shim: the event names the version as a traced mmap's does,
// and replay maps the recorded bytes once the file is gone. A view from a
// writable descriptor, and a new version's first view, stay traced.
TEST(SyscallBuffer, ReadOnlyViewsOfFilesSeenBeforeStayInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("mapped_files"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  auto maps = [&](int fd, bool buffered) {
    return sql_count(trace, fmt::format("SELECT count(*) FROM syscalls WHERE name = 'mmap' AND a4 = {} AND {}buffered",
                                        fd, buffered ? "" : "NOT "));
  };
  // Each version's first view is traced; the other nine, the child's too, are not.
  EXPECT_EQ(maps(40, false), 2);
  EXPECT_EQ(maps(40, true), 9);
  EXPECT_EQ(maps(50, false), 1);
  EXPECT_EQ(maps(50, true), 0);
  // Their events name the file as a traced view's does.
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls s JOIN mem m ON m.event = s.event "
                             "WHERE s.name = 'mmap' AND s.a4 = 40 AND s.buffered AND m.file IS NOT NULL"),
            9);
  expect_same_run(recorded, replay(trace));
  // The bytes were random: the replay's came from the trace.
  EXPECT_NE(run({program("mapped_files"), dir.path()}).out, recorded.out);
}

// A loader maps a library whole, then its parts over it (MAP_FIXED): those
// of a catalogued version, not executable, and anonymous memory over the
// program's own, stay inside the buffer too; replay maps the same bytes
// where the recording had them, the page the program wrote included.
TEST(SyscallBuffer, MappingsOverTheProgramsOwnMemoryStayInsideTheBuffer) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("fixed_maps"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("round 9: "), std::string::npos) << recorded.out;
  EXPECT_NE(recorded.out.find("anonymous over anonymous: 0 7"), std::string::npos) << recorded.out;
  auto maps = [&](const char* which, bool buffered) {
    return sql_count(trace, fmt::format("SELECT count(*) FROM syscalls WHERE name = 'mmap' AND {} AND {}buffered",
                                        which, buffered ? "" : "NOT "));
  };
  const char* fixed_views = "a4 = 40 AND (a3 & 16) != 0";
  const char* fixed_anonymous = "(a3 & 32) != 0 AND (a3 & 16) != 0 AND a1 = 4096";
  // The first whole view catalogues the version; every view after it, at a
  // fixed place or not, the child's too, is the shim's.
  EXPECT_EQ(maps("a4 = 40", false), 1);
  EXPECT_EQ(maps(fixed_views, true), 10);
  EXPECT_EQ(maps(fixed_anonymous, true), 6);
  EXPECT_EQ(maps(fixed_anonymous, false), 0);
  expect_same_run(recorded, replay(trace));
  // The bytes were random: the replay's came from the trace.
  EXPECT_NE(run({program("fixed_maps"), dir.path()}).out, recorded.out);
}

// rt_sigprocmask goes through the buffer where its site is patched: a
// pending signal it unblocks stops the thread inside the shim, and the
// recorder delivers it as the call returns, where replay, which makes the
// call again, delivers it too.
TEST(SyscallBuffer, SignalMasksSetInsideTheBufferDeliverWhatTheyUnblockAtOnce) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("mask_in_buffer")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("handled 200, early 0, late 0"), std::string::npos) << recorded.out;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'rt_sigprocmask' AND buffered"), 200);
  expect_same_run(recorded, replay(trace));
}

// glibc's sigprocmask is followed by instructions its trampoline runs
// moved (`mov %eax,%edx; neg %edx`): inside the buffer, and through the
// slow tail when a signal waits (the thread runs them there, in recording
// and in replay alike). The debugger sees the calls as the program's.
TEST(SyscallBuffer, SitesWhoseNextInstructionsMoveAreBuffered) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("debug_masked_loop")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find(", 20 or more alarms, 0 bad"), std::string::npos) << recorded.out;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'rt_sigprocmask' AND buffered"), 100);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 3 AND nr = 14"), 20);
  // (The loader's and malloc's brk, whose sites move a load, go through it too.)
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'brk' AND buffered"), 1);
  expect_same_run(recorded, replay(trace));

  EXPECT_EQ(values_returned_there_and_back(trace, "mask_once"), (std::vector<std::string>{"0", "0"}));
}

// The program's own syscall followed by `mov %rax,%rdx; neg %rdx`, which
// its trampoline runs moved: the shell steps through them at the
// program's addresses, forward and back, with the registers they set.
TEST(SyscallBuffer, StepsThroughMovedInstructionsAtTheProgramsAddresses) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // A first recording puts the program's sites in the site cache: the
  // second has them patched at its exec, not once a search, as long as the
  // machine's load makes it, has found them.
  ASSERT_EQ(record_buffered(dir.file("warm-up.ttdb"), {program("debug_moved_site")}).status, 0);
  RunResult recorded = record_buffered(trace, {program("debug_moved_site")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "0\n");
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getpid' AND buffered"), 90);
  RunResult shell = ttdb({"replay", "-ex", "break *after_syscall", "-ex", "continue 20", "-ex", "print $pc", "-ex",
                          "stepi", "-ex", "print $pc", "-ex", "stepi", "-ex", "print $pc", "-ex", "print $rdx + $rax",
                          "-ex", "reverse-stepi", "-ex", "print $pc", "-ex", "reverse-stepi", "-ex", "print $pc", trace});
  ASSERT_EQ(shell.status, 0) << shell.err;
  auto values = printed_values(shell.out);
  ASSERT_EQ(values.size(), 6u) << shell.out;
  std::uint64_t label = std::stoull(values[0], nullptr, 16);
  auto at = [&](std::size_t k) { return std::stoull(values[k], nullptr, 16); };
  EXPECT_EQ(at(1), label + 3) << shell.out;  // past mov %rax,%rdx
  EXPECT_EQ(at(2), label + 6) << shell.out;  // past neg %rdx
  EXPECT_EQ(values[3], "0") << shell.out;    // rdx is -rax
  EXPECT_EQ(at(4), label + 3) << shell.out;
  EXPECT_EQ(at(5), label) << shell.out;
}

// posix_fadvise only advises: coreutils' cat asks for sequential reads of
// each file, and the shim makes that call (its glibc site moves code).
TEST(SyscallBuffer, AdviceOnFilesIsBuffered) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), file = dir.file("lines");
  write_file(file, "one\ntwo\n");
  RunResult recorded = record_buffered(trace, {"/bin/cat", file, file, file});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "one\ntwo\none\ntwo\none\ntwo\n");
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'fadvise64' AND buffered"), 3);
  expect_same_run(recorded, replay(trace));
}

// glibc's getpid, getuid and the like return right after their syscall
// (`syscall; ret`): the patch covers the padding after the `ret`, and the
// shim makes the calls. A timer's signals land among them, in the shim's
// calls too (no stop tail there: the next call's end delivers them), and
// replay reproduces the loop that counts them. The debugger sees the calls
// as the program's: a function that makes six returns the recorded value,
// going forward or again after going back.
TEST(SyscallBuffer, WrappersThatReturnRightAfterTheirSyscallAreBuffered) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("debug_returning_wrappers")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find(", 20 or more alarms"), std::string::npos) << recorded.out;
  for (const char* name : {"getpid", "getppid", "getuid", "geteuid", "getgid", "getegid"})
    EXPECT_GE(sql_count(trace, fmt::format("SELECT count(*) FROM syscalls WHERE name = '{}' AND buffered", name)), 100)
        << name;
  expect_same_run(recorded, replay(trace));

  auto values = values_returned_there_and_back(trace, "ids_once");
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], values[1]);
}

// dup, dup2 and dup3 go through the buffer, stdout's too: what the program
// writes to stdout while it names a file stays out of replay's output.
TEST(SyscallBuffer, DescriptorsMovedInsideTheBufferKeepTheirOutputApart) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("dup_redirections"), dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out,
            "round 0: piped\nround 1: piped\nround 2: piped\nthe file holds 42 bytes:\n"
            "to the file 0\nto the file 1\nto the file 2\n");
  for (const char* name : {"dup", "dup2", "dup3"})
    EXPECT_GE(sql_count(trace, fmt::format("SELECT count(*) FROM syscalls WHERE name = '{}' AND buffered", name)), 3)
        << name;
  expect_same_run(recorded, replay(trace));
}

// The recorder reads a large take of records through only when one of them
// unmapped or protected memory (shim_abi.h, memory_records): here a munmap
// after 4000 clock reads, of code whose rdtsc had ttdb's int3, where new
// code's own int3 then raises the program's SIGTRAP.
TEST(SyscallBuffer, CodeUnmappedAmongManyBufferedCallsIsForgotten) {
  RunResult native = run({program("code_unmapped_midway")});
  ASSERT_EQ(native.status, 0) << native.err;
  ASSERT_EQ(native.out, "trapped after 4000 clock reads\n");
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("code_unmapped_midway")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, native.out);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'munmap' AND a1 = 4096 AND buffered"), 1);
  expect_same_run(recorded, replay(trace));
}

// The site finder searches a file's code the program mapped while it runs
// (a cold cache): if the program moves that code with mremap before the
// finder is done, what was found is for memory that is no longer there, and
// is dropped, not patched.
TEST(SyscallBuffer, SitesFoundInCodeMovedAwayMeanwhileAreDropped) {
  TempDir dir;
  RunOptions cold;
  cold.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("tsc_moved_code"), "spin"}, cold);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("moved "), std::string::npos) << recorded.out;
  expect_same_run(recorded, replay(trace));
}

// rdtsc sites with trampolines (shim version 7): the shim reads the counter
// for two threads' loops and for the timer's handler that interrupts them,
// and replay gives each read back; a program's start (the loader times
// itself) stops for none of them.
TEST(SyscallBuffer, RdtscSitesReadTheCounterInTheShim) {
  TempDir dir;
  RunOptions warm;  // (its own site cache, warmed: the sites are patched from the start)
  warm.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  const std::vector<std::string> command{program("tsc_loop"), "20000", "threads"};
  ASSERT_EQ(record_buffered(dir.file("warm-up.ttdb"), command, warm).status, 0);
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, command, warm);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // (kind 4: rdtsc)
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 4 AND buffered"), 40000);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 4 AND NOT buffered"), 0);
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));

  std::string started = dir.file("true.ttdb");
  ASSERT_EQ(record_buffered(started, {"/bin/true"}, warm).status, 0);
  EXPECT_GE(sql_count(started, "SELECT count(*) FROM events WHERE kind = 4 AND buffered"), 1);
  EXPECT_EQ(sql_count(started, "SELECT count(*) FROM events WHERE kind = 4 AND NOT buffered"), 0);
  EXPECT_EQ(replay(started).status, 0);

  // An instruction the trampoline moved reads what it read in place.
  std::string moved = dir.file("load.ttdb");
  const std::vector<std::string> load{program("tsc_loop"), "1000", "load"};
  ASSERT_EQ(record_buffered(dir.file("warm-up-load.ttdb"), load, warm).status, 0);
  RunResult loaded = record_buffered(moved, load, warm);
  ASSERT_EQ(loaded.status, 0) << loaded.err;
  EXPECT_EQ(loaded.out, "loaded 42000\n");
  EXPECT_GE(sql_count(moved, "SELECT count(*) FROM events WHERE kind = 4 AND buffered"), 1000);
  expect_same_run(loaded, replay(moved));

  // One that may fault is not moved: the program takes its fault as natively.
  std::string faulted = dir.file("fault.ttdb");
  RunResult fault = record_buffered(faulted, {program("tsc_loop"), "1", "fault"}, warm);
  ASSERT_EQ(fault.status, 0) << fault.err;
  EXPECT_EQ(fault.out, run({program("tsc_loop"), "1", "fault"}).out);
  expect_same_run(fault, replay(faulted));
}

// Protecting or unmapping the shim's or the trampolines' pages would break
// the program's next syscall: the shim leaves that call to the recorder,
// which ends the recording there, as for any call that changes ttdb's memory.
TEST(SyscallBuffer, AProgramThatProtectsItsPagesIsToldHowToRecordIt) {
  TempDir dir;
  for (std::string how : {"protect", "unmap"})
    for (std::string what : {"buffer", "trampolines"}) {
      std::string trace = dir.file(how + "-" + what + ".ttdb");
      RunResult recorded = record_buffered(trace, {program("protections"), what, how});
      EXPECT_EQ(recorded.status, 125) << how << " " << what << ": " << recorded.err;
      EXPECT_EQ(recorded.out, fmt::format("{} ttdb's {}\n", how == "unmap" ? "unmapping" : "protecting", what));
      EXPECT_NE(recorded.err.find(fmt::format("called {} at event", how == "unmap" ? "munmap" : "mprotect")), std::string::npos)
          << recorded.err;
      EXPECT_NE(recorded.err.find("on memory where ttdb keeps its syscall buffer"), std::string::npos) << recorded.err;
    }
}

TEST(SyscallBuffer, VectorRegistersSurviveBigBufferedWrites) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record_buffered(trace, {program("vector_registers")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "0 of 100 writes changed a vector register\n");
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'write' AND a2 = 8192 AND buffered"), 100);
  expect_same_run(recorded, replay(trace));
}

// Where the recording put the buffer (the patch event that maps it).
std::uint64_t buffer_base(const std::string& trace) {
  return static_cast<std::uint64_t>(sql_count(trace, "SELECT a0 FROM events WHERE kind = 8 AND a2 = 1 LIMIT 1"));
}

TEST(SyscallBuffer, AProgramThatMapsOverItIsToldHowToRecordIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // It finds the buffer wherever this recording put it.
  RunResult recorded = record_buffered(trace, {program("fixed_map"), "buffer"});
  EXPECT_EQ(recorded.status, 125);
  EXPECT_EQ(recorded.out, "mapping over the syscall buffer\n");
  std::uint64_t base = buffer_base(trace);
  EXPECT_NE(recorded.err.find(fmt::format("on memory where ttdb keeps its syscall buffer ({:#x}-{:#x}); record it with "
                                          "--no-syscall-buffer",
                                          base, base + 0x1000)),
            std::string::npos)
      << recorded.err;
  EXPECT_EQ(replay(trace).status, 123);
  // Elsewhere (below where the buffer may go), MAP_FIXED is the program's business.
  RunResult elsewhere = record_buffered(dir.file("u.ttdb"), {program("fixed_map"), "0x30000000"});
  EXPECT_EQ(elsewhere.status, 0) << elsewhere.err;
  expect_same_run(elsewhere, replay(dir.file("u.ttdb")));
  // Without the buffer, the address is the program's too.
  RunResult unbuffered =
      ttdb({"record", "-q", "-n", "-o", dir.file("v.ttdb"), program("fixed_map"), fmt::format("{:#x}", base)});
  EXPECT_EQ(unbuffered.status, 0) << unbuffered.err;
}

TEST(SyscallBuffer, EachRecordingPlacesItElsewhere) {
  TempDir dir;
  std::vector<std::uint64_t> bases;
  for (const char* name : {"a.ttdb", "b.ttdb"}) {
    std::string trace = dir.file(name);
    RunResult recorded = record_buffered(trace, {program("numbered_lines"), "3"});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    std::uint64_t base = buffer_base(trace);
    // Page-aligned, below 2 GiB, from 1 GiB up.
    EXPECT_EQ(base % 4096, 0u);
    EXPECT_GE(base, 0x40000000u);
    EXPECT_LT(base, 0x80000000u);
    RunResult events = ttdb({"events", trace, "--limit", "2"});
    EXPECT_NE(events.out.find(fmt::format("patch: ttdb's syscall buffer mapped at {:#x}", base)), std::string::npos)
        << events.out;
    expect_same_run(recorded, replay(trace));
    bases.push_back(base);
  }
  // About one chance in 261,000 that two recordings choose the same place.
  EXPECT_NE(bases[0], bases[1]);
}

// The shim's way back to a site leaves the flags to the site's first
// displaced instruction: a site whose first instruction after the syscall
// is a branch (on flags set before the call) stays traced, and branches as
// it does natively; a site that compares first goes through the buffer.
TEST(SyscallBuffer, ASiteThatBranchesOnFlagsFromBeforeItsSyscallStaysTraced) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program("flags_across_syscall"), "300"});
  ASSERT_EQ(native.out, "branch: 100 equal, 200 not; plain site: 300 of 300 right\n");
  // The first recording finds the program's sites (in the background, so
  // its first calls may come before the patch); the second patches them at once.
  RunResult recorded;
  for (const char* name : {"first.ttdb", "t.ttdb"}) {
    recorded = record_buffered(dir.file(name), {program("flags_across_syscall"), "300"});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_EQ(recorded.out, native.out);
  }
  // The plain site's 300 calls buffered, and libc's getpid (`syscall; ret`);
  // the branching site's traced.
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getpid' AND buffered"), 600);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getpid' AND NOT buffered"), 300);
  expect_same_run(recorded, replay(trace));
}

// The code around a module's sites is read before they are patched, all at
// once where the program could read it; code mapped execute-only is read
// through /proc/PID/mem instead, and patched all the same.
TEST(SyscallBuffer, CodeMappedExecuteOnlyIsPatchedToo) {
  TempDir dir;
  // A recording finds the new mapping's sites in the background, for the
  // next one, if the search is done before the program unmaps it (the
  // program computes a while, but a loaded machine may delay the search
  // longer): recorded again until one patches them at once.
  RunResult recorded;
  std::string trace;
  // The loader's sites, libc's, and libc's again in the execute-only copy.
  std::string pages = "SELECT * FROM events WHERE kind = 8 AND a2 = 0";
  for (int attempt = 0; attempt < 5; ++attempt) {
    trace = dir.file(std::to_string(attempt) + ".ttdb");
    recorded = record_buffered(trace, {program("exec_only_code"), "spin"});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    ASSERT_NE(recorded.out.find("execute-only"), std::string::npos) << recorded.out;
    if (attempt > 0 && sql_count(trace, "SELECT count(*) FROM (" + pages + ")") == 3) break;
  }
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM (" + pages + ")"), 3);
  EXPECT_EQ(sql_count(trace, "SELECT count(DISTINCT nr) FROM (" + pages + " ORDER BY id LIMIT 2 OFFSET 1)"), 1);
  expect_same_run(recorded, replay(trace));
}

// The loader's page of trampolines is mapped with room after it: libc's
// page (and any module's the program maps later) goes there, in every
// process, without an injected mmap of its own; replay puts it there too.
TEST(SyscallBuffer, LaterModulesTrampolinesGoInTheRoomMappedWithTheLoaders) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // A shell that runs a program: two processes, each with its own room.
  RunResult recorded = record_buffered(trace, {"sh", "-c", program("numbered_lines") + " 3; echo done"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  std::string pages = "SELECT * FROM events WHERE kind = 8 AND a2 = 0";
  std::string rooms = pages + " AND a3 = 262144 AND a4 = 0";  // 256 KiB: kTrampolineArea
  std::int64_t processes = sql_count(trace, "SELECT count(*) FROM events WHERE kind = 1");
  EXPECT_GE(processes, 2);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM (" + rooms + ")"), processes);
  // Each page in a room lies in the room of its process's last exec, past its first page.
  std::string in_room = pages + " AND a4 = 1";
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM (" + in_room + ")"), processes);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM (" + in_room + ") p WHERE NOT EXISTS (SELECT 1 FROM (" + rooms +
                                 ") r WHERE r.id < p.id AND p.a0 >= r.a0 + r.a1 AND p.a0 + p.a1 <= r.a0 + r.a3 AND "
                                 "r.id = (SELECT max(id) FROM (" + rooms + ") q WHERE q.tid = p.tid AND q.id < p.id))"),
            0);
  expect_same_run(recorded, replay(trace));
}

TEST(SyscallBuffer, AProgramWhoseMemoryIsWhereItGoesIsRecordedWithoutIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // Its image covers every place the buffer may take: the filter names one
  // place for the whole recording, so there is no other to try.
  RunResult recorded = record_buffered(trace, {program("shim_place_taken")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "1\n");
  EXPECT_NE(recorded.err.find("ttdb: warning: cannot map ttdb's syscall buffer at 0x"), std::string::npos) << recorded.err;
  EXPECT_NE(recorded.err.find(": the program has memory there; " + program("shim_place_taken") +
                              " is recorded without the syscall buffer (slower)\n"),
            std::string::npos)
      << recorded.err;
  EXPECT_EQ(count_of(recorded.err, "\n"), 1) << recorded.err;
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 8 OR buffered"), 0);
  // (The warning was the recorder's: replay has none.)
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, recorded.out);
  EXPECT_EQ(replayed.err, "");
}

// A program that finds the buffer (as any program can: /proc/self/maps and
// the header's magic) and calls its untraced syscall instruction with its
// own registers: the calls lack the recording's secret, so they stop the
// recorder like any other, and the replay gives back the same random bytes.
class BufferEscape : public ::testing::TestWithParam<const char*> {};

TEST_P(BufferEscape, CallsFromTheBuffersInstructionAreRecorded) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::vector<std::string> command = {program("shim_escape")};
  if (*GetParam()) command.push_back(GetParam());
  RunResult recorded = record_buffered(trace, command);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_TRUE(recorded.out.starts_with("through the syscall buffer: yes\n")) << recorded.out;
  EXPECT_EQ(recorded.err, "");
  // Its calls are in the trace, each stopped: none went through unseen.
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'getrandom' AND a1 = 16 AND NOT buffered"), 1);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'openat' AND path = '/dev/urandom'"), 1);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'read' AND a2 = 16 AND ret = 16"), 1);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM syscalls WHERE name = 'write' AND a0 = 1 AND a2 = 84 AND NOT buffered"), 1);
  expect_same_run(recorded, replay(trace));
  // The bytes were random: another run prints others.
  EXPECT_NE(record_buffered(dir.file("u.ttdb"), command).out, recorded.out);
}

// "own-filter": the program's own seccomp filter makes the recorder stop at
// every syscall, the buffer's own too, which it tells apart by the secret.
INSTANTIATE_TEST_SUITE_P(Programs, BufferEscape, ::testing::Values("", "own-filter"),
                         [](const auto& test_info) { return *test_info.param ? std::string("OwnFilter") : std::string("Plain"); });

}  // namespace
}  // namespace ttdb::test
