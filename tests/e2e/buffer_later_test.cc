// When a program's libraries get the syscall buffer: every program gets the
// shim at its exec, with its own code's and the loader's sites patched (the
// loader makes most of a short program's calls); its libraries' sites are
// patched once it has made enough calls the buffer would have made without
// a stop (--buffer-after, 48 by default), before it starts a thread, or at
// its exec when an earlier run of it got that far (until a run patched so
// ends short of those calls). A program that ends sooner never pays for
// patching them.
#include <filesystem>
#include <regex>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

constexpr const char* kBuffered = "SELECT count(*) FROM syscalls WHERE name = 'getppid' AND buffered";
const std::regex kShimMapped("patch: ttdb's syscall buffer mapped at");
// The loader's calls: its first open, of the loader's cache.
constexpr const char* kLoaderBuffered = "SELECT count(*) FROM syscalls WHERE name = 'openat' AND buffered";

// A site cache of the test's own that knows libc (whose sites a buffer
// that comes later patches at once) and no run of buffer_later.
RunOptions warmed_cache(TempDir& dir) {
  RunOptions options;
  options.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  EXPECT_EQ(record_buffered(dir.file("warm-up.ttdb"), {"/bin/true"}, options).status, 0);
  return options;
}

long shims_mapped(const std::string& trace) {
  std::string events = ttdb({"events", trace}).out;
  return std::distance(std::sregex_iterator(events.begin(), events.end(), kShimMapped), std::sregex_iterator());
}

TEST(BufferLater, AShortProgramsLibrariesStayUnpatchedALongOnesArePatchedOnItsWay) {
  TempDir dir;
  RunOptions cache = warmed_cache(dir);
  std::string brief = dir.file("brief.ttdb");
  RunResult short_run = record(brief, {program("buffer_later"), "10"}, cache);
  ASSERT_EQ(short_run.status, 0) << short_run.err;
  EXPECT_EQ(short_run.out, "10 calls answered, 0 in the other thread\n");
  EXPECT_EQ(shims_mapped(brief), 1);
  EXPECT_GE(sql_count(brief, kLoaderBuffered), 1);
  EXPECT_EQ(sql_count(brief, kBuffered), 0);
  expect_same_run(short_run, replay(brief));

  std::string longer = dir.file("long.ttdb");
  RunResult long_run = record(longer, {program("buffer_later"), "500"}, cache);
  ASSERT_EQ(long_run.status, 0) << long_run.err;
  EXPECT_EQ(shims_mapped(longer), 1);
  // The loader's and libc's calls count too: the buffer comes within the first 48 of the loop.
  EXPECT_GE(sql_count(longer, kBuffered), 500 - 48);
  EXPECT_LT(sql_count(longer, kBuffered), 500);
  expect_same_run(long_run, replay(longer));

  // The cache keeps that the program went on to get it: a later recording
  // gives it the buffer at its exec, whatever that run does.
  std::string again = dir.file("again.ttdb");
  RunResult next_time = record(again, {program("buffer_later"), "10"}, cache);
  ASSERT_EQ(next_time.status, 0) << next_time.err;
  EXPECT_EQ(sql_count(again, kBuffered), 10);
  expect_same_run(next_time, replay(again));

  // That run ended short of the calls that got it the buffer: the next
  // waits for them again.
  std::string after_short = dir.file("after-short.ttdb");
  RunResult short_again = record(after_short, {program("buffer_later"), "10"}, cache);
  ASSERT_EQ(short_again.status, 0) << short_again.err;
  EXPECT_EQ(sql_count(after_short, kBuffered), 0);
  expect_same_run(short_again, replay(after_short));

  // From the start when asked.
  TempDir other;
  RunOptions fresh = warmed_cache(other);
  std::string from_start = other.file("start.ttdb");
  RunResult at_exec = ttdb({"record", "-q", "--buffer-after", "0", "-o", from_start, program("buffer_later"), "10"}, fresh);
  ASSERT_EQ(at_exec.status, 0) << at_exec.err;
  EXPECT_EQ(sql_count(from_start, kBuffered), 10);
  expect_same_run(at_exec, replay(from_start));
}

// Each exec maps the shim's code with one traced mmap; its data and the
// trampolines are calls through the shim's door, one stop each, and the
// code is never mprotected: the log of ptrace says which way each went.
TEST(BufferLater, OnlyTheFirstCallThatMapsTheShimIsTraced) {
  TempDir dir;
  std::string trace = dir.file("door.ttdb");
  RunOptions logged;
  logged.extra_env = {"TTDB_LOG=ptrace"};
  RunResult run = record(trace, {"/bin/sh", "-c", "/bin/true; /bin/true; /bin/true"}, logged);
  ASSERT_EQ(run.status, 0) << run.err;
  long execs = shims_mapped(trace);  // the shell's and its three programs'
  ASSERT_EQ(execs, 4);
  EXPECT_EQ(lines_matching(run.err, "injected syscall 9 in [0-9]+ = [0-9]+$").size(), static_cast<std::size_t>(execs));
  EXPECT_GE(lines_matching(run.err, "injected syscall 9 in [0-9]+ = [0-9]+, through the shim's door").size(),
            static_cast<std::size_t>(2 * execs));
  EXPECT_TRUE(lines_matching(run.err, "injected syscall 10 in").empty());
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, run.out);
}

// Waits that may block count for nothing towards the 48 calls: the buffer
// makes only those with WNOHANG, and none of a tracer's, which ttdb
// answers. A tracer that single-steps its child waits 300 times, and had
// its libraries patched at the 48th, where replay then diverged.
TEST(BufferLater, BlockingWaitsAndATracersWaitsDoNotCount) {
  TempDir dir;
  RunOptions cache = warmed_cache(dir);
  cache.extra_env.push_back("TTDB_LOG=record");
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("ptrace_singlestep")}, cache);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_TRUE(lines_matching(recorded.err, "libraries' syscall sites patched in [0-9]+ at its call to wait4").empty())
      << recorded.err;
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, recorded.out);
}

TEST(BufferLater, AProgramAboutToStartAThreadGetsTheBufferFirst) {
  // With a second thread the code may no longer be patched (a thread could
  // stand in it): the buffer comes at the clone, and both threads use it.
  TempDir dir;
  RunOptions cache = warmed_cache(dir);
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("buffer_later"), "300", "thread"}, cache);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "300 calls answered, 300 in the other thread\n");
  EXPECT_EQ(sql_count(trace, kBuffered), 600);
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
}

TEST(BufferLater, AProgramThatGotTheBufferGetsItAtItsNextExec) {
  TempDir dir;
  RunOptions cache = warmed_cache(dir);
  std::string trace = dir.file("t.ttdb");
  std::string twice = program("buffer_later") + " 500; " + program("buffer_later") + " 500";
  RunResult recorded = record(trace, {"sh", "-c", twice}, cache);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // The first run's first calls stopped; all the second's went through the buffer.
  EXPECT_GE(sql_count(trace, kBuffered), 1000 - 48);
  EXPECT_LT(sql_count(trace, kBuffered), 1000);
  // The second run's next event after its exec is its buffer's (its
  // parent's vfork events come between).
  std::string events = ttdb({"events", trace}).out;
  std::smatch exec;
  std::string rest = events;
  ASSERT_TRUE(std::regex_search(rest, exec, std::regex(R"((\[pid +[0-9]+\]) exec "[^"]*buffer_later")"))) << events;
  rest = exec.suffix().str();
  ASSERT_TRUE(std::regex_search(rest, exec, std::regex(R"((\[pid +[0-9]+\]) exec "[^"]*buffer_later")"))) << events;
  std::string pid = exec[1].str();
  rest = exec.suffix().str();
  std::size_t next = rest.find(pid);
  ASSERT_NE(next, std::string::npos) << events;
  const std::string mapped = " patch: ttdb's syscall buffer mapped";
  EXPECT_EQ(rest.compare(next + pid.size(), mapped.size(), mapped), 0) << rest.substr(next, 200);
  expect_same_run(recorded, replay(trace));
}

TEST(BufferLater, TheLibrariesCanBePatchedAtAnRdtscTheLoopReadsAgainThroughIt) {
  // lib_tsc_loop's library makes no syscall in its loop: the library's
  // sites are patched at the int3 of one of its reads, which the program
  // makes again, through the trampoline. Replay patches the code where the
  // read before left the thread: right after an rdtsc the patch moves (it
  // goes on in the trampoline's copy). (A site cache that knows the
  // library: a search of it begun then would end after the loop, which
  // makes no syscall where its patch could land.) The first recording
  // leaves the library's sites in the cache, and that the program got that
  // far: the second, with a cache that knows only the sites, patches them
  // where the first did.
  TempDir dir, sites;
  RunOptions warm;
  warm.extra_env = {"XDG_CACHE_HOME=" + dir.file("cache")};
  ASSERT_EQ(record(dir.file("warm-up.ttdb"), {program("lib_tsc_loop"), "2000"}, warm).status, 0);
  std::filesystem::create_directories(sites.file("cache/ttdb"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("cache/ttdb")))
    if (!entry.path().filename().string().starts_with("buffers-"))
      std::filesystem::copy(entry.path(), sites.file("cache/ttdb") + "/" + entry.path().filename().string());
  warm.extra_env = {"XDG_CACHE_HOME=" + sites.file("cache")};
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("lib_tsc_loop"), "2000"}, warm);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // The read before the libraries' patches (the last patch events: libc's,
  // the library's) is one of the loop's, as is the first one through them.
  std::string events = ttdb({"events", trace}).out;
  std::size_t patch = events.rfind(" patch: ");
  ASSERT_NE(patch, std::string::npos) << events;
  std::size_t read = events.rfind("rdtsc at ", patch);
  ASSERT_NE(read, std::string::npos) << events;
  std::smatch before;
  std::string before_text = events.substr(read, events.find('\n', read) - read);
  ASSERT_TRUE(std::regex_search(before_text, before, std::regex("rdtsc at (0x[0-9a-f]+) = "))) << before_text;
  EXPECT_EQ(before_text.find("[buffered]"), std::string::npos) << before_text;
  std::size_t through = events.find("rdtsc at " + before[1].str() + " = ", patch);
  ASSERT_NE(through, std::string::npos) << events;
  EXPECT_NE(events.substr(through, events.find('\n', through) - through).find("[buffered]"), std::string::npos);
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM events WHERE kind = 4 AND buffered"), 2000 - 48);
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
}

TEST(BufferLater, WithoutTheBufferAProgramThatMakesRdtscFaultIsRecorded) {
  // Before its buffer (and with --no-syscall-buffer), ttdb's own syscall
  // after the program's PR_SET_TSC ran at address 0, faulted, and the
  // recorder deferred the fault at every resume, for ever.
  RunResult native = run({program("kernel_tsc_sigsegv")});
  ASSERT_EQ(native.status, 0) << native.err;
  TempDir dir;
  for (const char* how : {"--buffer-after=48", "--no-syscall-buffer"}) {
    SCOPED_TRACE(how);
    std::string trace = dir.file(std::string(how + 2) + ".ttdb");
    RunResult recorded = ttdb({"record", "-q", how, "-o", trace, program("kernel_tsc_sigsegv")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_EQ(recorded.out, native.out);
    expect_same_run(recorded, replay(trace));
  }
}

TEST(BufferLater, AFileWriteUnderAnotherProcesssMappingComesAfterItsCode) {
  // A process without the buffer that maps a file shared, writes it, then
  // tells the writer so through a pipe: its call's entry (the code before
  // it) goes in before the write, which replay lands in the file after.
  // Without that the writer's read could come first in the trace, and the
  // mapper's own bytes overwrote the write in replay (about every other
  // recording without the buffer).
  TempDir dir;
  for (int round = 0; round < 5; ++round) {
    std::string trace = dir.file("t" + std::to_string(round) + ".ttdb");
    RunResult recorded = ttdb({"record", "-q", "-n", "-o", trace, program("kernel_writes_under_mappings")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_NE(recorded.out.find("case 0: the mapper sees \"pwrite\""), std::string::npos) << recorded.out;
    expect_same_run(recorded, replay(trace));
  }
}

}  // namespace
}  // namespace ttdb::test
