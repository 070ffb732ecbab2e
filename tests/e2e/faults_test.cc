// Faults around a recording: a full disk, a killed recorder, recordings
// started together. What was recorded before the fault replays.
#include <signal.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

int count_lines(const std::string& text) { return count_of(text, "\n"); }

// A tmpfs of `size` mounted on a new directory of `dir`, unmounted at the end.
class SmallDisk {
 public:
  SmallDisk(const TempDir& dir, const char* size) : path_(dir.file("small")) {
    std::filesystem::create_directory(path_);
    mounted_ = ::mount("ttdb-test", path_.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST(Faults, FullDiskKeepsWhatWasCommitted) {
  TempDir dir;
  SmallDisk disk(dir, "2m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  // 400 blocks of 32 KiB of random bytes: far more than 2 MiB of trace.
  RunOptions options;
  options.extra_env = {"TTDB_TRACE_DIR=" + disk.path()};
  RunResult recorded = ttdb({"record", "-q", "--", program("random_blocks"), "400"}, options);
  EXPECT_EQ(recorded.status, 125);
  EXPECT_NE(recorded.err.find("the disk is full"), std::string::npos) << recorded.err;
  EXPECT_NE(recorded.err.find("events replay as an incomplete recording"), std::string::npos) << recorded.err;
  EXPECT_EQ(count_lines(recorded.err), 1) << recorded.err;

  // The batches committed before the disk filled replay, as an incomplete
  // recording; it is the latest.
  std::string trace = disk.file("random_blocks-1.ttdb");
  EXPECT_EQ(std::filesystem::read_symlink(disk.file("latest")), "random_blocks-1.ttdb");
  RunResult replayed = ttdb({"replay", "--run"}, options);
  EXPECT_EQ(replayed.status, 123) << replayed.err;
  EXPECT_NE(replayed.err.find("the recording ends at event"), std::string::npos) << replayed.err;
  EXPECT_GT(count_lines(replayed.out), 0);
  EXPECT_EQ(recorded.out.substr(0, replayed.out.size()), replayed.out);
  RunResult info = ttdb({"info", trace});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("the recording is incomplete"), std::string::npos) << info.out;
}

TEST(Faults, AFullDiskBeforeTheFirstEventsLeavesNoTraceAndSaysSo) {
  TempDir dir;
  // Room for the trace's tables, not for its first batch of events.
  SmallDisk disk(dir, "96k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  RunOptions options;
  options.extra_env = {"TTDB_TRACE_DIR=" + disk.path()};
  RunResult recorded = ttdb({"record", "-q", "--", program("random_blocks"), "400"}, options);
  EXPECT_EQ(recorded.status, 125);
  EXPECT_NE(recorded.err.find("the disk is full before the first events were written, so no trace was kept"),
            std::string::npos)
      << recorded.err;
  EXPECT_EQ(count_lines(recorded.err), 1) << recorded.err;
  EXPECT_FALSE(std::filesystem::exists(disk.file("random_blocks-1.ttdb")));
  EXPECT_FALSE(std::filesystem::exists(disk.file("latest")));
}

TEST(Faults, RecordingsStartedTogetherGetATraceEach) {
  TempDir dir;
  RunOptions options;
  options.extra_env = {"TTDB_TRACE_DIR=" + dir.path()};
  std::vector<Child> recordings;
  for (int i = 0; i < 6; ++i)
    recordings.push_back(Child::spawn({ttdb_binary(), "record", "-q", "--", program("numbered_lines"), "20"}, options));
  for (auto& recording : recordings) {
    RunResult result = recording.wait();
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"latest", "numbered_lines-1.ttdb", "numbered_lines-2.ttdb",
                                             "numbered_lines-3.ttdb", "numbered_lines-4.ttdb",
                                             "numbered_lines-5.ttdb", "numbered_lines-6.ttdb"}));
  for (int i = 1; i <= 6; ++i) {
    RunResult replayed = replay(dir.file("numbered_lines-" + std::to_string(i) + ".ttdb"));
    EXPECT_EQ(replayed.status, 0) << replayed.err;
    EXPECT_EQ(count_lines(replayed.out), 20);
  }
  // `latest` is one of them, whole.
  std::string latest = std::filesystem::read_symlink(dir.file("latest")).string();
  EXPECT_TRUE(latest.starts_with("numbered_lines-")) << latest;
  RunResult replayed = ttdb({"replay", "--run"}, options);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
}

TEST(Faults, KilledRecorderLosesLittle) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  // A CPU hog on every CPU, and a program that gives the trace writer plenty
  // to do: a line every millisecond or so, each after reading 512 KiB.
  std::vector<Child> hogs;
  for (long i = 0; i < ::sysconf(_SC_NPROCESSORS_ONLN); ++i) hogs.push_back(Child::spawn({"sh", "-c", "while :; do :; done"}));
  Child recording = Child::spawn({ttdb_binary(), "record", "-q", "-o", trace, "--", program("numbered_lines"), "100000", "1000", "512"});
  ASSERT_TRUE(recording.wait_for_output("line 0\n", std::chrono::seconds(60)));
  auto start = std::chrono::steady_clock::now();
  recording.wait_for_output("not printed", std::chrono::seconds(2));  // reads its output for 2 s
  recording.signal(SIGKILL);
  double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  RunResult recorded = recording.wait();
  hogs.clear();
  EXPECT_EQ(recorded.status, 128 + SIGKILL);

  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 123) << replayed.err;
  EXPECT_EQ(recorded.out.substr(0, replayed.out.size()), replayed.out);
  // docs/commands.md (Faults): about 100 ms behind, more when short of CPU; allow 300.
  int printed = count_lines(recorded.out);
  int allowed = static_cast<int>(printed / elapsed_ms * 300) + 2;
  EXPECT_GE(count_lines(replayed.out), printed - allowed)
      << "printed " << printed << " lines in " << elapsed_ms << " ms; at most " << allowed << " may be lost";
}

TEST(Faults, SetUserIdProgramRunsWithoutItsPrivilegesAndReplays) {
  TempDir dir;
  std::string prog = dir.file("ids");
  std::filesystem::copy_file(program("ids"), prog);
  const passwd* nobody = ::getpwnam("nobody");
  struct statvfs fs {};
  if (!nobody || ::chown(prog.c_str(), nobody->pw_uid, nobody->pw_gid) != 0 || ::chmod(prog.c_str(), 04755) != 0 ||
      ::statvfs(prog.c_str(), &fs) != 0 || (fs.f_flag & ST_NOSUID))
    GTEST_SKIP() << "cannot make a set-user-ID program here (needs root, a 'nobody' user and a suid mount)";
  chmod(dir.path().c_str(), 0755);
  for (bool buffer : {true, false}) {
    SCOPED_TRACE(buffer ? "with the syscall buffer" : "with -n");
    std::string trace = dir.file(buffer ? "buffer.ttdb" : "n.ttdb");
    std::vector<std::string> args{"record", "-q", "-o", trace};
    if (!buffer) args.push_back("-n");
    args.insert(args.end(), {"--", prog});
    RunResult recorded = ttdb(args);
    EXPECT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_EQ(recorded.err, "ttdb: warning: " + prog +
                                " is set-user-ID: it runs without its privileges while recorded, and replays the same way\n");
    EXPECT_NE(recorded.out.find(fmt::format("euid {} ", ::getuid())), std::string::npos) << recorded.out;
    RunResult replayed = replay(trace);
    expect_same_run(RunResult{recorded.status, recorded.out, ""}, replayed);
  }
}

// Reaps what ended up with the test (a subreaper): what a ttdb that ended
// left behind.
int reap_leftovers() {
  int reaped = 0;
  while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) ++reaped;
  return reaped;
}

TEST(Faults, ReplayReapsEveryProcessItMakes) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("fork_many"), "200"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // What ttdb leaves behind comes to the test, not to init.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  reap_leftovers();

  expect_same_run(recorded, replay(trace));
  EXPECT_EQ(reap_leftovers(), 0) << "processes replay --run left behind";
  EXPECT_EQ(children_of(::getpid()).all, 0);

  // The shell, at the end and back, with few checkpoints: many are dropped.
  std::string commands = dir.file("commands");
  ASSERT_EQ(::mkfifo(commands.c_str(), 0600), 0);
  RunOptions options;
  options.stdin_file = commands;
  Child shell = Child::spawn({ttdb_binary(), "replay", "--checkpoints", "4", trace}, options);
  std::ofstream input(commands);
  input << "continue" << std::endl;
  ASSERT_TRUE(shell.wait_for_output("[The program exited normally", std::chrono::seconds(60))) << shell.output();
  EXPECT_EQ(children_of(shell.pid()).zombies, 0);
  input << "reverse-continue\ncontinue" << std::endl;
  auto again = [&] { return count_of(shell.output(), "[The program exited normally") == 2; };
  for (int i = 0; i < 600 && !again(); ++i) shell.wait_for_output("not printed", std::chrono::milliseconds(100));
  ASSERT_TRUE(again()) << shell.output();
  Children at_end = children_of(shell.pid());
  EXPECT_EQ(at_end.zombies, 0);
  EXPECT_LE(at_end.all, 8) << "more processes than checkpoints";
  input << "quit" << std::endl;
  input.close();
  RunResult ended = shell.wait();
  EXPECT_EQ(ended.status, 0) << ended.err;
  EXPECT_EQ(reap_leftovers(), 0) << "processes the shell left behind";
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

}  // namespace
}  // namespace ttdb::test
