// The recording as data: what happened, in order. See docs/trace-format.md.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ttdb/base/bytes.h"

namespace ttdb::trace {

// Stored as integers; the names live in the trace's `kinds` table too.
enum class EventKind : int {
  exec = 1,     // the kernel loaded a program (the first event, and any later execve)
  syscall = 2,  // a system call and its result
  signal = 3,   // a signal delivered to the program
  rdtsc = 4,    // an rdtsc or rdtscp instruction, emulated
  rdrand = 5,   // an rdrand or rdseed instruction, emulated
  exit = 6,     // the program ended
  // The program was stopped in a long stretch without syscalls (to deliver a
  // signal there): its registers and writable memory, which replay restores.
  snapshot = 7,
  // ttdb rewrote code of the program (syscall sites that now go through its
  // in-process syscall buffer) and mapped the code they jump to.
  patch = 8,
  // A process or thread made a new one (fork, vfork, clone, clone3): the
  // event's tid is the parent, nr the child's tid, a0 the clone flags. The
  // child's own events follow under its tid.
  spawn = 9,
  // A thread entered a syscall and others of its process ran before it
  // returned: nr and a0..a5 as its syscall event, which comes later with
  // the result. Replay stops the thread at the entry here.
  blocked = 10,
  // The program's own tracer (ptrace, emulated by the recorder) changed
  // this stopped task or resumed it: nr says which (PtraceEffect).
  ptrace = 11,
  // The process of tid went on live from here, recorded (go-live --record,
  // format 9): ttdb's syscall buffer is out of it (its sites unpatched, the
  // shim off), and its events from here were recorded without it. The
  // recording's other tasks alive here end next (SIGKILL, from outside).
  live = 12,
};
inline constexpr int kLastKind = 12;

// What a `ptrace` event does to its task (the event's nr).
enum class PtraceEffect : int {
  memory = 0,     // its mem rows are written (PTRACE_POKEDATA, POKETEXT)
  registers = 1,  // info = the registers it gets (struct user_regs_struct)
  resume = 2,     // resumed: a0 = the signal delivered (0: none), a1 = how (PtraceResume);
                  // info = the siginfo_t it is delivered with, when the tracer set it (PTRACE_SETSIGINFO)
  signal_mask = 3,  // a0 = the signal mask it gets (PTRACE_SETSIGMASK)
};

// How a `ptrace` resume event lets the task go on (its a1).
enum class PtraceResume : int { cont = 0, syscall = 1, singlestep = 2 };
const char* kind_name(EventKind kind);

// How a recorded signal reaches the program in replay (the signal event's a0).
enum class SignalDelivery : int {
  // Delivered at the syscall boundary right before it (no instruction of the
  // program ran in between): replay sends it there.
  at_boundary = 0,
  // Raised by the program's own instruction (a fault): replay expects it to
  // recur at the same instruction.
  natural = 1,
};

// How the program ended (the exit event's a0; nr holds the code or signal).
enum class ExitKind : int { exited = 0, killed = 1 };

// Bytes the kernel put into the program's memory during an event, which replay
// writes back. The bytes come from exactly one of: `data` (the bytes
// themselves), `blob` (a stored, deduplicated content), or `file` (a mapped
// file not copied into the trace, at file_offset; replay checks its hash).
struct MemWrite {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  Bytes data;
  std::optional<std::int64_t> blob;
  std::optional<std::int64_t> file;
  std::uint64_t file_offset = 0;
};

struct Event {
  std::int64_t id = 0;  // the event number, from 1
  EventKind kind = EventKind::syscall;
  int tid = 0;
  std::int64_t nr = 0;  // syscall number; signal number; exit code...
  std::array<std::uint64_t, 6> args{};
  std::optional<std::int64_t> ret;  // empty: the syscall never returned
  std::optional<std::string> path, path2;
  std::optional<std::uint64_t> digest;  // of a buffer the program passed in
  Bytes preview;                        // its first bytes, for people
  int emit = 0;  // 1 or 2: the bytes went to the recorded stdout or stderr
  Bytes info;    // kind-specific (signal: the siginfo)
  // A syscall the program's own process recorded through ttdb's in-process
  // syscall buffer, without a ptrace stop; replay gives it back the same way.
  bool buffered = false;
  std::vector<MemWrite> mem;
};

// The thread that makes the event happen. An exec made by a thread other
// than its process's first carries that thread's own tid in a4: the event
// is under the first thread's tid, which the exec'ing thread takes.
inline int acting_tid(const Event& e) {
  return e.kind == EventKind::exec && e.args[4] ? static_cast<int>(e.args[4]) : e.tid;
}

// A file as the kernel names it (st_dev, st_ino): the info of an mmap of a
// file shared (format 6), so that replay maps every shared mapping of one
// file, in any process, from one copy, as the kernel did from the file.
struct FileIdentity {
  std::uint64_t dev = 0, ino = 0;
  auto operator<=>(const FileIdentity&) const = default;
  Bytes to_info() const {
    Bytes out(16);
    std::memcpy(out.data(), &dev, 8);
    std::memcpy(out.data() + 8, &ino, 8);
    return out;
  }
  // An mmap's info may have a 17th byte: 1 when the mapping can never be
  // made writable (the file was opened read-only, or sealed against writes).
  static std::optional<FileIdentity> from_info(ByteView info) {
    if (info.size() != 16 && info.size() != 17) return std::nullopt;
    FileIdentity id;
    std::memcpy(&id.dev, info.data(), 8);
    std::memcpy(&id.ino, info.data() + 8, 8);
    return id;
  }
  static bool never_writable(ByteView info) { return info.size() == 17 && info[16] == 1; }
};

// What a write-like call left in a file that another process maps shared
// while the writer maps none of it (the event's info, format 8): replay's
// copy of the file gets the bytes.
struct FileWrite {
  static constexpr std::uint8_t kTag[4] = {'F', 'W', 'R', '1'};
  FileIdentity file;
  std::uint64_t offset = 0;
  Bytes data;
  Bytes to_info() const {
    Bytes out(kTag, kTag + 4);
    Bytes id = file.to_info();
    out.insert(out.end(), id.begin(), id.end());
    const auto* at = reinterpret_cast<const std::uint8_t*>(&offset);
    out.insert(out.end(), at, at + 8);
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }
  static std::optional<FileWrite> from_info(ByteView info) {
    if (info.size() < 28 || std::memcmp(info.data(), kTag, 4) != 0) return std::nullopt;
    FileWrite w;
    w.file = *FileIdentity::from_info(info.subspan(4, 16));
    std::memcpy(&w.offset, info.data() + 20, 8);
    w.data.assign(info.begin() + 28, info.end());
    return w;
  }
};

// A file the program mapped or ran.
struct FileRecord {
  std::int64_t id = 0;
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  ContentHash hash{};
  std::optional<std::int64_t> blob;  // set when the content is in the trace
  std::string role;                  // "exe", "interp" or "mmap"
};

// Where an event mapped a file: debuggers find shared libraries by these.
struct FileMapping {
  std::int64_t event = 0;
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  std::uint64_t file_offset = 0;
  std::string path;
};

}  // namespace ttdb::trace
