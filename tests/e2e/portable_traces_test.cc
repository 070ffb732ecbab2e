// Portable traces: a program rebuilt or deleted after its recording replays
// from the trace's copy, `ttdb pack` (or `record --pack`) copies in the
// system files too, so that a trace replays where they are gone or other,
// and the CPU features a recording could use are checked before replay.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "ttdb_test.h"

namespace ttdb::test {
namespace {

// Runs `commands` with sh in a private mount namespace, where they may
// bind-mount other files over recorded ones without touching the machine's.
RunResult in_private_mounts(const std::string& commands) {
  return run({"unshare", "-m", "sh", "-c", "set -e; " + commands});
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

TEST(Pack, RebuiltProgramAndDeletedLibraryReplayFromTheTrace) {
  // The program and its library are the user's own files: every trace keeps them.
  TempDir dir;
  std::string trace = dir.file("t.ttdb"), prog = dir.file("debug_libcall"), lib = dir.file("libshout.so");
  std::filesystem::copy_file(program("debug_libcall"), prog);
  std::filesystem::copy_file(std::filesystem::path(program("debug_libcall")).parent_path() / "libshout.so", lib);
  RunResult recorded = record(trace, {prog});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_NE(recorded.out.find("ALPHA BETA"), std::string::npos) << recorded.out;

  std::filesystem::copy_file(program("pids"), prog, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(lib);
  expect_same_run(recorded, replay(trace));
  // The shell reads the symbols of the recorded build, from the trace's copies.
  RunResult shell = ttdb({"replay", "-ex", "break shout", "-ex", "continue", "-ex", "bt", "-ex", "finish", trace});
  EXPECT_EQ(shell.status, 0) << shell.err;
  EXPECT_NE(shell.out.find("Breakpoint 1, shout (text="), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find(" in main () at "), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find("Value returned is $1 = 5"), std::string::npos) << shell.out;
  // And so does gdb, given the recorded build by the server.
  if (installed_tool("gdb")) {
    RunOptions quiet;
    quiet.extra_env = {"DEBUGINFOD_URLS=", "HOME=/nonexistent"};
    RunResult gdb = ttdb({"replay", "--gdb", trace, "--", "-batch", "-ex", "break shout", "-ex", "continue", "-ex", "bt"}, quiet);
    EXPECT_NE(gdb.out.find("Breakpoint 1, shout (text="), std::string::npos) << gdb.out << gdb.err;
    EXPECT_NE(gdb.out.find(" in main () at "), std::string::npos) << gdb.out;
  }

  std::filesystem::remove(prog);
  expect_same_run(recorded, replay(trace));
}

TEST(Pack, PackedTraceReplaysWithTheSystemProgramReplacedAndItsLibraryHidden) {
  auto ls = installed_tool("ls");
  ASSERT_TRUE(ls);
  TempDir dir;
  std::string plain = dir.file("plain.ttdb"), packed = dir.file("packed.ttdb");
  RunResult recorded = record(plain, {*ls, "-d", "/", dir.path()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  std::filesystem::copy_file(plain, packed);
  RunResult pack = ttdb({"pack", packed});
  ASSERT_EQ(pack.status, 0) << pack.err;
  EXPECT_NE(pack.err.find("ttdb: packed "), std::string::npos) << pack.err;
  EXPECT_EQ(sql_count(plain, "SELECT count(*) FROM files WHERE blob IS NULL") > 0, true);
  EXPECT_EQ(sql_count(packed, "SELECT count(*) FROM files WHERE blob IS NULL"), 0);
  EXPECT_NE(ttdb({"info", packed}).out.find("all in the trace"), std::string::npos);
  RunResult again = ttdb({"pack", packed});
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.err.find("holds every file it ran and mapped already"), std::string::npos) << again.err;

  // A library of ls's that ttdb itself does not use (ttdb shares libc and ld.so).
  std::string library;
  for (const char* name : {"libselinux.so", "libpcre2-8.so", "libcap.so", "libacl.so"}) {
    RunResult path = ttdb({"sql", std::string("SELECT path FROM files WHERE path LIKE '%/") + name + "%' LIMIT 1", plain});
    if (!path.out.empty()) {
      library = path.out.substr(0, path.out.size() - 1);
      break;
    }
  }
  ASSERT_FALSE(library.empty()) << "ls maps none of the libraries this test hides";
  std::string hide = "mount --bind /bin/true " + in_quotes(*ls) + "; mount --bind /dev/null " + in_quotes(library) + "; ";
  RunResult hidden = in_private_mounts(hide + in_quotes(ttdb_binary()) + " replay --run " + in_quotes(packed));
  expect_same_run(recorded, hidden);
  // Without the copies, replay says what is missing before it starts.
  RunResult unpacked = in_private_mounts(hide + in_quotes(ttdb_binary()) + " replay --run " + in_quotes(plain) + " || echo status $?");
  EXPECT_NE(unpacked.err.find(*ls + " changed since it was recorded"), std::string::npos) << unpacked.err;
  EXPECT_EQ(unpacked.out, "status 125\n");
  // Packing then keeps what it can and names what it cannot.
  RunResult late = in_private_mounts(hide + in_quotes(ttdb_binary()) + " pack " + in_quotes(plain) + " || echo status $?");
  EXPECT_EQ(late.out, "status 1\n");
  EXPECT_NE(late.err.find("cannot pack " + *ls + " into " + plain + ": it is gone or changed since it was recorded (and 1 more"),
            std::string::npos) << late.err;
  EXPECT_EQ(sql_count(plain, "SELECT count(*) FROM files WHERE blob IS NULL"), 2);
}

TEST(Pack, PackedTraceReplaysUnderAnotherDynamicLoader) {
  // Another machine's loader: this one's, with a byte of its version text
  // changed, so that ttdb itself still starts under it.
  TempDir dir;
  std::string loader = std::filesystem::canonical("/lib64/ld-linux-x86-64.so.2").string();
  std::string other = dir.file("ld-other.so");
  std::string bytes = read_file(loader);
  auto version = bytes.find("stable release version");
  ASSERT_NE(version, std::string::npos);
  bytes[version] = 'S';
  {
    std::ofstream out(other, std::ios::binary);
    out << bytes;
  }
  std::filesystem::permissions(other, std::filesystem::perms::owner_all);

  // A first program, two it execs and a script, each loaded by the loader.
  auto ls = installed_tool("ls");
  ASSERT_TRUE(ls);
  std::string script = dir.file("script.sh");
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho script \"$@\"\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  std::vector<std::string> command{"sh", "-c", *ls + " -d /; " + program("pids") + "; " + script + " a b; echo end"};
  std::string plain = dir.file("plain.ttdb"), packed = dir.file("packed.ttdb"), debug = dir.file("debug.ttdb");
  RunResult recorded = record(plain, command);
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  ASSERT_NE(recorded.out.find("script a b\nend\n"), std::string::npos) << recorded.out;
  std::filesystem::copy_file(plain, packed);
  ASSERT_EQ(ttdb({"pack", packed}).status, 0);
  RunResult debug_recorded = ttdb({"record", "-q", "--pack", "-o", debug, "--", program("debug_libcall")});
  ASSERT_EQ(debug_recorded.status, 0) << debug_recorded.err;

  std::string swap = "mount --bind " + in_quotes(other) + " " + in_quotes(loader) + "; ";
  RunResult version_text = in_private_mounts(swap + "/lib64/ld-linux-x86-64.so.2 --version");
  EXPECT_NE(version_text.out.find("Stable release version"), std::string::npos) << version_text.out << version_text.err;
  expect_same_run(recorded, in_private_mounts(swap + in_quotes(ttdb_binary()) + " replay --run " + in_quotes(packed)));
  // Time travel, from the trace's loader too.
  RunResult shell = in_private_mounts(swap + in_quotes(ttdb_binary()) + " replay -ex 'break shout' -ex continue -ex " +
                                      "reverse-continue -ex continue -ex bt " + in_quotes(debug));
  EXPECT_EQ(shell.status, 0) << shell.err;
  auto first = shell.out.find("Breakpoint 1, shout (text=");
  ASSERT_NE(first, std::string::npos) << shell.out << shell.err;
  EXPECT_NE(shell.out.find("Breakpoint 1, shout (text=", first + 1), std::string::npos) << shell.out;
  EXPECT_NE(shell.out.find(" in main () at "), std::string::npos) << shell.out;
  // Without the copy, replay names the loader before it starts.
  RunResult unpacked = in_private_mounts(swap + in_quotes(ttdb_binary()) + " replay --run " + in_quotes(plain) + " || echo status $?");
  EXPECT_NE(unpacked.err.find(loader + " changed since it was recorded"), std::string::npos) << unpacked.err;
  EXPECT_EQ(unpacked.out, "status 125\n");
}

TEST(Pack, RecordPackKeepsEveryFileAsItRecords) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = ttdb({"record", "-q", "--pack", "-o", trace, "--", program("pids")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_GE(sql_count(trace, "SELECT count(*) FROM files WHERE role = 'interp' AND blob IS NOT NULL"), 1);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM files WHERE blob IS NULL"), 0);
  expect_same_run(recorded, replay(trace));
}

// Features of ttdb's table that one vendor's CPUs have and the other's lack.
std::string feature_this_cpu_lacks() {
  std::string cpuinfo = read_file("/proc/cpuinfo");
  for (const char* name : {"sse4a", "xop", "fma4", "avx512_fp16", "amx_tile", "avx512er"})
    if (cpuinfo.find(std::string(" ") + name + " ") == std::string::npos && cpuinfo.find(std::string(" ") + name + "\n") == std::string::npos)
      return name;
  return "";
}

TEST(Cpu, ReplayOnACpuWithoutARecordedFeatureSaysSoBeforeItStarts) {
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  RunResult recorded = record(trace, {program("pids")});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM meta WHERE key = 'cpu_features' AND ' ' || value || ' ' LIKE '% sse2 %'"), 0);
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM meta WHERE key = 'cpu_features' AND ' ' || value || ' ' LIKE '% cx16 %'"), 1);
  expect_same_run(recorded, replay(trace));
  std::string lacking = feature_this_cpu_lacks();
  ASSERT_FALSE(lacking.empty());
  // As if recorded on a CPU that had it.
  trace_sql(trace, "UPDATE meta SET value = value || ' " + lacking + "' WHERE key = 'cpu_features'");
  RunResult replayed = replay(trace);
  EXPECT_EQ(replayed.status, 125);
  EXPECT_EQ(replayed.out, "");
  EXPECT_EQ(replayed.err.find("ttdb: this CPU lacks " + lacking + ", which the recording's CPU had and the program may have used; "
                              "replay on a CPU that has them, or record with --cpu-baseline x86-64"),
            0u) << replayed.err;
}

TEST(Cpu, BaselineHoldsGlibcToItsLevel) {
  // The dynamic loader says which levels of libraries it would load.
  TempDir dir;
  std::string trace = dir.file("t.ttdb");
  std::string loader = "/lib64/ld-linux-x86-64.so.2";
  RunResult recorded = ttdb({"record", "-q", "--cpu-baseline", "x86-64-v2", "-o", trace, loader, "--help"});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("  x86-64-v3\n  x86-64-v2 (supported, searched)\n"), std::string::npos) << recorded.out;
  expect_same_run(recorded, replay(trace));
  EXPECT_EQ(sql_count(trace, "SELECT count(*) FROM env WHERE CAST(var AS TEXT) LIKE 'GLIBC_TUNABLES=glibc.cpu.hwcaps=%-AVX2%'"), 1);
  EXPECT_NE(ttdb({"info", trace}).out.find("cpu:       held to x86-64-v2: "), std::string::npos);
  // As if recorded with a higher one: replay refuses, naming it.
  trace_sql(trace, "UPDATE meta SET value = 'x86-64-v9' WHERE key = 'cpu_baseline'");
  trace_sql(trace, "UPDATE meta SET value = value || ' " + feature_this_cpu_lacks() + "' WHERE key = 'cpu_features'");
  RunResult refused = replay(trace);
  EXPECT_EQ(refused.status, 125);
  EXPECT_NE(refused.err.find(", which the trace's CPU baseline x86-64-v9 requires; replay it on a CPU that meets x86-64-v9"),
            std::string::npos) << refused.err;

  // A baseline this CPU does not meet is refused when recording.
  bool v4 = read_file("/proc/cpuinfo").find(" avx512vl") != std::string::npos;
  RunResult high = ttdb({"record", "-q", "--cpu-baseline", "x86-64-v4", "-o", dir.file("v4.ttdb"), loader, "--help"});
  if (v4) {
    EXPECT_EQ(high.status, 0) << high.err;
    EXPECT_NE(high.out.find("  x86-64-v4 (supported, searched)\n"), std::string::npos) << high.out;
  } else {
    EXPECT_EQ(high.status, 125);
    EXPECT_NE(high.err.find("which x86-64-v4 requires; record with a lower --cpu-baseline"), std::string::npos) << high.err;
  }
}

}  // namespace
}  // namespace ttdb::test
