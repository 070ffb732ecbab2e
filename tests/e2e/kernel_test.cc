// The corners of the kernel interface: each program asks the kernel for one
// kind of thing and checks what it got. Recorded, it replays identically; a
// call whose effect replay could not reproduce stops the recording at once,
// naming the call, rather than leaving a trace that diverges later.
#include <filesystem>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

class KernelCorner : public ::testing::TestWithParam<const char*> {};

TEST_P(KernelCorner, ReplaysIdentically) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program(GetParam())});
  if (native.status == 77) GTEST_SKIP() << "this machine cannot run " << GetParam() << ": " << native.err;
  ASSERT_EQ(native.status, 0) << native.err;
  RunResult recorded = record(trace, {program(GetParam())});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.err, "");  // no warning either
  expect_same_run(recorded, replay(trace));
  expect_same_run(recorded, replay(trace));
}

// Every syscall stops when the buffer is off: a child's first stop may then
// be its end (killed right after the fork), which ended the recording never.
TEST(KernelCornerWithoutTheBuffer, AChildKilledBeforeItRunsEndsAsRecorded) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program("kernel_killed_at_birth")});
  ASSERT_EQ(native.status, 0) << native.err;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::filesystem::remove(trace);
    RunResult recorded = ttdb({"record", "-q", "--no-syscall-buffer", "-o", trace, program("kernel_killed_at_birth")});
    ASSERT_EQ(recorded.status, 0) << recorded.err;
    EXPECT_EQ(recorded.out, native.out);
    expect_same_run(recorded, replay(trace));
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, KernelCorner,
                         ::testing::Values("kernel_ipc", "kernel_queries", "kernel_data_moves", "kernel_huge_map",
                                           "kernel_futex_wake_op", "kernel_mlock_madvise", "kernel_group_stop",
                                           "kernel_proc_self_mem_code", "kernel_mmap_file_write_read",
                                           "kernel_fexecve_memfd", "kernel_clone_vm", "kernel_shared_anon", "kernel_shm_race", "kernel_sysv_shm", "kernel_itimer_prof",
                                           "kernel_clone_untraced", "kernel_seccomp_kill", "kernel_thread_fatal", "kernel_exec_threads",
                                           "kernel_seccomp_tsync", "kernel_shm_readonly", "kernel_shared_file_views", "kernel_pi_mutex",
                                           "kernel_shm_mapped_apart", "kernel_private_map_write", "kernel_bpf", "kernel_exec_script", "kernel_threads_fork", "kernel_empty_datagrams", "kernel_mremap_file", "kernel_memory_limits", "kernel_mapped_file_moves", "kernel_exec_deleted", "kernel_robust_death", "kernel_writes_under_mappings", "kernel_killed_at_birth"),
                         [](const auto& test_info) { return std::string(test_info.param); });

// What the program asks the kernel about itself (its seccomp mode, rdtsc
// mode, persona) and what its own seccomp filter does are as without ttdb.
class UnnoticedRecorder : public ::testing::TestWithParam<const char*> {};

TEST_P(UnnoticedRecorder, TheProgramSeesWhatItSeesNatively) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult native = run({program(GetParam())});
  ASSERT_EQ(native.status, 0) << native.out << native.err;
  RunResult recorded = record(trace, {program(GetParam())});
  EXPECT_EQ(recorded.out, native.out);
  EXPECT_EQ(recorded.status, 0) << recorded.err;
  expect_same_run(recorded, replay(trace));
}

INSTANTIATE_TEST_SUITE_P(Programs, UnnoticedRecorder,
                         ::testing::Values("kernel_seccomp_filter", "kernel_prctl_misc", "kernel_personality", "kernel_seccomp_trace",
                                           "kernel_job_control", "kernel_affinity", "kernel_seccomp_kill_thread",
                                           "kernel_tracer_pid", "kernel_tsc_sigsegv", "kernel_ignored_signals",
                                           "kernel_map_past_eof", "kernel_seize_stopped", "kernel_sigtrap_held"),
                         [](const auto& test_info) { return std::string(test_info.param); });

// Nondeterministic (the time, AT_RANDOM), but the program finds the vDSO,
// and its functions by name, which read the clock as recorded.
INSTANTIATE_TEST_SUITE_P(Vdso, KernelCorner, ::testing::Values("kernel_auxv_vdso", "kernel_vdso_calls"),
                         [](const auto& test_info) { return std::string(test_info.param); });

// Back and forth through checkpoints, in every process.
class KernelCornerTravel : public ::testing::TestWithParam<const char*> {};

TEST_P(KernelCornerTravel, TravelsThroughCheckpoints) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program(GetParam())});
  if (recorded.status == 77) GTEST_SKIP() << recorded.err;
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  expect_round_trip(trace);
}

// (Not kernel_group_stop, kernel_thread_fatal, kernel_seccomp_tsync,
// kernel_shm_readonly nor kernel_robust_death: their SIGSTOP, SIGCONT,
// SIGSEGV and SIGSYS stop `continue`, as they stop gdb's.)
INSTANTIATE_TEST_SUITE_P(Programs, KernelCornerTravel,
                         ::testing::Values("kernel_ipc", "kernel_data_moves", "kernel_huge_map", "kernel_futex_wake_op",
                                           "kernel_proc_self_mem_code", "kernel_mmap_file_write_read",
                                           "kernel_fexecve_memfd", "kernel_clone_vm", "kernel_shared_anon", "kernel_shm_race", "kernel_sysv_shm", "kernel_itimer_prof",
                                           "kernel_clone_untraced", "kernel_seccomp_kill", "kernel_exec_threads",
                                           "kernel_vdso_calls", "kernel_shm_mapped_apart", "kernel_private_map_write", "kernel_bpf", "kernel_exec_script", "kernel_threads_fork", "kernel_empty_datagrams", "kernel_mremap_file", "kernel_memory_limits", "kernel_mapped_file_moves", "kernel_exec_deleted"),
                         [](const auto& test_info) { return std::string(test_info.param); });

// Replay's copies of files mapped shared go back with the checkpoints: the
// program truncates and grows its file, punches a hole in it, and another
// process maps it, going forward and back. (Its SIGBUS would stop `continue`.)
TEST(KernelCornerTravel, FilesMappedSharedTravelWithTheCheckpoints) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_shared_file_views")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  expect_round_trip(trace, {"handle SIGBUS nostop noprint"});
}

TEST(KernelCorner, AnUnmodelledSyscallStopsTheRecordingNamingIt) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_unmodelled")});
  EXPECT_EQ(recorded.status, 125);
  EXPECT_NE(recorded.err.find("io_setup, which ttdb does not model"), std::string::npos) << recorded.err;
  EXPECT_EQ(count_of(recorded.err, "\n"), 1) << recorded.err;  // one sentence
  // What came before it replays, and the replay says the recording is incomplete.
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 123) << replayed.err;
  EXPECT_EQ(replayed.out, "before\n");
}

TEST(KernelCorner, OutputMovedWithoutPassingThroughMemoryIsReEmitted) {
  // sendfile, copy_file_range, splice from a file and vmsplice to stdout,
  // and a child cat (which copies with copy_file_range).
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_moved_output")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "start\none via sendfile\nvia sendfile\ntwo via copy_file_range\nthree via splice\n"
                          "four via vmsplice\nfive via cat\nend\n");
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, recorded.out);
}

TEST(KernelCorner, ASignalToASpinningThreadThatIsNotTheFirstIsDelivered) {
  // It hung the recorder: the held signal was re-sent to the wrong process.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_signal_spinning_thread")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(count_of(recorded.out, "the spinner stopped (1)"), 3) << recorded.out;
  for (int i = 0; i < 2; ++i) {
    RunResult replayed = replay(trace);
    EXPECT_EQ(replayed.status, 0) << replayed.err;
    EXPECT_EQ(replayed.out, recorded.out);
  }
}

TEST(KernelCorner, AProcessWithThreadsDiesOfItsOwnSignalInReplayToo) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_fatal_with_threads")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(recorded.out, "child killed: 1, by signal 11\n");
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 0) << replayed.err;
  EXPECT_EQ(replayed.out, recorded.out);
}

TEST(KernelCorner, AfterAnExecFromAThreadTheShellShowsTheNewProgramsOneThread) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("kernel_exec_threads")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  // The exec events made by a thread that was not its process's first.
  long from_thread = sql_count(trace, "select count(*) from events where kind = 1 and a4 != 0");
  EXPECT_EQ(from_thread, 2);
  long first = sql_count(trace, "select min(id) from events where kind = 1 and a4 != 0");
  long before = sql_count(trace, "select max(id) from events where id < " + std::to_string(first) + " and tid = " +
                                     "(select a4 from events where id = " + std::to_string(first) + ")");
  RunResult r = ttdb({"replay", "--ex", "goto event " + std::to_string(first + 1), "--ex", "info threads", "--ex",
                      "goto event " + std::to_string(before), "--ex", "info threads", trace});
  ASSERT_EQ(r.status, 0) << r.err;
  // Right after the exec, the ended threads are gone, though their exit
  // events are still to come; before it, all five threads are there.
  auto after = r.out.substr(0, r.out.find("[event " + std::to_string(before) + "]"));
  EXPECT_EQ(count_of(after, "    Thread "), 1) << r.out;
  EXPECT_NE(after.find("* 1    Thread"), std::string::npos) << r.out;
  EXPECT_EQ(after.find("0x0000000000000000"), std::string::npos) << r.out;
  EXPECT_EQ(count_of(r.out, "    Thread "), 6) << r.out;
}

}  // namespace
}  // namespace ttdb::test
